"""A ticket's root controls as Slack shows them: buttons, selects and the "More" menu, in one actions block.

Which controls a root carries is decided once for every platform (`bot.adapters.capabilities`);
this module only says how each looks in Block Kit (`CONTROLS`: its action id, and its value
in the More menu), so a control added there shows here, or `tests/test_parity.py` says it does not.
The ids are a public contract with the listeners (`interactions`, `forms`): the ticket number
travels in a button's value and in the actions block's id.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bot.adapters.capabilities import Control, controls_for
from bot.adapters.slack.blocks import button, plain
from bot.adapters.slack.limits import slack_user_id
from bot.domain.macro import Macro
from bot.domain.priority import Priority
from bot.handlers.snapshots import TicketView

CLAIM = "ticket.claim"
REPLY = "ticket.reply"
CLOSE = "ticket.close"
REOPEN = "ticket.reopen"
ASSIGN = "ticket.assign"
PRIORITY = "ticket.priority"
CATEGORY = "ticket.category"
MORE = "ticket.more"  # the overflow menu: edit tags, move to team
MACRO = "ticket.macro"  # a select of the workflow's macros, by title; the value is the macro's name
SELECT_OPTIONS = 100  # Block Kit: a static_select holds at most 100 options
ACTIONS_BLOCK = "ticket.{number}.actions.{version}"

# Each control -> (the action id its listener is registered for, its value in the More menu or None).
CONTROLS: dict[Control, tuple[str, str | None]] = {
    Control.CLAIM: (CLAIM, None), Control.REPLY: (REPLY, None), Control.CLOSE: (CLOSE, None),
    Control.REOPEN: (REOPEN, None), Control.ASSIGN: (ASSIGN, None), Control.PRIORITY: (PRIORITY, None),
    Control.CATEGORY: (CATEGORY, None), Control.TAGS: (MORE, "tags"), Control.MOVE: (MORE, "move"),
    Control.MACRO: (MACRO, None),
}
_MENU = {"tags": "Edit tags…", "move": "Move to team…"}


def _priority_select(ticket: TicketView) -> dict[str, Any]:
    options = {p: {"text": plain(p.value.capitalize(), 75), "value": p.value} for p in Priority}
    return {
        "type": "static_select", "action_id": PRIORITY, "placeholder": plain("Priority", 150),
        "options": list(options.values()), "initial_option": options[ticket.priority],
    }


def _category_select(ticket: TicketView, categories: Sequence[str]) -> dict[str, Any]:
    options = [{"text": plain(c.capitalize(), 75), "value": c[:150]} for c in categories[:100]]
    select: dict[str, Any] = {"type": "static_select", "action_id": CATEGORY, "placeholder": plain("Category", 150),
                              "options": options}
    current = next((o for o in options if o["value"] == ticket.category), None)
    if current:
        select["initial_option"] = current
    return select


def _macro_select(macros: Sequence[Macro]) -> dict[str, Any]:
    """The macros for this ticket's team, by title (what each does below it); never a current choice."""
    options = [{"text": plain(m.title, 75), "value": m.name[:150], "description": plain(", ".join(m.steps), 75)}
               for m in macros[:SELECT_OPTIONS]]
    return {"type": "static_select", "action_id": MACRO, "placeholder": plain("Apply macro…", 150), "options": options}


def _assign_select(ticket: TicketView) -> dict[str, Any]:
    assign: dict[str, Any] = {"type": "users_select", "action_id": ASSIGN, "placeholder": plain("Assign…", 150)}
    if slack_user := slack_user_id(ticket.assignee_chat_id):  # never another platform's id (a Discord snowflake)
        assign["initial_user"] = slack_user
    return assign


def _element(control: Control, ticket: TicketView, categories: Sequence[str], macros: Sequence[Macro]) -> dict[str, Any]:
    n = ticket.number
    match control:
        case Control.CLAIM:
            return button("Claim", CLAIM, n, "primary" if ticket.assignee is None else None)
        case Control.ASSIGN:
            return _assign_select(ticket)
        case Control.PRIORITY:
            return _priority_select(ticket)
        case Control.CATEGORY:
            return _category_select(ticket, categories)
        case Control.MACRO:
            return _macro_select(macros)
    return button(control.value.capitalize(), CONTROLS[control][0], n)  # Reply, Close, Reopen


def actions_block(ticket: TicketView, categories: Sequence[str] = (), teams: Sequence[str] = (),
                  macros: Sequence[Macro] = ()) -> dict[str, Any] | None:
    """The root's actions block, or None when the ticket offers no control (closed for good); `macros`: those
    of the workflow for the ticket's team."""
    n, shown = ticket.number, controls_for(ticket, categories=bool(categories), teams=bool(teams), macros=bool(macros))
    if not shown:
        return None
    elements = [_element(c, ticket, categories, macros) for c in shown if CONTROLS[c][1] is None]
    menu = [CONTROLS[c][1] for c in shown if CONTROLS[c][1] is not None]
    if menu:
        elements.append({"type": "overflow", "action_id": MORE,
                         "options": [{"text": plain(_MENU[v], 75), "value": v} for v in menu if v]})
    # A new block_id per version: Slack would otherwise keep a select's old choice after chat.update.
    version = int(ticket.updated_at.timestamp())
    return {"type": "actions", "block_id": ACTIONS_BLOCK.format(number=n, version=version), "elements": elements}
