"""Tickets an agent opens by hand: a phone call written down, or a mail to a supplier tracked as a ticket.

A template presets team, priority, category and tags, lists the questions to
ask, and may open child tickets (a new hire: hardware, software, accounts).
With `send` the text goes out as the first mail of the conversation, and the
answer threads back into the ticket like any customer reply.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.domain import mail_ids
from bot.domain.access import Action
from bot.domain.model import Contact, Message, MessageKind, Ticket
from bot.domain.status import Status
from bot.handlers import events, sla
from bot.handlers.audit import audit
from bot.handlers.context import Actor, Context, agent_for
from bot.handlers.errors import Refused
from bot.handlers.merge import create_child
from bot.handlers.outgoing import queue_mail
from bot.handlers.permissions import permit
from bot.handlers.ports import UnitOfWork
from bot.handlers.routing import auto_assign
from bot.handlers.snapshots import message_view, ticket_view
from bot.handlers.tickets import ActionResult


async def open_ticket(ctx: Context, actor: Actor, *, requester: str, subject: str, body: str,
                      template: str | None = None, send: bool = False, requester_name: str = "") -> ActionResult:
    await permit(ctx, actor, Action.SEND if send else Action.NEW)
    requester = requester.strip().lower()
    if "@" not in requester or any(c in requester for c in " \r\n<>,;"):
        raise Refused(f"{requester!r} is not an email address")
    tpl = ctx.config.workflow.template(template) if template else None
    if template and tpl is None:
        names = ", ".join(t.name for t in ctx.config.workflow.templates) or "none are configured"
        raise Refused(f"no template called {template!r} ({names})")
    subject = " ".join((subject or (tpl.subject if tpl else "")).split())
    if not subject:
        raise Refused("a ticket needs a subject")
    if send and not body.strip():
        raise Refused("an empty mail was not sent")
    async with ctx.transaction() as uow:
        now = ctx.clock()
        if send:
            await within_send_limit(ctx, uow, actor, now)
        agent = await agent_for(uow, actor, now)
        contact = await uow.contacts.by_email(requester) or await uow.contacts.add(
            Contact(email=requester, name=" ".join(requester_name.split()), created_at=now))
        ticket = await uow.tickets.add(Ticket(subject=subject, requester_id=contact.id, created_at=now,  # type: ignore[arg-type]
                                              updated_at=now, assignee_id=agent.id, status=Status.OPEN))
        how = f"by {agent.display}" + (f" from template {tpl.name}" if tpl else "")
        audit(uow, ticket, actor.audit_name, "created", now, detail=how)
        if tpl is not None:
            ticket.team, ticket.priority, ticket.category = tpl.team, tpl.priority, tpl.category
            ticket.tags = sorted(tpl.tags)
        kind = MessageKind.REPLY if send else MessageKind.NOTE
        text = body.strip() or "(opened by hand)"
        mid = mail_ids.make_message_id(ticket.number, ctx.key, ctx.config.mail_domain) if send else None
        first = await uow.messages.add(Message(ticket_id=ticket.number, kind=kind, created_at=now, body_text=text,
                                               body_display=text, author_agent_id=agent.id,
                                               author_label=agent.display, mail_message_id=mid))
        if send:
            await queue_mail(ctx, uow, ticket, contact, template="reply", kind="reply", now=now, message_id=mid,
                             message_row_id=first.id, first=True,
                             context={"body": text, "agent_name": agent.display})
            ticket.move_to(Status.WAITING_ON_CUSTOMER, now)
            audit(uow, ticket, actor.audit_name, "reply_queued", now, detail=f"to {contact.email}, {mid}")
            audit(uow, ticket, actor.audit_name, SENT_OUTBOUND, now)
        note = f"Opened with #{ticket.number} from template {tpl.name}." if tpl else ""
        children = [await create_child(ctx, uow, ticket, c.subject, c.team, now, agent, note)
                    for c in (tpl.children if tpl else ())]
        if ticket.assignee_id is None:
            await auto_assign(ctx, uow, ticket, now)
        await sla.start(ctx, uow, ticket, now)
        view = await ticket_view(uow, ticket)
        uow.events.append(events.TicketOpened(ticket=view, first_message=message_view(
            ticket.number, first, sent_to=contact.email if send else None)))
        for child, child_first in children:
            uow.events.append(events.TicketOpened(ticket=await ticket_view(uow, child),
                                                  first_message=message_view(child.number, child_first)))
    what = "mailed to " + contact.email if send else "opened"
    extra = f" with {len(children)} child tickets" if children else ""
    return ActionResult(ticket=view, summary=f"#{view.number} {what}{extra}")


SENT_OUTBOUND = "outbound_opened"  # the audit rows that count toward an agent's hourly limit: this one,
ASKED_EXPERT = "expert_asked"  # and a question to an expert not asked about that ticket before (bot.handlers.experts)


async def within_send_limit(ctx: Context, uow: UnitOfWork, actor: Actor, now: datetime) -> None:
    """Mailing outside addresses from chat is limited per agent and hour: a hijacked or careless
    account must not turn the support address into a spam cannon."""
    limit, since = ctx.config.send_limit_per_hour, now - timedelta(hours=1)
    mailed = [await uow.audit.count_since(actor.audit_name, kind, since) for kind in (SENT_OUTBOUND, ASKED_EXPERT)]
    if sum(mailed) >= limit:
        raise Refused(f"you have mailed {limit} new outside addresses in the last hour, the most allowed; "
                      "try again later or ask an admin to raise TIKETTI_SEND_LIMIT_PER_HOUR")
