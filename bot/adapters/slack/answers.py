"""Ephemeral answers to `/ticket` and mentions: help, a ticket's details, lists, history.

Pure functions from the handlers' snapshots to `{"text", "blocks"}`, within Slack's
limits like every other view (at most 50 blocks, each section cut to size).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bot.adapters.commands import SPECS
from bot.adapters.slack.limits import MAX_BLOCKS, mrkdwn_line, split_for_slack
from bot.adapters.slack.ticket_blocks import (
    PRIORITY_EMOJI,
    STATUS_EMOJI,
    context,
    plain,
    requester,
    section,
    slack_date,
    thread_message,
)
from bot.handlers.snapshots import AuditLine, TicketDetails, TicketView
from bot.handlers.tasks import TaskView

Answer = dict[str, Any]

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
    blocks, chunk = [section(f"*{mrkdwn_line(title, 100)}* ({len(tickets)})")], ""
    for line in lines:
        if len(chunk) + len(line) + 1 > 2900:
            blocks.append(section(chunk))
            chunk = ""
        chunk = f"{chunk}\n{line}" if chunk else line
    if chunk:
        blocks.append(section(chunk))
    blocks = blocks[:MAX_BLOCKS - 1]
    if queue:
        blocks.append({"type": "actions", "elements": [{"type": "button", "action_id": "ticket.next", "style": "primary",
                                                        "text": plain("Handle next", 75), "value": "next"}]})
    return {"text": f"{title} ({len(tickets)})", "blocks": blocks}


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
    blocks = [section(head), section(facts), context(f"Opened {slack_date(t.created_at)}")]
    room = MAX_BLOCKS - len(blocks) - 2
    shown = 0
    for message in reversed(d.messages):  # the newest are what an agent asks about
        rendered = thread_message(message)["blocks"][:4]
        if len(rendered) > room:
            break
        blocks[3:3] = rendered
        room -= len(rendered)
        shown += 1
    if shown < len(d.messages):
        blocks.insert(3, context(f"{len(d.messages) - shown} earlier messages are in the thread."))
    if d.other_tickets:
        others = ", ".join(f"#{o.number} {mrkdwn_line(o.subject, 60)} ({o.status.label})" for o in d.other_tickets[:5])
        blocks.append(context(f"Also from this customer: {others}"))
    return {"text": f"#{t.number} {mrkdwn_line(t.subject, 200)}", "blocks": blocks[:MAX_BLOCKS]}


def history(number: int, lines: Sequence[AuditLine]) -> Answer:
    rows = []
    for line in lines:
        what = line.action
        if line.field:
            what += f" {line.field}: {line.before or '—'} → {line.after or '—'}"
        if line.detail:
            what += f" ({line.detail})"
        rows.append(f"{line.created_at.strftime('%Y-%m-%d %H:%M')} · {line.actor} · {what}")
    pieces, _ = split_for_slack("\n".join(rows) or "no changes recorded", budget=2900 * 40)
    blocks = [section(f"*History of #{number}* ({len(lines)} events)"), *(section(p) for p in pieces)]
    return {"text": f"History of #{number}", "blocks": blocks[:MAX_BLOCKS]}


def context_summary(d: TicketDetails, experts: Sequence[str]) -> Answer:
    """Posted in the thread when someone is pulled in: what the ticket is about, in a glance."""
    t = d.ticket
    who = " ".join(f"<@{mrkdwn_line(e, 30)}>" for e in experts)
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
