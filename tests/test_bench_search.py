"""bench/search.py runs at a tiny size on both stores and prints its figures, so it cannot rot unseen.

No timing is asserted (speed is measured by running the bench, docs/performance.md); what is checked
is what a reader of its output relies on: the fill and the index build are timed, every search of the
ten runs as an agent and finds tickets (a search that found nothing would time nothing), and the size
is printed.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.db import require_postgres

ROOT = Path(__file__).resolve().parent.parent
SEARCHES = ("common word", "rare word", "two words", "Finnish word (prefix)", "words + status:open",
            "words + team + tag", "customer's history", "from:domain + words", "assignee:none + priority:high",
            "saved view billing-open")


@pytest.mark.parametrize("db", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_search_bench_prints_its_figures(db: str) -> None:
    if db == "postgres":
        require_postgres()
    out = subprocess.run([sys.executable, str(ROOT / "bench" / "search.py"), "--db", db, "--tickets", "200",
                          "--messages", "1000", "--repeat", "2"],
                         capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert out.returncode == 0, out.stderr[-3000:]
    text = out.stdout
    assert re.search(r"fill without the index: 180 tickets, [\d,]+ messages: [\d.]+ s", text), text
    assert re.search(r"index build \(migrations to head over [\d,]+ messages\): [\d.]+ s", text), text
    assert re.search(r"fill with the index maintained: 20 tickets", text), text
    assert re.search(r"size: [\d,]+ MB", text), text
    for label in SEARCHES:
        row = re.search(rf"^  {re.escape(label)} .*?\s([\d,]+)\s+([\d.]+)\s+([\d.]+)\s+(\d+)$", text, re.M)
        assert row, f"no figures for {label!r}:\n{text}"
        assert int(row.group(1).replace(",", "")) > 0, f"{label!r} found nothing:\n{text}"
    assert re.search(r"^  all ten .*target p95 < \d+ ms", text, re.M), text
