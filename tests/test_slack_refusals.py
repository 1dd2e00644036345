"""Slack's refusals, end to end over HTTP: what no retry mends is tried once and told to agents.

The fake Web API answers with Slack's documented error codes
(https://api.slack.com/methods/chat.postMessage, "Errors"); the bot maps them
(`bot.adapters.slack.refusals`) and the chat layer stops that item, tells agents where
they look and counts it in /metrics (`tiketti_chat_post_failures_total`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bot import metrics
from tests.support.db import Database
from tests.support.fake_slack import Call, FakeSlack
from tests.support.mails import raw_mail
from tests.support.slack_bot import CHANNEL, block_text, fake_slack, running_bot
from tests.test_metrics import Samples, delta, scrape

BILLING = "C0BILLING"
WORKFLOW = f"""
[[teams]]
name = "billing"
channel = "{BILLING}"

[[teams]]
name = "support"

[[rules]]
to = ["billing@helpdesk.test"]
team = "billing"
"""


def failures(code: str) -> float:
    value = metrics.REGISTRY.get_sample_value("tiketti_chat_post_failures_total",
                                              {"platform": "slack", "code": code, "kind": "permanent"})
    return value or 0.0


def refused(before: Samples, after: Samples, code: str) -> float:
    """What GET /metrics says was refused between two scrapes."""
    return delta(before, after, "tiketti_chat_post_failures_total", platform="slack", code=code, kind="permanent")


def in_billing(args: dict[str, Any]) -> bool:
    return args.get("channel") == BILLING


def billing_posts(slack: FakeSlack) -> list[Call]:
    return [c for c in slack.calls_to("chat.postMessage") if in_billing(c.args)]


async def test_a_team_channel_without_the_bot_is_told_in_the_tickets_channel(database: Database,
                                                                            tmp_path: Path) -> None:
    path = tmp_path / "workflow.toml"
    path.write_text(WORKFLOW)
    async with fake_slack() as slack:
        # not_in_channel: "Cannot post user messages to a channel they are not in" (chat.postMessage, Errors)
        slack.fail_next("chat.postMessage", status=200, error="not_in_channel", times=50, when=in_billing)
        async with running_bot(database, tmp_path, slack=slack, workflow_file=path) as bot:
            before = await scrape(bot.runtime)
            n = await bot.mail(raw_mail(to="billing@helpdesk.test", subject="Invoice twice"))
            await bot.settled()
            assert slack.roots(BILLING) == []
            [notice] = [m for m in slack.roots(CHANNEL) if "couldn't post" in m.text]
            assert notice.text == (f":warning: #{n}: couldn't post the ticket's root to #{BILLING}: "
                                   "the bot is not in the channel — /invite @Tiketti in that channel")
            assert f"<#{BILLING}>" in block_text(notice.blocks), "the channel is a link in Slack"
            tries = len(billing_posts(slack))
            for _ in range(3):
                await bot.settled()  # sweeps, as a running bot makes them
            assert len(billing_posts(slack)) == tries, "no retry storm"
            # A second ticket of the team: tried once, told no more (one notice per channel and error).
            await bot.mail(raw_mail(to="billing@helpdesk.test", subject="Refund", message_id="<refund@customer.example>"))
            await bot.settled()
            assert len([m for m in slack.roots(CHANNEL) if "couldn't post" in m.text]) == 1
            # Tried once per change of each ticket (opened; its acknowledgement mailed), never per sweep.
            assert len(billing_posts(slack)) <= 4
            assert refused(before, await scrape(bot.runtime), "not_in_channel") == len(billing_posts(slack))


async def test_a_message_too_long_for_slack_is_told_in_its_thread_and_the_next_goes_on(database: Database,
                                                                                     tmp_path: Path) -> None:
    async with fake_slack() as slack, running_bot(database, tmp_path, slack=slack) as bot:
        n = await bot.mail(raw_mail(subject="Printer", message_id="<m1@customer.example>"))
        await bot.settled()
        root = await bot.root_of(n)
        before = failures("msg_blocks_too_long")
        slack.fail_next("chat.postMessage", status=200, error="msg_blocks_too_long",
                        when=lambda a: "REFUSE ME" in str(a.get("blocks")))
        await bot.mail(raw_mail(subject="Re: Printer", body="REFUSE ME", in_reply_to="<m1@customer.example>",
                                message_id="<m2@customer.example>"))
        await bot.mail(raw_mail(subject="Re: Printer", body="Shown after it", in_reply_to="<m1@customer.example>",
                                message_id="<m3@customer.example>"))
        await bot.settled()
        await bot.settled()
        thread = [block_text(m.blocks) + m.text for m in bot.thread(root)]
        assert [t for t in thread if "Shown after it" in t]
        [notice] = [t for t in thread if "couldn't post" in t]
        assert f"#{n}: couldn't post a customer's mail to" in notice and "Slack refused the message as too long" in notice
        refused = [c for c in slack.calls if c.method == "chat.postMessage" and "REFUSE ME" in str(c.args.get("blocks"))]
        assert len(refused) == 1, "a refused message is tried once"
        assert failures("msg_blocks_too_long") - before == 1
