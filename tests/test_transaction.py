"""`Context.transaction()`: the one place handlers commit and publish.

What it promises every handler: subscribers hear of a change only once it is committed (so what
they read is what was stored), every event appended up to the end of the block goes out in order,
and a block that raises rolls back and publishes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from bot.app import Core


@dataclass(frozen=True)
class Probe:
    n: int


async def test_events_go_out_after_the_commit_in_order_and_never_after_a_rollback(core: Core) -> None:
    heard: list[tuple[int, str | None]] = []

    async def listener(event: Probe) -> None:
        async with core.ctx.uow() as uow:  # another transaction: sees only what was committed
            heard.append((event.n, await uow.kv.get("probe")))

    core.ctx.bus.subscribe(Probe, listener)
    async with core.ctx.transaction() as uow:
        uow.events.append(Probe(1))
        await uow.kv.put_if_absent("probe", "stored")
        uow.events.append(Probe(2))
        assert heard == []  # nothing is told while the transaction is open
    assert heard == [(1, "stored"), (2, "stored")]

    with pytest.raises(RuntimeError, match="changed my mind"):
        async with core.ctx.transaction() as uow:
            await uow.kv.put_if_absent("probe-rolled-back", "stored")
            uow.events.append(Probe(3))
            raise RuntimeError("changed my mind")
    assert [n for n, _ in heard] == [1, 2]
    async with core.ctx.uow() as uow:
        assert await uow.kv.get("probe-rolled-back") is None


async def test_a_return_inside_the_block_commits_and_publishes(core: Core) -> None:
    heard: list[int] = []

    async def listener(event: Probe) -> None:
        heard.append(event.n)

    core.ctx.bus.subscribe(Probe, listener)

    async def handler() -> str:
        async with core.ctx.transaction() as uow:
            await uow.kv.put_if_absent("early", "stored")
            uow.events.append(Probe(7))
            return "answered early"

    assert await handler() == "answered early"
    assert heard == [7]
    async with core.ctx.uow() as uow:
        assert await uow.kv.get("early") == "stored"
