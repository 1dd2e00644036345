"""Console views: pure functions from the handlers' snapshots to text.

The console stands in for the tickets channel, so these mirror what the chat
views show: a root block per ticket, its thread below it, one `~` line when the
root is "updated in place". Nothing here does I/O, so tests read the words
without a terminal. Lines stay within WIDTH columns.
"""

from __future__ import annotations

import textwrap
import unicodedata
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime

from bot.adapters.capabilities import Control, controls_for
from bot.adapters.formatting import duration, human_size, period_text
from bot.domain.model import MessageKind
from bot.domain.status import Status
from bot.domain.time_spent import spent_text
from bot.handlers.events import MailDeliveryFailed, MailQuarantined
from bot.handlers.figures import Report
from bot.handlers.snapshots import AttachmentView, AuditLine, MessageView, TicketDetails, TicketView
from bot.handlers.tasks import TaskView

WIDTH = 100
THREAD_LINES = 15  # body lines a thread message shows before "(… N more lines)"
BODY = " " * 6  # indentation of message text under its thread header


def clean(text: str) -> str:
    """Mail is written by strangers: drop control characters so no body can drive the terminal."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\t", "    ")
    return "".join(ch for ch in text if ch == "\n" or unicodedata.category(ch) != "Cc")


def one_line(text: str, limit: int = WIDTH) -> str:
    """Collapse whitespace and shorten with an ellipsis: for names, subjects, reasons."""
    flat = " ".join(clean(text).split())
    return flat if len(flat) <= limit else flat[: max(limit - 1, 0)] + "…"


def cut(line: str, limit: int = WIDTH) -> str:
    """Shorten one of our own formatted lines, keeping its spacing."""
    line = clean(line).replace("\n", " ")
    return line if len(line) <= limit else line[: limit - 1] + "…"


def when(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M")


def ok(summary: str) -> str:
    return "✓ " + one_line(summary, WIDTH - 2)


def error(message: str) -> str:
    """One short message, no traceback; a long one (a list of valid words) wraps rather than losing its end."""
    return textwrap.fill(one_line(message, 3 * WIDTH), WIDTH, initial_indent="✗ ", subsequent_indent="  ")


def actions(ticket: TicketView, controls: Sequence[Control] | None = None) -> str:
    """The controls a chat root carries (`bot.adapters.capabilities`), in the words of the /ticket
    commands that do the same, and `note` (typing in the thread); `controls` as the workflow offers them."""
    if ticket.status == Status.CLOSED:
        return "(closed for good: new mail opens a follow-up)"
    shown = controls_for(ticket) if controls is None else controls
    return " ".join(f"[{c.verb}]" for c in shown) + " [note]"


def state(ticket: TicketView) -> str:
    assignee = one_line(ticket.assignee, 30) if ticket.assignee else "nobody"
    return f"status: {ticket.status_text} · priority: {ticket.priority} · assignee: {assignee}"


def _fit(head: str, subject: str, tail: str) -> str:
    """head + subject + tail on one line, shortening the subject first; the tail wraps if it must."""
    room = WIDTH - len(head) - len(tail)
    if room >= 16 or room >= len(one_line(subject)):
        return head + one_line(subject, room) + tail
    return head + one_line(subject, WIDTH - len(head)) + "\n" + textwrap.fill(
        tail.strip(" ·—"), WIDTH, initial_indent="  ", subsequent_indent="  "
    )


def _joined(parts: Sequence[str], sep: str = " · ") -> list[str]:
    """Join short facts into indented lines, breaking only between facts."""
    lines = ["  "]
    for part in parts:
        if lines[-1].strip() and len(lines[-1]) + len(sep) + len(part) > WIDTH:
            lines.append("  ")
        lines[-1] += (sep if lines[-1].strip() else "") + part
    return lines


def links(ticket: TicketView) -> list[tuple[str, str]]:
    """Team, category, tags and the tickets this one is tied to, as (name, value) facts."""
    facts = [("team", ticket.team or ""), ("category", ticket.category or ""), ("tags", ", ".join(ticket.tags))]
    if ticket.parent:
        facts.append(("child of", f"#{ticket.parent}"))
    if ticket.children:
        facts.append(("children", ", ".join(f"#{n} {s.label}" for n, s in ticket.children)))
    if ticket.merged_into:
        facts.append(("merged into", f"#{ticket.merged_into}"))
    if ticket.follow_up_of:
        facts.append(("follow-up of", f"#{ticket.follow_up_of}"))
    if ticket.time_spent_minutes > 0:
        facts.append(("time spent", f"⏱ {spent_text(ticket.time_spent_minutes)}"))
    return [(name, value) for name, value in facts if value]


def root_block(ticket: TicketView, *, details: bool = False, controls: Sequence[Control] | None = None,
               moved: str | None = None) -> list[str]:
    """The ticket's root; `moved`: the ticket went elsewhere, the root says where instead of its controls."""
    lines = [
        _fit(f"● #{ticket.number} ", ticket.subject, ""),
        "  from " + one_line(ticket.requester, WIDTH - 7),
        "  " + state(ticket),
    ]
    if details:
        facts = [f"opened {when(ticket.created_at)}", f"updated {when(ticket.updated_at)}"]
        facts.append(f"first response {when(ticket.first_response_at)}" if ticket.first_response_at else "no response yet")
        if ticket.solved_at:
            facts.append(f"solved {when(ticket.solved_at)}")
        lines.extend(_joined(facts))
    extra = [f"{name}: {value}" for name, value in links(ticket)]
    if extra:
        lines.extend(_joined(extra))
    if moved is not None:
        lines.append("  ➡ " + one_line(moved, WIDTH - 4))
    else:
        lines.extend(textwrap.wrap(actions(ticket, controls), WIDTH, initial_indent="  ", subsequent_indent="  "))
    lines.extend("  ⚠ " + one_line(failure, WIDTH - 4) for failure in ticket.failed_mail)
    return lines


def root_text(ticket: TicketView, controls: Sequence[Control] | None = None, *, moved: str | None = None) -> str:
    """A ticket's root in the channel; `moved`: where the ticket went, and the root offers no controls."""
    return "\n".join(root_block(ticket, controls=controls, moved=moved))


def _facts(ticket: TicketView) -> dict[str, str]:
    """What a root shows that can change, by name (the root's first lines and its links)."""
    return {"status": ticket.status_text, "priority": str(ticket.priority),
            "assignee": one_line(ticket.assignee, 30) if ticket.assignee else "nobody", **dict(links(ticket))}


def root_changed(before: TicketView | None, after: TicketView, *, moved: str | None = None) -> str:
    """A root updated in place, as one line a terminal can show: what changed, 'status: new → open'.

    `before` is the root as this console last showed it (None when it was posted before this
    session: then the whole state). Mail that could not be delivered gets a line of its own."""
    old, new = (_facts(before) if before else {}), _facts(after)
    changes = [f"{name}: {old.get(name, '—')} → {value}" for name, value in new.items() if old.get(name) != value]
    changes += [f"{name}: {value} → —" for name, value in old.items() if name not in new]
    if before is None:
        changes = [state(after)]
    if moved:
        changes.append(one_line(moved, 60))
    line = _fit(f"~ #{after.number} ", after.subject, " — " + " · ".join(changes or [state(after)]))
    failed = [f for f in after.failed_mail if before is None or f not in before.failed_mail]
    return "\n".join([line, *("  ⚠ " + one_line(f, WIDTH - 4) for f in failed)])


def message_header(message: MessageView, *, with_time: bool = False) -> str:
    author = one_line(message.author, 50) or "?"
    if message.kind == MessageKind.INBOUND:
        head = f"✉ from {author}"
    elif message.kind == MessageKind.REPLY:
        to = f" to {one_line(message.sent_to, 50)}" if message.sent_to else ""
        head = f"↩ reply sent{to} by {author}"
    elif message.kind == MessageKind.NOTE:
        head = f"🔒 internal note by {author}"
    else:
        head = f"⚙ notice from {author}"
    stamp = f" · {when(message.created_at)}" if with_time else ""
    return f"  ↳ #{message.ticket_number} {head}{stamp}"


def body_lines(text: str, limit: int | None) -> tuple[list[str], int]:
    """Wrap text to the thread's width; return the lines to show and how many were left out."""
    wrapped: list[str] = []
    for line in clean(text).strip("\n").split("\n"):
        line = line.rstrip()
        wrapped.extend(textwrap.wrap(line, WIDTH - len(BODY), break_on_hyphens=False) or [""])
    if limit is None or len(wrapped) <= limit:
        return wrapped, 0
    return wrapped[:limit], len(wrapped) - limit


def attachment_line(attachment: AttachmentView) -> str:
    kept = "" if attachment.stored else ", not stored: over the size limit"
    return f"{BODY}📎 {one_line(attachment.filename, 50)} ({one_line(attachment.content_type, 30)}, {human_size(attachment.size)}{kept})"


def message_block(message: MessageView, *, full: bool = False) -> list[str]:
    """One thread message. The channel view is cut at THREAD_LINES; `full` (for /ticket show) is not."""
    lines = [message_header(message, with_time=full)]
    shown, hidden = body_lines(message.text, None if full else THREAD_LINES)
    if message.text.strip():
        lines.extend(BODY + line if line else "" for line in shown)
    else:
        lines.append(BODY + "(no text)")
    if hidden:
        lines.append(f"{BODY}(… {hidden} more lines, /ticket show {message.ticket_number})")
    if full and message.full_text.strip() != message.text.strip():
        lines.append(f"{BODY}(quoted history and signature hidden: /ticket show {message.ticket_number} --original)")
    lines.extend(attachment_line(a) for a in message.attachments)
    return lines


def pulled_in(d: TicketDetails, users: Sequence[str]) -> list[str]:
    """Posted in the thread when colleagues are pulled in: what the ticket is about, at a glance."""
    t = d.ticket
    who = " ".join(f"@{one_line(u, 30)}" for u in users)
    asked = next((m for m in d.messages if m.kind == MessageKind.INBOUND), None)
    lines = [_fit(f"  ↳ #{t.number} 👋 {who} pulled into #{t.number} ", t.subject, ""),
             cut(f"{BODY}from {one_line(t.requester, 50)} · {state(t)}")]
    if asked is not None:
        lines.append(BODY + "asked: " + one_line(asked.text, WIDTH - len(BODY) - 7))
    lines.append(f"{BODY}{len(d.messages)} messages so far; everything typed here stays internal")
    return lines


def others_lines(requester_email: str, others: Sequence[TicketView]) -> list[str]:
    if not others:
        return []
    items = ", ".join(f"#{t.number} {one_line(t.subject, 40)} ({t.status.label})" for t in others)
    head = f"other recent tickets from {one_line(requester_email, 50)}: "
    return textwrap.wrap(head + items, WIDTH, initial_indent="  ", subsequent_indent="    ")


def mail_quarantined(event: MailQuarantined) -> str:
    sender = one_line(event.sender, 40) or "unknown sender"
    subject = one_line(event.subject, 40) or "(no subject)"
    first = f"⚠ mail quarantined as #{event.quarantine_id}: from {sender}, “{subject}”"
    return "\n".join([first, "  reason: " + one_line(event.reason, WIDTH - 10),
                      f"  see: tiketti quarantine show {event.quarantine_id}"])


def delivery_failed(event: MailDeliveryFailed) -> str:
    where = f"#{event.ticket.number} " if event.ticket else ""
    first = f"⚠ {where}mail to {one_line(event.to_addr, 50)} could not be delivered: “{one_line(event.subject, 40)}”"
    return first + "\n  error: " + one_line(event.error, WIDTH - 9)


def details(d: TicketDetails, controls: Sequence[Control] | None = None) -> str:
    lines = root_block(d.ticket, details=True, controls=controls)
    for message in d.messages:
        if message.kind == MessageKind.REPLY and not message.sent_to:
            message = replace(message, sent_to=d.ticket.requester_email)  # replies go to the requester
        lines.extend(message_block(message, full=True))
    if not d.messages:
        lines.append("  (no messages)")
    lines.extend(others_lines(d.ticket.requester_email, d.other_tickets))
    return "\n".join(lines)


def ticket_list(title: str, tickets: Sequence[TicketView], empty: str) -> str:
    if not tickets:
        return f"── {title}: {empty}"
    lines = [f"── {title} ({len(tickets)})"]
    for t in tickets:
        head = f"  #{t.number:<4} {t.priority.value:<6} {t.status.label:<22} "
        tail = f" — {one_line(t.requester_email, 30)}" + (f" · {one_line(t.assignee, 20)}" if t.assignee else "")
        lines.append(_fit(head, t.subject, tail))
    return "\n".join(lines)


def _value(field: str, value: str | None) -> str:
    if value is None:
        return "—"
    return value.replace("_", " ") if field == "status" else value


def audit_line(line: AuditLine) -> str:
    """when, who, what, before → after."""
    what = line.action
    if line.field:
        change = f"{line.field}: {_value(line.field, line.before)} → {_value(line.field, line.after)}"
        what = change if line.field == line.action else f"{what}  {change}"
    if line.detail:
        what += f"  ({line.detail})"
    return cut(f"  {line.created_at.strftime('%Y-%m-%d %H:%M:%S')}  {line.actor:<24} {what}")


def history(number: int, lines: Sequence[AuditLine]) -> str:
    return "\n".join([f"── history of #{number} ({len(lines)} events)", *(audit_line(line) for line in lines)])


def task_list(items: Sequence[TaskView]) -> str:
    if not items:
        return "── your tasks: none open"
    lines = [f"── your tasks ({len(items)})"]
    for t in items:
        due = f" (due {t.due_at:%Y-%m-%d %H:%M} UTC)" if t.due_at else ""
        lines.append(cut(f"  task {t.id:<4} #{t.ticket_number:<5} {one_line(t.text, 60)}{due}"))
    return "\n".join(lines)


def report(r: Report) -> str:
    """`/ticket report` on the console: the digest's headline figures, one per line."""
    sla = "no SLA tickets" if r.sla_compliance is None else f"{r.sla_compliance:.0%} of {r.sla_solved} met"
    lines = [
        f"── report {period_text(r)}" + (f" · {r.team}" if r.team else ""),
        f"  new {r.new} · solved {r.solved} · reopened {r.reopened} · merged {r.merged} · backlog {r.backlog}",
        f"  first response: median {duration(r.first_response.median)}, 90% within {duration(r.first_response.p90)}",
        f"  resolution: median {duration(r.resolution.median)}, 90% within {duration(r.resolution.p90)}",
        f"  SLA: {sla} · breached now {r.breaches_now}",
    ]
    lines += [cut(f"  {a.name}: solved {a.solved}, first reply {duration(a.median_first_response)}")
              for a in r.leaderboard[:10]]
    if r.time_spent.by_agent:
        t = r.time_spent

        def spent(pairs: list[tuple[str, int]]) -> str:
            return ", ".join(f"{one_line(k or 'internal', 30)} {spent_text(n)}" for k, n in pairs[:5])

        lines.append(f"  time spent {spent_text(t.total)}")
        lines += [cut(f"    by {what}: {spent(pairs)}") for what, pairs in (
            ("agent", t.by_agent), ("organisation", t.by_organisation), ("customer", t.by_customer),
            ("team", t.by_team))]
    return "\n".join(lines)
