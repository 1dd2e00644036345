"""Inbound chat work kept before the platform is answered, so a crash after the ack loses nothing.

Slack does not deliver an event again once it was acknowledged, so whatever an agent did (a note typed
in a thread, a button pressed, a `/ticket` command) is kept here, by the platform's natural id for it,
in one short INSERT before the ack; a redelivery of the same id is kept once. A worker leases the item,
does the work, and marks it done in the same transaction as the work's first change (the unit of work
does that for the item named by `working_on`), so after a crash the item is either done with its effect
or pending without it, and is done again exactly once. Transient failures are tried again later;
permanent ones are marked failed and kept for a while, for whoever looks.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import timedelta

from bot.handlers.context import Context
from bot.handlers.ports import WORKING_ON, InboxItem, Working

LEASE = timedelta(seconds=30)  # held by a live worker, renewed while it runs; a crashed one's runs out
KEEP_DONE = timedelta(days=1)  # long enough to recognise Slack's redeliveries (its last retry is after ~5 min)
KEEP_FAILED = timedelta(days=30)


async def keep(ctx: Context, items: Sequence[InboxItem], owner: str, lease: timedelta = LEASE) -> list[int | None]:
    """Keep inbound work, leased to `owner` who runs it next, in one transaction (requests that came in
    together share one commit); for each item its id, or None if its key was kept before."""
    now = ctx.clock()
    async with ctx.uow() as uow:
        ids = await uow.inbox.add(items, owner, now + lease)
        await uow.commit()
    return ids


async def claim(ctx: Context, item_id: int, owner: str, lease: timedelta = LEASE) -> InboxItem | None:
    """Take a pending item for one more attempt; None if it is done, failed, or leased by a live worker."""
    now = ctx.clock()
    async with ctx.uow() as uow:
        item = await uow.inbox.claim(item_id, owner, now, now + lease)
        await uow.commit()
    return item


async def finish(ctx: Context, item_id: int) -> bool:
    """Mark an item done whose work changed nothing (or was done outside a transaction of ours)."""
    async with ctx.uow() as uow:
        done = await uow.inbox.finish(item_id, ctx.clock())
        await uow.commit()
    return done


async def retry_later(ctx: Context, item_id: int, delay: timedelta, error: str) -> None:
    async with ctx.uow() as uow:
        await uow.inbox.retry_at(item_id, ctx.clock() + delay, error)
        await uow.commit()


async def fail(ctx: Context, item_id: int, error: str) -> None:
    async with ctx.uow() as uow:
        await uow.inbox.fail(item_id, ctx.clock(), error)
        await uow.commit()


async def due(ctx: Context, platform: str, limit: int = 100) -> Sequence[int]:
    """Pending items to run now: retries whose time has come, and the work of a worker that died."""
    async with ctx.uow() as uow:
        return await uow.inbox.due(platform, ctx.clock(), limit)


async def renew(ctx: Context, item_ids: Sequence[int], owner: str, lease: timedelta = LEASE) -> None:
    """Keep holding what this worker has queued or is running, so nobody takes it over while it lives."""
    if not item_ids:
        return
    async with ctx.uow() as uow:
        await uow.inbox.renew(item_ids, owner, ctx.clock() + lease)
        await uow.commit()


async def release(ctx: Context, item_ids: Sequence[int], owner: str) -> None:
    """Stopping before these were done: free them for the next start (or another instance) at once."""
    if not item_ids:
        return
    async with ctx.uow() as uow:
        await uow.inbox.renew(item_ids, owner, None)
        await uow.commit()


async def purge(ctx: Context, platform: str) -> int:
    now = ctx.clock()
    async with ctx.uow() as uow:
        gone = await uow.inbox.purge(platform, now - KEEP_DONE, now - KEEP_FAILED)
        await uow.commit()
    return gone


@contextmanager
def working_on(ctx: Context, item_id: int) -> Iterator[Working]:
    """Inside the block, the first commit that changes something also marks `item_id` done."""
    working = Working(item_id, ctx.clock)
    token = WORKING_ON.set(working)
    try:
        yield working
    finally:
        WORKING_ON.reset(token)
