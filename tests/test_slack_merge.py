"""Merging two customers' tickets from Slack: refused until confirmed in Slack's confirm dialog.

`/ticket merge N into M` across customers answers (to the caller alone) with the
reason and a *Merge anyway* button carrying a confirm dialog; pressing it (Slack
shows the dialog first) merges under the same permission check as any merge, so
the button is no way in for a stranger.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from bot.adapters.slack.confirm import MERGE_ANYWAY
from tests.support.block_kit import block_kit_errors
from tests.support.db import Database
from tests.support.mails import raw_mail, ticket
from tests.support.slack_bot import SlackBot, block_text, eventually, fake_slack, running_bot, user

OUT = "U0OUT"


@pytest.fixture
async def bot(sqlite_database: Database, tmp_path: Path) -> AsyncIterator[SlackBot]:
    async with fake_slack() as slack:
        slack.users[OUT] = user(OUT, "Olli Outsider")
        async with running_bot(sqlite_database, tmp_path, slack=slack) as b:
            yield b


async def answer(bot: SlackBot, send: Any) -> dict[str, Any]:
    before = len(bot.slack.responses)
    assert (await bot.send(send)).status == 200
    return (await eventually(lambda: bot.slack.responses[before:]))[0]


async def test_merging_two_customers_tickets_asks_first_and_the_button_merges(bot: SlackBot) -> None:
    a = await bot.mail(raw_mail(frm="Mia <mia@customer.example>", subject="Invoice is wrong"))
    b = await bot.mail(raw_mail(frm="Bo <bo@other.example>", subject="Invoice question"))
    await bot.settled()
    asked = await answer(bot, bot.requests.command(f"merge {a} into {b}", user="U0ANA"))
    assert asked["response_type"] == "ephemeral" and "different customers" in asked["text"]
    assert block_kit_errors(asked["blocks"]) == []
    [button] = [e for blk in asked["blocks"] if blk["type"] == "actions" for e in blk["elements"]]
    assert button["action_id"] == MERGE_ANYWAY and button["confirm"]["confirm"]["text"] == "Merge anyway"
    assert f"#{a}'s conversation" in block_text([button["confirm"]])
    first = await ticket(bot.core, a)
    assert first is not None and first.merged_into is None

    pressed = {"type": "button", "action_id": MERGE_ANYWAY, "block_id": asked["blocks"][1]["block_id"],
               "value": button["value"], "text": button["text"]}
    shown = {"ts": "1700000000.000999"}  # an ephemeral message: Slack sends only its ts
    refused = await answer(bot, bot.requests.block_action(shown, pressed, user=OUT, ephemeral=True))
    assert "only the helpdesk's agents" in refused["text"]
    assert (await ticket(bot.core, a)).merged_into is None  # type: ignore[union-attr]

    merged = await answer(bot, bot.requests.block_action(shown, pressed, user="U0ANA", ephemeral=True))
    assert merged["replace_original"] is True and f"#{a} merged into #{b}" in merged["text"]
    assert (await ticket(bot.core, a)).merged_into == b  # type: ignore[union-attr]


async def test_a_merge_button_we_did_not_make_is_refused(bot: SlackBot) -> None:
    pressed = {"type": "button", "action_id": MERGE_ANYWAY, "block_id": "merge.1.2", "value": "1;2",
               "text": {"type": "plain_text", "text": "Merge anyway"}}
    reply = await bot.send(bot.requests.block_action({"ts": "1.1"}, pressed, user="U0ANA", ephemeral=True))
    assert reply.status == 400
