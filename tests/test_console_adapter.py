"""The console adapter: what an agent at a terminal sees and can do, through the real handlers and store."""

from __future__ import annotations

import io
import logging
import re
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime

import pytest

from bot.adapters.console import ConsoleAdapter, render
from bot.app import Core
from bot.domain.inbound import InboundAttachment, InboundMail
from bot.domain.model import MessageKind
from bot.domain.priority import Priority
from bot.domain.status import Status
from bot.handlers.context import Actor
from bot.handlers.events import MailDeliveryFailed
from bot.handlers.intake import quarantine, receive_mail
from bot.handlers.snapshots import AttachmentView, MessageView, TicketView

ANA = Actor("U1", "Ana", in_tickets_channel=True)
T0 = datetime(2024, 5, 2, 9, 30, tzinfo=UTC)


def mail(n: int = 1, *, sender: str = "mia@example.com", subject: str = "Printer on fire", body: str = "",
         attachments: tuple[InboundAttachment, ...] = ()) -> InboundMail:
    body = body or "Hello,\nour printer shows E42 and smells of smoke.\n\nMia"
    return InboundMail(message_id=f"<m{n}@example.com>", subject=subject, from_addr=sender, from_name="Mia Customer",
                       to=("support@helpdesk.test",), text=body + "\n> old quoted text", display_text=body,
                       attachments=attachments)


def console(core: Core, actor: Actor = ANA) -> tuple[ConsoleAdapter, io.StringIO]:
    out = io.StringIO()
    adapter = ConsoleAdapter(core.ctx, out, actor=actor)
    adapter.subscribe()
    return adapter, out


def errors(text: str) -> list[str]:
    """Each "✗" error, joined with its continuation lines (a long one wraps at 100 columns)."""
    found: list[str] = []
    in_error = False
    for line in text.splitlines():
        assert len(line) <= render.WIDTH, line
        if line.startswith("✗"):
            found.append(line)
            in_error = True
        elif in_error and line.startswith("  "):
            found[-1] += " " + line.strip()
        else:
            in_error = False
    return found


async def test_new_mail_shows_a_root_block_and_the_start_of_its_thread(core: Core) -> None:
    adapter, out = console(core)
    pdf = InboundAttachment("invoice.pdf", "application/pdf", 2048, b"%PDF" + b"x" * 2044)
    await receive_mail(core.ctx, mail(attachments=(pdf,)), source="test")

    text = out.getvalue()
    lines = text.splitlines()
    assert lines[0] == "● #1 Printer on fire"
    assert "from Mia Customer <mia@example.com>" in text
    assert "status: new · priority: normal · assignee: nobody" in text
    assert "[claim]" in text and "[reply]" in text and "[close]" in text
    assert "  ↳ #1 ✉ from Mia Customer <mia@example.com>" in lines
    assert "      our printer shows E42 and smells of smoke." in lines
    assert "old quoted text" not in text, "the thread shows the display text, quotes stripped"
    assert "      📎 invoice.pdf (application/pdf, 2.0 KB)" in lines

    # The same customer writes about something else: the new root lists her other ticket.
    await receive_mail(core.ctx, mail(2, subject="Invoice question"), source="test")
    assert "other recent tickets from mia@example.com: #1 Printer on fire (new)" in out.getvalue()


async def test_a_scripted_session_reads_as_a_transcript_and_thread_text_is_never_mailed(core: Core) -> None:
    adapter, out = console(core)
    await receive_mail(core.ctx, mail(), source="test")
    out.seek(0), out.truncate()

    await adapter.run_lines([
        "# Ana takes the ticket",
        "/ticket claim 1",
        "/open 1",
        "reply to the customer: the fuser unit is gone",
        "REPLY NOW PLEASE",
        "/leave",
        "/ticket reply 1 Hi Mia, please unplug the printer.",
        "/ticket close 1",
        "/ticket history 1",
    ])
    text = out.getvalue()
    lines = text.splitlines()
    assert "# Ana takes the ticket" in lines
    assert "> /ticket claim 1" in lines and "> reply to the customer: the fuser unit is gone" in lines
    assert "~ #1 Printer on fire — status: new → open · assignee: nobody → Ana" in lines
    assert text.count("  ↳ #1 🔒 internal note by Ana") == 2
    typed = [p.author for p in adapter.surface.posts(1) if "REPLY NOW" in p.text]
    assert typed == ["U1"], "a typed line shows once, as Ana's own post: the bot never posts it back"
    assert "      reply to the customer: the fuser unit is gone" in lines and "      REPLY NOW PLEASE" in lines
    assert "  ↳ #1 ↩ reply sent to mia@example.com by Ana" in lines
    assert "      Hi Mia, please unplug the printer." in lines
    assert "status: waiting on customer → solved" in text
    assert any(line.endswith("assigned  assignee: — → Ana") for line in lines)
    assert any("status: new → open" in line for line in lines)
    assert not errors(text)

    async with core.ctx.uow() as u:
        queued = await u.outbox.for_ticket(1)
        messages = await u.messages.for_ticket(1)
    assert [m.kind for m in queued] == ["ack", "reply"], "thread text is a note: nothing else may be queued"
    assert not any(b"fuser" in m.raw or b"REPLY NOW" in m.raw for m in queued)
    assert [m.kind for m in messages] == [MessageKind.INBOUND, MessageKind.NOTE, MessageKind.NOTE, MessageKind.REPLY]


async def test_errors_are_one_line_each_and_the_session_goes_on(core: Core) -> None:
    adapter, out = console(core)
    await receive_mail(core.ctx, mail(), source="test")
    out.seek(0), out.truncate()

    await adapter.run_lines([
        "/ticket claim 7",
        "/ticket priority 1 hot",
        "/ticket claim 1",
        "/ticket claim 1",
        "/frobnicate the widgets",
        "/ticket claim one",
        "/ticket reply 1",
        "/ticket status 1 sleeping",
        "/ticket explode 1",
        "/open 99",
        "a line outside any thread",
        "",
        "/ticket priority 1 URGENT",
    ])
    text = out.getvalue()
    assert errors(text) == [
        "✗ ticket #7 does not exist",
        "✗ unknown priority 'hot'; use low, normal, high or urgent",
        "✗ #1 is already yours",
        "✗ unknown command '/frobnicate'; try /help",
        "✗ 'one' is not a ticket number; usage: /ticket claim N",
        "✗ usage: /ticket reply N text…",
        "✗ unknown status 'sleeping'; use one of: new, open, waiting on customer, customer replied, "
        "waiting on third party, solved, closed",
        "✗ unknown command '/ticket explode'; try /ticket help",
        "✗ ticket #99 does not exist",
    ]
    assert "plain text goes nowhere outside a thread" in text
    assert "priority: normal → urgent" in text, "the run went on after the errors"

    async with core.ctx.uow() as u:
        messages = await u.messages.for_ticket(1)
    assert [m.kind for m in messages] == [MessageKind.INBOUND], "text outside a thread is not stored"


async def test_agents_switch_assign_and_see_their_queues(core: Core) -> None:
    adapter, out = console(core)
    await receive_mail(core.ctx, mail(1), source="test")
    await receive_mail(core.ctx, mail(2, sender="leo@example.com", subject="Login broken"), source="test")
    out.seek(0), out.truncate()

    await adapter.run_lines([
        "/ticket queue",
        "/as U2 Ben",
        "/ticket assign 1 @U3 Cleo",
        "/ticket mine",
        "/as <@U3>",
        "/ticket mine",
        "/ticket status 2 waiting on customer",
        "/ticket show 2",
    ])
    text = out.getvalue()
    queue_block = text.split("> /as U2 Ben")[0]
    assert "── queue (2)" in queue_block and "Printer on fire" in queue_block and "Login broken" in queue_block
    assert "→ you are now Ben (U2)" in text
    assert "~ #1 Printer on fire — status: new → open · assignee: nobody → Cleo" in text
    assert "── your tickets: none active" in text, "Ben has nothing"
    cleo_mine = text.split("> /as <@U3>")[1].split("> /ticket status")[0]
    assert "── your tickets (1)" in cleo_mine and "#1" in cleo_mine and "Cleo" in cleo_mine
    assert "status: new → waiting on customer" in text
    assert "● #2 Login broken" in text and "✉ from Mia Customer <leo@example.com>" in text
    assert not errors(text)


async def test_extra_commands_run_and_quit_stops_the_script(core: Core, caplog: pytest.LogCaptureFixture) -> None:
    adapter, out = console(core)
    seen: list[str] = []

    async def mail_cmd(arg: str) -> None:
        seen.append(arg)

    async def broken(_arg: str) -> None:
        raise ValueError("boom")  # a bug, whatever its type: not the agent's mistake

    adapter.register("mail", mail_cmd, "/mail path.eml — a customer mail from a file")
    adapter.register("/broken", broken, "/broken — always fails")
    with pytest.raises(ValueError):
        adapter.register("ticket", mail_cmd, "clash")

    async def lines() -> AsyncIterator[str]:
        for line in ["/MAIL samples/printer.eml", "/broken", "/help", "/quit", "/mail never.eml"]:
            yield line

    with caplog.at_level(logging.ERROR, logger="bot.adapters.console.adapter"):
        await adapter.run_lines(lines())
    text = out.getvalue()
    assert seen == ["samples/printer.eml"], "nothing runs after /quit"
    # A bug's own words ("boom") stay in the log; the agent gets a reference that leads there.
    [error] = errors(text)
    reference = re.fullmatch(r"✗ something went wrong \(reference ([0-9a-f]{8})\)", error)
    assert reference is not None and "boom" not in text, error
    [logged] = [r for r in caplog.records if reference.group(1) in r.getMessage()]
    assert "/broken" in logged.getMessage() and logged.exc_info is not None and "boom" in str(logged.exc_info[1])
    assert "/mail path.eml — a customer mail from a file" in text, "/help lists extra commands"
    assert await adapter.execute("/quit") is False and await adapter.execute("# just a comment") is True


async def test_quarantined_mail_is_a_warning_in_the_channel(core: Core) -> None:
    _, out = console(core)
    item = await quarantine(core.ctx, b"not a mail", "no From header", source="pipe", sender="x@spam.test",
                            subject="\x1b[2JWIN A PRIZE")
    text = out.getvalue()
    assert f"⚠ mail quarantined as #{item}: from x@spam.test, “[2JWIN A PRIZE”" in text
    assert "reason: no From header" in text and f"tiketti quarantine show {item}" in text
    assert "\x1b" not in text, "mail text never reaches the terminal as control characters"


# ---- pure views ---------------------------------------------------------------------------


def ticket(**kw: object) -> TicketView:
    values: dict[str, object] = dict(
        number=3, subject="Printer on fire", requester="Mia Customer <mia@example.com>", requester_email="mia@example.com",
        status=Status.OPEN, priority=Priority.HIGH, assignee="Ana", assignee_chat_id="U1", team=None, tags=(),
        created_at=T0, updated_at=T0, first_response_at=None, solved_at=None,
    )
    values.update(kw)
    return TicketView(**values)  # type: ignore[arg-type]


def message(text: str, **kw: object) -> MessageView:
    values: dict[str, object] = dict(id=5, ticket_number=3, kind=MessageKind.INBOUND, author="Mia Customer <mia@example.com>",
                                     created_at=T0, text=text, full_text=text)
    values.update(kw)
    return MessageView(**values)  # type: ignore[arg-type]


def test_a_long_body_is_cut_in_the_thread_and_whole_in_show() -> None:
    body = "\n".join(f"line {i}" for i in range(1, 41))
    lines = render.message_block(message(body))
    assert lines[0] == "  ↳ #3 ✉ from Mia Customer <mia@example.com>"
    assert lines[1:16] == [f"      line {i}" for i in range(1, 16)]
    assert lines[16] == "      (… 25 more lines, /ticket show 3)"
    assert len(lines) == 17

    full = render.message_block(message(body), full=True)
    assert "      line 40" in full and not any("more lines" in line for line in full)


def test_attachments_are_listed_with_their_sizes() -> None:
    files = (AttachmentView("photo.jpg", "image/jpeg", 123_456, True), AttachmentView("log.txt", "text/plain", 900, True),
             AttachmentView("backup.zip", "application/zip", 52_428_800, False))
    lines = render.message_block(message("see attached", attachments=files))
    assert lines[-3:] == [
        "      📎 photo.jpg (image/jpeg, 120.6 KB)",
        "      📎 log.txt (text/plain, 900 B)",
        "      📎 backup.zip (application/zip, 50.0 MB, not stored: over the size limit)",
    ]


def test_every_kind_of_thread_message_is_marked() -> None:
    reply = message("Hi", kind=MessageKind.REPLY, author="Ana", sent_to="mia@example.com")
    note = message("fuser", kind=MessageKind.NOTE, author="Ana")
    assert render.message_header(reply) == "  ↳ #3 ↩ reply sent to mia@example.com by Ana"
    assert render.message_header(note) == "  ↳ #3 🔒 internal note by Ana"


def test_views_fit_a_100_column_terminal() -> None:
    long = ticket(subject="Very long subject " * 12, assignee="Bartholomew Montgomery-Smythe",
                  status=Status.WAITING_ON_THIRD_PARTY)
    changed = render.root_changed(replace(long, status=Status.WAITING_ON_CUSTOMER), long)
    body = "word " * 300 + "\n" + "x" * 250
    root = "\n".join(render.root_block(long, details=True) + render.message_block(message(body), full=True))
    failed = render.delivery_failed(MailDeliveryFailed(long, "mia@example.com", "Re: Printer on fire [#3]", "550 mailbox gone " * 10))
    for text in (changed, root, failed):
        assert all(len(line) <= render.WIDTH for line in text.splitlines()), text
    assert changed.startswith("~ #3 Very long subject") and "status: waiting on customer → waiting on third party" in changed
    assert "assignee" not in changed, "only what changed"
    assert failed.startswith("⚠ #3 mail to mia@example.com could not be delivered") and "550 mailbox gone" in failed
