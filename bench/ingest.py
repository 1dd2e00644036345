"""Ingestion benchmark: realistic mail through parse -> thread -> store, on SQLite and PostgreSQL.

    .venv/bin/python bench/ingest.py --n 2000 --db both
    .venv/bin/python bench/ingest.py --memory-series --db both
    .venv/bin/python bench/ingest.py --big-attachment-mb 25 --db both
    .venv/bin/python bench/ingest.py --pipe [--n 50] [--db postgres] [--handoff]

Each measurement runs in a fresh child process so its peak RSS is its own
(`--in-process` runs them here instead, for cProfile or py-spy). It prints
figures and never fails on timing: this is a benchmark, not a test.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import platform
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script: make `bench` importable next to `bot`
    sys.path.insert(0, str(ROOT))

# Nothing heavy at module level: the mail parser's helper process imports this script again
# (multiprocessing's spawn), and its memory should be what it is under `tiketti run`.
MB = 1024 * 1024
IMAP_BATCH = 50  # bot.mail.imap.BATCH: mails per FETCH
TARGET_RATE = {"sqlite": 200, "postgres": 100}
RSS_LIMIT = 200 * MB


def main() -> None:
    args = _parse_args()
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    if args.job:
        print("RESULT " + json.dumps(asyncio.run(_run_job(json.loads(args.job)))))
        return
    if args.pipe:
        _print_pipe([_job(args, {"kind": "pipe", "db": db, "n": args.n or 50, "seed": args.seed, "handoff": handoff})
                     for db in (["sqlite", "postgres"] if args.db == "both" else [args.db or "sqlite"])
                     for handoff in ([False, True] if args.handoff else [False])])
        return
    dbs = ["sqlite", "postgres"] if args.db in ("both", None) else [args.db]
    others = args.memory_series or args.big_attachment_mb or args.lmtp_clients
    n = args.n if args.n is not None else (0 if others else 2000)
    print(f"machine: {os.cpu_count()} CPUs (nproc {len(os.sched_getaffinity(0))}), Python {platform.python_version()}, "
          f"{platform.system()} {platform.release()}")
    if n:
        results = [_job(args, {"kind": "throughput", "db": db, "n": n, "seed": args.seed, "group": group})
                   for group in (1, args.group) for db in dbs]
        _print_throughput(results)
    if args.lmtp_clients:
        _print_lmtp([_job(args, {"kind": "lmtp", "db": db, "n": n or 2000, "seed": args.seed, "clients": args.lmtp_clients})
                     for db in dbs])
    if args.memory_series:
        checkpoints = [int(x) for x in args.series.split(",")]
        _print_series([_job(args, {"kind": "series", "db": db, "checkpoints": checkpoints, "seed": args.seed}) for db in dbs])
    if args.big_attachment_mb:
        size = int(args.big_attachment_mb * MB)
        from bench.mailgen import big_attachment_mail

        with tempfile.NamedTemporaryFile(prefix="tiketti-big-", suffix=".eml") as f:
            f.write(big_attachment_mail(size))
            f.flush()
            _print_big([_job(args, {"kind": "big", "db": db, "path": f.name, "size": size}) for db in dbs])


def _parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--n", type=int, default=None, help="mails for the throughput run (default 2000; 0 skips it)")
    p.add_argument("--db", choices=["sqlite", "postgres", "both"], default=None,
                   help="default: both; sqlite with --pipe")
    p.add_argument("--pipe", action="store_true",
                   help="N sequential `tiketti ingest` processes, one mail each on stdin, as an MTA pipe runs them (default N 50)")
    p.add_argument("--handoff", action="store_true",
                   help="with --pipe: also run them with a listener up (LMTP), to which they hand their mail")
    p.add_argument("--big-attachment-mb", type=float, default=0, help="also ingest one mail with an attachment this big")
    p.add_argument("--memory-series", action="store_true", help="also run --series mails, printing RSS at each checkpoint")
    p.add_argument("--series", default="1000,5000,10000", help="checkpoints for --memory-series (comma-separated)")
    p.add_argument("--group", type=int, default=IMAP_BATCH,
                   help=f"mails handed over together in the grouped run, as one IMAP FETCH brings them (default {IMAP_BATCH})")
    p.add_argument("--lmtp-clients", type=int, default=0,
                   help="also deliver the mails to the LMTP listener over this many connections at once")
    p.add_argument("--seed", type=int, default=1, help="the generated mail is the same for the same seed")
    p.add_argument("--in-process", action="store_true", help="run measurements in this process (for profilers)")
    p.add_argument("--job", help=argparse.SUPPRESS)
    return p.parse_args()


async def _run_job(job: dict[str, Any]) -> dict[str, Any]:
    from bench import measure

    if job["kind"] == "throughput":
        return await measure.throughput(job["db"], job["n"], job["seed"], job["group"])
    if job["kind"] == "lmtp":
        return await measure.lmtp_throughput(job["db"], job["n"], job["seed"], job["clients"])
    if job["kind"] == "pipe":
        from bench.pipe import pipe_throughput

        return await pipe_throughput(job["db"], job["n"], job["seed"], job["handoff"])
    if job["kind"] == "series":
        return await measure.memory_series(job["db"], job["checkpoints"], job["seed"])
    return await measure.big_attachment(job["db"], job["path"], job["size"])


def _job(args: argparse.Namespace, job: dict[str, Any]) -> dict[str, Any]:
    print(f"... running {job['kind']} on {job['db']}", file=sys.stderr, flush=True)
    if args.in_process:
        return asyncio.run(_run_job(job))
    out = subprocess.run([sys.executable, __file__, "--job", json.dumps(job)], stdout=subprocess.PIPE, text=True, check=True)
    line = next(line for line in reversed(out.stdout.splitlines()) if line.startswith("RESULT "))
    return json.loads(line[len("RESULT "):])  # type: ignore[no-any-return]


# --- reporting --------------------------------------------------------------


def _table(header: list[str], rows: list[list[str]]) -> None:
    widths = [max(len(str(c)) for c in col) for col in zip(header, *rows, strict=True)]
    line = "  ".join("-" * w for w in widths)
    print("  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)))
    print(line)
    for row in rows:
        print("  ".join(str(c).rjust(w) if i else str(c).ljust(w) for i, (c, w) in enumerate(zip(row, widths, strict=True))))
    print()


def _mb(value: float) -> str:
    return f"{value / MB:.1f}"


def _print_throughput(results: list[dict[str, Any]]) -> None:
    from bot.mail.pipeline import GROUP

    print(f"\n== Throughput: {results[0]['n']} mails, parse -> thread -> store ==\n")
    print("   one at a time: MailPipeline.process, a transaction per mail, as `tiketti ingest` stores mail, and")
    print("                  the SMTP/LMTP listener when mail comes over one connection")
    print("   N per call:    MailPipeline.process_many with N mails, as the IMAP fetcher hands over what one FETCH")
    print(f"                  brought: parsed in the helper process while stored, up to {GROUP} per transaction")
    print("   (latencies per call are the call's time divided by its mails)\n")
    _table(
        ["database", "stored", "mails", "seconds", "mails/s", "target", "met", "p50 ms", "p95 ms", "p99 ms", "max ms",
         "peak RSS MB", "parser process peak RSS MB"],
        [[r["db"], "one at a time" if r["group"] <= 1 else f"{r['group']} per call", r["n"], f"{r['seconds']:.2f}",
          f"{r['rate']:.0f}", f">= {TARGET_RATE[r['db']]}", "yes" if r["rate"] >= TARGET_RATE[r["db"]] else "NO",
          f"{r['p50_ms']:.1f}", f"{r['p95_ms']:.1f}", f"{r['p99_ms']:.1f}", f"{r['max_ms']:.0f}", _mb(r["peak_rss"]),
          _mb(r["worker_peak_rss"]) if r["worker_peak_rss"] else "-"]
         for r in results],
    )
    print("Outcomes (generator's expectation / pipeline's result) and rows stored:\n")
    rows = []
    for r in results:
        out, exp = r["outcomes"], r["expected"]
        cells = [f"{exp.get(k, 0)}/{out.get(k, 0)}" for k in ("created", "appended", "duplicate")]
        rows.append([r["db"] + ("" if r["group"] <= 1 else f" ({r['group']} per call)"), *cells, str(out.get("quarantined", 0)), *(str(r["rows"][t]) for t in ("tickets", "messages", "attachments", "outbox"))])
    _table(["database", "created", "appended", "duplicate", "quarantined", "tickets", "messages", "attachments", "outbox (acks)"], rows)
    mix = results[0]["mix"]
    print("Mail mix (same for every database):\n")
    _table(["kind", "count"], [[k, str(v)] for k, v in sorted(mix.items(), key=lambda kv: (-kv[1], kv[0]))])


def _print_lmtp(results: list[dict[str, Any]]) -> None:
    print(f"\n== LMTP listener: {results[0]['n']} mails over {results[0]['clients']} connections at once "
          "(a load generator in another process) ==\n")
    _table(
        ["database", "mails/s", "target", "met", "p50 ms", "p95 ms", "p99 ms", "refused", "tickets", "messages",
         "peak RSS MB", "parser process peak RSS MB"],
        [[r["db"], f"{r['rate']:.0f}", f">= {TARGET_RATE[r['db']]}", "yes" if r["rate"] >= TARGET_RATE[r["db"]] else "NO",
          f"{r['p50_ms']:.1f}", f"{r['p95_ms']:.1f}", f"{r['p99_ms']:.1f}", str(r["refused"]), str(r["rows"]["tickets"]),
          str(r["rows"]["messages"]), _mb(r["peak_rss"]), _mb(r["worker_peak_rss"]) if r["worker_peak_rss"] else "-"]
         for r in results],
    )
    print("Latency here is the sender's: from its DATA to our 250, which comes only after the commit.\n")


def _print_pipe(results: list[dict[str, Any]]) -> None:
    print(f"\n== MTA pipe: {results[0]['n']} sequential `{results[0]['command']} ingest` processes, one mail each ==\n")
    print("   wall time per process, spawn to exit (what the MTA waits for); the store was migrated beforehand")
    print("   handed off: a listener (LMTP, as `tiketti run` opens it) was up and took the mail\n")
    _table(
        ["database", "path", "mails", "mean s", "p50 s", "p95 s", "max s", "CPU s p50", "target", "met", "failed", "outcomes", "tickets"],
        [[r["db"], "handed off" if r["handoff"] else "standalone", str(r["n"]), f"{r['mean_s']:.3f}", f"{r['p50_s']:.3f}",
          f"{r['p95_s']:.3f}", f"{r['max_s']:.3f}", f"{r['cpu_p50_s']:.3f}", "<= 0.2", "yes" if r["p50_s"] <= 0.2 else "NO", str(r["failures"]),
          " ".join(f"{k} {v}" for k, v in sorted(r["outcomes"].items())), str(r["rows"]["tickets"])] for r in results],
    )
    print(f"(a bare `python -c pass` starts and exits in {min(r['python_start_s'] for r in results):.3f} s here; "
          f"load average during the runs: {', '.join(format(r['load'], '.1f') for r in results)})\n")


def _print_series(results: list[dict[str, Any]]) -> None:
    print("\n== Memory series: one process, RSS after each checkpoint (limit 200 MB at 10,000) ==\n")
    rows = []
    for r in results:
        for p in r["points"]:
            rows.append([r["db"], str(p["mails"]), _mb(p["rss"]), _mb(p["peak_rss"]), f"{p['segment_rate']:.0f}",
                         "yes" if p["peak_rss"] < RSS_LIMIT else "NO"])
        quarantined = r["outcomes"].get("quarantined", 0)
        if quarantined:
            print(f"note: {quarantined} mails quarantined on {r['db']}")
    _table(["database", "mails so far", "RSS MB", "peak RSS MB", "mails/s (segment)", "< 200 MB"], rows)
    print(f"(RSS before the first mail: {', '.join(r['db'] + ' ' + _mb(r['base_rss']) + ' MB' for r in results)})\n")


def _print_big(results: list[dict[str, Any]]) -> None:
    size = results[0]["size"]
    print(f"\n== One mail with a {_mb(size)} MB attachment ({_mb(results[0]['mail_bytes'])} MB as base64 mail) ==\n")
    _table(
        ["database", "seconds", "traced peak MB", "copies (traced)", "RSS growth MB", "copies (RSS)", "<= 2 copies", "stored"],
        [[r["db"], f"{r['seconds']:.2f}", _mb(r["traced_peak"]), f"{r['traced_peak'] / size:.2f}", _mb(r["rss_growth"]),
          f"{r['rss_growth'] / size:.2f}", "yes" if r["traced_peak"] <= 2 * size else "NO",
          "yes" if r["stored_bytes"] == size else f"NO ({r['outcomes']})"] for r in results],
    )
    print("traced = Python allocations (tracemalloc) while process() ran; the raw mail itself was read before and is not counted.\n"
          "RSS growth = peak RSS minus RSS just before process(); it also sees the database driver's own buffers.\n")


if __name__ == "__main__":
    main()
