"""The measurements themselves: each runs in its own process so peak RSS belongs to it alone.

Every mail goes through the real door (`MailPipeline.process`), one transaction
per mail, acknowledgements on (they are queued in the outbox, never sent).
Only the `process` calls are timed; generating the mail is not.
"""

from __future__ import annotations

import asyncio
import gc
import json
import os
import resource
import statistics
import sys
import tempfile
import time
import tracemalloc
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import text

from bench.mailgen import MailGenerator
from bot.app import Core, build_core
from bot.mail.listener import InboundListener
from bot.mail.pipeline import MailPipeline
from bot.settings import Settings
from bot.store.db import create_engine

SUPPORT = "support@helpdesk.bench"
KEY = "bench"
PG_URL = os.environ.get("TIKETTI_BENCH_PG_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test")
MB = 1024 * 1024


def rss_now() -> int:
    """Resident set size right now, in bytes (ru_maxrss only knows the peak)."""
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def rss_peak() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # Linux reports KiB


@asynccontextmanager
async def open_core(db: str, **overrides: Any) -> AsyncIterator[Core]:
    """A migrated store of its own: a temp SQLite file, or a fresh PostgreSQL schema dropped afterwards."""
    settings = dict(secret_key=KEY, support_address=SUPPORT, ack_enabled=True, **overrides)
    if db == "sqlite":
        with tempfile.TemporaryDirectory(prefix="tiketti-bench-") as tmp:
            core = await build_core(Settings(database_url=f"sqlite+aiosqlite:///{tmp}/bench.db", **settings))
            try:
                yield core
            finally:
                await core.close()
        return
    schema = f"bench_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG_URL)
    async with admin.begin() as conn:
        await conn.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    try:
        engine = create_engine(PG_URL, connect_args={"server_settings": {"search_path": schema}})
        core = await build_core(Settings(database_url=PG_URL, **settings), engine=engine)
        try:
            yield core
        finally:
            await core.close()
    finally:
        async with admin.begin() as conn:
            await conn.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')
        await admin.dispose()


async def _deliver(pipeline: MailPipeline, raw: bytes, outcomes: Counter[str]) -> float:
    start = time.perf_counter()
    result = await pipeline.process(raw, source="bench")
    elapsed = time.perf_counter() - start
    outcomes[result.outcome.action if result.outcome else "quarantined"] += 1
    return elapsed


async def _deliver_group(pipeline: MailPipeline, raws: list[bytes], outcomes: Counter[str]) -> float:
    start = time.perf_counter()
    results = await pipeline.process_many([(raw, None) for raw in raws], source="bench")
    elapsed = time.perf_counter() - start
    for result in results:
        outcomes[result.outcome.action if result.outcome else "quarantined"] += 1
    return elapsed


async def _row_counts(core: Core) -> dict[str, int]:
    async with core.engine.connect() as conn:
        return {t: int((await conn.execute(text(f"SELECT count(*) FROM {t}"))).scalar_one())
                for t in ("tickets", "messages", "attachments", "outbox", "audit_events", "quarantine")}


async def throughput(db: str, n: int, seed: int, group: int = 1) -> dict[str, Any]:
    """N generated mails as a mailbox would deliver them: one at a time (`tiketti ingest`, LMTP),
    or in groups through `process_many`, as the IMAP fetcher hands over what one FETCH brought."""
    async with open_core(db) as core:
        pipeline = MailPipeline(core.ctx)
        gen = MailGenerator(seed=seed, key=KEY.encode(), support=SUPPORT, customers=max(50, n // 4))
        outcomes: Counter[str] = Counter()
        if group <= 1:
            latencies = [await _deliver(pipeline, gen.next_mail(), outcomes) for _ in range(n)]
        else:
            latencies = []
            try:
                for start in range(0, n, group):
                    size = min(group, n - start)
                    latencies += [await _deliver_group(pipeline, [gen.next_mail() for _ in range(size)], outcomes) / size] * size
            finally:
                pipeline.close(wait=True)
        rows = await _row_counts(core)
    total = sum(latencies)
    q = statistics.quantiles(latencies, n=100) if n >= 2 else latencies * 99
    return {
        "db": db, "n": n, "group": group, "seconds": total, "rate": n / total, "p50_ms": q[49] * 1e3, "p95_ms": q[94] * 1e3,
        "p99_ms": q[98] * 1e3, "max_ms": max(latencies) * 1e3, "peak_rss": rss_peak(),
        "worker_peak_rss": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024, "rss_end": rss_now(),
        "outcomes": dict(outcomes), "expected": dict(gen.expected), "rows": rows, "mix": dict(gen.kinds),
    }


async def lmtp_throughput(db: str, n: int, seed: int, clients: int) -> dict[str, Any]:
    """N generated mails delivered to the LMTP listener over `clients` connections at once by a
    load generator in another process (bench/smtp_load.py); timed from its first mail to its last 250."""
    async with open_core(db) as core:
        pipeline = MailPipeline(core.ctx)
        listener = InboundListener(core.ctx, pipeline, "127.0.0.1", 0, lmtp=True)
        await listener.start()
        gen = MailGenerator(seed=seed, key=KEY.encode(), support=SUPPORT, customers=max(50, n // 4))
        with tempfile.NamedTemporaryFile(prefix="tiketti-lmtp-", suffix=".mails") as f:
            for _ in range(n):
                raw = gen.next_mail()
                f.write(len(raw).to_bytes(4, "big") + raw)
            f.flush()
            try:
                load = await asyncio.create_subprocess_exec(
                    sys.executable, str(Path(__file__).with_name("smtp_load.py")), str(listener.port), f.name, str(clients),
                    stdout=asyncio.subprocess.PIPE)
                out, _ = await load.communicate()
            finally:
                await listener.stop()
                pipeline.close(wait=True)
        result = json.loads(out.decode().strip().splitlines()[-1])
        rows = await _row_counts(core)
    latencies = sorted(result["latencies_ms"])
    q = statistics.quantiles(latencies, n=100) if len(latencies) >= 2 else latencies * 99
    return {
        "db": db, "n": n, "clients": clients, "seconds": result["seconds"], "rate": len(latencies) / result["seconds"],
        "p50_ms": q[49], "p95_ms": q[94], "p99_ms": q[98], "refused": len(result["refused"]), "peak_rss": rss_peak(),
        "worker_peak_rss": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024, "rows": rows,
        "expected": dict(gen.expected),
    }


async def memory_series(db: str, checkpoints: list[int], seed: int) -> dict[str, Any]:
    """One long run, RSS read at each checkpoint: memory must not grow with the number of mails."""
    points: list[dict[str, Any]] = []
    async with open_core(db) as core:
        pipeline = MailPipeline(core.ctx)
        gen = MailGenerator(seed=seed, key=KEY.encode(), support=SUPPORT, customers=2500)
        outcomes: Counter[str] = Counter()
        base_rss, done, segment = rss_now(), 0, 0.0
        for target in sorted(checkpoints):
            for _ in range(target - done):
                segment += await _deliver(pipeline, gen.next_mail(), outcomes)
            points.append({"mails": target, "rss": rss_now(), "peak_rss": rss_peak(),
                           "segment_rate": (target - done) / segment})
            done, segment = target, 0.0
    return {"db": db, "base_rss": base_rss, "points": points, "outcomes": dict(outcomes)}


async def big_attachment(db: str, path: str, size: int) -> dict[str, Any]:
    """One mail with a `size`-byte attachment, read from `path` so building it costs this process nothing.

    The store limit is raised above `size`: storing the file is the expensive path.
    """
    async with open_core(db, max_attachment_bytes=size + MB) as core:
        pipeline = MailPipeline(core.ctx)
        warm = MailGenerator(seed=99, key=KEY.encode(), support=SUPPORT)
        for _ in range(20):  # imports, templates, pooled connections: not part of the figure
            await _deliver(pipeline, warm.next_mail(), Counter())
        raw = Path(path).read_bytes()
        gc.collect()
        rss_before = rss_now()
        tracemalloc.start()
        tracemalloc.reset_peak()
        start = time.perf_counter()
        outcomes: Counter[str] = Counter()
        await _deliver(pipeline, raw, outcomes)
        elapsed = time.perf_counter() - start
        _, traced_peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        peak_after = rss_peak()
        async with core.engine.connect() as conn:
            stored = (await conn.execute(text("SELECT max(size), max(length(content)) FROM attachments"))).one()
    return {
        "db": db, "size": size, "mail_bytes": len(raw), "seconds": elapsed, "traced_peak": traced_peak,
        "rss_before": rss_before, "rss_growth": max(0, peak_after - rss_before), "outcomes": dict(outcomes),
        "stored_size": stored[0], "stored_bytes": stored[1],
    }
