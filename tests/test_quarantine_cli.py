"""`tiketti quarantine list/show` print what a sender wrote without letting it drive the operator's
terminal: control characters and escape sequences in senders, subjects and reasons are shown escaped
(SQLite and PostgreSQL, the command run as its own process)."""

from __future__ import annotations

from pathlib import Path

from bot.app import build_core
from bot.cli import shown
from bot.handlers import intake
from bot.settings import Settings
from tests.support.cli import run_tiketti

# Clear the screen, set the window title, recolour, and an RTL override that reverses what follows.
SENDER = "\x1b]0;pwned\x07Eve <eve@elsewhere.example>"
SUBJECT = "\x1b[2J\x1b[31mURGENT\x1b[0m invoice \u202egpj.exe"




def printable(output: str) -> bool:
    return not any(ord(c) < 0x20 and c != "\n" or 0x7f <= ord(c) <= 0x9f or c == "\u202e" for c in output)


async def test_list_and_show_escape_control_characters(cli_env: dict[str, str], tmp_path: Path) -> None:
    # A row as an older version (or another writer) kept it: the escapes stored as they came.
    core = await build_core(Settings(database_url=cli_env["TIKETTI_DATABASE_URL"], support_address="support@helpdesk.test"))
    try:
        qid = await intake.quarantine(core.ctx, b"From: x\r\n\r\nbody", "unparseable: \x1b[8mhidden", source="pipe",
                                      sender=SENDER, subject=SUBJECT)
    finally:
        await core.close()
    listing = run_tiketti(["quarantine", "list"], env=cli_env, cwd=tmp_path).stdout.decode()
    details = run_tiketti(["quarantine", "show", str(qid)], env=cli_env, cwd=tmp_path).stdout.decode()
    for output in (listing, details):
        assert printable(output), output
        assert r"\x1b]0;pwned\x07Eve <eve@elsewhere.example>" in output
        assert r"\x1b[2J\x1b[31mURGENT\x1b[0m invoice \u202egpj.exe" in output
        assert r"unparseable: \x1b[8mhidden" in output


def test_ingested_mail_with_encoded_escapes_is_listed_printable(cli_env: dict[str, str], tmp_path: Path) -> None:
    raw = (b"Subject: =?utf-8?q?=1B]0;title=07Pay_now_=1B[5m?=\r\nTo: support@helpdesk.test\r\n\r\nno sender\r\n")
    assert run_tiketti(["ingest"], env=cli_env, cwd=tmp_path, stdin=raw).returncode == 0
    listing = run_tiketti(["quarantine", "list"], env=cli_env, cwd=tmp_path).stdout.decode()
    assert listing.startswith("#1") and "Pay now" in listing and printable(listing)


def test_shown_escapes_each_kind() -> None:
    assert shown("a\x00b\x1bc\x7fd\x9be\u202ef\tg") == r"a\x00b\x1bc\x7fd\x9be\u202ef\x09g"
    assert shown("Mia Meikäläinen 😀") == "Mia Meikäläinen 😀"
