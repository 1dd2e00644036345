"""Slack's size limits, end to end: what Tiketti posts is never refused, and nothing is lost.

The whole bot runs against the fake Slack, which refuses as Slack does (tests/support/slack_rules.py:
more than 12,000 characters of block text is msg_blocks_too_long, a select with no option is
invalid). Each test drives the bot as Slack and a customer would and checks that every post and
answer was accepted, that long text stays reachable (split over messages, or attached whole), and
that the ticket keeps updating afterwards.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from bot.adapters.slack import controls, ticket_blocks
from bot.adapters.slack.limits import MAX_BODY_CHARS
from bot.handlers import classify as tags
from tests.support.db import Database
from tests.support.mails import raw_mail
from tests.support.people import OPERATOR
from tests.support.slack_bot import CHANNEL, SlackBot, block_text, eventually, running_bot
from tests.support.slack_rules import MAX_BLOCKS_TEXT, blocks_text_length
from tests.test_slack_blocks import TICKET


@pytest.fixture
async def bot(sqlite_database: Database, tmp_path: Path) -> AsyncIterator[SlackBot]:
    async with running_bot(sqlite_database, tmp_path) as b:
        yield b


def long_body(chars: int) -> str:
    """Numbered lines of prose, so a lost or doubled stretch shows."""
    lines, i = [], 0
    while sum(len(line) + 1 for line in lines) < chars:
        lines.append(f"Line {i}: the invoice & the <receipt> do not match, please check the totals again.")
        i += 1
    return "\n".join(lines)[:chars]


def words(text: str) -> list[str]:
    unescaped = text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
    return re.sub(r"[…]", " ", unescaped).split()


def refused(bot: SlackBot) -> list[tuple[str, str | None]]:
    return [(c.method, c.error) for c in bot.slack.calls if c.error and c.error != "ratelimited"]


async def test_a_mail_over_one_messages_limit_is_split_and_shown_whole(bot: SlackBot) -> None:
    body = long_body(MAX_BODY_CHARS - 3000)  # fits the thread (escaped: &amp; &lt;), not one Slack message
    number = await bot.mail(raw_mail(subject="Long invoice question", body=body))
    await bot.settled()
    root = await bot.root_of(number)
    parts = bot.thread(root)
    assert len(parts) >= 2 and refused(bot) == []
    assert all(blocks_text_length(p.blocks) <= MAX_BLOCKS_TEXT for p in parts)
    shown = words("\n".join(b["text"]["text"] for p in parts for b in p.blocks if b["type"] == "section"))
    assert " ".join(body.split()) in " ".join(shown)  # every word, in order, once
    assert bot.slack.uploads == {}  # nothing was left out, so nothing needed attaching


async def test_a_very_long_mail_is_attached_whole_and_the_ticket_keeps_updating(bot: SlackBot) -> None:
    body = long_body(60_000)
    number = await bot.mail(raw_mail(subject="Huge log", body=body))
    await bot.settled()
    root = await bot.root_of(number)
    assert refused(bot) == []
    [upload] = bot.slack.uploads.values()
    assert upload["content"].decode().replace("\r\n", "\n").strip() == body.strip()
    assert any(p.files for p in bot.thread(root))
    assert "attached as a file" in "\n".join(block_text(p.blocks) for p in bot.thread(root))

    await bot.send(bot.requests.click(root.payload(), ticket_blocks.CLAIM, user="U0ANA"))  # the root still updates
    await eventually(lambda: "<@U0ANA>" in bot.root_text(root))
    await bot.mail(raw_mail(subject=f"Re: Huge log [#{number}]", body="One more thing: it is urgent."))
    await bot.settled()
    assert "One more thing" in block_text(bot.thread(root)[-1].blocks)
    assert refused(bot) == []


async def answers_to(bot: SlackBot, text: str) -> list[dict[str, Any]]:
    before = len(bot.slack.responses)
    await bot.send(bot.requests.command(text, user="U0ANA"))
    await bot.settled()
    return await eventually(lambda: bot.slack.responses[before:])


async def test_a_long_show_and_history_reach_the_agent_in_pages(bot: SlackBot) -> None:
    body = long_body(MAX_BODY_CHARS - 3000)
    number = await bot.mail(raw_mail(subject="Chatty", body=body, message_id="<chatty@customer.example>"))
    for i in range(3):
        await bot.mail(raw_mail(subject=f"Re: Chatty [#{number}]", body=long_body(9000) + f"\nreply {i}",
                                message_id=f"<chatty{i}@customer.example>", in_reply_to="<chatty@customer.example>"))
    shown = await answers_to(bot, f"show {number}")
    assert len(shown) >= 2 and refused(bot) == []
    assert "reply 2" in "\n".join(block_text(page["blocks"]) for page in shown)
    assert all(blocks_text_length(page["blocks"]) <= MAX_BLOCKS_TEXT for page in shown)

    for i in range(150):  # 300 audit lines: far more than one Slack message holds
        await tags.tag(bot.core.ctx, OPERATOR, number, [f"tag-number-{i}"], [])
        await tags.tag(bot.core.ctx, OPERATOR, number, [], [f"tag-number-{i}"])
    history = await answers_to(bot, f"history {number}")
    assert len(history) >= 2 and refused(bot) == []
    assert "tag-number-149" in "\n".join(block_text(page["blocks"]) for page in history)  # the latest are there


async def test_an_answer_longer_than_four_pages_says_what_is_left_out(bot: SlackBot) -> None:
    number = await bot.mail(raw_mail(subject="Busy"))
    for i in range(400):
        await tags.tag(bot.core.ctx, OPERATOR, number, [f"a-rather-long-tag-name-number-{i}"], [])
    history = await answers_to(bot, f"history {number}")
    assert 2 <= len(history) <= 4 and refused(bot) == []
    shown = "\n".join(block_text(page["blocks"]) for page in history)
    assert "left out" in shown and re.search(r"\d{4}-\d\d-\d\d", shown.split("left out")[-1])  # the latest, after it


async def test_the_move_form_of_a_ticket_whose_team_is_the_only_one_says_so(sqlite_database: Database,
                                                                             tmp_path: Path) -> None:
    path = tmp_path / "workflow.toml"
    path.write_text('default_team = "support"\n\n[[teams]]\nname = "support"\nmembers = ["ana@helpdesk.test"]\n')
    async with running_bot(sqlite_database, tmp_path, workflow_file=path) as bot:
        number = await bot.mail(raw_mail())
        await bot.settled()
        root = await bot.root_of(number)
        await bot.send(bot.requests.select_option(root.payload(), ticket_blocks.MORE, "move", user="U0ANA"))
        form = await eventually(lambda: next((v for v in bot.slack.views.values()
                                              if v.get("callback_id") == ticket_blocks.MOVE_MODAL), None))
        assert [c.error for c in bot.slack.calls if c.method.startswith("views.")] == [None] * len(
            [c for c in bot.slack.calls if c.method.startswith("views.")])
        assert "no other team" in block_text(form["blocks"]) and "submit" not in form
        assert not any(b["type"] == "input" for b in form["blocks"])


def test_an_assignee_from_another_platform_is_never_a_slack_mention() -> None:
    discord = replace(TICKET, assignee="Ana", assignee_chat_id="123456789012345678")
    root = ticket_blocks.root_message(discord)
    shown = block_text(root["blocks"])
    assert "<@" not in shown and "Ana" in shown
    assign = controls._assign_select(discord)
    assert "initial_user" not in assign
    slack = controls._assign_select(replace(discord, assignee_chat_id="U0ANA"))
    assert slack["initial_user"] == "U0ANA" and "<@U0ANA>" in block_text(
        ticket_blocks.root_message(replace(discord, assignee_chat_id="U0ANA"))["blocks"])


@pytest.mark.parametrize("chars", [100, 12_500, MAX_BODY_CHARS, 50_000])
def test_every_part_of_a_thread_message_is_within_slacks_limits(chars: int) -> None:
    from tests.support.block_kit import message_errors
    from tests.test_slack_blocks import MAIL

    msg = replace(MAIL, text=long_body(chars), full_text=long_body(chars))
    parts = ticket_blocks.thread_messages(msg)
    assert [message_errors(p) for p in parts] == [[]] * len(parts)
    assert len(parts) == (1 if chars < 10_000 else 2)
    assert CHANNEL  # the same channel the e2e tests use


def test_a_long_list_of_attachments_is_shown_whole_not_cut_mid_line() -> None:
    from tests.support.block_kit import message_errors
    from tests.test_slack_blocks import MAIL, AttachmentView

    files = tuple(AttachmentView(f"scan-{i:02d}-" + "long-file-name-" * 9 + ".pdf", "application/pdf", 1000, True)
                  for i in range(25))
    [message] = ticket_blocks.thread_messages(replace(MAIL, attachments=files))
    assert message_errors(message) == []
    shown = block_text(message["blocks"])
    assert all(f"scan-{i:02d}-" in shown for i in range(20)) and "… and 5 more" in shown
