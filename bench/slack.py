"""Slack adapter benchmark: how fast the bot acks Slack, and how close posting gets to Slack's rate limit.

    .venv/bin/python bench/slack.py                       # both parts on SQLite
    .venv/bin/python bench/slack.py --db postgres --part ack
    .venv/bin/python bench/slack.py --part drain --drain-start restart

The whole bot runs (web server, outbox, Slack adapter) against the fake Slack Web
API of the tests (tests/support/fake_slack.py), in this process. The drain part
is in bench/slack_drain.py.

1. ack: Slack gives an app 3 seconds to answer a request, and retries or shows
   an error otherwise; the bot keeps the request (bot.adapters.slack.kept), acks,
   and works after. 50 clients (a child
   process, so that they do not compete with the bot's event loop) post
   Slack-signed requests to /slack/events: button clicks on ticket roots (Claim,
   Close, Reopen) and thread messages (stored as internal notes). Each
   request's time until its HTTP response is the ack latency. `--part idle`
   sends one request at a time instead, each after the work of the one before.
2. drain: a burst of new tickets under a per-channel chat.postMessage limit
   (the fake answers 429 + Retry-After beyond it; Slack's is 1 post/s), the bot
   pacing as in production (`ChannelGate()`). How close to the limit does the
   thread sync post, how soon is every root out, how many 429s does it provoke,
   and does every ticket get exactly one root? `--random-429 0.2` also answers a
   fifth of all Web API calls 429 (Retry-After 1 s), as Slack's workspace-wide
   and per-method limits would; `--post-limit 0` lifts the channel limit.
   `--drain-start live` delivers the mail while the bot runs; `restart`
   delivers it first (as `tiketti ingest` or a restart would) and lets the
   thread sync's sweep find it.

    .venv/bin/python bench/slack.py --part drain --tickets 200 --random-429 0.2 --post-limit 0

It prints figures and never fails on timing: this is a benchmark, not a test.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import platform
import random
import statistics
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script: make `bench`, `bot` and `tests` importable
    sys.path.insert(0, str(ROOT))

import aiohttp  # noqa: E402

from bench.slack_drain import customer_mail, database, drain, print_drain  # noqa: E402
from bot.adapters.slack import ticket_blocks  # noqa: E402
from bot.domain.model import MessageKind  # noqa: E402
from tests.support.fake_slack import Posted  # noqa: E402
from tests.support.mails import messages  # noqa: E402
from tests.support.slack_bot import USERS, SlackBot, running_bot  # noqa: E402
from tests.support.slack_requests import SlackRequest  # noqa: E402

TARGET_P99_MS = 100.0
AGENTS = sorted(USERS)
MIX = [("note", 40), ("claim", 30), ("close", 15), ("reopen", 15)]  # % of the ack requests


def main() -> None:
    args = _parse_args()
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    if args.load:
        print("RESULT " + json.dumps(asyncio.run(fire(Path(args.load), args.clients))))
        return
    print(f"machine: {os.cpu_count()} CPUs (nproc {len(os.sched_getaffinity(0))}), Python {platform.python_version()}, "
          f"{platform.system()} {platform.release()}")
    if args.part in ("ack", "both"):
        _print_ack(asyncio.run(ack_latency(args)))
    if args.part == "idle":
        asyncio.run(idle_ack(args))
    if args.part in ("drain", "both"):
        print_drain(asyncio.run(drain(args)))


def _parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    p.add_argument("--part", choices=["ack", "idle", "drain", "both"], default="both",
                   help="idle: acks of single requests to a bot with nothing else to do")
    p.add_argument("--requests", type=int, default=5000, help="signed requests in the ack run (default 5000)")
    p.add_argument("--clients", type=int, default=50, help="concurrent HTTP clients in the ack run (default 50)")
    p.add_argument("--open-tickets", type=int, default=50, help="tickets the ack run clicks and notes on (default 50)")
    p.add_argument("--tickets", type=int, default=200, help="new tickets in the drain run (default 200)")
    p.add_argument("--post-limit", type=int, default=1,
                   help="chat.postMessage per channel per second, 0 for none (default 1, Slack's)")
    p.add_argument("--random-429", type=float, default=0.0, metavar="SHARE",
                   help="answer this share of all Web API calls 429, Retry-After 1 (default 0)")
    p.add_argument("--drain-start", choices=["live", "restart"], default="live",
                   help="mail arrives while the bot runs (live), or before it starts (restart)")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--load", help=argparse.SUPPRESS)  # internal: be the load generator for this request file
    return p.parse_args()


# --- 1. ack latency -------------------------------------------------------------------


async def ack_latency(args: argparse.Namespace) -> dict[str, Any]:
    async with database(args.db) as (db, tmp), running_bot(db, tmp) as bot:
        roots = await _open_tickets(bot, args.open_tickets)
        await _warm_up(bot, roots)
        notes_before, errors = await _note_count(bot, roots), ErrorCount.install()
        plan = _plan(bot, roots, args.requests, random.Random(args.seed))
        path = tmp / "requests.json"
        path.write_text(json.dumps([{"kind": kind, "body": r.body, "headers": r.headers} for kind, r in plan]))
        result = await _spawn_load(path, bot.url, args.clients)
        start = time.perf_counter()
        assert bot.runtime.slack is not None
        try:  # the backlog's queue, not a count of tasks: its workers are always there, queued work is no task
            await asyncio.wait_for(bot.runtime.slack.parts.backlog.idle(), timeout=600)
            result["catch_up_s"] = time.perf_counter() - start
        except TimeoutError:
            result["catch_up_s"] = None
        await bot.settled()
        result.update(db=args.db, clients=args.clients, errors=dict(errors.by_logger),
                      notes_sent=sum(1 for kind, _ in plan if kind == "note"),
                      notes_stored=await _note_count(bot, roots) - notes_before)
        logging.getLogger().removeHandler(errors)
        return result


class ErrorCount(logging.Handler):
    """Counts ERROR records by logger: work after an ack that failed is only ever logged."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.by_logger: Counter[str] = Counter()

    def emit(self, record: logging.LogRecord) -> None:
        self.by_logger[record.name] += 1

    @classmethod
    def install(cls) -> ErrorCount:
        handler = cls()
        logging.getLogger().addHandler(handler)
        return handler


async def _open_tickets(bot: SlackBot, n: int) -> list[Posted]:
    for i in range(n):
        await bot.mail(customer_mail(i))
    await bot.settled()
    roots = bot.roots()
    assert len(roots) == n, f"{len(roots)} roots for {n} tickets"
    return roots


async def _warm_up(bot: SlackBot, roots: list[Posted]) -> None:
    """Imports, users.info for every agent, pooled connections: not part of the figure."""
    for agent in AGENTS:
        await bot.send(bot.requests.click(roots[0].payload(), ticket_blocks.CLAIM, user=agent))
        await bot.event(bot.requests.message("warm-up note", user=agent, thread_ts=roots[0].ts))
    await bot.settled()


def _plan(bot: SlackBot, roots: list[Posted], n: int, rng: random.Random) -> list[tuple[str, SlackRequest]]:
    """`n` signed requests in MIX proportions, each on a random ticket by a random agent."""
    kinds = rng.choices([k for k, _ in MIX], weights=[w for _, w in MIX], k=n)
    return [(kind, _request(bot, kind, rng.choice(roots), rng.choice(AGENTS), i)) for i, kind in enumerate(kinds)]


def _request(bot: SlackBot, kind: str, root: Posted, agent: str, i: int) -> SlackRequest:
    req = bot.requests
    if kind == "note":
        return req.event(req.message(f"note {i}: checked the courier, no scan yet", user=agent, thread_ts=root.ts))
    if kind == "reopen":  # the root shows Reopen only once solved; Slack would echo this button
        number = str(_number(root))
        action = {"type": "button", "action_id": ticket_blocks.REOPEN, "block_id": f"ticket.{number}", "value": number,
                  "text": {"type": "plain_text", "text": "Reopen"}}
        return req.block_action(root.payload(), action, user=agent)
    return req.click(root.payload(), ticket_blocks.CLAIM if kind == "claim" else ticket_blocks.CLOSE, user=agent)


async def _spawn_load(path: Path, url: str, clients: int) -> dict[str, Any]:
    """Fire the requests from a child process; this process's loop stays the bot's alone."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable, __file__, "--load", str(path), "--clients", str(clients),
        env={**os.environ, "BENCH_SLACK_URL": url}, stdout=asyncio.subprocess.PIPE)
    out, _ = await proc.communicate()
    if proc.returncode:
        raise RuntimeError(f"load generator exited with {proc.returncode}")
    line = next(line for line in reversed(out.decode().splitlines()) if line.startswith("RESULT "))
    return json.loads(line[len("RESULT "):])  # type: ignore[no-any-return]


async def fire(path: Path, clients: int) -> dict[str, Any]:
    """(child process) `clients` keep-alive clients share the request list; each request is timed."""
    url = os.environ["BENCH_SLACK_URL"]
    plan = json.loads(path.read_text())
    latencies: dict[str, list[float]] = {}
    statuses: Counter[int] = Counter()
    queue = iter(plan)

    async def client() -> None:
        async with aiohttp.ClientSession() as http:
            for item in queue:
                t0 = time.perf_counter()
                async with http.post(url, data=item["body"].encode(), headers=item["headers"]) as resp:
                    await resp.read()
                latencies.setdefault(item["kind"], []).append(time.perf_counter() - t0)
                statuses[resp.status] += 1

    start = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(clients)))
    wall = time.perf_counter() - start
    every = [x for xs in latencies.values() for x in xs]
    return {"n": len(every), "seconds": wall, "rate": len(every) / wall, "all": _quantiles(every),
            "by_kind": {k: _quantiles(v) for k, v in latencies.items()}, "statuses": dict(statuses)}


def _quantiles(values: list[float]) -> dict[str, float]:
    q = statistics.quantiles(values, n=100) if len(values) >= 2 else values * 99
    return {"n": len(values), "p50": q[49] * 1e3, "p90": q[89] * 1e3, "p99": q[98] * 1e3, "max": max(values) * 1e3}


async def _note_count(bot: SlackBot, roots: list[Posted]) -> int:
    count = 0
    for root in roots:
        count += sum(m.kind == MessageKind.NOTE for m in await messages(bot.core, _number(root)))
    return count


def _number(root: Posted) -> int:
    """The ticket a root shows, from the key the thread sync stamps in its metadata ("ticket-12")."""
    return int(((root.metadata or {}).get("event_payload") or {})["key"].removeprefix("ticket-"))


async def idle_ack(args: argparse.Namespace, rounds: int = 60) -> None:
    """The ack of one note and one click at a time, each after the work of the one before is done."""
    async with database(args.db) as (db, tmp), running_bot(db, tmp) as bot:
        root = (await _open_tickets(bot, 1))[0]
        times: dict[str, list[float]] = {"note": [], "click": []}
        for i in range(rounds):
            for kind in times:
                request = (bot.requests.event(bot.requests.message(f"note {i}", user=AGENTS[0], thread_ts=root.ts))
                           if kind == "note" else bot.requests.click(root.payload(), ticket_blocks.CLAIM, user=AGENTS[1]))
                start = time.perf_counter()
                assert (await bot.send(request)).status == 200
                times[kind].append((time.perf_counter() - start) * 1000)
                await bot.settled()
    print(f"\n== Ack of one request to an idle bot, {args.db} (first 10 of {rounds} left out) ==\n")
    for kind, ms in times.items():
        ms = sorted(ms[10:])
        print(f"{kind:<6} p50 {statistics.median(ms):.1f} ms   p90 {ms[int(len(ms) * 0.9)]:.1f} ms   max {ms[-1]:.1f} ms")


# --- reporting -------------------------------------------------------------------------


def _print_ack(r: dict[str, Any]) -> None:
    a = r["all"]
    print(f"\n== Ack latency: {r['n']} signed requests to /slack/events from {r['clients']} clients, {r['db']} ==\n")
    print(f"{'requests':<10}{'n':>6}{'p50 ms':>9}{'p90 ms':>9}{'p99 ms':>9}{'max ms':>9}")
    for kind, q in [("all", a), *sorted(r["by_kind"].items())]:
        print(f"{kind:<10}{q['n']:>6}{q['p50']:>9.1f}{q['p90']:>9.1f}{q['p99']:>9.1f}{q['max']:>9.1f}")
    met = "yes" if a["p99"] < TARGET_P99_MS else f"NO (by {a['p99'] - TARGET_P99_MS:.0f} ms)"
    print(f"\n{r['rate']:.0f} requests/s over {r['seconds']:.1f} s; p99 {a['p99']:.1f} ms, target < {TARGET_P99_MS:.0f} ms: "
          f"{met}")
    print(f"HTTP statuses: {r['statuses']}")
    catch_up = f"{r['catch_up_s']:.1f} s" if r["catch_up_s"] is not None else "not within 600 s"
    print(f"work after the acks: done {catch_up} after the last ack; notes stored {r['notes_stored']} of "
          f"{r['notes_sent']} sent; errors logged {sum(r['errors'].values())} {r['errors'] or ''}\n")


if __name__ == "__main__":
    main()
