"""`tiketti report --csv` as an operator runs it: a separate process, CSV on standard output."""

from __future__ import annotations

import csv
import io
from email.message import EmailMessage
from pathlib import Path

from tests.support.cli import run_tiketti


def test_report_csv_is_one_parseable_table(tmp_path: Path) -> None:
    env = {"TIKETTI_SUPPORT_ADDRESS": "support@helpdesk.test", "TIKETTI_OUTBOUND_DIR": str(tmp_path / "out"),
           "TIKETTI_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}"}
    for i in range(3):
        msg = EmailMessage()
        msg["From"], msg["To"], msg["Subject"] = f"c{i}@customer.test", "support@helpdesk.test", f"Problem {i}"
        msg["Message-ID"] = f"<p{i}@customer.test>"
        msg.set_content("Help")
        assert run_tiketti(["ingest"], env=env, cwd=tmp_path, stdin=msg.as_bytes()).returncode == 0

    res = run_tiketti(["report", "--csv"], env=env, cwd=tmp_path)
    assert res.returncode == 0, res.stderr.decode()
    rows = list(csv.reader(io.StringIO(res.stdout.decode())))
    assert rows[0] == ["section", "key", "value"]
    figures = {(s, k): v for s, k, v in rows[1:]}
    assert figures[("tickets", "new")] == "3" and figures[("tickets", "backlog")] == "3"
    assert figures[("category", "uncategorised")] == "3"

    other_team = run_tiketti(["report", "--csv", "--team", "billing", "--from", "2020-01-01", "--to", "2020-01-31"],
                             env=env, cwd=tmp_path)
    rows = list(csv.reader(io.StringIO(other_team.stdout.decode())))
    assert dict(((s, k), v) for s, k, v in rows[1:])[("tickets", "new")] == "0"

    bad = run_tiketti(["report", "--csv", "--from", "yesterday"], env=env, cwd=tmp_path)
    assert bad.returncode == 64 and "not a date range" in bad.stderr.decode()
