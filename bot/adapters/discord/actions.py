"""Run one `/ticket` command (the grammar every adapter shares) and say how it went, Discord style."""

from __future__ import annotations

from bot.adapters.commands import TicketCommand, UsageError
from bot.adapters.discord import answers
from bot.adapters.discord.answers import Answer
from bot.adapters.discord.parts import DiscordParts
from bot.handlers import classify, queries, replies, tickets
from bot.handlers.context import Actor
from bot.handlers.views import TicketView


async def execute(parts: DiscordParts, actor: Actor, cmd: TicketCommand, assignee: Actor | None = None) -> Answer:
    ctx, n = parts.ctx, cmd.number or 0
    if cmd.number is None and cmd.verb not in ("help", "mine", "queue", "next"):
        raise UsageError(f"which ticket? give its number, or use /ticket {cmd.verb} inside the ticket's thread")
    match cmd.verb:
        case "help":
            return answers.help_answer()
        case "claim":
            result = await tickets.claim(ctx, actor, n)
        case "assign":
            assert assignee is not None
            result = await tickets.assign(ctx, actor, n, assignee)
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
            return answers.ticket_list("Queue: nobody has these yet", waiting, "nothing waiting",
                                       await _links(parts, waiting))
        case "history":
            return answers.history(n, await queries.history(ctx, n))
        case "next":
            result = await classify.next_ticket(ctx, actor)
        case _:
            raise UsageError(f"unknown command '/ticket {cmd.verb}'; try /ticket help")
    return answers.done(result.summary, await parts.thread_link(result.ticket.number))


async def _links(parts: DiscordParts, views: list[TicketView]) -> dict[int, str]:
    return {v.number: link for v in views if (link := await parts.thread_link(v.number))}
