"""Notices on the console: what Slack and Discord post beside a ticket's thread, as lines of text.

The console is where the helpdesk runs without a chat platform (the demo, scripts,
tests of the chat flows), so it shows every notice kind the others show
(`bot.adapters.capabilities.Notice`): `NOTICES` names the renderer of each, and
`tests/test_parity.py` holds it to the canonical list. Pure functions, like `render`.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from bot.adapters.capabilities import NOTICE_EVENTS, Notice
from bot.adapters.collisions import ReplyHeld
from bot.chat.notices import refusal_words
from bot.chat.surface import Hop, MoveNote
from bot.domain.sla import FIRST_RESPONSE, time_left_words
from bot.handlers.events import (
    ChatPostFailed,
    DigestReady,
    ExpertAnswered,
    SlaBreached,
    SlaWarning,
    TaskDue,
    TicketMoved,
)

from . import render


def _who(chat_id: str | None) -> str:
    return f"@{render.one_line(chat_id, 30)} " if chat_id else "nobody assigned: "


def sla_notice(event: SlaWarning | SlaBreached, now: datetime) -> str:
    """'⏳ @U1 #12 Server down: first reply due in 25 min'; the breach with the time it was due."""
    what = "first reply" if event.clock == FIRST_RESPONSE else "resolution"
    head = f"#{event.ticket.number} {render.one_line(event.ticket.subject, 40)}"
    if isinstance(event, SlaBreached):
        return render.cut(f"🚨 {_who(event.assignee_chat_id)}SLA breached on {head}: {what} was due "
                          f"{render.when(event.due_at)} UTC")
    return render.cut(f"⏳ {_who(event.assignee_chat_id)}{head}: {time_left_words(what, event.due_at, now)}")


def task_due(event: TaskDue) -> str:
    who = f"@{render.one_line(event.assignee_chat_id, 30)} " if event.assignee_chat_id else ""
    return render.cut(f"⏰ {who}task due on #{event.ticket.number}: {render.one_line(event.text, 60)} "
                      f"(/ticket done {event.task_id})")


def expert_answered(event: ExpertAnswered) -> str:
    who = f"@{render.one_line(event.assignee_chat_id, 30)} " if event.assignee_chat_id else ""
    return render.cut(f"✉ {who}{render.one_line(event.expert, 60)} answered your question on #{event.ticket.number} "
                      "(an internal note)")


def ticket_moved(event: TicketMoved) -> str:
    before = f" from {render.one_line(event.from_team, 30)}" if event.from_team else ""
    return render.cut(f"➡ #{event.number} moved{before} to {render.one_line(event.to_team, 30)}")


def move_note(note: MoveNote) -> str:
    """The line a thread shows when its ticket changes teams (`ThreadSync` links the two threads)."""
    team = render.one_line(note.team, 40)
    if note.hop == Hop.ARRIVED:
        return render.cut(f"➡ moved here from {note.link}")
    if note.hop == Hop.DEPARTED:
        return render.cut(f"➡ moved to {team}: continue in {note.link}")
    return render.cut(f"➡ moved to {team}: this thread is no longer updated")


def digest(event: DigestReady) -> str:
    """The managers' daily digest: the same figures as `/ticket report`."""
    return "── daily digest\n" + render.report(event.report)


def post_failed(event: ChatPostFailed) -> str:
    """'✗ #12: couldn't post a reply to #billing: the bot is not in the channel — /invite @Tiketti'."""
    return render.cut(f"✗ {refusal_words(event, '#' + render.one_line(event.channel, 40))}", 3 * render.WIDTH)


def reply_held(held: ReplyHeld) -> str:
    """A typed reply held because a colleague is answering too: who, and how to send it anyway."""
    lines = [f"✗ not sent to #{held.number}'s customer: a colleague is answering too"]
    lines += [f"  · {render.one_line(line, render.WIDTH - 4)}" for line in held.lines]
    lines.append(render.cut(f"  nothing was mailed; to send it anyway: /ticket reply {held.number} --anyway …"))
    return "\n".join(lines)


# Notice kind -> how the console words it (the event's subscriber calls it; COLLISION comes from `/ticket reply`).
NOTICES: dict[Notice, Callable[..., str]] = {
    Notice.SLA_WARNING: sla_notice,
    Notice.SLA_BREACH: sla_notice,
    Notice.TASK_DUE: task_due,
    Notice.EXPERT_ANSWERED: expert_answered,
    Notice.QUARANTINE: render.mail_quarantined,
    Notice.DELIVERY_FAILED: render.delivery_failed,
    Notice.MOVED: ticket_moved,
    Notice.DIGEST: digest,
    Notice.COLLISION: reply_held,
    Notice.POST_FAILED: post_failed,
}


def words(notice: Notice, event: Any, now: datetime) -> str:
    """The text of `notice` for `event` (SLA notices count the time left from `now`)."""
    shown = NOTICES[notice]
    return shown(event, now) if shown is sla_notice else shown(event)


def placed(event: Any, now: datetime, *, mention: str | None = None, link: str | None = None) -> str:
    """A notice as posted at its place (`bot.chat.notices.place_of`): naming whoever it is for, and
    pointing to the ticket's thread when it is posted outside it."""
    text = words(NOTICE_EVENTS[type(event)], event, now)
    if mention and f"@{mention}" not in text:
        text = f"@{render.one_line(mention, 30)} {text}"
    return text + (f"\n  → {render.one_line(link, render.WIDTH - 4)}" if link else "")
