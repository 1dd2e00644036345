"""Parsing mail in a helper process, so one group is parsed on one core while the group
before it is stored on the other.

Parsing is pure CPU in the stdlib's email package (about a quarter of what a mail costs
to take in, bench/ingest.py), and threads do not help there: the GIL keeps them on one
core. A single worker process does. It is started on first use (spawned, not forked:
the bot has threads) and only ever sees bytes in and an `InboundMail` or
`UnparseableMail` out. Mails above `inline_limit` are parsed in this process as before,
so a large attachment is never copied across processes.

If the worker dies or cannot be started, mail is parsed here instead: slower, never lost.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
from collections.abc import Awaitable, Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

from bot.domain.inbound import InboundMail
from bot.mail.parse import Limits, UnparseableMail, parse_mail

log = logging.getLogger(__name__)

Parsed = InboundMail | UnparseableMail


def parse_all(raws: Sequence[bytes], limits: Limits) -> list[Parsed]:
    """In the worker: each mail parsed, or the reason it cannot be (returned, not raised)."""
    out: list[Parsed] = []
    for raw in raws:
        try:
            out.append(parse_mail(raw, max_attachment_bytes=limits.attachment_bytes, max_parts=limits.parts,
                                  max_attachments=limits.attachments))
        except UnparseableMail as exc:
            out.append(exc)
    return out


class ParsePool:
    def __init__(self, limits: Limits, *, inline_limit: int,
                 parse_here: Callable[[bytes], Awaitable[Parsed]]) -> None:
        self.limits = limits
        self.inline_limit = inline_limit
        self._parse_here = parse_here
        self._executor: ProcessPoolExecutor | None = None
        self._failed = False

    async def parse(self, raws: Sequence[bytes]) -> list[Parsed]:
        small = [i for i, raw in enumerate(raws) if len(raw) <= self.inline_limit]
        results: list[Parsed | None] = [None] * len(raws)
        if small:
            for i, parsed in zip(small, await self._in_worker([raws[i] for i in small]), strict=True):
                results[i] = parsed
        for i, raw in enumerate(raws):
            if results[i] is None:
                results[i] = await self._parse_here(raw)
        return results  # type: ignore[return-value]

    async def _in_worker(self, raws: list[bytes]) -> list[Parsed]:
        executor = self._started()
        if executor is not None:
            try:
                return await asyncio.get_running_loop().run_in_executor(
                    executor, parse_all, raws, self.limits)
            except (BrokenProcessPool, OSError) as exc:
                log.warning("mail parser process failed (%s); parsing in the main process from now on", exc)
                self._failed = True
                self.close()
        return [await self._parse_here(raw) for raw in raws]

    def _started(self) -> ProcessPoolExecutor | None:
        if self._executor is None and not self._failed:
            try:
                self._executor = ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn"))
            except OSError as exc:
                log.warning("cannot start a mail parser process (%s); parsing in the main process", exc)
                self._failed = True
        return self._executor

    def close(self, *, wait: bool = False) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=wait, cancel_futures=True)
            self._executor = None
