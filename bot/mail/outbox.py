"""The outbox worker: sends committed mail, retries what may work later, reports what never will.

Rows are claimed in one committed transaction before anything is sent and the
result is recorded in another, so no lock is held while a relay is slow, and
several workers (or bot instances) never send the same row twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import timedelta
from typing import Self

from bot import metrics
from bot.handlers import delivery
from bot.handlers.context import Context
from bot.handlers.delivery import Claimed, mask
from bot.mail.transport import PermanentError, TransientError, Transport, transport_from_settings
from bot.settings import Settings

log = logging.getLogger(__name__)

MAX_BACKOFF = timedelta(minutes=15)
IDLE_SECONDS = 1.0  # without a wake(), look for due retries this often


class OutboxWorker:
    def __init__(self, ctx: Context, transport: Transport, *, max_attempts: int, backoff_seconds: float,
                 batch: int = 20, lease_seconds: float = 300) -> None:
        self.ctx = ctx
        self.transport = transport
        self.max_attempts = max(1, max_attempts)
        self.backoff = timedelta(seconds=backoff_seconds)
        self.batch = batch
        self.lease = timedelta(seconds=lease_seconds)
        self._woken = asyncio.Event()
        # One pass at a time per worker: a drain (the demo, a test) then waits for the
        # background pass already on the wire instead of seeing its claimed rows as "none due".
        self._pass = asyncio.Lock()

    @classmethod
    def from_settings(cls, ctx: Context, settings: Settings) -> Self:
        return cls(ctx, transport_from_settings(settings), max_attempts=settings.outbox_max_attempts,
                   backoff_seconds=settings.outbox_backoff_seconds)

    def wake(self) -> None:
        """Something was queued: deliver now rather than at the next idle tick."""
        self._woken.set()

    def retry_delay(self, attempts: int) -> timedelta:
        return min(self.backoff * 2 ** max(0, attempts - 1), MAX_BACKOFF)

    async def deliver_due(self) -> int:
        """One pass: report abandoned sends, then send every due row once. Returns rows handled."""
        async with self._pass:
            return await self._deliver_due()

    async def _deliver_due(self) -> int:
        abandoned = await delivery.fail_abandoned(self.ctx)
        for outbox_id in abandoned:
            log.warning("outbox #%d: %s", outbox_id, delivery.UNCERTAIN)
            metrics.OUTBOX_MAILS.labels("failed").inc()
        jobs = await delivery.claim(self.ctx, limit=self.batch, lease=self.lease)
        current = 0
        try:
            for current, job in enumerate(jobs):
                if self.ctx.clock() > job.lease_until - self.lease / 2:
                    # The pass is slow (a relay timing out): hand the rest back before their
                    # leases run out, or they would be reported as uncertain while still unsent.
                    await self._give_back(jobs[current:])
                    break
                await self._deliver(job)
        except BaseException:
            # Stopped mid-pass (shutdown, store gone): the mail on the wire stays SENDING and
            # will be reported as uncertain; the ones never tried go back to the queue.
            await self._give_back(jobs[current + 1:])
            raise
        return len(abandoned) + len(jobs)

    async def _give_back(self, jobs: list[Claimed]) -> None:
        if not jobs:
            return
        try:
            await delivery.release(self.ctx, [j.id for j in jobs])
            log.info("outbox: %d untried mail(s) handed back for the next pass", len(jobs))
        except Exception:
            log.warning("outbox: could not hand back %d untried mail(s); they will be reported once their lease ends",
                        len(jobs), exc_info=True)

    async def _deliver(self, job: Claimed) -> None:
        where = f"outbox #{job.id} ({job.kind}, ticket #{job.ticket_id}) to {mask(job.to_addr)}"
        try:
            await self.transport.send(job.raw, sender=self.ctx.config.support_address, recipients=[job.to_addr])
        except PermanentError as exc:
            log.warning("%s: failed for good: %s", where, mask(str(exc)))
            await delivery.mark_failed(self.ctx, job.id, f"rejected: {exc}")
            metrics.OUTBOX_MAILS.labels("failed").inc()
        except TransientError as exc:
            await self._transient(job, where, str(exc))
        except Exception as exc:  # a transport bug must not kill the worker or strand the row
            log.exception("%s: unexpected error", where)
            await self._transient(job, where, f"{type(exc).__name__}: {exc}")
        else:
            log.info("%s: sent (attempt %d)", where, job.attempts)
            await delivery.mark_sent(self.ctx, job.id)
            metrics.OUTBOX_MAILS.labels("sent").inc()

    async def _transient(self, job: Claimed, where: str, error: str) -> None:
        if job.attempts >= self.max_attempts:
            log.warning("%s: giving up after %d attempts: %s", where, job.attempts, mask(error))
            await delivery.mark_failed(self.ctx, job.id, f"gave up after {job.attempts} attempts: {error}")
            metrics.OUTBOX_MAILS.labels("failed").inc()
            return
        delay = self.retry_delay(job.attempts)
        log.info("%s: attempt %d failed (%s); retrying in %ds", where, job.attempts, mask(error), delay.total_seconds())
        await delivery.retry_later(self.ctx, job.id, error, delay)
        metrics.OUTBOX_MAILS.labels("retried").inc()

    async def run(self, stop: asyncio.Event) -> None:
        """Deliver until `stop` is set: after every wake(), and every second for due retries."""
        while not stop.is_set():
            self._woken.clear()
            try:
                await self.deliver_due()
            except Exception:
                # Usually the store being away for a moment; the rows wait in the outbox.
                log.exception("outbox pass failed; trying again shortly")
            await self._idle(stop)

    async def _idle(self, stop: asyncio.Event) -> None:
        waiters = [asyncio.ensure_future(self._woken.wait()), asyncio.ensure_future(stop.wait())]
        try:
            await asyncio.wait(waiters, timeout=IDLE_SECONDS, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for w in waiters:
                w.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await w
