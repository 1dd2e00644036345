"""Searching tickets (`/ticket search`, `tiketti search`) and the workflow's saved views (`/ticket queue <view>`).

Who may find what is the policy's (bot.domain.access) read for lists: agents find every ticket they may
see (a private team's only as its members, or when pulled into it), managers and admins everything; a
light agent finds only the tickets they were pulled into, and their words never match internal notes
(nor system messages): what they find is what a customer's conversation says. Strangers are refused.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, replace

from bot.domain.access import Action, Role, Standing, may_see_team
from bot.domain.search_query import COUNT_CAP, PAGE_SIZE, RANK_CAP, QueryError, SearchFilter, SearchQuery, parse_query
from bot.domain.workflow import View
from bot.handlers.context import Actor, Context
from bot.handlers.errors import NotFound
from bot.handlers.permissions import hidden_teams, permit, refuse, standing
from bot.handlers.ports import UnitOfWork
from bot.handlers.snapshots import TicketView, ticket_views

# How a door may name a person in `assignee:`: `@U2`, `<@U2>`, `<@!1234>` (Discord), `<@U2|ana>`, `ana`.
_PERSON = re.compile(r"^<?@?!?([^<>|@\s][^<>|\s]*?)(?:\|[^>]*)?>?$")


@dataclass(frozen=True)
class SearchPage:
    tickets: tuple[TicketView, ...]
    total: int  # matching tickets on every page; at least this many when `more`
    page: int
    pages: int  # at least 1, so "page 1 of 1" reads right when nothing matched; at least this many when `more`
    query: SearchQuery
    view: View | None = None  # the saved view that was run, if one was
    more: bool = False  # more than `total` match: they were counted only up to a cap (COUNT_CAP)
    ranked: int | None = None  # best first ranked only the newest this many matches (RANK_CAP)

    @property
    def next_page(self) -> int | None:
        return self.page + 1 if self.page < self.pages or self.more else None


async def search(ctx: Context, actor: Actor, text: str, page: int | None = None) -> SearchPage:
    """The tickets `text` (words and filters, bot.domain.search_query) finds for this person, a page of them."""
    who = await permit(ctx, actor, Action.SEARCH)
    query = parse_query(text)
    return await _run(ctx, actor, who, query.on_page(page) if page is not None else query)


async def run_view(ctx: Context, actor: Actor, name: str, page: int | None = None) -> SearchPage:
    """A saved view by name; words and filters after the name narrow it (`billing-open printer page:2`)."""
    who = await permit(ctx, actor, Action.SEARCH)
    wanted, _, more = name.strip().partition(" ")
    view = ctx.config.workflow.view(wanted)
    usable = views_for(ctx, who)
    if view is None:
        names = ", ".join(v.name for v in usable) or "none are set up (the workflow file's [[views]])"
        raise NotFound(f"no view called {wanted!r}; views: {names}")
    if view not in usable:
        await refuse(ctx, actor, Action.SEARCH, None,
                     f"the view {view.name} belongs to the private team {view.team}; only its members can use it")
    query = parse_query(view.query)
    if view.team and query.team is None:
        query = replace(query, team=view.team)
    if more.strip():
        query = query.within(parse_query(more))
    return await _run(ctx, actor, who, query.on_page(page) if page is not None else query, view)


def views_for(ctx: Context, who: Standing) -> list[View]:
    """The saved views this person may run (a private team's only for its members and managers)."""
    workflow = ctx.config.workflow
    return [v for v in workflow.views
            if v.team is None or may_see_team(who, v.team, bool((t := workflow.team(v.team)) and t.private))]


def view_names(ctx: Context, actor: Actor) -> list[str]:
    """For a door's autocomplete: nothing is checked or audited here, running one is."""
    return [v.name for v in views_for(ctx, standing(ctx, actor))]


async def _run(ctx: Context, actor: Actor, who: Standing, query: SearchQuery, view: View | None = None) -> SearchPage:
    # Read-only: on SQLite it must not take the write lock, which would hold up mail intake while it runs.
    async with ctx.uow(read_only=True) as uow:
        me = await uow.agents.by_chat_user_id(actor.chat_user_id)
        me_id = me.id if me is not None else None
        found = await _resolve(ctx, uow, who, query, me_id)
        offset = (query.page - 1) * PAGE_SIZE
        cap = max(COUNT_CAP, offset + PAGE_SIZE)
        rank = max(RANK_CAP, offset + PAGE_SIZE)
        tickets, total = await uow.search.page(found, limit=PAGE_SIZE, offset=offset, count_up_to=cap, rank_up_to=rank)
        views = await ticket_views(uow, tickets)
    more, shown = total > cap, min(total, cap)
    pages = max(1, math.ceil(shown / PAGE_SIZE))
    return SearchPage(tuple(views), shown, query.page, pages, query, view, more,
                      rank if query.ranked and total > rank else None)


async def _resolve(ctx: Context, uow: UnitOfWork, who: Standing, q: SearchQuery, me: int | None) -> SearchFilter:
    """Names to what the store compares: the workflow's teams, categories and status words; people to agent ids."""
    workflow = ctx.config.workflow
    team = workflow.require_team(q.team).name if q.team and workflow.teams else q.team
    category = workflow.category(q.category) if q.category else None
    label = None
    if q.status_name:
        custom = workflow.custom_status(team, q.status_name)
        if custom is None:
            own = sorted({s.name for t in workflow.teams for s in t.statuses})
            raise QueryError(f"unknown status {q.status_name!r}; use open, solved, new, waiting, on hold, replied, "
                             f"closed{''.join(', ' + s for s in own)}")
        label = custom.name
    unassigned, assignees = False, None
    if q.assignee:
        wanted = q.assignee.strip()
        if wanted.lower() == "none":
            unassigned = True
        elif wanted.lower() == "me":
            assignees = (me,) if me is not None else ()
        else:
            assignees = await _people(uow, wanted)
    light = who.role == Role.LIGHT
    hidden = () if light or who.role >= Role.MANAGER else tuple(sorted(hidden_teams(ctx, who)))
    return SearchFilter(
        terms=q.terms, statuses=q.statuses, status_label=label, team=team, tags=q.tags, sender=q.sender,
        unassigned=unassigned, assignee_ids=assignees, category=category, priority=q.priority,
        after=q.after_at, before=q.before_at, ranked=q.ranked,
        hidden_teams=hidden, pulled_in_by=me, only_pulled_in=light, notes=not light)


async def _people(uow: UnitOfWork, wanted: str) -> tuple[int, ...]:
    match = _PERSON.match(wanted)
    key = match.group(1) if match else wanted
    ids = await uow.search.agents_named(key)
    if not ids:
        raise QueryError(f"assignee:{wanted} names no agent; use assignee:@name (as they are called here), "
                         f"assignee:me or assignee:none")
    return tuple(ids)
