"""The drain part of bench/slack.py: a burst of new tickets posted under Slack's rate limits.

Run it through bench/slack.py (`--part drain`); see its docstring for the options.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import tempfile
import time
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from bot.adapters.slack.client import ChannelGate
from bot.app import build_core
from tests.conftest import make_settings
from tests.support.db import Database, make_database
from tests.support.fake_slack import Failure, FakeSlack
from tests.support.mails import deliver, raw_mail
from tests.support.slack_bot import BOT_USER, CHANNEL, TOKEN, USERS, running_bot

TARGET_DRAIN = 0.90  # posts/s within 10 % of the limit
TARGET_ROOTS_S = 240.0  # 200 roots under 20 % random 429s (issue 12)
SLACK_RATE = 1.0  # chat.postMessage per channel per second that Slack documents: the share's measure without a limit


@asynccontextmanager
async def database(kind: str) -> AsyncIterator[tuple[Database, Path]]:
    """A fresh migrated store: SQLite in a temp dir, or a PostgreSQL schema of its own (dropped after)."""
    with tempfile.TemporaryDirectory(prefix="tiketti-bench-slack-") as tmp:
        gen = make_database(kind, Path(tmp))
        db = await anext(gen)
        try:
            yield db, Path(tmp)
        finally:
            await gen.aclose()


def customer_mail(i: int) -> bytes:
    return raw_mail(frm=f"Customer {i} <c{i}@customer.example>", subject=f"Bench ticket {i}",
                    body=f"Hello, order {1000 + i} has not arrived. Could you check?")


# --- 2. drain under the rate limit ------------------------------------------------------


class TimedSlack(FakeSlack):
    """The fake, noting when chat.postMessage was first tried and when each root and first reply landed.

    With `random_429` it also answers that share of every Web API call 429 + Retry-After 1, before
    the channel's own limit is looked at: the workspace's and the methods' limits, which the bot
    cannot foresee.
    """

    def __init__(self, *, random_429: float = 0.0, seed: int = 1, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.random_429, self._rng = random_429, random.Random(seed)
        self.first_try: float | None = None
        self.roots_at: dict[str, float] = {}
        self.first_reply_at: dict[str, float] = {}

    def _failure_for(self, method: str, args: dict[str, Any]) -> Failure | None:
        if method == "chat.postMessage":
            self.first_try = self.first_try or time.perf_counter()
        if self.random_429 and self._rng.random() < self.random_429:
            return Failure(429, 1, "ratelimited")
        return super()._failure_for(method, args)

    def _post(self, args: dict[str, Any]) -> dict[str, Any]:
        body = super()._post(args)
        if body.get("ok"):
            thread = args.get("thread_ts")
            if not thread:
                self.roots_at[body["ts"]] = time.perf_counter()
            elif thread not in self.first_reply_at:
                self.first_reply_at[str(thread)] = time.perf_counter()
        return body

    def complete(self, n: int) -> bool:
        return len(self.roots_at) >= n and len(self.first_reply_at) >= n


async def drain(args: argparse.Namespace) -> dict[str, Any]:
    n, limit = args.tickets, args.post_limit or None
    result: dict[str, Any] = {"db": args.db, "tickets": n, "limit": limit, "start": args.drain_start,
                              "random_429": args.random_429}
    async with (database(args.db) as (db, tmp),
                TimedSlack(token=TOKEN, bot_user_id=BOT_USER, users=USERS, random_429=args.random_429,
                           seed=args.seed) as slack):
        slack.limit_posts(limit)
        if args.drain_start == "restart":
            result["deliver_s"] = await _deliver_before_start(db, tmp, n)
        async with running_bot(db, tmp, slack=slack, gate=ChannelGate(), ack_enabled=False) as bot:
            if args.drain_start == "live":
                start = time.perf_counter()
                for i in range(n):
                    await bot.mail(customer_mail(i))
                result["deliver_s"] = time.perf_counter() - start
            rate = min(limit or SLACK_RATE, SLACK_RATE)
            result["complete"] = await _until(lambda: slack.complete(n), timeout=60 + 4 * n / rate)
            assert slack.first_try is not None
            done = max([*slack.roots_at.values(), *slack.first_reply_at.values()])
            await bot.settled()
            posts = slack.calls_to("chat.postMessage")
            result.update(seconds=done - slack.first_try, roots_s=max(slack.roots_at.values()) - slack.first_try,
                          roots=len(slack.roots_at), posts=sum(c.error is None for c in posts),
                          rate_limited=sum(c.status == 429 for c in posts), check=_check_roots(slack, n))
    result["rate"] = 2 * n / result["seconds"]
    return result


async def _deliver_before_start(db: Database, tmp: Path, n: int) -> float:
    """The mail comes in while the bot is down (or through `tiketti ingest`): only the sweep can find it."""
    core = await build_core(make_settings(db, tmp, ack_enabled=False), engine=db.engine())
    try:
        start = time.perf_counter()
        for i in range(n):
            await deliver(core, customer_mail(i))
        return time.perf_counter() - start
    finally:
        await core.close()


async def _until(done: Any, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while not done():
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(0.02)
    return True


def _check_roots(slack: FakeSlack, n: int) -> dict[str, Any]:
    """From the fake's records: one root per ticket 1..n, none lost or doubled, each with one customer message."""
    keys = Counter(((r.metadata or {}).get("event_payload") or {}).get("key") for r in slack.roots(CHANNEL))
    wanted = {f"ticket-{i}" for i in range(1, n + 1)}
    replies = [sum(1 for m in slack.thread(CHANNEL, r.ts) if m.metadata) for r in slack.roots(CHANNEL)]
    check = {"roots": sum(keys.values()), "missing": len(wanted - set(keys)),
             "doubled": sum(c - 1 for k, c in keys.items() if c > 1), "strangers": len(set(keys) - wanted),
             "threads_with_one_message": replies.count(1)}
    check["ok"] = (check["roots"] == n and not check["missing"] and not check["doubled"] and not check["strangers"]
                   and check["threads_with_one_message"] == n)
    return check



def print_drain(r: dict[str, Any]) -> None:
    n, limit, c = r["tickets"], r["limit"], r["check"]
    measure = limit or SLACK_RATE  # without a channel limit, the share is of the rate Slack documents
    rules = (f"limit {limit} chat.postMessage/s per channel" if limit else "no channel limit") + (
        f", {r['random_429']:.0%} of Web API calls answered 429 (Retry-After 1 s)" if r["random_429"] else "")
    print(f"\n== Drain: {n} new tickets ({2 * n} posts: root + customer message), {rules}, {r['db']}, "
          f"mail {'before start' if r['start'] == 'restart' else 'live'} ==\n")
    print(f"mail delivered: {n} in {r['deliver_s']:.1f} s ({n / r['deliver_s']:.0f} mails/s)")
    if not r["complete"]:
        print("NOT COMPLETE: some roots or first replies were still missing at the timeout")
    roots_met = "yes" if r["roots_s"] <= TARGET_ROOTS_S * n / 200 else "NO"
    print(f"first chat.postMessage -> every root: {r['roots_s']:.1f} s ({r['roots'] / r['roots_s']:.2f} roots/s; "
          f"target for {n}: <= {TARGET_ROOTS_S * n / 200:.0f} s: {roots_met})")
    share = r["rate"] / measure
    met = "yes" if share >= TARGET_DRAIN else f"NO (short by {(TARGET_DRAIN - share) * 100:.0f} points)"
    print(f"first chat.postMessage -> every root and first reply: {r['seconds']:.1f} s "
          f"(at {measure:g} post/s: {2 * n / measure:.1f} s)")
    print(f"posts/s: {r['rate']:.2f} = {share:.0%} of the channel's {measure:g}/s; target >= {TARGET_DRAIN:.0%}: {met}")
    print(f"chat.postMessage: {r['posts']} posted, {r['rate_limited']} answered 429")
    print(f"roots check: {'OK' if c['ok'] else 'FAILED'} - {c['roots']} roots, {c['missing']} missing, "
          f"{c['doubled']} doubled, {c['strangers']} unknown; {c['threads_with_one_message']} threads hold exactly "
          f"one customer message\n")
