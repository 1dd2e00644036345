"""One pipeline for every way mail arrives (IMAP, pipe, SMTP listener): parse, thread, store.

No mail can stall intake. A mail that cannot be parsed, or whose processing fails for a reason
of its own (a value the database refuses, a bug it trips), is quarantined whole at once: never
dropped, never fatal. Only a failure that says nothing about the mail (the store away, a lock
or deadlock: bot.store.failures) makes the caller try the mail again later, and each such try
is counted (in the store, so restarts and `tiketti ingest` processes share the count): at
MAX_FAILURES the mail is quarantined whatever the error, and the mails behind it move on.
A try is counted only if the store answers, so an outage quarantines nothing.

Logs name mails by Message-ID and failures by kind (bot.store.failures.describe), never with
the mail's text, subject or addresses; the full error is logged at DEBUG and kept with the
quarantined mail.
"""

from __future__ import annotations

import asyncio
import functools
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
from bot.mail import storable
from bot.mail.parse import Limits, UnparseableMail, parse_mail
from bot.mail.parse_pool import Parsed, ParsePool
from bot.store import failures

log = logging.getLogger(__name__)

# Above this size parsing moves off the event loop so chat stays responsive.
_INLINE_PARSE_LIMIT = 256 * 1024
# Mails stored in one transaction at most: commits saved, the database not held for long.
GROUP = 10
# Mails handed to the parser process at a time: storing starts as soon as the first few are ready.
PARSE_CHUNK = 3
# Failed tries (of the kind worth retrying) after which a mail is quarantined whatever the error.
MAX_FAILURES = 3


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
        cfg = ctx.config
        self.limits = Limits(cfg.max_attachment_bytes, cfg.max_mime_parts, cfg.max_attachments)
        self.parsers = ParsePool(self.limits, inline_limit=_INLINE_PARSE_LIMIT, parse_here=self._parse)

    async def process(self, raw: bytes, *, source: str, also: intake.InTransaction | None = None) -> Processed:
        """Store one raw mail. `also` runs inside the same transaction (IMAP moves its cursor there).

        Raises only when the store itself fails (or a lock got in the way), so the caller retries
        the mail later; the MAX_FAILURES-th such try quarantines it instead.
        """
        return await self._store_one(raw, await self._parse(raw), source=source, also=also)

    async def _store_one(self, raw: bytes, mail: Parsed, *, source: str, also: intake.InTransaction | None) -> Processed:
        if isinstance(mail, UnparseableMail):
            return await self._quarantine(raw, f"unparseable: {mail}", source, also)
        try:
            outcome = await intake.receive_mail(self.ctx, mail, source=source, also=also)
        except Exception as exc:
            return await self._failed(raw, mail, exc, source, also)
        metrics.MAILS_PROCESSED.labels(outcome.action).inc()
        return Processed(outcome)

    async def _failed(self, raw: bytes, mail: InboundMail, exc: Exception, source: str,
                      also: intake.InTransaction | None) -> Processed:
        """Quarantine the mail, or re-raise `exc` so the caller tries it again later (see the module docstring)."""
        what = failures.describe(exc)
        log.debug("storing %s failed", mail.message_id, exc_info=exc)
        if failures.retry_later(exc):
            tries = await self._count_failure(raw)
            if tries is None:  # the store does not answer: an outage, not this mail
                raise exc
            if tries < MAX_FAILURES:
                log.warning("storing %s failed (%s), try %d of %d; it will be tried again",
                            mail.message_id, what, tries, MAX_FAILURES)
                raise exc
            reason = f"failed {tries} times: {failures.detail(exc)}"
        else:
            reason = f"processing failed: {failures.detail(exc)}"
        log.warning("storing %s failed (%s); quarantining it", mail.message_id, what)
        return await self._quarantine(raw, reason, source, also)

    async def _count_failure(self, raw: bytes) -> int | None:
        """Count one failed try of this mail; None when the store cannot even take the count."""
        try:
            async with self.ctx.uow() as uow:
                tries = await uow.quarantine.count_failure(raw)
                await uow.commit()
        except Exception as exc:
            log.debug("could not count a failed try", exc_info=exc)
            return None
        return tries

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
                if failures.retry_later(exc) and not await self._store_answers():
                    raise  # nothing to learn from storing them one at a time: the store is away
                log.info("%d mails could not be stored together (%s); storing them one at a time",
                         len(group), failures.describe(exc))
            else:
                for outcome in outcomes:
                    metrics.MAILS_PROCESSED.labels(outcome.action).inc()
                return [Processed(outcome) for outcome in outcomes]
        return [await self._store_one(raw, mail, source=source, also=also) for (raw, also), mail in zip(group, mails, strict=True)]

    async def _store_answers(self) -> bool:
        try:
            async with self.ctx.uow() as uow:
                await uow.kv.get("tiketti:store-answers")
        except Exception:
            return False
        return True

    def close(self, *, wait: bool = False) -> None:
        """Stop the parser process (`wait`: until it has exited)."""
        self.parsers.close(wait=wait)

    async def _parse(self, raw: bytes) -> Parsed:
        limits = {"max_attachment_bytes": self.limits.attachment_bytes, "max_parts": self.limits.parts,
                  "max_attachments": self.limits.attachments}
        try:
            if len(raw) > _INLINE_PARSE_LIMIT:
                return await asyncio.to_thread(functools.partial(parse_mail, raw, **limits))
            return parse_mail(raw, **limits)
        except UnparseableMail as exc:
            return exc

    async def _quarantine(self, raw: bytes, reason: str, source: str, also: intake.InTransaction | None) -> Processed:
        sender, subject = sniff_headers(raw)
        reason = storable.body(reason)
        try:
            qid = await intake.quarantine(self.ctx, raw, reason, source=source, sender=sender, subject=subject, also=also)
        except Exception as exc:
            if failures.retry_later(exc):
                raise
            # Whatever in the listing's copy of the headers tripped the store, the raw mail is kept without it.
            log.warning("quarantining with sender and subject failed (%s); keeping the raw mail alone",
                        failures.describe(exc))
            qid = await intake.quarantine(self.ctx, raw, f"{reason} (sender and subject not listed)", source=source,
                                          also=also)
        metrics.MAILS_PROCESSED.labels("quarantined").inc()
        return Processed(None, qid)


def sniff_headers(raw: bytes) -> tuple[str, str]:
    """Best-effort From and Subject of a mail that would not parse, for the quarantine listing (made storable)."""
    try:
        headers = BytesHeaderParser(policy=default_policy).parsebytes(raw[:64 * 1024])
        sender, subject = str(headers.get("From", "") or ""), str(headers.get("Subject", "") or "")
    except Exception:
        return "", ""
    return storable.header(sender, 400), storable.header(subject, 998)
