"""`/ticket …` in Slack: the shared grammar, the handlers, and answers only the caller sees.

Slack wants an acknowledgement within 3 seconds; the command is acknowledged
first and answered through its response_url once the work is done.
"""

from __future__ import annotations

import logging
from typing import Any

from bot.adapters.actions import CHANGES, perform_change
from bot.adapters.commands import TicketCommand, parse_ticket
from bot.adapters.slack import answers
from bot.adapters.slack.digest import report_answer
from bot.adapters.slack.forms import open_new_ticket_form
from bot.adapters.slack.parts import SHOWN_AS_IS, SlackParts
from bot.handlers import queries, tasks
from bot.handlers.context import Actor

log = logging.getLogger(__name__)


async def execute(parts: SlackParts, actor: Actor, cmd: TicketCommand, trigger_id: str | None = None) -> dict[str, Any]:
    """Run one parsed command; the answer for the caller."""
    ctx, n = parts.ctx, cmd.number or 0
    if cmd.verb in CHANGES:
        outcome = await perform_change(ctx, actor, cmd, parts.people.actor)
        if isinstance(outcome, str):
            return answers.text(outcome)
        return answers.done(outcome.summary, await parts.thread_link(outcome.ticket.number))
    match cmd.verb:
        case "help":
            return answers.help_answer()
        case "show":
            return answers.details(await queries.show(ctx, n), await parts.thread_link(n))
        case "mine":
            mine = await queries.mine(ctx, actor)
            return answers.ticket_list("Your tickets", mine, "none active", await _links(parts, mine))
        case "queue":
            waiting = await queries.queue(ctx)
            return answers.ticket_list("Queue: nobody has these yet", waiting, "nothing waiting",
                                       await _links(parts, waiting), next_button=True)
        case "history":
            return answers.history(n, await queries.history(ctx, n))
        case "tasks":
            return answers.task_list(await tasks.my_tasks(ctx, actor))
        case "new":
            if trigger_id is None:
                return answers.text("`/ticket new` opens a form; use it from the message box")
            await open_new_ticket_form(parts, trigger_id, cmd.text)
            return {}
        case "report":
            return await report_answer(parts, cmd.text)
    return answers.text(f"unknown command '/ticket {cmd.verb}'; try /ticket help")


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
        verb = (command.get("text") or "").strip().split(" ")[0].lower()
        # `new` opens a form: its trigger expires in 3 seconds, so it does not wait in the queue.
        (parts.backlog.soon if verb == "new" else parts.backlog.later)(lambda: answer(command, respond), "/ticket")

    async def answer(command: dict[str, Any], respond: Any) -> None:
        user = command["user_id"]
        try:
            actor = await parts.people.actor(user, command.get("user_name", ""))
            answer = await execute(parts, actor, parse_ticket(command.get("text") or ""), command.get("trigger_id"))
        except SHOWN_AS_IS as exc:
            answer = answers.text(f":warning: {exc}")
        except Exception:
            log.exception("slack: /ticket failed")
            answer = answers.text(":warning: that failed unexpectedly; the team's log says why")
        if answer:
            await respond(response_type="ephemeral", replace_original=False, **answer)
