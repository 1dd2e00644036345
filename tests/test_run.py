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


def test_run_reads_imap_with_its_parser_process_and_stops_cleanly(tmp_path: Path) -> None:
    """The console script the Docker image runs: a fetch of several mails goes through the helper
    parser process (spawned from this script), every mail becomes one ticket, SIGTERM stops both."""
    from tests.support.imap_server import start_imap_server

    servers = start_imap_server(idle=True)
    server = next(servers)
    try:
        folder = server.new_folder()
        server.append(folder, *[_mail(n) for n in range(1, 13)])
        http_port = free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith("TIKETTI_")}
        env.update({
            "TIKETTI_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'run.db'}",
            "TIKETTI_HTTP_PORT": str(http_port),
            "TIKETTI_SUPPORT_ADDRESS": "support@helpdesk.test",
            "TIKETTI_OUTBOUND_DIR": str(tmp_path / "outbound"),
            "TIKETTI_IMAP_HOST": server.host, "TIKETTI_IMAP_PORT": str(server.port), "TIKETTI_IMAP_USER": server.user,
            "TIKETTI_IMAP_PASSWORD": server.password, "TIKETTI_IMAP_SSL": "false", "TIKETTI_IMAP_FOLDER": folder,
        })
        script = Path(sys.executable).parent / "tiketti"
        proc = subprocess.Popen([str(script), "run"], env=env, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + 30
            sent: list[Path] = []
            while time.monotonic() < deadline and len(sent) < 12:
                sent = list((tmp_path / "outbound").glob("*.eml"))
                time.sleep(0.1)
            assert len(sent) == 12, "each of the twelve mails gets one acknowledgement"
            children = subprocess.run(["ps", "-o", "pid=", "--ppid", str(proc.pid)], capture_output=True, text=True).stdout
            assert children.split(), "the mails were parsed in a helper process"
        finally:
            proc.send_signal(signal.SIGTERM)
            out, _ = proc.communicate(timeout=30)
        assert proc.returncode == 0, out.decode()
        assert b"parsing in the main process" not in out, out.decode()
        assert b"12 new mail(s) read" in out, out.decode()
        # The parser (and multiprocessing's resource tracker, which follows its parent's exit) end too.
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and any(Path(f"/proc/{pid}").exists() for pid in children.split()):
            time.sleep(0.1)
        left = [Path(f"/proc/{pid}/cmdline").read_bytes() for pid in children.split() if Path(f"/proc/{pid}").exists()]
        assert not left, left
    finally:
        servers.close()


def _mail(n: int) -> bytes:
    return (f"From: Customer {n} <c{n}@customer.test>\r\nTo: support@helpdesk.test\r\nSubject: Question {n}\r\n"
            f"Message-ID: <q{n}@customer.test>\r\n\r\nHello, question {n}.\r\n").encode()
