"""One pipeline for every way mail arrives (IMAP, pipe, SMTP listener): parse, thread, store.

A mail that cannot be parsed, or whose processing fails for a reason other than
the store being unreachable, is quarantined whole: never dropped, never fatal.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from email.parser import BytesHeaderParser
from email.policy import default as default_policy

from bot import metrics
from bot.handlers import intake
from bot.handlers.context import Context
from bot.mail.parse import UnparseableMail, parse_mail

log = logging.getLogger(__name__)

# Above this size parsing moves off the event loop so chat stays responsive.
_INLINE_PARSE_LIMIT = 256 * 1024


@dataclass(frozen=True)
class Processed:
    outcome: intake.IntakeOutcome | None
    quarantine_id: int | None = None

    @property
    def ok(self) -> bool:
        return self.quarantine_id is None


class MailPipeline:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    async def process(self, raw: bytes, *, source: str, also: intake.InTransaction | None = None) -> Processed:
        """Store one raw mail. `also` runs inside the same transaction (IMAP moves its cursor there).

        Raises only when the store itself fails, so the caller retries the mail later.
        """
        max_bytes = self.ctx.config.max_attachment_bytes
        try:
            if len(raw) > _INLINE_PARSE_LIMIT:
                mail = await asyncio.to_thread(parse_mail, raw, max_attachment_bytes=max_bytes)
            else:
                mail = parse_mail(raw, max_attachment_bytes=max_bytes)
        except UnparseableMail as exc:
            return await self._quarantine(raw, f"unparseable: {exc}", source, also)
        try:
            outcome = await intake.receive_mail(self.ctx, mail, source=source, also=also)
        except Exception as exc:
            if _store_unreachable(exc):
                raise
            log.exception("processing %s failed; quarantining it", mail.message_id)
            return await self._quarantine(raw, f"processing failed: {type(exc).__name__}: {exc}", source, also)
        metrics.MAILS_PROCESSED.labels(outcome.action).inc()
        return Processed(outcome)

    async def _quarantine(self, raw: bytes, reason: str, source: str, also: intake.InTransaction | None) -> Processed:
        sender, subject = sniff_headers(raw)
        qid = await intake.quarantine(self.ctx, raw, reason, source=source, sender=sender, subject=subject, also=also)
        metrics.MAILS_PROCESSED.labels("quarantined").inc()
        return Processed(None, qid)


def sniff_headers(raw: bytes) -> tuple[str, str]:
    """Best-effort From and Subject of a mail that would not parse, for the quarantine listing."""
    try:
        headers = BytesHeaderParser(policy=default_policy).parsebytes(raw[:64 * 1024])
        return str(headers.get("From", "") or ""), str(headers.get("Subject", "") or "")
    except Exception:
        return "", ""


def _store_unreachable(exc: BaseException) -> bool:
    """Connection-level failures mean 'try again later', not 'this mail is bad'."""
    names = {type(e).__name__ for e in _chain(exc)}
    return bool(names & {"OperationalError", "InterfaceError", "ConnectionRefusedError", "ConnectionError",
                         "CannotConnectNowError", "ConnectionDoesNotExistError", "TimeoutError", "OSError"})


def _chain(exc: BaseException):  # type: ignore[no-untyped-def]
    seen: BaseException | None = exc
    while seen is not None:
        yield seen
        seen = seen.__cause__ or seen.__context__
