"""Report benchmark: how long the digest and `/ticket report` take over a big ticket table.

    .venv/bin/python bench/reports.py --n 1000000 --db both
    .venv/bin/python bench/reports.py --n 100000 --db sqlite

Builds n tickets spread over the last year (bulk INSERTs straight into the
tables, not the handlers: a million mails through the pipeline would take
hours and measure ingest, not reporting), with agents, teams, categories,
first answers, solutions, SLA breaches and reopen audit rows. Then times
`build_report` for a day, a week and a month, and the whole digest (two reports
and two charts). PostgreSQL runs in a database of its own, dropped afterwards.
Prints figures; never fails on timing.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from sqlalchemy import insert  # noqa: E402
from sqlalchemy.ext.asyncio import create_async_engine  # noqa: E402

from bot.app import build_core  # noqa: E402
from bot.handlers import reports  # noqa: E402
from bot.settings import Settings  # noqa: E402
from bot.store import orm  # noqa: E402

PG_ADMIN = f"postgresql+asyncpg://{os.environ.get('TIKETTI_TEST_PG_USER', 'postgres')}@127.0.0.1:5432/test"
CHUNK = 20_000
TEAMS = ["support", "billing", "complaints", None]
CATEGORIES = ["technical", "billing", "complaint", "account", None]
NOW = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)


def ticket_rows(n: int, seed: int) -> tuple[list[dict[str, object]], list[dict[str, object]]]:
    """n tickets over 365 days, most solved; and a reopen audit row for about 2 % of them."""
    rnd = random.Random(seed)
    span = 365 * 24 * 3600
    tickets, audit = [], []
    for i in range(1, n + 1):
        created = NOW - timedelta(seconds=span * (n - i) / n + rnd.random() * 60)
        first = created + timedelta(minutes=rnd.expovariate(1 / 90)) if rnd.random() < 0.95 else None
        solved = created + timedelta(hours=rnd.expovariate(1 / 20)) if first and rnd.random() < 0.9 else None
        if solved and solved > NOW:
            solved = None
        if first and first > NOW:
            first = None
        due = created + timedelta(hours=8)
        breached = due if (solved or NOW) > due and rnd.random() < 0.5 else None
        tickets.append({
            "id": i, "subject": f"Ticket {i}", "requester_id": rnd.randint(1, 1000),
            "status": "closed" if solved else rnd.choice(["new", "open", "waiting_on_customer"]),
            "priority": "normal", "assignee_id": rnd.randint(1, 20) if first else None,
            "team": rnd.choice(TEAMS), "category": rnd.choice(CATEGORIES), "tags": [], "references": [],
            "created_at": created, "updated_at": solved or first or created, "first_response_at": first,
            "solved_at": solved, "closed_at": solved, "sla_events": [],
            "resolution_due_at": due, "resolution_breached_at": breached,
        })
        if solved and rnd.random() < 0.02:
            audit.append({"ticket_id": i, "action": "status", "actor": "contact:x", "field": "status",
                          "before": "solved", "after": "customer_replied", "created_at": solved})
    return tickets, audit


async def fill(url: str, n: int, seed: int) -> float:
    engine = create_async_engine(url)
    started = time.perf_counter()
    tickets, audit = ticket_rows(n, seed)
    async with engine.begin() as conn:
        await conn.execute(insert(orm.contacts), [{"id": i, "email": f"c{i}@customer.test", "name": ""}
                                                  for i in range(1, 1001)])
        await conn.execute(insert(orm.agents), [{"id": i, "chat_user_id": f"U{i:04d}", "name": f"Agent {i}"}
                                                for i in range(1, 21)])
    for table, rows in ((orm.tickets, tickets), (orm.audit_events, audit)):
        for at in range(0, len(rows), CHUNK):
            async with engine.begin() as conn:
                await conn.execute(insert(table), rows[at:at + CHUNK])
    if url.startswith("postgresql"):
        async with engine.begin() as conn:
            await conn.exec_driver_sql("SELECT setval('tickets_id_seq', (SELECT max(id) FROM tickets))")
            await conn.exec_driver_sql("ANALYZE")
    else:
        async with engine.begin() as conn:
            await conn.exec_driver_sql("ANALYZE")
    await engine.dispose()
    return time.perf_counter() - started


async def timed(label: str, coro: object) -> None:
    started = time.perf_counter()
    await coro  # type: ignore[misc]
    print(f"  {label:<28} {1000 * (time.perf_counter() - started):9.0f} ms")


async def measure(url: str, n: int, seed: int, tmp: Path) -> None:
    settings = Settings(database_url=url, secret_key="bench", support_address="support@bench.test",
                        outbound_dir=tmp / "out")  # type: ignore[call-arg]
    core = await build_core(settings)  # migrates the empty schema first
    try:
        print(f"  filled {n:,} tickets in {await fill(url, n, seed):.1f} s")
        ctx = core.ctx
        today = reports.local_midnight(NOW, UTC)
        await timed("report: yesterday", reports.build_report(ctx, today - timedelta(days=1), today))
        await timed("report: week", reports.build_report(ctx, today - timedelta(days=7), NOW))
        await timed("report: month", reports.build_report(ctx, today - timedelta(days=30), NOW))
        await timed("report: month, one team", reports.build_report(ctx, today - timedelta(days=30), NOW, "billing"))
        await timed("digest (2 reports, 2 charts)", reports.build_digest(ctx, now=NOW))
    finally:
        await core.close()


async def run(db: str, n: int, seed: int) -> None:
    print(f"{db}: n={n:,}")
    with tempfile.TemporaryDirectory() as tmp:
        if db == "sqlite":
            await measure(f"sqlite+aiosqlite:///{tmp}/bench.db", n, seed, Path(tmp))
            return
        name = f"bench_reports_{os.getpid()}"
        admin = create_async_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
        async with admin.connect() as conn:
            await conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
        try:
            await measure(PG_ADMIN.rsplit("/", 1)[0] + "/" + name, n, seed, Path(tmp))
        finally:
            async with admin.connect() as conn:
                await conn.exec_driver_sql(f'DROP DATABASE "{name}" WITH (FORCE)')
            await admin.dispose()


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--n", type=int, default=1_000_000, help="tickets to create (default 1,000,000)")
    p.add_argument("--db", choices=["sqlite", "postgres", "both"], default="both")
    p.add_argument("--seed", type=int, default=1)
    args = p.parse_args()
    for db in (["sqlite", "postgres"] if args.db == "both" else [args.db]):
        asyncio.run(run(db, args.n, args.seed))


if __name__ == "__main__":
    main()
