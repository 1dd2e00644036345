"""Canned replies: named texts with placeholders, shared per team or personal, in several languages.

The files and their rules are bot.domain.canned; the folder is bot.handlers.canned_folder. Sending one is a
reply like any other (bot.handlers.reply_text expands `:name`, bot.handlers.replies checks REPLY); listing
and saving them is Action.CANNED. A team's replies are offered to its members (and managers, admins),
a personal one to its owner only; anyone else is told there is no such reply, as if it did not exist.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from bot.domain import canned as rules
from bot.domain.access import Action, Role, Standing
from bot.domain.canned import BrokenReply, CannedError, CannedReply, Viewer
from bot.domain.model import Message, MessageKind, Ticket
from bot.handlers import canned_folder
from bot.handlers.audit import audit
from bot.handlers.context import Actor, Context, agent_for, load_ticket, requester_of
from bot.handlers.errors import NotFound, Refused
from bot.handlers.permissions import may, permit, standing
from bot.handlers.ports import UnitOfWork

_SAFE = re.compile(r"[^a-z0-9_-]+")


@dataclass(frozen=True)
class ReplyEntry:
    """One name as the agent sees it: its title, the languages it exists in, with whom it is shared."""

    name: str
    title: str
    languages: tuple[str, ...]
    scope: str  # "everyone", "team billing", "personal"
    tags: tuple[str, ...] = ()


@dataclass(frozen=True)
class Rendered:
    reply: CannedReply
    text: str


_USED: ContextVar[list[Rendered] | None] = ContextVar("canned_replies_used", default=None)


@dataclass(frozen=True)
class Saved:
    name: str
    language: str
    scope: str
    path: str  # relative to the replies folder
    ticket: int


@contextmanager
def watching() -> Iterator[list[Rendered]]:
    """Collect the canned replies rendered inside the block (by this task), so a door can say which one and
    in which language a reply used: `with canned.watching() as used: await replies.reply(...)`."""
    used: list[Rendered] = []
    token = _USED.set(used)
    try:
        yield used
    finally:
        _USED.reset(token)


def used_words(used: Sequence[Rendered]) -> str:
    """' (canned reply :refund-policy, fi)' for a confirmation; empty when none was used."""
    return "".join(f" (canned reply :{u.reply.name}, {u.reply.language})" for u in used[:1])


def viewer(ctx: Context, actor: Actor, who: Standing | None = None) -> Viewer:
    who = who or standing(ctx, actor)
    open_teams = {t.name for t in ctx.config.workflow.teams if not t.members and not t.private}
    return Viewer(keys=actor.identity.keys, teams=frozenset(who.teams | open_teams), manager=who.role >= Role.MANAGER)


def _visible(ctx: Context, actor: Actor, who: Standing | None = None) -> list[CannedReply]:
    seen = viewer(ctx, actor, who)
    return [r for r in canned_folder.load(ctx.config.replies_dir).replies if rules.visible(r, seen)]


def _entries(replies: Sequence[CannedReply]) -> list[ReplyEntry]:
    by_name: dict[tuple[str, str], list[CannedReply]] = {}
    for r in replies:
        by_name.setdefault((r.name, r.scope), []).append(r)
    entries = []
    for (name, scope), variants in sorted(by_name.items()):
        first = rules.choose(variants, None, None)
        entries.append(ReplyEntry(name, first.title, tuple(sorted(v.language for v in variants)), scope,
                                  tuple(sorted({t for v in variants for t in v.tags}))))
    return entries


async def available(ctx: Context, actor: Actor, words: str = "") -> tuple[list[ReplyEntry], list[BrokenReply]]:
    """The replies this agent may use, filtered by words (of the name, titles and tags), and the broken files."""
    who = await permit(ctx, actor, Action.CANNED)
    entries = _entries(_visible(ctx, actor, who))
    wanted = [w.lower().lstrip(":") for w in words.split()]
    if wanted:
        entries = [e for e in entries if all(w in " ".join((e.name, e.title, *e.tags)).lower() for w in wanted)]
    return entries, list(canned_folder.load(ctx.config.replies_dir).broken)


async def offered(ctx: Context, actor: Actor, typed: str = "") -> list[ReplyEntry]:
    """What a door offers while the agent types (Discord autocomplete, Slack's select): asked quietly,
    nothing audited; someone who may not use canned replies is offered none."""
    if not await may(ctx, actor, Action.CANNED):
        return []
    typed = typed.strip().lstrip(":").lower()
    return [e for e in _entries(_visible(ctx, actor))
            if not typed or e.name.startswith(typed) or typed in e.title.lower()]


async def render_canned(ctx: Context, actor: Actor, number: int, name: str, language: str | None = None) -> str:
    """The canned reply `name` rendered for ticket `number` (its customer's language when known)."""
    return (await preview(ctx, actor, number, name, language)).text


async def preview(ctx: Context, actor: Actor, number: int, name: str, language: str | None = None) -> Rendered:
    """The reply and its text for this ticket; Refused names what is missing (a reply, a language, a placeholder)."""
    base, asked = rules.split_language(name)
    wanted = (language or asked or "").lower() or None
    variants = [r for r in _visible(ctx, actor) if r.name == base]
    if not variants:
        broken = [b for b in canned_folder.load(ctx.config.replies_dir).broken
                  if b.source.rsplit("/", 1)[-1].split(".")[0] == base]
        if broken:
            raise Refused(f"the canned reply :{base} is broken ({broken[0].source}: {broken[0].reason}); nothing was sent")
        raise Refused(f"there is no canned reply named :{base} (/ticket replies lists them); nothing was sent")
    personal = [v for v in variants if v.owner]  # an agent's own version of a name beats the shared one
    variants = personal or variants
    async with ctx.uow() as uow:
        ticket = await load_ticket(uow, number, for_update=False)
        guessed = None
        if wanted is None and len({v.language for v in variants}) > 1:
            guessed = rules.guess_language(await _customer_text(uow, number), {v.language for v in variants})
        try:
            reply = rules.choose(variants, wanted, guessed)
        except CannedError as exc:
            raise Refused(f"{exc}; nothing was sent") from None
        values = await _values(ctx, uow, actor, ticket)
    try:
        rendered = Rendered(reply, rules.render(reply, values))
    except CannedError as exc:
        raise Refused(f"{exc}; nothing was sent") from None
    if (used := _USED.get()) is not None:
        used.append(rendered)
    return rendered


async def _customer_text(uow: UnitOfWork, number: int) -> str:
    inbound = [m for m in await uow.messages.for_ticket(number) if m.kind == MessageKind.INBOUND]
    return "\n".join((m.body_display or m.body_text or "") for m in inbound[-3:])


async def _values(ctx: Context, uow: UnitOfWork, actor: Actor, ticket: Ticket) -> dict[str, Mapping[str, str]]:
    """What the placeholders stand for on this ticket (docs/configuration.md, "Canned replies")."""
    customer = await requester_of(uow, ticket)
    agent = await uow.agents.by_chat_user_id(actor.chat_user_id)
    agent_name = actor.name or (agent.display if agent else "") or actor.chat_user_id
    sla = ctx.config.workflow.sla
    zone = sla.calendar.timezone if sla else ctx.config.timezone
    return {
        "customer": {"first_name": rules.first_name(customer.name, customer.email) if customer else "",
                     "name": customer.name if customer else "", "email": customer.email if customer else ""},
        "ticket": {"number": str(ticket.number), "subject": ticket.subject, "status": ticket.status.label,
                   "priority": ticket.priority.value, "team": ticket.team or ""},
        "agent": {"name": agent_name, "first_name": rules.first_name(agent_name) or agent_name},
        "sla": {"first_response_due": _when(ticket.first_response_due_at, zone),
                "resolution_due": _when(ticket.resolution_due_at, zone)},
        "helpdesk": {"name": ctx.config.support_name},
    }


def _when(moment: datetime | None, zone: str) -> str:
    """'2026-12-03 10:00 Europe/Helsinki' in the SLA calendar's zone; empty when the ticket has no such due time."""
    if moment is None:
        return ""
    local = moment.astimezone(ZoneInfo(zone))
    return f"{local:%Y-%m-%d %H:%M} {'UTC' if zone.upper() == 'UTC' else zone}"


async def save(ctx: Context, actor: Actor, name: str, *, shared_with: str | None = None, personal: bool = False,
               number: int | None = None) -> Saved:
    """Save the agent's last reply (on #number, or their latest anywhere) as a canned reply file.

    `shared_with`: a team name, or "team" for the ticket's (or their only) team; neither: shared with everyone.
    Never overwrites a reply someone else saved or an operator's file: the agent picks another name."""
    who = await permit(ctx, actor, Action.CANNED)
    name = name.strip().lstrip(":").lower()
    if not rules.NAME.match(name):
        raise Refused(f"{name!r} cannot be a reply's name: lower-case letters, digits, '-' or '_'")
    if number is not None:
        await permit(ctx, actor, Action.SHOW, number)
    async with ctx.uow() as uow:
        agent = await uow.agents.by_chat_user_id(actor.chat_user_id)
        message = await _last_reply(uow, agent.id if agent else None, number)
        if message is None:
            where = f" on #{number}" if number is not None else ""
            raise NotFound(f"you have not replied{where} yet: send the reply first, then save it")
        ticket = await load_ticket(uow, message.ticket_id, for_update=False)
    team = _team_for(ctx, who, shared_with, ticket.team) if shared_with else None
    text = message.body_text or ""
    language = rules.guess_language(text, ("en", "fi", "sv", "de", "fr", "es", "nl", "et")) or rules.DEFAULT_LANGUAGE
    owner = actor.chat_user_id if personal else None
    relative = (f"personal/{_SAFE.sub('_', actor.chat_user_id.lower())}/" if owner else "") + f"{name}.{language}.md"
    library = canned_folder.load(ctx.config.replies_dir)
    for existing in library.replies:
        same = existing.name == name and existing.language == language
        if same and (existing.owner or "").lower() == (owner or "").lower():
            if existing.source != relative or (existing.saved_by or "") != actor.chat_user_id:
                raise Refused(f":{name} ({language}) already exists ({existing.source}) and is not yours to "
                              "overwrite; save it under another name")
    if any(b.source == relative for b in library.broken):
        raise Refused(f"{relative} exists (and is broken); save under another name or ask whoever keeps the folder")
    meta = {"name": name, "title": name.replace("-", " ").replace("_", " ").capitalize(), "language": language,
            "team": team, "owner": owner, "saved_by": actor.chat_user_id}
    body = rules.raw_template(text.strip())
    rules.parse_reply(relative, rules.front_matter(meta) + body + "\n")  # what is written must read back
    canned_folder.write(ctx.config.replies_dir, relative, rules.front_matter(meta) + body + "\n")
    scope = "personal" if owner else f"team {team}" if team else "everyone"
    async with ctx.transaction() as uow:
        now = ctx.clock()
        await agent_for(uow, actor, now)
        audit(uow, await load_ticket(uow, ticket.number, for_update=False), actor.audit_name, "canned_saved", now,
              detail=f":{name} ({language}, {scope}) from reply {message.id}, {relative}")
    return Saved(name, language, scope, relative, ticket.number)


async def _last_reply(uow: UnitOfWork, agent_id: int | None, number: int | None) -> Message | None:
    if agent_id is None:
        return None
    if number is not None:
        mine = [m for m in await uow.messages.for_ticket(number)
                if m.kind == MessageKind.REPLY and m.author_agent_id == agent_id]
        return mine[-1] if mine else None
    return await uow.messages.latest_reply_by(agent_id)


def _team_for(ctx: Context, who: Standing, asked: str, ticket_team: str | None) -> str:
    if asked.lower() == "team":
        mine = sorted(who.teams)
        if ticket_team and (ticket_team in who.teams or who.role >= Role.MANAGER):
            return ticket_team
        if len(mine) == 1:
            return mine[0]
        raise Refused("say which team to share it with: /ticket replies save NAME <team>"
                      + (f" (yours: {', '.join(mine)})" if mine else ""))
    team = ctx.config.workflow.team(asked)
    if team is None:
        known = ", ".join(t.name for t in ctx.config.workflow.teams) or "none are configured"
        raise Refused(f"no team called {asked!r} ({known})")
    if team.name not in who.teams and who.role < Role.MANAGER and team.members:
        raise Refused(f"you are not in {team.name}: share it with everyone, your own team, or keep it personal")
    return team.name
