"""To-dos on tickets, with a due time; whoever a task is assigned to is reminded when it is due."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.domain.access import Action
from bot.domain.model import Task
from bot.handlers import events
from bot.handlers.audit import audit
from bot.handlers.context import Actor, Context, agent_for, load_ticket
from bot.handlers.errors import NotFound, Refused
from bot.handlers.permissions import may_work, permit
from bot.handlers.snapshots import ticket_view


@dataclass(frozen=True)
class TaskView:
    id: int
    ticket_number: int
    text: str
    due_at: datetime | None
    done: bool


def _view(task: Task) -> TaskView:
    assert task.id is not None
    return TaskView(task.id, task.ticket_id, task.text, task.due_at, task.done_at is not None)


async def add_task(ctx: Context, actor: Actor, number: int, text: str, *, due_at: datetime | None = None,
                   assignee: Actor | None = None) -> TaskView:
    """A task for `assignee` (default: the ticket's assignee, else whoever adds it)."""
    if not text.strip():
        raise Refused("a task needs a text")
    await permit(ctx, actor, Action.TASK, number)
    if assignee is not None and await may_work(ctx, assignee, Action.TASK, number):
        raise Refused(f"{assignee.name or assignee.chat_user_id} is not an agent who can work #{number}")
    async with ctx.uow() as uow:
        ticket = await load_ticket(uow, number)
        now = ctx.clock()
        creator = await agent_for(uow, actor, now)
        owner_id = (await agent_for(uow, assignee, now)).id if assignee else (ticket.assignee_id or creator.id)
        task = await uow.tasks.add(Task(ticket_id=number, text=text.strip(), created_at=now,
                                        created_by=actor.audit_name, assignee_id=owner_id, due_at=due_at))
        when = f", due {due_at:%Y-%m-%d %H:%M} UTC" if due_at else ""
        audit(uow, ticket, actor.audit_name, "task_added", now, detail=f"task {task.id}: {task.text}{when}")
        await uow.commit()
        return _view(task)


async def complete_task(ctx: Context, actor: Actor, task_id: int) -> TaskView:
    await permit(ctx, actor, Action.QUEUE)  # strangers learn nothing, not even whether the task exists
    async with ctx.uow() as uow:
        task = await uow.tasks.get(task_id)
        if task is None:
            raise NotFound(f"task {task_id} does not exist")
    await permit(ctx, actor, Action.TASK, task.ticket_id)
    async with ctx.uow() as uow:
        task = await uow.tasks.get(task_id)
        if task is None:
            raise NotFound(f"task {task_id} does not exist")
        if task.done_at is not None:
            raise Refused(f"task {task_id} is already done")
        now = ctx.clock()
        await agent_for(uow, actor, now)
        task.done_at = now
        ticket = await load_ticket(uow, task.ticket_id)
        audit(uow, ticket, actor.audit_name, "task_done", now, detail=f"task {task_id}: {task.text}")
        await uow.commit()
        return _view(task)


async def my_tasks(ctx: Context, actor: Actor) -> list[TaskView]:
    await permit(ctx, actor, Action.QUEUE)
    async with ctx.uow() as uow:
        agent = await uow.agents.by_chat_user_id(actor.chat_user_id)
        if agent is None or agent.id is None:
            return []
        return [_view(t) for t in await uow.tasks.open_for(agent.id)]


async def remind_due(ctx: Context) -> int:
    """Publish a TaskDue for every task whose time has come, once each (marked in the same transaction)."""
    reminded = 0
    async with ctx.transaction() as uow:
        now = ctx.clock()
        for task in await uow.tasks.due_unreminded(now):
            task.reminded_at = now
            ticket = await load_ticket(uow, task.ticket_id, for_update=False)
            agent = await uow.agents.get(task.assignee_id) if task.assignee_id else None
            audit(uow, ticket, "system", "task_reminder", now, detail=f"task {task.id}: {task.text}")
            uow.events.append(events.TaskDue(task.id, await ticket_view(uow, ticket), task.text,  # type: ignore[arg-type]
                                             agent.chat_user_id if agent else None))
            reminded += 1
    return reminded
