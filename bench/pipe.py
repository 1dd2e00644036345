"""`bench/ingest.py --pipe`: mail as an MTA pipes it, one `tiketti ingest` process per mail.

Each mail is a new process fed on standard input, run one after another, timed from spawn to
exit (what the MTA waits for). The store is migrated first, as a running instance would have
done, so no process pays for a schema upgrade. With `handoff=True` a listener (LMTP, as
`tiketti run` opens it with TIKETTI_INBOUND_SMTP_PORT and TIKETTI_INBOUND_LMTP) runs in this
process and the pipe processes hand their mail to it (bot.mail.handoff).
"""

from __future__ import annotations

import asyncio
import os
import resource
import statistics
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from bench.mailgen import MailGenerator
from bench.measure import KEY, PG_URL, SUPPORT, _row_counts
from bot.app import build_core
from bot.mail.listener import InboundListener
from bot.mail.pipeline import MailPipeline
from bot.settings import Settings
from bot.store.db import create_engine


def tiketti_command() -> list[str]:
    """The console script next to this interpreter (what an MTA's pipe runs), else `python -m bot`."""
    script = Path(sys.executable).with_name("tiketti")
    return [str(script)] if script.exists() else [sys.executable, "-m", "bot"]


@asynccontextmanager
async def database_url(db: str) -> AsyncIterator[str]:
    """A store the child processes can name by URL: a temp SQLite file or a PostgreSQL database of its own."""
    if db == "sqlite":
        with tempfile.TemporaryDirectory(prefix="tiketti-pipe-") as tmp:
            yield f"sqlite+aiosqlite:///{tmp}/pipe.db"
        return
    name = f"bench_pipe_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    async with admin.connect() as conn:
        await conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    try:
        yield PG_URL.rsplit("/", 1)[0] + "/" + name
    finally:
        async with admin.connect() as conn:
            await conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.dispose()


def _children_cpu() -> float:
    """CPU seconds of the waited-for children so far: unlike wall time, barely moved by other load."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


async def _start_baseline(runs: int = 5) -> float:
    """A bare interpreter's start and exit, the floor under any per-process figure."""
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        proc = await asyncio.create_subprocess_exec(sys.executable, "-c", "pass")
        await proc.wait()
        times.append(time.perf_counter() - start)
    return min(times)


async def pipe_throughput(db: str, n: int, seed: int, handoff: bool) -> dict[str, Any]:
    async with database_url(db) as url:
        settings = Settings(database_url=url, secret_key=KEY, support_address=SUPPORT, ack_enabled=True)
        core = await build_core(settings)  # migrated here, as the running instance did
        listener: InboundListener | None = None
        pipeline = MailPipeline(core.ctx)
        env = {k: v for k, v in os.environ.items() if not k.startswith("TIKETTI_")}
        env.update(TIKETTI_DATABASE_URL=url, TIKETTI_SECRET_KEY=KEY, TIKETTI_SUPPORT_ADDRESS=SUPPORT,
                   TIKETTI_ACK_ENABLED="true", TIKETTI_LOG_LEVEL="WARNING")
        if handoff:
            listener = InboundListener(core.ctx, pipeline, "127.0.0.1", 0, lmtp=True)
            await listener.start()
            env.update(TIKETTI_INBOUND_SMTP_PORT=str(listener.port), TIKETTI_INBOUND_LMTP="true")
        gen = MailGenerator(seed=seed, key=KEY.encode(), support=SUPPORT, customers=max(50, n // 4))
        outcomes: Counter[str] = Counter()
        latencies: list[float] = []
        cpu: list[float] = []
        failures = 0
        try:
            for _ in range(n):
                raw = gen.next_mail()
                start, cpu_start = time.perf_counter(), _children_cpu()
                proc = await asyncio.create_subprocess_exec(
                    *tiketti_command(), "ingest", stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
                    stderr=asyncio.subprocess.PIPE, env=env)
                out, _err = await proc.communicate(raw)
                latencies.append(time.perf_counter() - start)
                cpu.append(_children_cpu() - cpu_start)
                failures += proc.returncode != 0
                words = out.decode().split()
                outcomes[words[0].rstrip(":") if words else "quarantined"] += 1
        finally:
            if listener is not None:
                await listener.stop()
            pipeline.close(wait=True)
            rows = await _row_counts(core)
            await core.close()
    q = statistics.quantiles(latencies, n=100) if n >= 2 else latencies * 99
    return {
        "db": db, "n": n, "handoff": handoff, "seconds": sum(latencies), "mean_s": statistics.fmean(latencies),
        "p50_s": q[49], "p95_s": q[94], "max_s": max(latencies),
        "cpu_p50_s": statistics.median(cpu), "load": os.getloadavg()[0], "failures": failures, "outcomes": dict(outcomes),
        "rows": rows, "python_start_s": await _start_baseline(), "command": " ".join(tiketti_command()),
    }
