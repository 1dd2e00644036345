"""Mails that arrive at the same moment over separate connections are stored together.

An MTA delivers over several connections at once (Postfix opens up to 20 per
destination). Each SMTP or LMTP session still waits for its own mail to be stored
before it answers; while one group is being stored, the mails that arrive meanwhile
are gathered and stored next, as one group (`MailPipeline.process_many`: one
transaction, parsed in the helper process). A lone mail goes straight through
`MailPipeline.process`, exactly as before, so a quiet listener answers as fast as ever.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from bot.mail.pipeline import MailPipeline, Processed

log = logging.getLogger(__name__)

MAX_GROUP = 50  # mails gathered into one call, like one IMAP FETCH


class Together:
    def __init__(self, pipeline: MailPipeline, *, source: str) -> None:
        self.pipeline, self.source = pipeline, source
        self._waiting: list[tuple[bytes, asyncio.Future[Processed]]] = []
        self._runner: asyncio.Task[None] | None = None

    async def store(self, raw: bytes) -> Processed:
        """Stored (or quarantined) once this returns; raises like `MailPipeline.process` when the store is away."""
        future: asyncio.Future[Processed] = asyncio.get_running_loop().create_future()
        self._waiting.append((raw, future))
        if self._runner is None or self._runner.done():
            self._runner = asyncio.create_task(self._run())
        return await future

    async def _run(self) -> None:
        while self._waiting:
            group, self._waiting = self._waiting[:MAX_GROUP], self._waiting[MAX_GROUP:]
            try:
                if len(group) == 1:
                    results = [await self.pipeline.process(group[0][0], source=self.source)]
                else:
                    results = await self.pipeline.process_many([(raw, None) for raw, _ in group], source=self.source)
            except Exception as exc:  # the store is away: every sender in the group hears "try later"
                for _, future in group:
                    if not future.done():
                        future.set_exception(exc)
                continue
            for (_, future), result in zip(group, results, strict=True):
                if not future.done():  # a sender that hung up meanwhile: stored anyway, a retry is a duplicate
                    future.set_result(result)

    async def close(self) -> None:
        """Let the group being stored finish (its senders are gone, the mails are not)."""
        if self._runner is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(asyncio.shield(self._runner), timeout=10)
