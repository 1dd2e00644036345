"""`/ticket ...` on the console: parse a line into a command, then make the one handler call it means.

The vocabulary is the one Slack's `/ticket` uses, so a script written against
the console reads the same as what agents type in chat. Parsing is strict and
reports problems as UsageError, which the adapter prints as a one-line error.
"""

from __future__ import annotations

from bot.adapters.commands import (  # noqa: F401 - the console's parser is the shared one
    SPECS,
    TicketCommand,
    UsageError,
    parse_number,
    parse_ticket,
    parse_user,
    split_slash,
)
from bot.handlers import queries, replies, tickets
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


async def perform(ctx: Context, actor: Actor, cmd: TicketCommand) -> ActionResult | str:
    """Make the handler call; an ActionResult for changes, text for questions."""
    n = cmd.number or 0
    match cmd.verb:
        case "help":
            return help_text()
        case "claim":
            return await tickets.claim(ctx, actor, n)
        case "assign":
            assert cmd.assignee is not None
            target = actor if cmd.assignee == actor.chat_user_id else Actor(cmd.assignee, cmd.assignee_name)
            return await tickets.assign(ctx, actor, n, target)
        case "reply":
            return await replies.reply(ctx, actor, n, cmd.text)
        case "note":
            return await tickets.add_note(ctx, actor, n, cmd.text)
        case "close":
            return await tickets.close(ctx, actor, n)
        case "reopen":
            return await tickets.reopen(ctx, actor, n)
        case "priority":
            assert cmd.priority is not None
            return await tickets.set_priority(ctx, actor, n, cmd.priority)
        case "status":
            assert cmd.status is not None
            return await tickets.set_status(ctx, actor, n, cmd.status)
        case "show":
            return render.details(await queries.show(ctx, n))
        case "mine":
            return render.ticket_list("your tickets", await queries.mine(ctx, actor), "none active")
        case "queue":
            return render.ticket_list("queue", await queries.queue(ctx), "nothing waiting")
        case "history":
            return render.history(n, await queries.history(ctx, n))
    raise UsageError(f"unknown command '/ticket {cmd.verb}'; try /ticket help")
