"""Block Kit views: what agents see in Slack, judged by slack_sdk's own models and Slack's limits."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest

from bot.adapters.slack import ticket_blocks
from bot.adapters.slack.limits import MAX_SECTION_TEXT, split_for_slack
from bot.domain.model import MessageKind
from bot.domain.priority import Priority
from bot.domain.status import Status
from bot.handlers.events import MailDeliveryFailed, MailQuarantined
from bot.handlers.snapshots import AttachmentView, MessageView, TicketView
from tests.support.block_kit import message_errors, view_errors

WHEN = datetime(2024, 5, 6, 7, 8, tzinfo=UTC)
TICKET = TicketView(
    number=42, subject="Printer on fire", requester="Mia Customer <mia@example.com>", requester_email="mia@example.com",
    status=Status.OPEN, priority=Priority.NORMAL, assignee=None, assignee_chat_id=None, team=None, tags=(),
    created_at=WHEN, updated_at=WHEN, first_response_at=None, solved_at=None,
)
MAIL = MessageView(id=7, ticket_number=42, kind=MessageKind.INBOUND, author="Mia Customer <mia@example.com>",
                   created_at=WHEN, text="Hello,\nthe printer is on fire.", full_text="Hello,\nthe printer is on fire.")
PINGS = "<!channel> <!here> <@U0BOSS> <#C0GENERAL> <https://evil.test|click me> & more"


def texts(node: Any, kind: str = "mrkdwn") -> list[str]:
    """Every text of one kind in a payload, however deep."""
    if isinstance(node, dict):
        own = [node["text"]] if node.get("type") == kind and isinstance(node.get("text"), str) else []
        return own + [t for v in node.values() for t in texts(v, kind)]
    if isinstance(node, list):
        return [t for v in node for t in texts(v, kind)]
    return []


def buttons(message: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {e["text"]["text"]: e for b in message["blocks"] if b["type"] == "actions"
            for e in b["elements"] if e["type"] == "button"}


def assert_valid(message: dict[str, Any]) -> None:
    assert message_errors(message) == []


TICKETS = [
    TICKET,
    replace(TICKET, status=Status.NEW, priority=Priority.URGENT, team="billing", tags=("vip", "printer")),
    replace(TICKET, assignee="Ana Agent", assignee_chat_id="U0ANA", first_response_at=WHEN),
    replace(TICKET, status=Status.WAITING_ON_CUSTOMER, assignee="ana@example.com"),
    replace(TICKET, status=Status.SOLVED, solved_at=WHEN, failed_mail=("mail to mia@example.com bounced: 550",)),
    replace(TICKET, status=Status.CLOSED),
    replace(TICKET, subject="x" * 500, requester="N" * 5000, tags=tuple(f"tag{i}" for i in range(400)),
            failed_mail=tuple("f" * 900 for _ in range(30))),
]


@pytest.mark.parametrize("ticket", TICKETS, ids=lambda t: f"{t.status}-{len(t.subject)}")
def test_every_root_message_is_accepted_by_slack(ticket: TicketView) -> None:
    message = ticket_blocks.root_message(ticket)
    assert_valid(message)
    header = message["blocks"][0]
    assert header["type"] == "header" and header["text"]["text"].startswith(f"#{ticket.number} ")
    assert len(header["text"]["text"]) <= 150


def test_root_shows_the_ticket_and_its_buttons_are_labelled_claim_reply_close() -> None:
    ticket = replace(TICKET, assignee="Ana Agent", assignee_chat_id="U0ANA", priority=Priority.HIGH)
    message = ticket_blocks.root_message(ticket)
    shown = "\n".join(texts(message) + texts(message, "plain_text"))
    for fact in ("#42 Printer on fire", "Mia Customer &lt;mia@example.com&gt;", "open", "high", "<@U0ANA>"):
        assert fact in shown
    found = buttons(message)
    assert list(found) == ["Claim", "Reply", "Close"]
    assert {b["action_id"] for b in found.values()} == {ticket_blocks.CLAIM, ticket_blocks.REPLY, ticket_blocks.CLOSE}
    assert all(b["value"] == "42" for b in found.values())
    assert "42" in message["text"] and "Printer on fire" in message["text"]


def test_unassigned_root_says_so_and_offers_assign_and_priority_selects() -> None:
    message = ticket_blocks.root_message(TICKET)
    assert "_unassigned_" in "\n".join(texts(message))
    actions = next(b for b in message["blocks"] if b["type"] == "actions")
    selects = {e["action_id"]: e for e in actions["elements"] if e["type"] != "button"}
    assert selects[ticket_blocks.ASSIGN]["type"] == "users_select"
    assert selects[ticket_blocks.PRIORITY]["initial_option"]["value"] == "normal"
    # A select carries no value of its own: the ticket comes from its block's id.
    assert ticket_blocks.ticket_number({"action_id": ticket_blocks.PRIORITY, "block_id": actions["block_id"]}) == 42
    assert ticket_blocks.ticket_number({"action_id": ticket_blocks.CLAIM, "value": "42", "block_id": "x"}) == 42
    assert ticket_blocks.ticket_number({"action_id": "other", "block_id": "b12"}) is None


def test_solved_ticket_offers_reopen_instead_of_close_and_closed_offers_nothing() -> None:
    solved = buttons(ticket_blocks.root_message(replace(TICKET, status=Status.SOLVED)))
    assert "Reopen" in solved and "Close" not in solved and solved["Reopen"]["action_id"] == ticket_blocks.REOPEN
    closed = ticket_blocks.root_message(replace(TICKET, status=Status.CLOSED))
    assert buttons(closed) == {}
    assert "follow-up" in "\n".join(texts(closed))


def test_undelivered_mail_is_flagged_on_the_root() -> None:
    message = ticket_blocks.root_message(replace(TICKET, failed_mail=("to mia@example.com: 550 mailbox unknown",)))
    assert any("could not be delivered" in t and "550 mailbox unknown" in t for t in texts(message))


MESSAGES = [
    MAIL,
    replace(MAIL, attachments=(AttachmentView("invoice.pdf", "application/pdf", 123_456, True),
                               AttachmentView("huge.iso", "application/octet-stream", 90 << 20, False))),
    replace(MAIL, kind=MessageKind.REPLY, author="Ana Agent", sent_to="mia@example.com"),
    replace(MAIL, kind=MessageKind.NOTE, author="Ana Agent"),
    replace(MAIL, kind=MessageKind.SYSTEM, author="Tiketti", text="Acknowledgement sent."),
    replace(MAIL, text="", full_text=""),
    replace(MAIL, full_text=MAIL.text + "\n\nOn Monday Ana wrote:\n> earlier"),
    replace(MAIL, attachments=tuple(AttachmentView(f"{i}.png" * 40, "image/png", i, True) for i in range(60))),
]


@pytest.mark.parametrize("msg", MESSAGES, ids=lambda m: f"{m.kind}-{len(m.text)}-{len(m.attachments)}")
def test_every_thread_message_is_accepted_by_slack(msg: MessageView) -> None:
    assert_valid(ticket_blocks.thread_message(msg))
    assert ticket_blocks.thread_message_file(msg) is None


def test_thread_messages_say_who_wrote_and_where_it_went() -> None:
    inbound = texts(ticket_blocks.thread_message(MAIL))
    assert inbound[0] == ":envelope_with_arrow: *Mia Customer &lt;mia@example.com&gt;* wrote:"
    assert "the printer is on fire." in inbound[1]
    reply = texts(ticket_blocks.thread_message(replace(MAIL, kind=MessageKind.REPLY, author="Ana", sent_to="mia@example.com")))
    assert reply[0] == ":outbox_tray: Sent to customer (mia@example.com) by Ana:"
    note = texts(ticket_blocks.thread_message(replace(MAIL, kind=MessageKind.NOTE, author="Ana")))
    assert "Internal note" in note[0]
    attached = "\n".join(texts(ticket_blocks.thread_message(MESSAGES[1])))
    assert "invoice.pdf (application/pdf, 120.6 KB)" in attached and "not stored" in attached


def test_a_100_kb_mail_is_split_within_slacks_limits_and_flagged_for_a_file() -> None:
    paragraph = "Lorem ipsum dolor sit amet & <consectetur> adipiscing elit. " * 20 + "\n\n"
    body = (paragraph * 100)[:100_000]
    msg = replace(MAIL, text=body, full_text=body)
    parts = ticket_blocks.thread_messages(msg)
    assert len(parts) >= 2  # MAX_BODY_CHARS shown: more than one Slack message may hold
    for part in parts:
        assert_valid(part)
    sections = [b["text"]["text"] for p in parts for b in p["blocks"] if b["type"] == "section"][1:]
    assert all(len(s) <= MAX_SECTION_TEXT for s in sections)
    assert sum(len(s) for s in sections) > 14_000
    assert "attached as a file" in "\n".join(texts(parts[-1]))
    full = ticket_blocks.thread_message_file(msg)
    assert full is not None and full.content == body and full.filename.endswith(".txt")


def test_splitting_loses_nothing_that_fits_and_never_breaks_an_entity() -> None:
    body = "\n".join(f"line {i}: a & b < c > d" for i in range(300))
    pieces, truncated = split_for_slack(body)
    assert not truncated and len(pieces) > 1
    unescaped = " ".join(pieces).replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
    assert unescaped.split() == body.split()
    ampersands, _ = split_for_slack("&" * 20_000)
    for piece in ampersands:
        assert re.fullmatch(r"(&amp;)+…?", piece), piece[-8:]


def test_user_text_can_ping_nobody() -> None:
    evil = replace(TICKET, subject=PINGS, requester=f"{PINGS} <evil@example.com>", team=PINGS, tags=(PINGS,),
                   failed_mail=(PINGS,))
    msg = replace(MAIL, author=PINGS, text=PINGS, full_text=PINGS,
                  attachments=(AttachmentView(PINGS, PINGS, 1, True),))
    payloads = [ticket_blocks.root_message(evil), ticket_blocks.thread_message(msg), ticket_blocks.reply_modal(evil, private_metadata="42"),
                ticket_blocks.quarantine_notice(MailQuarantined(3, PINGS, PINGS, PINGS, PINGS)),
                ticket_blocks.delivery_failed_notice(MailDeliveryFailed(evil, PINGS, PINGS, PINGS))]
    for payload in payloads:
        for text in texts(payload) + [payload.get("text", "")]:
            assert not re.search(r"<(!(?!date\^)|[@#]|https?:)", text), text
        assert all(t.get("verbatim") is True for t in _mrkdwn_objects(payload))
    body = texts(ticket_blocks.thread_message(msg))[1]
    assert body.startswith("&lt;!channel&gt; &lt;!here&gt; &lt;@U0BOSS&gt;") and "&amp; more" in body


def _mrkdwn_objects(node: Any) -> list[dict[str, Any]]:
    if isinstance(node, dict):
        return ([node] if node.get("type") == "mrkdwn" else []) + [o for v in node.values() for o in _mrkdwn_objects(v)]
    if isinstance(node, list):
        return [o for v in node for o in _mrkdwn_objects(v)]
    return []


def test_reply_modal_says_exactly_where_the_mail_goes() -> None:
    modal = ticket_blocks.reply_modal(TICKET, private_metadata='{"ticket": 42, "channel": "C1"}', subject_tag="ACME #")
    assert view_errors(modal) == []
    assert modal["title"]["text"] == "Reply to #42" and modal["submit"]["text"] == "Send"
    assert modal["callback_id"] == ticket_blocks.REPLY_MODAL and modal["private_metadata"] == '{"ticket": 42, "channel": "C1"}'
    shown = "\n".join(texts(modal))
    assert "Mia Customer &lt;mia@example.com&gt;" in shown and "Re: Printer on fire [ACME #42]" in shown
    field = next(b for b in modal["blocks"] if b["type"] == "input")
    assert field["block_id"] == ticket_blocks.REPLY_BLOCK and field["element"]["action_id"] == ticket_blocks.REPLY_INPUT
    assert field["element"]["type"] == "plain_text_input" and field["element"]["multiline"] is True


def test_reply_modal_of_a_ticket_opened_by_direct_message_says_it_goes_to_that_dm() -> None:
    modal = ticket_blocks.reply_modal(TICKET, private_metadata="{}", reply_by_dm="discord")
    assert view_errors(modal) == []
    shown = "\n".join(texts(modal) + texts(modal, "plain_text"))
    assert "in their Discord DM" in shown and "sent to the customer's Discord DM" in shown
    assert "emailed" not in shown and "Subject:" not in shown


def test_reply_modal_prefilled_from_a_long_thread_message_stays_valid() -> None:
    modal = ticket_blocks.reply_modal(TICKET, private_metadata="m" * 5000, initial_text="word " * 2000)
    assert view_errors(modal) == []
    assert modal["blocks"][1]["element"]["initial_value"].startswith("word word")


def test_quarantine_notice_tells_how_to_look_at_the_mail() -> None:
    notice = ticket_blocks.quarantine_notice(MailQuarantined(7, "spam@example.com", "Win big", "loop detected", "imap:INBOX"))
    assert_valid(notice)
    shown = "\n".join(texts(notice))
    for fact in ("#7", "spam@example.com", "Win big", "loop detected", "`tiketti quarantine show 7`"):
        assert fact in shown
    assert_valid(ticket_blocks.delivery_failed_notice(MailDeliveryFailed(None, "x@example.com", "Re: hi", "550")))
