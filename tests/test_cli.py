"""The command line as an MTA and an operator use it: ingest by pipe, quarantine, schema upgrade."""

from __future__ import annotations

from email.message import EmailMessage
from pathlib import Path

from bot.app import build_core
from bot.handlers import intake
from bot.settings import Settings
from tests.support.cli import run_tiketti


def customer_mail(subject: str = "VPN does not connect", msgid: str = "<vpn-1@customer.test>") -> bytes:
    msg = EmailMessage()
    msg["From"] = "Mia Customer <mia@customer.test>"
    msg["To"] = "support@helpdesk.test"
    msg["Subject"] = subject
    msg["Message-ID"] = msgid
    msg.set_content("Hello,\nthe VPN client says 'timeout'.\n\nMia")
    return msg.as_bytes()




def test_ingest_creates_ticket_then_threads_and_dedupes(cli_env: dict[str, str], tmp_path: Path) -> None:
    first = run_tiketti(["ingest"], env=cli_env, cwd=tmp_path, stdin=customer_mail())
    assert first.returncode == 0, first.stderr.decode()
    assert first.stdout.decode().strip() == "created ticket #1"

    again = run_tiketti(["ingest"], env=cli_env, cwd=tmp_path, stdin=customer_mail())
    assert again.returncode == 0
    assert again.stdout.decode().startswith("duplicate")

    reply = EmailMessage()
    reply["From"], reply["To"], reply["Subject"] = "mia@customer.test", "support@helpdesk.test", "Re: VPN does not connect"
    reply["Message-ID"], reply["In-Reply-To"] = "<vpn-2@customer.test>", "<vpn-1@customer.test>"
    reply.set_content("It works now, thanks!")
    threaded = run_tiketti(["ingest"], env=cli_env, cwd=tmp_path, stdin=reply.as_bytes())
    assert threaded.stdout.decode().strip() == "appended ticket #1"


def test_ingest_of_garbage_is_quarantined_listed_shown_and_kept_whole(cli_env: dict[str, str], tmp_path: Path) -> None:
    garbage = b"\x00\x01 this is not a mail at all \xff\xfe"
    res = run_tiketti(["ingest"], env=cli_env, cwd=tmp_path, stdin=garbage)
    assert res.returncode == 0, "a kept mail must not make the MTA bounce or retry it"
    assert "quarantine as #1" in res.stderr.decode()

    listing = run_tiketti(["quarantine", "list"], env=cli_env, cwd=tmp_path).stdout.decode()
    assert listing.startswith("#1") and "unparseable" in listing

    shown = run_tiketti(["quarantine", "show", "1"], env=cli_env, cwd=tmp_path).stdout.decode()
    assert "reason:" in shown and f"{len(garbage)} bytes" in shown
    raw = run_tiketti(["quarantine", "show", "1", "--raw"], env=cli_env, cwd=tmp_path).stdout
    assert raw == garbage

    retry = run_tiketti(["quarantine", "retry", "1"], env=cli_env, cwd=tmp_path)
    assert retry.returncode == 1 and "still cannot be parsed" in retry.stderr.decode()


async def test_quarantine_retry_turns_a_kept_mail_into_a_ticket(cli_env: dict[str, str], tmp_path: Path) -> None:
    # A good mail quarantined by an earlier failure (say, a parser bug fixed since) comes back in with retry.
    core = await build_core(Settings(database_url=cli_env["TIKETTI_DATABASE_URL"], support_address="support@helpdesk.test"))
    qid = await intake.quarantine(core.ctx, customer_mail(), "processing failed: bug 123", source="pipe")
    await core.close()

    res = run_tiketti(["quarantine", "retry", str(qid)], env=cli_env, cwd=tmp_path)
    assert res.returncode == 0, res.stderr.decode()
    assert res.stdout.decode().strip() == f"#{qid} retried: created ticket #1"
    assert run_tiketti(["quarantine", "list"], env=cli_env, cwd=tmp_path).stdout.decode().strip() == "no mail in quarantine"
    again = run_tiketti(["quarantine", "retry", str(qid)], env=cli_env, cwd=tmp_path)
    assert "already resolved" in again.stdout.decode()


def test_ingest_with_store_down_exits_tempfail(tmp_path: Path) -> None:
    env = {"TIKETTI_DATABASE_URL": "postgresql+asyncpg://postgres@127.0.0.1:1/nothing"}
    res = run_tiketti(["ingest"], env=env, cwd=tmp_path, stdin=customer_mail())
    assert res.returncode == 75
    assert "try again later" in res.stderr.decode()


def test_empty_input_is_a_clear_error(tmp_path: Path) -> None:
    res = run_tiketti(["ingest"], env={"TIKETTI_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'x.db'}"},
                      cwd=tmp_path, stdin=b"")
    assert res.returncode == 65 and "no mail" in res.stderr.decode()


def test_db_upgrade_is_idempotent(cli_env: dict[str, str], tmp_path: Path) -> None:
    for _ in range(2):
        res = run_tiketti(["db", "upgrade"], env=cli_env, cwd=tmp_path)
        assert res.returncode == 0, res.stderr.decode()
        assert "up to date" in res.stdout.decode()
