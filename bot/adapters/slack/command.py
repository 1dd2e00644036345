"""`/ticket …` in Slack: the shared grammar, the handlers, and answers only the caller sees.

Slack wants an acknowledgement within 3 seconds; the command is acknowledged
first and answered through its response_url once the work is done (checked: bot.adapters.slack.responding).
The text comes escaped (`should_escape: true`): it is read with Slack's dialect (bot.adapters.slack.escaping),
so `@ben` typed without picking Ben from Slack's list names nobody and is refused, and an assignee must be
a person users.info knows (bot.adapters.slack.people.People.person).
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from bot.adapters.actions import CHANGES, QUESTIONS, answer_question, perform_change
from bot.adapters.commands import TicketCommand, parse_ticket
from bot.adapters.errors import something_went_wrong
from bot.adapters.slack import answers, undo_button
from bot.adapters.slack.confirm import merge_question
from bot.adapters.slack.digest import report_answer
from bot.adapters.slack.escaping import SLACK, as_typed, channel_name, name_mentions
from bot.adapters.slack.forms import open_new_ticket_at_once, open_new_ticket_form
from bot.adapters.slack.parts import SlackParts
from bot.adapters.slack.responding import respond_checked
from bot.domain.errors import UserFacingError
from bot.handlers.context import Actor
from bot.handlers.merge import NeedsConfirmation
from bot.handlers.ports import Conflict

log = logging.getLogger(__name__)


Serve = Callable[[SlackParts, Actor, TicketCommand, str | None], Awaitable[dict[str, Any]]]


async def execute(parts: SlackParts, actor: Actor, cmd: TicketCommand, trigger_id: str | None = None) -> dict[str, Any]:
    """Run one parsed command; the answer for the caller."""
    serve = VERBS.get(cmd.verb)
    if serve is None:
        return answers.text(f"unknown command '/ticket {cmd.verb}'; try /ticket help")
    return await serve(parts, actor, cmd, trigger_id)


async def _change(parts: SlackParts, actor: Actor, cmd: TicketCommand, _trigger: str | None) -> dict[str, Any]:
    if cmd.verb == "move":  # `/ticket move 3 #billing`: Slack sends the channel as <#C…|billing> (or <#C…>)
        named = channel_name(cmd.text)
        by_channel = next((t.name for t in parts.ctx.config.workflow.teams if t.channel == named), None)
        cmd = dataclasses.replace(cmd, text=by_channel or named)
    outcome = await perform_change(parts.ctx, actor, cmd, parts.people.person)
    if isinstance(outcome, str):
        return answers.text(outcome)
    link = await parts.thread_link(outcome.ticket.number)
    if outcome.held_until is not None and outcome.message is not None:  # a held reply: with its Undo button
        return undo_button.held_answer(outcome, link)
    return answers.done(outcome.summary, link)


async def _question(parts: SlackParts, actor: Actor, cmd: TicketCommand, _trigger: str | None) -> dict[str, Any]:
    return await answer_question(parts.ctx, actor, cmd, answers, parts.thread_link)


async def _new(parts: SlackParts, actor: Actor, cmd: TicketCommand, trigger_id: str | None) -> dict[str, Any]:
    if trigger_id is None:
        return answers.text("`/ticket new` opens a form; use it from the message box")
    await open_new_ticket_form(parts, actor, trigger_id, cmd.text)
    return {}


async def _report(parts: SlackParts, actor: Actor, cmd: TicketCommand, _trigger: str | None) -> dict[str, Any]:
    return await report_answer(parts, actor, cmd.text)


# Every `/ticket` verb -> how Slack serves it (tests/test_parity.py holds it to the shared grammar).
VERBS: dict[str, Serve] = {**dict.fromkeys(CHANGES, _change), **dict.fromkeys(QUESTIONS, _question),
                           "new": _new, "report": _report}


def register(app: Any, parts: SlackParts) -> None:
    @app.command("/ticket")
    async def on_ticket(ack: Any, command: dict[str, Any], respond: Any) -> None:
        await ack()
        verb = (command.get("text") or "").strip().split(" ")[0].lower()
        if verb == "new" and command.get("trigger_id"):  # a form: its trigger lives 3 s, so no queue, and it opens first
            template = (command.get("text") or "").strip()[3:].strip()
            parts.backlog.soon(lambda: open_new_ticket_at_once(parts, command, as_typed(template)), "/ticket new")
        else:  # kept before the ack (the command is the whole request), then answered through response_url
            await parts.backlog.later(lambda: answer(command, respond), "/ticket", command)

    async def answer(command: dict[str, Any], respond: Any) -> None:
        user = command["user_id"]
        try:
            actor = await parts.people.actor(user, command.get("user_name", ""))
            answer = await execute(parts, actor, await read(command.get("text") or ""), command.get("trigger_id"))
        except NeedsConfirmation as exc:  # two customers' tickets: ask, with a confirm dialog
            answer = merge_question(exc)
        except UserFacingError as exc:
            answer = answers.text(f":warning: {exc}")
        except Conflict:
            raise  # lost a race, nothing answered yet: the backlog runs it again
        except Exception:
            answer = answers.text(f":warning: {something_went_wrong(log, 'slack: /ticket')}")
        for page in answers.pages(answer) if answer else ():  # a long answer: up to 4 messages (blocks.pages)
            if not await respond_checked(respond, page, what="/ticket command", user=user,
                                         channel=command.get("channel_id"), tell=parts.tell,
                                         response_type="ephemeral", replace_original=False):
                break

    async def read(text: str) -> TicketCommand:
        """The command as typed: mentions Slack left unnamed get their names, then Slack's dialect."""
        return parse_ticket(await name_mentions(text, parts.people.name_of), SLACK)
