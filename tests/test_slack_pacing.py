"""Pacing of posts under Slack's rate limits: the channel's documented rate, Retry-After, 429s not ours.

The gate's arithmetic is checked on a clock the test moves (no sleeping, no timing); the whole bot
through a storm of random 429s. How fast it drains is measured in bench/slack.py, not asserted here.
"""

from __future__ import annotations

import asyncio
import random
from pathlib import Path
from typing import Any

from bot.adapters.slack.client import ChannelGate
from tests.support.db import Database
from tests.support.fake_slack import Failure, FakeSlack
from tests.support.mails import raw_mail
from tests.support.slack_bot import BOT_USER, CHANNEL, TOKEN, USERS, block_text, running_bot


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def posts_at_once(gate: ChannelGate, channel: str = "C1") -> int:
    """How many posts the channel may make right now (each one taken)."""
    count = 0
    while gate.take(channel) == 0.0:
        count += 1
    return count


def test_a_channel_bursts_then_keeps_to_slacks_rate() -> None:
    clock = Clock()
    gate = ChannelGate(per_second=1.0, burst=3, clock=clock)
    assert posts_at_once(gate) == 3
    assert gate.take("C1") == 1.0  # the next post in a second: 1 per second per channel
    assert posts_at_once(gate, "C2") == 3  # another channel has its own pace
    clock.now += 1.0
    assert posts_at_once(gate) == 1
    clock.now += 10.0
    assert posts_at_once(gate) == 3  # idle for long: a burst again, never more


def test_a_429_pauses_every_channel_until_retry_after() -> None:
    clock = Clock()
    gate = ChannelGate(per_second=1.0, burst=3, clock=clock)
    sent_at = clock.now
    assert gate.take("C1") == 0.0
    gate.refused("C1", sent_at, retry_after=5.0)  # perhaps the workspace's limit: nobody posts
    assert gate.take("C1") == 5.0 and gate.take("C2") == 5.0
    clock.now += 5.0
    assert gate.take("C2") == 0.0


def test_a_429_we_did_not_cause_costs_no_place_in_the_channels_pace() -> None:
    clock = Clock()
    gate = ChannelGate(per_second=1.0, burst=3, clock=clock)
    posts_at_once(gate)
    clock.now += 2.0  # two posts' worth of pace, kept to the rate
    sent_at = clock.now
    assert gate.take("C1") == 0.0
    gate.refused("C1", sent_at, retry_after=1.0)
    clock.now += 1.0
    assert posts_at_once(gate) == 3  # the refused post's turn, the one still due, and the second's refill


async def test_a_refused_post_is_known_by_the_time_wait_gave() -> None:
    gate = ChannelGate(per_second=1.0, burst=3)  # the real clock: wait's time must be the one take noted
    sent_at = await gate.wait("C1")
    gate.refused("C1", sent_at, retry_after=0.0)  # alone in its second: not ours, its turn comes back
    assert posts_at_once(gate) == 3


def test_a_429_after_a_burst_empties_the_channels_bucket() -> None:
    clock = Clock()
    gate = ChannelGate(per_second=1.0, burst=3, clock=clock)
    for _ in range(2):
        assert gate.take("C1") == 0.0
    clock.now += 0.5
    sent_at = clock.now
    assert gate.take("C1") == 0.0
    gate.refused("C1", sent_at, retry_after=1.0)  # posts went out in the second before: likely the channel's limit
    clock.now += 1.0
    assert posts_at_once(gate) == 1  # after the pause: on at the rate, not in a burst


async def test_roots_take_the_channels_turns_before_thread_posts() -> None:
    gate = ChannelGate(per_second=50.0, burst=1)
    await gate.wait("C1")  # the burst is spent: the next turns come one at a time
    order: list[str] = []

    async def post(name: str, first: bool) -> None:
        await gate.wait("C1", first=first)
        order.append(name)

    replies = [asyncio.create_task(post(f"reply {i}", False)) for i in range(3)]
    await asyncio.sleep(0)  # the replies wait in line first
    roots = [asyncio.create_task(post(f"root {i}", True)) for i in range(2)]
    await asyncio.gather(*replies, *roots)
    assert order == ["root 0", "root 1", "reply 0", "reply 1", "reply 2"]


class StormySlack(FakeSlack):
    """Answers a share of every Web API call 429 + Retry-After 1 at random, as the workspace's and the
    methods' limits would (https://api.slack.com/docs/rate-limits), on top of what the fake enforces."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.storm, self._rng = 0.0, random.Random(12)

    def _failure_for(self, method: str, args: dict[str, Any]) -> Failure | None:
        if self.storm and self._rng.random() < self.storm:
            return Failure(429, 1, "ratelimited")
        return super()._failure_for(method, args)


async def test_a_storm_of_random_429s_still_posts_every_root_exactly_once(
        sqlite_database: Database, tmp_path: Path) -> None:
    async with (StormySlack(token=TOKEN, bot_user_id=BOT_USER, users=USERS, members={CHANNEL: list(USERS)}) as slack,
                running_bot(sqlite_database, tmp_path, slack=slack, ack_enabled=False) as bot):
        slack.limit_posts(20)
        slack.storm = 0.2
        numbers = [await bot.mail(raw_mail(subject=f"Storm {i}", frm=f"c{i}@customer.example")) for i in range(30)]
        await bot.settled()
        slack.storm = 0.0
        roots = bot.roots()
        assert sorted(int(r.text.split()[0][1:]) for r in roots) == sorted(numbers)  # each once, none lost
        for root in roots:  # and each customer mail once in its thread
            assert sum("wrote:" in block_text(m.blocks) for m in bot.thread(root)) == 1
        refused = [c for c in slack.calls_to("chat.postMessage") if c.status == 429]
        assert refused and all(c.error == "ratelimited" for c in refused)
