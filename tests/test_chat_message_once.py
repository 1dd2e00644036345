"""A chat message is stored once, even when two instances take the same delivery at the same moment.

Discord redelivers a message after a reconnect, and two bot instances on one PostgreSQL may both
read it; the store's unique `chat_ref` settles the race, and the loser answers "duplicate".
"""

from __future__ import annotations

import asyncio

from bot.app import Core
from bot.handlers import chat_intake, tickets
from bot.handlers.errors import Refused
from tests.support.mails import deliver, messages, raw_mail, ticket_count
from tests.support.people import OPERATOR


def _dm(message_id: str, text: str) -> chat_intake.ChatMessageIn:
    return chat_intake.ChatMessageIn(platform="discord", user_id="4242", user_name="Mia", dm_channel="900",
                                     message_id=message_id, text=text)


async def test_the_same_direct_message_taken_by_several_instances_at_once_is_stored_once(core: Core) -> None:
    first = await chat_intake.receive_chat_message(core.ctx, _dm("1", "My printer is broken"))
    assert first.ticket_number is not None
    outcomes = await asyncio.gather(*(chat_intake.receive_chat_message(core.ctx, _dm("2", "It smokes now"))
                                      for _ in range(4)))
    assert sorted(o.action for o in outcomes) == ["appended"] + ["duplicate"] * 3
    texts = [m.body_text for m in await messages(core, first.ticket_number)]
    assert texts == ["My printer is broken", "It smokes now"]
    assert await ticket_count(core) == 1


async def test_a_note_typed_once_is_stored_once_however_often_it_is_delivered(core: Core) -> None:
    number = (await deliver(core, raw_mail())).ticket_number
    ref = "discord:555:777"
    results = await asyncio.gather(*(tickets.add_note(core.ctx, OPERATOR, number, "checked the fuser", chat_ref=ref)
                                     for _ in range(4)), return_exceptions=True)
    assert sum(not isinstance(r, BaseException) for r in results) == 1
    assert all(isinstance(r, Refused) for r in results if isinstance(r, BaseException))
    notes = [m for m in await messages(core, number) if m.chat_ref == ref]
    assert len(notes) == 1
