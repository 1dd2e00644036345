"""What every chat platform offers, named once: the `/ticket` verbs, a ticket's controls, the notices.

Slack, Discord and the console each show the same helpdesk, so the lists live here and
each platform only says how it renders an entry (a Block Kit button, a Discord select, a
`[claim]` hint). Which controls a ticket's root carries in a given state is decided here
too (`controls_for`), so a Reopen cannot exist on one platform and be missing on another.
`tests/test_parity.py` checks every platform's tables against these sets.
"""

from __future__ import annotations

from enum import StrEnum

from bot.adapters.commands import SPECS
from bot.domain.status import Status
from bot.domain.workflow import Workflow
from bot.handlers import events
from bot.handlers.snapshots import TicketView

VERBS: frozenset[str] = frozenset(SPECS)  # every `/ticket` subcommand of the shared grammar


class Control(StrEnum):
    """A control on a ticket's root (a button, a select, a menu entry), by what it does."""

    CLAIM = "claim"
    REPLY = "reply"
    CLOSE = "close"
    REOPEN = "reopen"
    ASSIGN = "assign"
    PRIORITY = "priority"
    CATEGORY = "category"
    TAGS = "tags"
    MOVE = "move"
    MACRO = "macro"  # a select of the workflow's macros (several changes and a reply in one step)

    @property
    def verb(self) -> str:
        """The `/ticket` verb that does the same, for platforms (the console) whose controls are typed."""
        return "tag" if self is Control.TAGS else self.value


def controls_for(ticket: TicketView, *, categories: bool = False, teams: bool = False,
                 macros: bool = False) -> tuple[Control, ...]:
    """The controls a ticket's root shows now, in order.

    Closed for good: none (new mail opens a follow-up). Internal: no Reply (nobody to mail).
    Solved: Reply and Reopen. Active: all the work controls; Category and Move only when the
    workflow names categories or teams, and Macro only when it has macros for the ticket's team, since an
    empty choice is no control.
    """
    if ticket.status == Status.CLOSED:
        return ()
    reply = () if ticket.internal else (Control.REPLY,)
    if ticket.status == Status.SOLVED:
        return (*reply, Control.REOPEN)
    return (Control.CLAIM, *reply, Control.CLOSE, Control.ASSIGN, Control.PRIORITY,
            *((Control.CATEGORY,) if categories else ()), Control.TAGS, *((Control.MOVE,) if teams else ()),
            *((Control.MACRO,) if macros else ()))


def controls_in(workflow: Workflow, ticket: TicketView) -> tuple[Control, ...]:
    """`controls_for` with the choices this workflow offers."""
    return controls_for(ticket, categories=bool(workflow.categories), teams=bool(workflow.teams),
                        macros=bool(workflow.macros_for(ticket.team)))


class Notice(StrEnum):
    """Something the core tells agents outside the thread sync; each platform renders every kind."""

    SLA_WARNING = "sla warning"
    SLA_BREACH = "sla breach"
    TASK_DUE = "task due"
    EXPERT_ANSWERED = "expert answered"  # an outside expert's mail came back: the agent who asked is told
    QUARANTINE = "quarantine"
    DELIVERY_FAILED = "delivery failed"
    MOVED = "moved"
    DIGEST = "digest"
    COLLISION = "collision"  # another agent is answering the same customer (raised on the reply paths)
    POST_FAILED = "post failed"  # a platform refused part of a ticket's thread for good: why, and what to do


# The event that causes each notice (COLLISION has none: the reply paths raise it).
NOTICE_EVENTS: dict[type, Notice] = {
    events.SlaWarning: Notice.SLA_WARNING,
    events.SlaBreached: Notice.SLA_BREACH,
    events.TaskDue: Notice.TASK_DUE,
    events.ExpertAnswered: Notice.EXPERT_ANSWERED,
    events.MailQuarantined: Notice.QUARANTINE,
    events.MailDeliveryFailed: Notice.DELIVERY_FAILED,
    events.TicketMoved: Notice.MOVED,
    events.DigestReady: Notice.DIGEST,
    events.ChatPostFailed: Notice.POST_FAILED,
}
# Events every platform shows through its thread (root and messages), not as a notice of their own.
# Merge and child notices are thread messages (MessageAdded), so they are shown wherever threads are.
THREAD_EVENTS: tuple[type, ...] = (events.TicketOpened, events.TicketChanged, events.MessageAdded)
