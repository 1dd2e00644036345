"""One pipeline for every way mail arrives (IMAP, pipe, SMTP listener): parse, thread, store.

A mail that cannot be parsed, or whose processing fails for a reason other than
the store being unreachable, is quarantined whole: never dropped, never fatal.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from email.parser import BytesHeaderParser
from email.policy import default as default_policy

from bot import metrics
from bot.domain.inbound import InboundMail
from bot.handlers import intake
from bot.handlers.context import Context
from bot.mail.parse import UnparseableMail, parse_mail
from bot.mail.parse_pool import Parsed, ParsePool

log = logging.getLogger(__name__)

# Above this size parsing moves off the event loop so chat stays responsive.
_INLINE_PARSE_LIMIT = 256 * 1024
# Mails stored in one transaction at most: commits saved, the database not held for long.
GROUP = 10
# Mails handed to the parser process at a time: storing starts as soon as the first few are ready.
PARSE_CHUNK = 3


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
        self.parsers = ParsePool(ctx.config.max_attachment_bytes, inline_limit=_INLINE_PARSE_LIMIT, parse_here=self._parse)

    async def process(self, raw: bytes, *, source: str, also: intake.InTransaction | None = None) -> Processed:
        """Store one raw mail. `also` runs inside the same transaction (IMAP moves its cursor there).

        Raises only when the store itself fails, so the caller retries the mail later.
        """
        return await self._store_one(raw, await self._parse(raw), source=source, also=also)

    async def _store_one(self, raw: bytes, mail: Parsed, *, source: str, also: intake.InTransaction | None) -> Processed:
        if isinstance(mail, UnparseableMail):
            return await self._quarantine(raw, f"unparseable: {mail}", source, also)
        try:
            outcome = await intake.receive_mail(self.ctx, mail, source=source, also=also)
        except Exception as exc:
            if _store_unreachable(exc):
                raise
            log.exception("processing %s failed; quarantining it", mail.message_id)
            return await self._quarantine(raw, f"processing failed: {type(exc).__name__}: {exc}", source, also)
        metrics.MAILS_PROCESSED.labels(outcome.action).inc()
        return Processed(outcome)

    async def process_many(self, items: Sequence[tuple[bytes, intake.InTransaction | None]], *, source: str) -> list[Processed]:
        """Store mails that arrived together (an IMAP fetch) in as few transactions as possible.

        The mails are parsed in the helper process (bot.mail.parse_pool) a few at a time, and
        stored as they come out, up to GROUP per transaction: parsing and storing overlap
        on the two cores. Each item carries its own `also`, for the one-at-a-time path; a
        group runs only the last one of its items, so each must make the ones before it
        redundant (a mailbox cursor moving forward). A mail that does not parse, or a group
        that fails as a whole (one mail trips a bug, another instance raced us), falls back
        to one mail per transaction, where each mail succeeds or is quarantined on its own.
        """
        size = min(PARSE_CHUNK, GROUP)
        chunks = [items[start:start + size] for start in range(0, len(items), size)]
        parsing = deque((chunk, asyncio.ensure_future(self.parsers.parse([raw for raw, _ in chunk]))) for chunk in chunks)
        results: list[Processed] = []
        try:
            while parsing:
                chunk, parsed = parsing.popleft()
                group, mails = list(chunk), list(await parsed)
                while parsing and parsing[0][1].done() and len(group) + len(parsing[0][0]) <= GROUP:
                    chunk, parsed = parsing.popleft()
                    group += chunk
                    mails += parsed.result()
                results += await self._store_group(group, mails, source=source)
        finally:
            for _, parsed in parsing:
                parsed.cancel()
        return results

    async def _store_group(self, group: Sequence[tuple[bytes, intake.InTransaction | None]], mails: list[Parsed], *,
                           source: str) -> list[Processed]:
        if all(isinstance(m, InboundMail) for m in mails):
            try:
                outcomes = await intake.receive_together(self.ctx, mails, source=source, also=group[-1][1])  # type: ignore[arg-type]
            except Exception as exc:
                if _store_unreachable(exc):
                    raise
                log.info("%d mails could not be stored together (%s); storing them one at a time",
                         len(group), type(exc).__name__)
            else:
                for outcome in outcomes:
                    metrics.MAILS_PROCESSED.labels(outcome.action).inc()
                return [Processed(outcome) for outcome in outcomes]
        return [await self._store_one(raw, mail, source=source, also=also) for (raw, also), mail in zip(group, mails, strict=True)]

    def close(self, *, wait: bool = False) -> None:
        """Stop the parser process (`wait`: until it has exited)."""
        self.parsers.close(wait=wait)

    async def _parse(self, raw: bytes) -> Parsed:
        max_bytes = self.ctx.config.max_attachment_bytes
        try:
            if len(raw) > _INLINE_PARSE_LIMIT:
                return await asyncio.to_thread(parse_mail, raw, max_attachment_bytes=max_bytes)
            return parse_mail(raw, max_attachment_bytes=max_bytes)
        except UnparseableMail as exc:
            return exc

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
