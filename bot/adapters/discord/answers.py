"""Answers only the asking agent sees: help, a ticket's details, lists, history, pulled-in summaries.

Pure functions to `Answer` (text within Discord's 2,000 characters, and the
whole text as a file when it does not fit).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import discord

from bot.adapters.commands import SPECS
from bot.adapters.discord.embeds import MESSAGE_CHARS, PRIORITY_EMOJI, STATUS_EMOJI, assignee, cut, requester
from bot.domain.time_spent import spent_text
from bot.handlers.snapshots import AuditLine, TicketDetails, TicketView
from bot.handlers.tasks import TaskView

VERBS = tuple(SPECS)  # Discord offers every subcommand of the shared grammar (tests/test_parity.py)
THREAD_HELP = ("**Inside a ticket's thread**: anything you type is an *internal note*, never mailed; the **Reply** "
               "button mails the customer; mentioning a colleague adds them to the ticket; `/ticket …` without a "
               "number acts on the thread's ticket.")


@dataclass(frozen=True)
class Answer:
    text: str
    file_name: str | None = None
    file_text: str | None = None
    view: discord.ui.View | None = field(default=None, compare=False)  # buttons under it (a confirmation)


def fitted(text: str, file_name: str) -> Answer:
    """`text` as one message; when longer, its head and the whole as a file."""
    if len(text) <= MESSAGE_CHARS:
        return Answer(text)
    return Answer(cut(text, MESSAGE_CHARS - 40) + "\n📄 (all of it attached)", file_name, text)


def text(message: str) -> Answer:
    return Answer(cut(message, MESSAGE_CHARS))


def task_list(items: Sequence[TaskView]) -> Answer:
    if not items:
        return Answer("Your tasks: none open")
    lines = [f"`task {t.id}` **#{t.ticket_number}** {cut(t.text, 200)}"
             + (f" — due <t:{int(t.due_at.timestamp())}:R>" if t.due_at else "") for t in items]
    return fitted(f"**Your tasks** ({len(items)}) · `/ticket done` when finished\n" + "\n".join(lines), "tasks.txt")


def help_answer() -> Answer:
    from bot.adapters.discord.toolkit_commands import NAME  # /helpdesk: the toolkit's verbs
    from bot.adapters.discord.toolkit_commands import VERBS as TOOLKIT
    lines = [f"`{SPECS[v].usage.replace('/ticket', '/' + NAME, 1) if v in TOOLKIT else SPECS[v].usage}` — "
             f"{SPECS[v].does}" for v in VERBS]
    return fitted("**/ticket commands**\n" + "\n".join(lines) + "\n\n" + THREAD_HELP, "help.txt")


def done(summary: str, link: str | None) -> Answer:
    return Answer(cut(summary, 1900) + (f" · {link}" if link else ""))


def line(t: TicketView, link: str | None = None) -> str:
    who = f" · {cut(t.assignee, 60)}" if t.assignee else ""
    return (f"{PRIORITY_EMOJI[t.priority]} **#{t.number}** {cut(t.subject, 100)} — {t.status.label}, "
            f"{cut(requester(t), 80)}{who}" + (f" {link}" if link else ""))


def ticket_list(title: str, tickets: Sequence[TicketView], empty: str, links: dict[int, str],
                queue: bool = False) -> Answer:
    if not tickets:
        return Answer(f"{title}: {empty}")
    return fitted(f"**{title}** ({len(tickets)})\n" + "\n".join(line(t, links.get(t.number)) for t in tickets),
                  "tickets.txt")


def lines(title: str, items: Sequence[str], empty: str) -> Answer:
    """A titled list of plain lines (articles, canned replies, macros); bare URLs link themselves."""
    if not items:
        return Answer(f"{title}: {empty}")
    return fitted(f"**{cut(title, 100)}** ({len(items)})\n" + "\n".join(cut(i, 1000) for i in items), "list.txt")


def details(d: TicketDetails, link: str | None) -> Answer:
    t = d.ticket
    rows = [f"**#{t.number} {cut(t.subject, 200)}**" + (f" · {link}" if link else ""),
            f"{STATUS_EMOJI[t.status]} {t.status.label} · {PRIORITY_EMOJI[t.priority]} {t.priority.value} · "
            f"from {requester(t)} · assigned to {assignee(t)}",
            f"Opened {t.created_at:%Y-%m-%d %H:%M} UTC"
            + (f" · ⏱ {spent_text(t.time_spent_minutes)} spent" if t.time_spent_minutes > 0 else "")]
    for m in d.messages:
        rows.append(f"\n**{cut(m.author, 100)}** ({m.kind.value}, {m.created_at:%Y-%m-%d %H:%M}):\n{m.text.strip()}")
    if d.other_tickets:
        rows.append("\nAlso from this customer: " + ", ".join(
            f"#{o.number} {cut(o.subject, 60)} ({o.status.label})" for o in d.other_tickets[:5]))
    return fitted("\n".join(rows), f"ticket-{t.number}.txt")


def history(number: int, lines: Sequence[AuditLine]) -> Answer:
    rows = [f"**History of #{number}** ({len(lines)} events)"]
    for a in lines:
        what = a.action + (f" {a.field}: {a.before or '—'} → {a.after or '—'}" if a.field else "")
        what += f" ({a.detail})" if a.detail else ""
        rows.append(f"{a.created_at:%Y-%m-%d %H:%M} · {a.actor} · {what}")
    return fitted("\n".join(rows), f"ticket-{number}-history.txt")


def pulled_in(d: TicketDetails, experts: Sequence[int]) -> str:
    """Posted in the thread when someone is mentioned: the ticket at a glance, so nobody scrolls back."""
    t = d.ticket
    first = next((m for m in d.messages if m.kind.value == "inbound"), None)
    text = (f"{' '.join(f'<@{e}>' for e in experts)} you were added to **#{t.number} {cut(t.subject, 200)}**\n"
            f"From {requester(t)} · {t.status.label} · {t.priority.value} priority · assigned to {assignee(t)}")
    if first:
        text += f"\n**Asked:** {cut(first.text.strip(), 500)}"
    return cut(text + f"\n{len(d.messages)} messages so far; everything typed here stays internal.", MESSAGE_CHARS)
