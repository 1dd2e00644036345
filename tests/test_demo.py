"""The README's demo, run non-interactively from its script, shows the whole walking skeleton."""

from __future__ import annotations

import re
from email.parser import BytesParser
from email.policy import default
from pathlib import Path

from tests.support.cli import run_tiketti
from tests.support.net import free_port

SCRIPT = Path(__file__).resolve().parents[1] / "config" / "demo-script.txt"


def test_demo_script_runs_the_whole_story(tmp_path: Path) -> None:
    res = run_tiketti(["demo", "--script", str(SCRIPT), "--smtp-port", str(free_port())],
                      env={"TIKETTI_OUTBOUND_DIR": str(tmp_path / "outbound-mail")}, cwd=tmp_path, timeout=120)
    out = res.stdout.decode()
    assert res.returncode == 0, out + res.stderr.decode()

    # The mail became ticket #1, which was claimed, noted, replied to, answered and closed.
    assert "#1" in out and "Printer on fire" in out
    assert re.search(r"^~ #1 Printer on fire — status: new → open · assignee: nobody → \S+$", out, re.M), "claimed"
    assert "internal note" in out and "fuser unit" in out
    assert "reply sent to mia@example.com" in out
    assert "Thank you, it is unplugged now." in out
    assert "solved" in out

    mails = sorted((tmp_path / "outbound-mail").glob("*.eml"))
    parsed = [BytesParser(policy=default).parsebytes(p.read_bytes()) for p in mails]
    replies = [m for m in parsed if not m["Auto-Submitted"]]
    acks = [m for m in parsed if m["Auto-Submitted"]]
    assert len(acks) == 1 and len(replies) == 1, "one acknowledgement, one reply: the note never left"
    reply = replies[0]
    assert reply["To"].addresses[0].addr_spec == "mia@example.com"
    assert reply["Subject"] == "Re: Printer on fire [#1]"
    assert "technician tomorrow morning" in reply.get_body(("plain",)).get_content()
    assert "fuser" not in reply.as_string(), "the internal note must never be mailed"
