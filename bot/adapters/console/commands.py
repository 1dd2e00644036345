"""`/ticket ...` on the console: parse a line into a command, then make the one handler call it means.

The vocabulary is the one Slack's `/ticket` uses, so a script written against
the console reads the same as what agents type in chat. Parsing is strict and
reports problems as UsageError, which the adapter prints as a one-line error.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from bot.adapters.actions import CHANGES, answer_question, perform_change
from bot.adapters.capabilities import controls_in
from bot.adapters.commands import (  # noqa: F401 - the console's parser is the shared one
    SPECS,
    TicketCommand,
    UsageError,
    parse_number,
    parse_ticket,
    parse_user,
    split_slash,
)
from bot.handlers import creation, queries, reports, tasks
from bot.handlers.context import Actor, Context
from bot.handlers.tickets import ActionResult

from . import render


def help_text(extra: dict[str, str] | None = None) -> str:
    lines = ["── /ticket commands (the same as in Slack):"]
    lines += [f"  {s.usage:<44} {s.does}" for s in SPECS.values()]
    lines += [
        "── console:",
        f"  {'/as USERID [Name]':<44} act as another agent",
        f"  {'/open N':<44} enter #N's thread: plain lines = internal notes",
        f"  {'/leave':<44} leave the thread",
        f"  {'/help, /quit':<44} this list; stop",
    ]
    lines += [f"  {text}" for text in (extra or {}).values()]
    lines.append("  Lines starting with # are comments.")
    return "\n".join(render.cut(line) for line in lines)


Serve = Callable[[Context, Actor, TicketCommand], Awaitable[ActionResult | str]]


async def perform(ctx: Context, actor: Actor, cmd: TicketCommand) -> ActionResult | str:
    """Make the handler call; an ActionResult for changes, text for questions."""
    serve = VERBS.get(cmd.verb)
    if serve is None:
        raise UsageError(f"unknown command '/ticket {cmd.verb}'; try /ticket help")
    return await serve(ctx, actor, cmd)


async def _change(ctx: Context, actor: Actor, cmd: TicketCommand) -> ActionResult | str:
    return await perform_change(ctx, actor, cmd, console_user)


async def _help(ctx: Context, actor: Actor, cmd: TicketCommand) -> str:
    return help_text()


async def _show(ctx: Context, actor: Actor, cmd: TicketCommand) -> str:
    d = await queries.show(ctx, actor, cmd.number or 0, original=cmd.confirmed)
    return render.details(d, controls_in(ctx.config.workflow, d.ticket))


async def _mine(ctx: Context, actor: Actor, cmd: TicketCommand) -> str:
    return render.ticket_list("your tickets", await queries.mine(ctx, actor), "none active")


async def _queue(ctx: Context, actor: Actor, cmd: TicketCommand) -> str:
    if cmd.text:  # a saved view
        return await _toolkit(ctx, actor, cmd)
    return render.ticket_list("queue", await queries.queue(ctx, actor), "nothing waiting")


async def _toolkit(ctx: Context, actor: Actor, cmd: TicketCommand) -> str:
    """The toolkit's questions (search, kb, replies, macros), worded like every adapter's answers."""
    from bot.adapters.console import answers
    return await answer_question(ctx, actor, cmd, answers, answers.no_link)


async def _history(ctx: Context, actor: Actor, cmd: TicketCommand) -> str:
    return render.history(cmd.number or 0, await queries.history(ctx, actor, cmd.number or 0))


async def _tasks(ctx: Context, actor: Actor, cmd: TicketCommand) -> str:
    return render.task_list(await tasks.my_tasks(ctx, actor))


async def _report(ctx: Context, actor: Actor, cmd: TicketCommand) -> str:
    start, end, team = reports.parse_period(cmd.text, ctx.clock(), ctx.config.timezone)
    return render.report(await reports.report_for(ctx, actor, start, end, team, ctx.config.timezone))


async def console_user(user_id: str, name: str) -> Actor:
    return Actor(user_id, name, in_tickets_channel=True)  # someone in the console's channel, as with /as


NEW_USAGE = "usage: /ticket new customer@example.com | subject | text [| send]  (send: mail the text to them)"


async def _new(ctx: Context, actor: Actor, cmd: TicketCommand) -> ActionResult:
    parts = [p.strip() for p in cmd.text.split("|")]
    if len(parts) < 3:
        raise UsageError(NEW_USAGE)
    send = len(parts) > 3 and parts[3].lower() == "send"
    return await creation.open_ticket(ctx, actor, requester=parts[0], subject=parts[1], body=parts[2], send=send)


# Every `/ticket` verb -> how the console serves it (tests/test_parity.py holds it to the shared grammar).
VERBS: dict[str, Serve] = {
    **dict.fromkeys(CHANGES, _change),
    "help": _help, "show": _show, "mine": _mine, "queue": _queue, "history": _history, "tasks": _tasks,
    "new": _new, "report": _report,
    **dict.fromkeys(("search", "kb", "replies", "macros"), _toolkit),
}
