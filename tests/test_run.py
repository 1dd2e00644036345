"""`tiketti run` as an operator starts it: migrations, health endpoint, mail in and out, clean stop."""

from __future__ import annotations

import os
import signal
import smtplib
import subprocess
import sys
import time
import urllib.request
from email.message import EmailMessage
from pathlib import Path

from tests.support.net import free_port, wait_for_port


def test_run_serves_health_takes_mail_and_writes_the_acknowledgement(tmp_path: Path) -> None:
    http_port, smtp_port = free_port(), free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("TIKETTI_")}
    env.update({
        "TIKETTI_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'run.db'}",
        "TIKETTI_HTTP_PORT": str(http_port),
        "TIKETTI_INBOUND_SMTP_PORT": str(smtp_port),
        "TIKETTI_SUPPORT_ADDRESS": "support@helpdesk.test",
        "TIKETTI_OUTBOUND_DIR": str(tmp_path / "outbound"),
    })
    proc = subprocess.Popen([sys.executable, "-m", "bot", "run"], env=env, cwd=tmp_path,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        wait_for_port(http_port)
        with urllib.request.urlopen(f"http://127.0.0.1:{http_port}/healthz", timeout=5) as resp:
            assert resp.status == 200
            assert b'"ok"' in resp.read()

        wait_for_port(smtp_port)
        msg = EmailMessage()
        msg["From"], msg["To"], msg["Subject"] = "ana@customer.test", "support@helpdesk.test", "Invoice copy please"
        msg["Message-ID"] = "<inv-1@customer.test>"
        msg.set_content("Could you send me a copy of invoice 1001?")
        with smtplib.SMTP("127.0.0.1", smtp_port, timeout=10) as smtp:
            smtp.send_message(msg)

        deadline = time.monotonic() + 20
        sent: list[Path] = []
        while time.monotonic() < deadline and not sent:
            sent = list((tmp_path / "outbound").glob("*.eml"))
            time.sleep(0.1)
        assert len(sent) == 1, "the new ticket's customer gets exactly one acknowledgement"
        ack = sent[0].read_bytes()
        assert b"To: ana@customer.test" in ack and b"[#1]" in ack and b"Auto-Submitted: auto-generated" in ack
    finally:
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=30)
    assert proc.returncode == 0, out.decode()
    assert b"Could you send me" not in out, "mail bodies must not appear in info logs"
