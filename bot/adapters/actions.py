"""What each `/ticket` verb that changes something does, once for every adapter.

Adapters parse the line (bot.adapters.commands), call `perform_change`, and
render the outcome their own way; questions (show, mine, queue, history,
tasks, help) stay with the adapter because answering them is all rendering.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from bot.adapters.commands import TicketCommand, UsageError, split_due
from bot.handlers import classify, merge, replies, tasks, tickets
from bot.handlers.context import Actor, Context
from bot.handlers.tickets import ActionResult

ResolveUser = Callable[[str, str], Awaitable[Actor]]  # (chat user id, name given) -> Actor

CHANGES = frozenset({"claim", "assign", "reply", "note", "close", "reopen", "priority", "status", "category", "tag",
                     "move", "next", "merge", "child", "task", "done"})


async def perform_change(ctx: Context, actor: Actor, cmd: TicketCommand, resolve: ResolveUser) -> ActionResult | str:
    """Make the handler call `cmd` stands for: the ActionResult, or a one-line summary for tasks."""
    n = cmd.number or 0
    match cmd.verb:
        case "claim":
            return await tickets.claim(ctx, actor, n)
        case "assign":
            assert cmd.assignee is not None
            target = actor if cmd.assignee == actor.chat_user_id else await resolve(cmd.assignee, cmd.assignee_name)
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
            return await tickets.set_status_named(ctx, actor, n, cmd.text or str(cmd.status))
        case "category":
            return await classify.set_category(ctx, actor, n, cmd.text)
        case "tag":
            words = cmd.text.split()
            return await classify.tag(ctx, actor, n, [w for w in words if not w.startswith("-")],
                                      [w for w in words if w.startswith("-")])
        case "move":
            return await classify.move_to_team(ctx, actor, n, cmd.text)
        case "next":
            return await classify.next_ticket(ctx, actor)
        case "merge":
            assert cmd.other is not None
            return await merge.merge(ctx, actor, n, cmd.other)
        case "child":
            team, subject = _team_and_subject(ctx, cmd.text)
            return await merge.split_child(ctx, actor, n, subject, team)
        case "task":
            delta, text = split_due(cmd.text)
            task = await tasks.add_task(ctx, actor, n, text, due_at=ctx.clock() + delta if delta else None)
            due = f", due {task.due_at:%Y-%m-%d %H:%M} UTC" if task.due_at else ""
            return f"task {task.id} added to #{n}{due}: {task.text}"
        case "done":
            task = await tasks.complete_task(ctx, actor, n)
            return f"task {task.id} on #{task.ticket_number} done: {task.text}"
    raise UsageError(f"'/ticket {cmd.verb}' changes nothing; try /ticket help")


def _team_and_subject(ctx: Context, text: str) -> tuple[str | None, str]:
    first, _, rest = text.partition(" ")
    team = ctx.config.workflow.team(first)
    if team is not None and rest.strip():
        return team.name, rest.strip()
    return None, text
