"""Two agents answering the same customer at once: warn them before, and ask before sending twice.

Opening the Reply form records a draft; anyone else who opens one on the same
ticket within a few minutes (or who answered it just now) is named, and both
are warned. At submit time, a customer message or another agent's reply newer
than the moment the form was opened must be confirmed first.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.domain.access import Action
from bot.domain.model import MessageKind
from bot.handlers.context import Actor, Context, agent_for, load_ticket
from bot.handlers.permissions import permit

RECENT = timedelta(minutes=5)


@dataclass(frozen=True)
class Collision:
    """Who else is on it. `others` are chat user ids to warn; `lines` say what they did, for the opener."""

    others: tuple[str, ...] = ()
    lines: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.lines)


async def reply_opened(ctx: Context, actor: Actor, number: int) -> Collision:
    """The Reply form is being opened: refused (Denied) for anyone who may not reply, before a form shows."""
    await permit(ctx, actor, Action.REPLY, number)
    async with ctx.uow() as uow:
        ticket = await load_ticket(uow, number, for_update=False)
        now = ctx.clock()
        agent = await agent_for(uow, actor, now)
        assert agent.id is not None
        others: list[str] = []
        lines: list[str] = []
        for draft in await uow.reply_drafts.others(ticket.number, agent.id, now - RECENT):
            other = await uow.agents.get(draft.agent_id)
            if other is not None:
                others.append(other.chat_user_id)
                lines.append(f"{other.display} is writing a reply too (opened {_ago(now, draft.opened_at)})")
        for m in reversed(await uow.messages.for_ticket(ticket.number)):
            if m.created_at < now - RECENT:
                break
            if m.kind == MessageKind.REPLY and m.author_agent_id != agent.id:
                lines.append(f"{m.author_label} replied to the customer {_ago(now, m.created_at)}")
        await uow.reply_drafts.opened(ticket.number, agent.id, now)
        await uow.commit()
    return Collision(tuple(dict.fromkeys(others)), tuple(lines))


async def newer_than(ctx: Context, actor: Actor, number: int, since: datetime) -> list[str]:
    """What happened on the ticket since the form was opened that the agent has not seen."""
    await permit(ctx, actor, Action.REPLY, number)
    async with ctx.uow() as uow:
        agent = await uow.agents.by_chat_user_id(actor.chat_user_id)
        found = []
        for m in await uow.messages.for_ticket(number):
            if m.created_at <= since:
                continue
            if m.kind == MessageKind.INBOUND:
                found.append(f"the customer wrote again {_ago(ctx.clock(), m.created_at)}")
            elif m.kind == MessageKind.REPLY and (agent is None or m.author_agent_id != agent.id):
                found.append(f"{m.author_label} replied {_ago(ctx.clock(), m.created_at)}")
        return found


async def reply_closed(ctx: Context, actor: Actor, number: int) -> None:
    async with ctx.uow() as uow:
        agent = await uow.agents.by_chat_user_id(actor.chat_user_id)
        if agent is not None and agent.id is not None:
            await uow.reply_drafts.closed(number, agent.id)
            await uow.commit()


def _ago(now: datetime, then: datetime) -> str:
    seconds = max(0, int((now - then).total_seconds()))
    return "just now" if seconds < 60 else f"{seconds // 60} min ago"
