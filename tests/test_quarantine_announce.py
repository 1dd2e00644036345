"""Quarantined mail is announced to agents exactly once, whichever process quarantined it."""

from __future__ import annotations

from bot.app import Core
from bot.handlers import events, intake


async def test_mail_quarantined_elsewhere_is_announced_once_when_an_adapter_listens(core: Core) -> None:
    # `tiketti ingest` runs in its own process with no adapter: nobody hears about it there.
    qid = await intake.quarantine(core.ctx, b"\x00garbage", "unparseable: no headers found", source="pipe",
                                  sender="x@bad.test", subject="???")
    heard: list[events.MailQuarantined] = []

    async def listen(event: events.MailQuarantined) -> None:
        heard.append(event)

    core.ctx.bus.subscribe(events.MailQuarantined, listen)
    assert await intake.announce_quarantined(core.ctx) == 1
    assert [(e.quarantine_id, e.sender, e.reason, e.source) for e in heard] == [
        (qid, "x@bad.test", "unparseable: no headers found", "pipe")
    ]
    assert await intake.announce_quarantined(core.ctx) == 0, "announced once, not at every sweep"


async def test_mail_quarantined_while_an_adapter_listens_is_not_announced_twice(core: Core) -> None:
    heard: list[events.MailQuarantined] = []

    async def listen(event: events.MailQuarantined) -> None:
        heard.append(event)

    core.ctx.bus.subscribe(events.MailQuarantined, listen)
    await intake.quarantine(core.ctx, b"junk", "unparseable", source="smtp")
    assert len(heard) == 1
    assert await intake.announce_quarantined(core.ctx) == 0
    assert len(heard) == 1
