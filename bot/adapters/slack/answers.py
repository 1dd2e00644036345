"""Ephemeral answers to `/ticket` and mentions: help, a ticket's details, lists, history.

Pure functions from the handlers' snapshots to `{"text", "blocks"}`, each block within Slack's
limits. An answer may be longer than one Slack message holds (a queue of hundreds, a ticket's whole
conversation): whoever sends it sends `blocks.pages(answer)`, one to four messages in a row, so Slack
never refuses it (`msg_blocks_too_long`, more than 50 blocks); what even four cannot hold is said
to be left out, never silently dropped.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bot.adapters.commands import SPECS
from bot.adapters.slack.blocks import MAX_PAGES, PAGE_ROOM, pages, sections_of, text_length
from bot.adapters.slack.limits import MAX_BLOCKS, MAX_BLOCKS_TEXT, mrkdwn_line, slack_user_id, split_for_slack
from bot.adapters.slack.ticket_blocks import (
    PRIORITY_EMOJI,
    STATUS_EMOJI,
    context,
    plain,
    requester,
    section,
    slack_date,
    thread_messages,
)
from bot.domain.time_spent import spent_text
from bot.handlers.snapshots import AuditLine, TicketDetails, TicketView
from bot.handlers.tasks import TaskView

Answer = dict[str, Any]
__all__ = ["pages"]  # re-exported: how every answer is sent

# What all pages of one answer hold, minus room for the ticket's head and the closing lines.
ANSWER_ROOM = MAX_PAGES * (MAX_BLOCKS_TEXT - PAGE_ROOM) - 2000
MAX_HISTORY_ROW = 1500  # one event's line; a change of a long value (hundreds of tags) is cut there

THREAD_HELP = (
    "*Inside a ticket's thread* (Slack runs no slash commands there):\n"
    "• anything you type is an *internal note*, never mailed\n"
    "• the *Reply* button, or the message shortcut *Send to customer*, mails the customer\n"
    "• mention the bot: `@tiketti claim`, `close`, `reopen`, `assign @ana`, `priority high`, "
    "`status waiting on customer`, `invite @expert`, `show`\n"
    "• react on the root message: :eyes: claims, :white_check_mark: solves"
)


def text(message: str) -> Answer:
    return {"text": mrkdwn_line(message, 3000), "blocks": [section(mrkdwn_line(message, 3000))]}


def done(summary: str, link: str | None) -> Answer:
    """A change confirmed to the person who made it, with the way to its thread."""
    shown = mrkdwn_line(summary, 2900) + (f" · <{link}|open thread>" if link else "")
    return {"text": mrkdwn_line(summary, 2900), "blocks": [section(shown)]}


def help_answer() -> Answer:
    lines = [f"`{spec.usage}` — {spec.does}" for spec in SPECS.values()]
    return {"text": "/ticket commands", "blocks": [section("*/ticket commands*\n" + "\n".join(lines)), section(THREAD_HELP)]}


def _line(t: TicketView, link: str | None) -> str:
    number = f"<{link}|#{t.number}>" if link else f"#{t.number}"
    who = f" · {mrkdwn_line(t.assignee, 60)}" if t.assignee else ""
    return (f"{PRIORITY_EMOJI[t.priority]} *{number}* {mrkdwn_line(t.subject, 120)} — {mrkdwn_line(t.status_text, 60)}, "
            f"{'_internal_' if t.internal else mrkdwn_line(t.requester_email, 80)}{who}")


def ticket_list(title: str, tickets: Sequence[TicketView], empty: str, links: dict[int, str] | None = None,
                queue: bool = False) -> Answer:
    """`queue` adds the "Handle next" button."""
    if not tickets:
        return text(f"{title}: {empty}")
    links = links or {}
    lines = [_line(t, links.get(t.number)) for t in tickets]
    blocks = [section(f"*{mrkdwn_line(title, 100)}* ({len(tickets)})"), *sections_of(lines, 2900)]
    if queue:  # first, so a queue longer than the pages still offers it
        blocks.insert(1, {"type": "actions", "elements": [{"type": "button", "action_id": "ticket.next",
                                                           "style": "primary", "text": plain("Handle next", 75),
                                                           "value": "next"}]})
    return {"text": f"{title} ({len(tickets)})", "blocks": blocks}


def lines(title: str, items: Sequence[str], empty: str) -> Answer:
    """A titled list of plain lines (articles, canned replies, macros), escaped for mrkdwn; bare URLs link."""
    if not items:
        return text(f"{title}: {empty}")
    rows = [mrkdwn_line(item, 1000) for item in items]
    return {"text": f"{title} ({len(items)})",
            "blocks": [section(f"*{mrkdwn_line(title, 100)}* ({len(items)})"), *sections_of(rows, 2900)]}


def task_list(items: Sequence[TaskView]) -> Answer:
    if not items:
        return text("Your tasks: none open")
    lines = [f"`task {t.id}` *#{t.ticket_number}* {mrkdwn_line(t.text, 200)}"
             + (f" — due {slack_date(t.due_at)}" if t.due_at else "") for t in items[:40]]
    return {"text": f"Your tasks ({len(items)})",
            "blocks": [section(f"*Your tasks* ({len(items)}) · `/ticket done T` when finished"), section("\n".join(lines))]}


def details(d: TicketDetails, link: str | None = None) -> Answer:
    t = d.ticket
    head = f"*#{t.number} {mrkdwn_line(t.subject, 200)}*" + (f" · <{link}|open thread>" if link else "")
    facts = (f"{STATUS_EMOJI[t.status]} {t.status.label} · {PRIORITY_EMOJI[t.priority]} {t.priority.value} · "
             f"from {requester(t, 200)} · " + (f"assigned to {mrkdwn_line(t.assignee, 100)}" if t.assignee
                                                               else "unassigned"))
    spent = f" · :stopwatch: {spent_text(t.time_spent_minutes)} spent" if t.time_spent_minutes > 0 else ""
    blocks = [section(head), section(facts), context(f"Opened {slack_date(t.created_at)}{spent}")]
    room, block_room = ANSWER_ROOM, MAX_PAGES * (MAX_BLOCKS - 3) - 8
    shown = 0
    for message in reversed(d.messages):  # the newest are what an agent asks about; the thread keeps them all
        rendered = [b for part in thread_messages(message) for b in part["blocks"]]
        if text_length(rendered) > room or len(rendered) > block_room:
            break
        blocks[3:3] = rendered
        room, block_room = room - text_length(rendered), block_room - len(rendered)
        shown += 1
    if shown < len(d.messages):
        blocks.insert(3, context(f"{len(d.messages) - shown} earlier messages are in the thread."))
    if d.other_tickets:
        others = ", ".join(f"#{o.number} {mrkdwn_line(o.subject, 60)} ({o.status.label})" for o in d.other_tickets[:5])
        blocks.append(context(f"Also from this customer: {others}"))
    return {"text": f"#{t.number} {mrkdwn_line(t.subject, 200)}", "blocks": blocks}


def history(number: int, lines: Sequence[AuditLine]) -> Answer:
    rows = []
    for line in lines:
        what = line.action
        if line.field:
            what += f" {line.field}: {line.before or '—'} → {line.after or '—'}"
        if line.detail:
            what += f" ({line.detail})"
        row = f"{line.created_at.strftime('%Y-%m-%d %H:%M')} · {line.actor} · {what}"
        rows.append(row if len(row) <= MAX_HISTORY_ROW else row[:MAX_HISTORY_ROW - 1] + "…")  # e.g. 400 tags before/after
    kept, size = [], 0
    for row in reversed(rows):  # the latest events, as many as the pages hold (escaping may grow a row)
        size += 2 * len(row) + 1
        if size > ANSWER_ROOM:
            break
        kept.insert(0, row)
    pieces, _ = split_for_slack("\n".join(kept) or "no changes recorded", piece=2900, budget=ANSWER_ROOM)
    blocks = [section(f"*History of #{number}* ({len(lines)} events)")]
    if len(kept) < len(rows):
        blocks.append(context(f"The {len(rows) - len(kept)} earliest events are left out: Slack shows this much at once."))
    blocks.extend(section(p) for p in pieces)
    return {"text": f"History of #{number}", "blocks": blocks}


def context_summary(d: TicketDetails, experts: Sequence[str]) -> Answer:
    """Posted in the thread when someone is pulled in: what the ticket is about, in a glance."""
    t = d.ticket
    who = " ".join(f"<@{e}>" for e in experts if slack_user_id(e))
    first = next((m for m in d.messages if m.kind.value == "inbound"), None)
    latest = next((m for m in reversed(d.messages) if m.kind.value == "inbound"), None)
    lines = [f"{who} you were pulled into *#{t.number} {mrkdwn_line(t.subject, 200)}*",
             f"From {requester(t, 200)} · {t.status.label} · {t.priority.value} priority · "
             + (f"assigned to {mrkdwn_line(t.assignee, 80)}" if t.assignee else "unassigned")]
    if first:
        lines.append(f"*Asked:* {mrkdwn_line(first.text, 500)}")
    if latest and latest is not first:
        lines.append(f"*Latest from the customer:* {mrkdwn_line(latest.text, 500)}")
    lines.append(f"{len(d.messages)} messages so far; everything typed here stays internal.")
    return {"text": f"You were pulled into #{t.number}", "blocks": [section("\n".join(lines))]}
