"""What each `/ticket` verb does, once for every chat adapter.

Adapters parse the line (bot.adapters.commands), then call `perform_change`
for verbs that change a ticket, or `answer_question` for the questions (show,
mine, queue, history, tasks, help), handing it their own answer renderer.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import replace
from typing import TypeVar

from bot.adapters.answers import Answers, ThreadLink
from bot.adapters.collisions import reply_unless_answered
from bot.adapters.commands import TicketCommand, UsageError, split_due, split_outbound
from bot.adapters.toolkit import experts, kb, macros, replies, search, time, undo
from bot.handlers import canned, classify, merge, queries, tasks, tickets
from bot.handlers.context import Actor, Context
from bot.handlers.snapshots import TicketView
from bot.handlers.tickets import ActionResult

ResolveUser = Callable[[str, str], Awaitable[Actor]]  # (chat user id, name given) -> Actor

A = TypeVar("A")

QUESTIONS = frozenset({"help", "show", "mine", "queue", "history", "tasks", "search", "kb", "replies", "macros"})
# `new` and `report` are the platform's own (a form, figures and charts): SPECS = QUESTIONS | CHANGES | those.
CHANGES = frozenset({"claim", "assign", "reply", "note", "close", "reopen", "priority", "status", "category", "tag",
                     "move", "next", "merge", "child", "task", "done", "macro", "time", "ask", "undo"})


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
            with canned.watching() as used:  # the confirmation names the canned reply and language used
                sent = await reply_unless_answered(ctx, actor, n, cmd.text, anyway=cmd.confirmed)
            return replace(sent, summary=sent.summary + canned.used_words(used)) if used else sent
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
            return await merge.merge(ctx, actor, n, cmd.other, different_customer=cmd.confirmed)
        case "child":
            text, to = split_outbound(cmd.text)
            team, subject = _team_and_subject(ctx, text)
            return await merge.split_child(ctx, actor, n, subject, team, to=to)
        case "task":
            delta, text = split_due(cmd.text)
            task = await tasks.add_task(ctx, actor, n, text, due_at=ctx.clock() + delta if delta else None)
            due = f", due {task.due_at:%Y-%m-%d %H:%M} UTC" if task.due_at else ""
            return f"task {task.id} added to #{n}{due}: {task.text}"
        case "done":
            task = await tasks.complete_task(ctx, actor, n)
            return f"task {task.id} on #{task.ticket_number} done: {task.text}"
        case "macro":
            return await macros.perform(ctx, actor, cmd)
        case "time":
            return await time.perform(ctx, actor, cmd)
        case "ask":
            return await experts.perform(ctx, actor, cmd)
        case "undo":
            return await undo.perform(ctx, actor, cmd)
    raise UsageError(f"'/ticket {cmd.verb}' changes nothing; try /ticket help")


def _team_and_subject(ctx: Context, text: str) -> tuple[str | None, str]:
    first, _, rest = text.partition(" ")
    team = ctx.config.workflow.team(first)
    if team is not None and rest.strip():
        return team.name, rest.strip()
    return None, text


async def answer_question(ctx: Context, actor: Actor, cmd: TicketCommand, render: Answers[A], link: ThreadLink) -> A:
    """The handler call a question stands for, worded by `render`; tickets are linked to their threads."""
    n = cmd.number or 0
    match cmd.verb:
        case "help":
            return render.help_answer()
        case "show":
            return render.details(await queries.show(ctx, actor, n, original=cmd.confirmed), await link(n))
        case "mine":
            mine = await queries.mine(ctx, actor)
            return render.ticket_list("Your tickets", mine, "none active", await _links(mine, link))
        case "queue" if cmd.text:  # a saved view of the workflow file
            return await search.answer(ctx, actor, cmd, render, link)
        case "queue":
            waiting = await queries.queue(ctx, actor)
            return render.ticket_list("Queue: nobody has these yet", waiting, "nothing waiting",
                                      await _links(waiting, link), queue=True)
        case "history":
            return render.history(n, await queries.history(ctx, actor, n))
        case "tasks":
            return render.task_list(await tasks.my_tasks(ctx, actor))
        case "search":
            return await search.answer(ctx, actor, cmd, render, link)
        case "kb":
            return await kb.answer(ctx, actor, cmd, render, link)
        case "replies":
            return await replies.answer(ctx, actor, cmd, render, link)
        case "macros":
            return await macros.answer(ctx, actor, cmd, render, link)
    raise UsageError(f"'/ticket {cmd.verb}' is not a question; try /ticket help")


async def _links(tickets: Sequence[TicketView], link: ThreadLink) -> dict[int, str]:
    return {v.number: url for v in tickets if (url := await link(v.number))}
