"""A ticket in Block Kit: pure functions from the handlers' snapshots to Slack payloads.

A ticket's root message is rendered from scratch on every change and sent with
chat.update, so the channel reads as a live queue. Every function returns plain
dicts ready for the Web API (`text` + `blocks`, or a modal view); all user text
goes through `limits`, so what these return is always within Slack's limits and
can ping nobody. Interactive ids are a public contract with the listeners: the
ticket number travels in a button's value and in its actions block's id.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from bot.adapters.formatting import human_size
from bot.adapters.slack.blocks import context, mrkdwn, pack, plain, section, sections_of, slack_date
from bot.adapters.slack.controls import (  # noqa: F401 - the root's action ids, where the listeners look for them
    ACTIONS_BLOCK,
    ASSIGN,
    CATEGORY,
    CLAIM,
    CLOSE,
    MACRO,
    MORE,
    PRIORITY,
    REOPEN,
    REPLY,
    actions_block,
)
from bot.adapters.slack.limits import (
    MAX_BLOCKS,
    MAX_BLOCKS_TEXT,
    MAX_HEADER_TEXT,
    MAX_INPUT_VALUE,
    NOTIFICATION_CHARS,
    mrkdwn_line,
    one_line,
    slack_user_id,
    split_for_slack,
)
from bot.adapters.slack.reply_form import (  # noqa: F401 - the Reply form's ids, where the listeners look for them
    REPLY_BLOCK,
    REPLY_INPUT,
    REPLY_MODAL,
    TIME_BLOCK,
    TIME_INPUT,
    reply_modal,
)
from bot.adapters.slack.sla_blocks import sla_line
from bot.domain.macro import Macro
from bot.domain.model import MessageKind
from bot.domain.priority import Priority
from bot.domain.status import Status
from bot.domain.time_spent import spent_text
from bot.handlers.events import MailDeliveryFailed, MailQuarantined, TaskDue
from bot.handlers.snapshots import AttachmentView, MessageView, TicketView

TAGS_MODAL = "ticket.tags_modal"
MOVE_MODAL = "ticket.move_modal"

STATUS_EMOJI = {
    Status.NEW: ":new:",
    Status.OPEN: ":large_blue_circle:",
    Status.WAITING_ON_CUSTOMER: ":hourglass_flowing_sand:",
    Status.CUSTOMER_REPLIED: ":speech_balloon:",
    Status.WAITING_ON_THIRD_PARTY: ":hourglass:",
    Status.SOLVED: ":white_check_mark:",
    Status.CLOSED: ":lock:",
}
PRIORITY_EMOJI = {Priority.LOW: ":white_circle:", Priority.NORMAL: ":large_green_circle:",
                  Priority.HIGH: ":large_orange_circle:", Priority.URGENT: ":red_circle:"}
Blocks = list[dict[str, Any]]


@dataclass(frozen=True)
class FullText:
    """A message too long for a thread: upload this file (files_upload_v2) beside the head."""

    filename: str
    title: str
    content: str


def ticket_number(action: dict[str, Any]) -> int | None:
    """The ticket an action belongs to: a button's value, else its actions block's id."""
    value = str(action.get("value") or "")
    if _number(value):
        return int(value)
    parts = str(action.get("block_id") or "").split(".")
    if len(parts) >= 2 and parts[0] == "ticket" and _number(parts[1]):
        return int(parts[1])
    return None


def _number(text: str) -> bool:  # ASCII digits ("²" is a digit to isdigit, not to int), a ticket number's size
    return text.isascii() and text.isdigit() and len(text) <= 9


# --- the root message ----------------------------------------------------------------

INTERNAL = "_internal_ (no customer: nothing is mailed)"


def requester(ticket: TicketView, limit: int = 500) -> str:
    """Who the customer is, as mrkdwn. An internal ticket has none: it says so, rather than a blank or an
    address-shaped placeholder an agent might take for someone to write to."""
    if ticket.internal:
        return INTERNAL
    return mrkdwn_line(ticket.requester, limit) or "_unknown_"


def _fields(ticket: TicketView) -> list[dict[str, Any]]:
    if slack_user := slack_user_id(ticket.assignee_chat_id):  # a Discord id would show as a raw <@1234…>
        assignee = f"<@{slack_user}>"
    else:
        assignee = mrkdwn_line(ticket.assignee, 200) if ticket.assignee else "_unassigned_"
    facts = [
        ("Requester", requester(ticket)),
        ("Status", f"{STATUS_EMOJI[ticket.status]} {mrkdwn_line(ticket.status_text, 100)}"),
        ("Priority", f"{PRIORITY_EMOJI[ticket.priority]} {ticket.priority.value}"),
        ("Assignee", assignee),
    ]
    if ticket.team:
        facts.append(("Team", mrkdwn_line(ticket.team, 200)))
    if ticket.category:
        facts.append(("Category", mrkdwn_line(ticket.category, 200)))
    if ticket.tags:
        facts.append(("Tags", mrkdwn_line(", ".join(ticket.tags), 1000)))
    if ticket.parent:
        facts.append(("Child of", f"#{ticket.parent}"))
    if ticket.children:
        shown = ", ".join(f"#{n} {STATUS_EMOJI[s]} {s.label}" for n, s in ticket.children[:20])
        facts.append(("Children", shown + (" …" if len(ticket.children) > 20 else "")))
    if ticket.follow_up_of:
        facts.append(("Follow-up of", f"#{ticket.follow_up_of}"))
    if ticket.merged_into:
        facts.append(("Merged into", f"#{ticket.merged_into}"))
    return [mrkdwn(f"*{name}*\n{value}") for name, value in facts[:10]]


def root_message(ticket: TicketView, *, moved_to: tuple[str, str | None] | None = None, categories: Sequence[str] = (),
                 teams: Sequence[str] = (), now: datetime | None = None, macros: Sequence[Macro] = ()) -> dict[str, Any]:
    """The ticket's root in the tickets channel; render again and chat.update on every change.

    `now` (the handlers' clock) is when the SLA time left is counted from.

    `categories` and `teams` (from the workflow file) fill the Category select and the "Move to team"
    choice; `macros` (the workflow's for the ticket's team) the Macro select. `moved_to` (team, link) marks a
    root left behind when the ticket moved to another team's channel (link None: to a team that works on
    another chat platform).
    """
    stamp = f"Opened {slack_date(ticket.created_at)} · updated {slack_date(ticket.updated_at)}"
    if ticket.first_response_at is None and ticket.status.is_active:
        stamp += " · no response yet"
    if ticket.time_spent_minutes > 0:
        stamp += f" · :stopwatch: {spent_text(ticket.time_spent_minutes)} spent"
    blocks: Blocks = [
        {"type": "header", "text": plain(f"#{ticket.number} {ticket.subject}", MAX_HEADER_TEXT)},
        {"type": "section", "fields": _fields(ticket)},
        context(stamp),
    ]
    if (due := sla_line(ticket, now or datetime.now(UTC))) is not None:  # as of this render; re-rendered on changes
        blocks.append(context(due))
    if ticket.status == Status.CLOSED:
        blocks.append(context("Closed for good: new mail from the customer opens a follow-up ticket."))
    if ticket.failed_mail:
        lines = [f"• {mrkdwn_line(line, 300)}" for line in ticket.failed_mail[:8]]
        if len(ticket.failed_mail) > 8:
            lines.append(f"• … and {len(ticket.failed_mail) - 8} more")
        blocks.append(section(":warning: *Mail could not be delivered*\n" + "\n".join(lines)))
    actions = actions_block(ticket, categories, teams, macros)
    if moved_to:
        where = f"<{moved_to[1]}|the thread continues there>" if moved_to[1] else "this thread is no longer updated"
        blocks.append(section(f":arrow_right: Moved to {mrkdwn_line(moved_to[0], 100)}: {where}"))
    elif actions:
        blocks.append(actions)
    source = "internal" if ticket.internal else f"from {ticket.requester}"
    text = mrkdwn_line(f"#{ticket.number} {ticket.subject} — {ticket.status.label}, {ticket.priority.value} "
                       f"priority, {source}", NOTIFICATION_CHARS)
    return {"text": text, "blocks": blocks}


# --- thread messages -----------------------------------------------------------------

def _head(msg: MessageView) -> str:
    author = mrkdwn_line(msg.author, 200) or "someone"
    if msg.kind == MessageKind.INBOUND:
        return f":envelope_with_arrow: *{author}* wrote:"
    if msg.kind == MessageKind.REPLY:
        to = f" ({mrkdwn_line(msg.sent_to, 200)})" if msg.sent_to else ""
        return f":outbox_tray: Sent to customer{to} by {author}:"
    if msg.kind == MessageKind.NOTE:
        return f":lock: Internal note by {author}:"
    return f":gear: {author}:"


def _attachment(a: AttachmentView) -> str:
    kept = "" if a.stored else ", not stored: over the size limit"
    return f":paperclip: {mrkdwn_line(a.filename, 150)} ({mrkdwn_line(a.content_type, 60)}, {human_size(a.size)}{kept})"


CONTINUED_ROOM = 200  # text kept free in each part for its "continued" line


def thread_messages(msg: MessageView) -> list[dict[str, Any]]:
    """One ticket message for its thread, as one Slack message or several in a row when its text is longer
    than one message may hold (limits.MAX_BLOCKS_TEXT). When `thread_message_file` is not None, upload it too."""
    pieces, truncated = split_for_slack(msg.text)
    blocks: Blocks = [section(_head(msg))]
    blocks.extend(section(piece) for piece in pieces)
    if not pieces:
        blocks.append(context("_(no text)_"))
    if msg.attachments:
        lines = [_attachment(a) for a in msg.attachments[:20]]
        if len(msg.attachments) > 20:
            lines.append(f"… and {len(msg.attachments) - 20} more")
        blocks.extend(sections_of(lines))  # 20 long file names are more than one section holds
    notes = []
    if truncated:
        notes.append(":page_facing_up: Too long for Slack: the whole text is attached as a file.")
    elif msg.full_text.strip() and msg.full_text.strip() != msg.text.strip():
        notes.append(f"Quoted history and signature hidden: `/ticket show {msg.ticket_number} --original`")
    if notes:
        blocks.append(context(*notes))
    preview = one_line(msg.text, NOTIFICATION_CHARS) or "(no text)"
    first = mrkdwn_line(f"#{msg.ticket_number} {msg.author}: {preview}", NOTIFICATION_CHARS + 100)
    groups = pack(blocks, budget=MAX_BLOCKS_TEXT - CONTINUED_ROOM, max_blocks=MAX_BLOCKS - 1)
    if len(groups) == 1:
        return [{"text": first, "blocks": groups[0]}]
    author = mrkdwn_line(msg.author, 100) or "someone"
    parts = [{"text": first, "blocks": [*groups[0], context(f"_continued below (1/{len(groups)})_")]}]
    for i, group in enumerate(groups[1:], start=2):
        said = f"#{msg.ticket_number} {author}, continued ({i}/{len(groups)})"
        parts.append({"text": said, "blocks": [context(f"_{said}_"), *group]})
    return parts


def thread_message(msg: MessageView) -> dict[str, Any]:
    """The first (often the only) Slack message of `thread_messages`."""
    return thread_messages(msg)[0]


def thread_message_file(msg: MessageView) -> FullText | None:
    """The whole text of a message `thread_message` had to cut, or None when it fits."""
    _, truncated = split_for_slack(msg.text)
    if not truncated:
        return None
    return FullText(
        filename=f"ticket-{msg.ticket_number}-message-{msg.id}.txt",
        title=one_line(f"#{msg.ticket_number} full message from {msg.author}", 200),
        content=msg.full_text if len(msg.full_text) >= len(msg.text) else msg.text,
    )


# --- modals and notices -------------------------------------------------------------

def quarantine_notice(event: MailQuarantined) -> dict[str, Any]:
    """A mail that did not become a ticket: enough to decide whether to look at it."""
    sender = mrkdwn_line(event.sender, 300) or "unknown sender"
    subject = mrkdwn_line(event.subject, 300) or "(no subject)"
    blocks: Blocks = [
        section(f":warning: *Mail quarantined as #{event.quarantine_id}*"),
        {"type": "section", "fields": [mrkdwn(f"*From*\n{sender}"), mrkdwn(f"*Subject*\n{subject}")]},
        section(f"*Reason:* {mrkdwn_line(event.reason, 1000)}"),
        context(f"Source: {mrkdwn_line(event.source, 200)} · inspect with `tiketti quarantine show {event.quarantine_id}`"),
    ]
    return {"text": f"Mail quarantined as #{event.quarantine_id}: from {sender}", "blocks": blocks}


def delivery_failed_notice(event: MailDeliveryFailed) -> dict[str, Any]:
    """Posted in the ticket's thread (or the channel) when the outbox gives up on a mail."""
    where = f"#{event.ticket.number} " if event.ticket else ""
    head = f":warning: {where}mail to {mrkdwn_line(event.to_addr, 300)} could not be delivered"
    blocks: Blocks = [
        section(f"{head}: “{mrkdwn_line(event.subject, 300)}”"),
        context(f"Error: {mrkdwn_line(event.error, 1500)}"),
    ]
    return {"text": head, "blocks": blocks}


def moved_notice(text: str) -> dict[str, Any]:
    """`text` is our own mrkdwn (a link we built); nothing user-written goes in unescaped."""
    return {"text": "This ticket moved", "blocks": [section(f":arrow_right: {text}")]}


def customer_history(others: Sequence[TicketView], links: dict[int, str]) -> dict[str, Any]:
    lines = []
    for t in others[:10]:
        number = f"<{links[t.number]}|#{t.number}>" if t.number in links else f"#{t.number}"
        answered = "answered" if t.first_response_at else "not answered yet"
        lines.append(f"• {number} {mrkdwn_line(t.subject, 120)} — {mrkdwn_line(t.status_text, 40)}, {answered}, "
                     f"{slack_date(t.created_at)}")
    return {"text": f"This customer has {len(others)} other recent tickets",
            "blocks": [section(":card_index: *This customer's other recent tickets*\n" + "\n".join(lines))]}


def task_reminder(event: TaskDue, mention: str) -> dict[str, Any]:
    """`mention` is our own `<@U…> ` (or empty); the task text is escaped."""
    text = f":alarm_clock: {mention}task due on #{event.ticket.number}: {mrkdwn_line(event.text, 1000)}"
    return {"text": f"Task due on #{event.ticket.number}", "blocks": [
        section(text), context(f"`/ticket done {event.task_id}` when finished")]}


def tags_modal(ticket: TicketView) -> dict[str, Any]:
    element: dict[str, Any] = {"type": "plain_text_input", "action_id": "tags",
                               "placeholder": plain("vip, invoice, hardware", 150)}
    if ticket.tags:
        element["initial_value"] = ", ".join(ticket.tags)[:MAX_INPUT_VALUE]
    return {"type": "modal", "callback_id": TAGS_MODAL, "private_metadata": str(ticket.number),
            "title": plain(f"Tags of #{ticket.number}", 24), "submit": plain("Save", 24), "close": plain("Cancel", 24),
            "blocks": [{"type": "input", "block_id": "tags", "optional": True, "element": element,
                        "label": plain("Tags, separated by commas or spaces", 2000)}]}


def move_modal(ticket: TicketView, teams: Sequence[str]) -> dict[str, Any]:
    """The "Move to team" form; with no other team to move to it says so, with no select and no submit:
    Slack refuses a select with no option (`invalid_arguments` from views.open)."""
    options = [{"text": plain(t, 75), "value": t[:150]} for t in teams if t != ticket.team][:100]
    modal: dict[str, Any] = {"type": "modal", "callback_id": MOVE_MODAL, "private_metadata": str(ticket.number),
                             "title": plain(f"Move #{ticket.number}", 24), "close": plain("Close", 24)}
    if not options:
        here = f" is in {mrkdwn_line(ticket.team, 200)}, the only team" if ticket.team else " has no team to move to"
        modal["blocks"] = [section(f"#{ticket.number}{here}: there is no other team to move it to. "
                                   "Teams are set in the workflow file (`teams:`).")]
        return modal
    modal.update(submit=plain("Move", 24), close=plain("Cancel", 24))
    modal["blocks"] = [{"type": "input", "block_id": "team", "label": plain("To team", 2000),
                        "element": {"type": "static_select", "action_id": "team", "options": options,
                                    "placeholder": plain("Team", 150)}},
                       context("The thread moves to that team's channel; both threads link to each other.")]
    return modal
