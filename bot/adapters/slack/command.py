"""`/ticket …` in Slack: the shared grammar, the handlers, and answers only the caller sees.

Slack wants an acknowledgement within 3 seconds; the command is acknowledged
first and answered through its response_url once the work is done.
"""

from __future__ import annotations

import logging
from typing import Any

from bot.adapters.commands import TicketCommand, parse_ticket
from bot.adapters.slack import answers
from bot.adapters.slack.parts import SHOWN_AS_IS, SlackParts
from bot.handlers import queries, replies, tickets
from bot.handlers.context import Actor

log = logging.getLogger(__name__)


async def execute(parts: SlackParts, actor: Actor, cmd: TicketCommand) -> dict[str, Any]:
    """Run one parsed command; the answer for the caller."""
    ctx, n = parts.ctx, cmd.number or 0
    match cmd.verb:
        case "help":
            return answers.help_answer()
        case "claim":
            result = await tickets.claim(ctx, actor, n)
        case "assign":
            assert cmd.assignee is not None
            target = actor if cmd.assignee == actor.chat_user_id else await parts.people.actor(cmd.assignee, cmd.assignee_name)
            result = await tickets.assign(ctx, actor, n, target)
        case "reply":
            result = await replies.reply(ctx, actor, n, cmd.text)
        case "note":
            result = await tickets.add_note(ctx, actor, n, cmd.text)
        case "close":
            result = await tickets.close(ctx, actor, n)
        case "reopen":
            result = await tickets.reopen(ctx, actor, n)
        case "priority":
            assert cmd.priority is not None
            result = await tickets.set_priority(ctx, actor, n, cmd.priority)
        case "status":
            assert cmd.status is not None
            result = await tickets.set_status(ctx, actor, n, cmd.status)
        case "show":
            return answers.details(await queries.show(ctx, n), await parts.thread_link(n))
        case "mine":
            mine = await queries.mine(ctx, actor)
            return answers.ticket_list("Your tickets", mine, "none active", await _links(parts, mine))
        case "queue":
            waiting = await queries.queue(ctx)
            return answers.ticket_list("Queue: nobody has these yet", waiting, "nothing waiting", await _links(parts, waiting))
        case "history":
            return answers.history(n, await queries.history(ctx, n))
        case _:
            return answers.text(f"unknown command '/ticket {cmd.verb}'; try /ticket help")
    return answers.done(result.summary, await parts.thread_link(result.ticket.number))


async def _links(parts: SlackParts, views: list[Any]) -> dict[int, str]:
    links = {}
    for view in views:
        if link := await parts.thread_link(view.number):
            links[view.number] = link
    return links


def register(app: Any, parts: SlackParts) -> None:
    @app.command("/ticket")
    async def on_ticket(ack: Any, command: dict[str, Any], respond: Any) -> None:
        await ack()
        user = command["user_id"]
        try:
            actor = await parts.people.actor(user, command.get("user_name", ""))
            answer = await execute(parts, actor, parse_ticket(command.get("text") or ""))
        except SHOWN_AS_IS as exc:
            answer = answers.text(f":warning: {exc}")
        except Exception:
            log.exception("slack: /ticket failed")
            answer = answers.text(":warning: that failed unexpectedly; the team's log says why")
        await respond(response_type="ephemeral", replace_original=False, **answer)
