"""Full-text search over tickets: SQLite FTS5 or PostgreSQL tsvector + GIN, no search server.

The index (migration 0011_search, where the design is argued) holds ONE document per ticket: its
subject, what the customer can see (their mail, our replies) and what only agents can (notes,
Tiketti's system notes), written by the database's triggers in the transaction that writes the
ticket or the message. So a search run right after a reply finds it, and nothing can forget to index.

Both stores split words the same way and keep them whole and lower-cased (FTS5's `unicode61`
tokenizer without diacritic folding, PostgreSQL's `simple` configuration): why, in the migration.
A word ending in `*` finds the words it begins (`lasku*`: lasku, laskun, laskutus).

A ticket is found when every term is somewhere in it; a light agent's terms are looked for in the
subject and the customer-visible part only. Best first is bm25 (SQLite) or ts_rank (PostgreSQL)
over the ticket's document, the subject weighted most; ties and `newest` go by creation, newest
first. The total is counted only up to a cap (the caller says how far): counting 13,000 matches
exactly costs more than finding the page, and nobody pages through a thousand tickets.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import any_, exists, false, func, literal, literal_column, or_, select, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql import ColumnElement, Select

from bot.domain.model import Agent, Contact, Ticket
from bot.domain.search_query import SearchFilter, Term
from bot.store import orm
from bot.store.repositories import _Repo, chunks

# What the migration adds that the ORM's tables do not describe (tests/test_schema.py leaves them out
# of the comparison): the FTS5 table with its shadow tables on SQLite, the tsvector column and its GIN
# index on PostgreSQL. Alembic cannot describe virtual tables, and the column is written by triggers only.
FTS_TABLES = ("ticket_search",)
SEARCH_COLUMN = "search_vector"
SEARCH_INDEXES = ("ix_tickets_search_vector",)
# bm25's column weights on SQLite (subject, public, notes); PostgreSQL's ts_rank weighs A (the subject)
# 1.0, B (customer-visible) 0.4 and C (notes) 0.2 by default.
BM25_WEIGHTS = (4.0, 1.0, 1.0)


def outside_orm(name: str | None, type_: str, parent_names: dict[str, str | None]) -> bool:
    """Alembic's `include_name` hook: False for what the search index adds beside the ORM's schema."""
    if name is None:
        return True
    if type_ == "table":
        return not any(name == t or name.startswith(f"{t}_") for t in FTS_TABLES)
    if type_ == "column":
        return name != SEARCH_COLUMN
    if type_ == "index":
        return name not in SEARCH_INDEXES
    return True


def match_expression(term: Term) -> str:
    """The FTS5 query for one term: always a quoted string, so nothing typed is FTS5 syntax."""
    return '"' + term.text.replace('"', '""') + '"' + ("*" if term.prefix else "")


def fts_query(f: SearchFilter) -> str:
    """Every term AND-ed; a light agent's limited to the subject and the customer-visible text."""
    terms = " AND ".join(match_expression(t) for t in f.terms)
    return terms if f.notes else "{subject public} : (" + terms + ")"


class SqlSearch(_Repo):
    def __init__(self, session: AsyncSession) -> None:
        super().__init__(session)
        self._kept: list[object] = []  # the page's rows, held so the views find them in the identity map

    async def page(self, f: SearchFilter, *, limit: int, offset: int, count_up_to: int,
                   rank_up_to: int) -> tuple[list[Ticket], int]:
        """One page of matching tickets in order, and how many match, counted up to `count_up_to` + 1 at most:
        a total past `count_up_to` means "more than that". Best first ranks the newest `rank_up_to` matches."""
        if self._pg:
            # A word search's estimated cost passes jit_above_cost, and compiling takes longer than running it.
            # asyncpg prepares statements, and after five runs PostgreSQL may switch to a generic plan that
            # cannot see how common the words or how narrow the filters are (`refund status:open`: 40 ms
            # planned for its values, 250 ms generic); planning afresh costs a millisecond or two.
            await self.session.execute(text("SELECT set_config('jit', 'off', true), "
                                            "set_config('plan_cache_mode', 'force_custom_plan', true)"))
        # The count scores nothing: ranking is for the page alone.
        counted = self._matching(f, ranked=False, candidates=count_up_to).order_by(None).limit(count_up_to + 1).subquery()
        total = int((await self.session.execute(select(func.count()).select_from(counted))).scalar_one())
        if total == 0 or offset >= total:
            return [], total
        found = self._matching(f, ranked=f.ranked, candidates=rank_up_to)
        ids = [int(i) for i in (await self.session.execute(found.limit(limit).offset(offset))).scalars().all()]
        return await self._load(ids), total

    async def agents_named(self, who: str) -> list[int]:
        """Agents a person may mean by `who`: a chat user id, an email, a name (whole, or its first word),
        or an email's local part: `assignee:ana` finds Ana Agent <ana@example.com>."""
        a = orm.agents.c
        key = who.strip().lower()
        q = select(a.id).where(or_(func.lower(a.chat_user_id) == key, func.lower(a.email) == key,
                                   func.lower(a.name) == key, func.lower(a.name).like(_like_prefix(key + " "), escape="\\"),
                                   func.lower(a.email).like(_like_prefix(key + "@"), escape="\\"))).order_by(a.id)
        return [int(i) for i in (await self.session.execute(q)).scalars().all()]

    def _matching(self, f: SearchFilter, *, ranked: bool, candidates: int) -> Select[tuple[int]]:
        """The matching tickets' ids in order. Best first ranks the newest `candidates` matches, not all of
        them: ranking reads every ranked ticket's document (13,000 for `invoice` at 1,000,000 messages,
        0.1 s on PostgreSQL; the newest 1,000 still 70 ms), where the newest matches
        come straight off the `created_at` index."""
        t = orm.tickets.c
        newest = (t.created_at.desc(), t.id.desc())
        if not f.terms:
            return select(t.id).select_from(orm.tickets).where(*self._filters(f)).order_by(*newest)
        if self._pg:
            vector = literal_column("tickets.search_vector")
            query = self._tsquery(f.terms)
            q = select(t.id).select_from(orm.tickets).where(vector.op("@@")(query), *self._filters(f))
            if not f.notes:
                vector = func.ts_filter(vector, literal_column("'{a,b}'::\"char\"[]"))
                q = q.where(vector.op("@@")(query))
            if not ranked:
                return q.order_by(*newest)
            best = (q.with_only_columns(t.id, t.created_at, vector.label("document"))
                    .order_by(*newest).limit(candidates).subquery("candidates"))
            return (select(best.c.id)
                    .order_by(func.ts_rank(best.c.document, query).desc(), best.c.created_at.desc(), best.c.id.desc()))
        # The FTS5 lookup first, once, as its own (materialized) set: joined plainly, SQLite may walk an index
        # of tickets and run the MATCH again for each one.
        scored = [func.bm25(literal_column("ticket_search"), *BM25_WEIGHTS).label("score")] if ranked else []
        hits = (select(literal_column("rowid").label("id"), *scored)
                .select_from(text("ticket_search"))
                .where(literal_column("ticket_search").op("MATCH")(fts_query(f)))
                .cte("hits").prefix_with("MATERIALIZED"))
        q = select(t.id).select_from(hits.join(orm.tickets, t.id == hits.c.id)).where(*self._filters(f))
        if not ranked:
            return q.order_by(*newest)
        best = (q.with_only_columns(t.id, t.created_at, hits.c.score)
                .order_by(*newest).limit(candidates).subquery("candidates"))
        return select(best.c.id).order_by(best.c.score, best.c.created_at.desc(), best.c.id.desc())

    @staticmethod
    def _tsquery(terms: Sequence[Term]) -> ColumnElement[object]:
        """Every term AND-ed into one tsquery: a word or a phrase in order, or a word's beginning."""
        each = [func.to_tsquery(literal_column("'simple'::regconfig"), f"{t.text}:*") if t.prefix
                else func.phraseto_tsquery(literal_column("'simple'::regconfig"), t.text) for t in terms]
        query = each[0]
        for more in each[1:]:
            query = query.op("&&")(more)
        return query

    def _filters(self, f: SearchFilter) -> list[ColumnElement[bool]]:
        t = orm.tickets.c
        where: list[ColumnElement[bool]] = []
        if f.statuses:
            where.append(t.status.in_(list(f.statuses)))
        if f.status_label:
            where.append(func.lower(t.status_label) == f.status_label.lower())
        if f.team:
            where.append(t.team == f.team)
        for tag in f.tags:
            where.append(self._has_tag(tag))
        if f.sender:
            senders = select(orm.contacts.c.id).where(_sender(f.sender))
            if self._pg:
                # As an array, not a join: then PostgreSQL can AND the customers' tickets (ix_tickets_requester_id)
                # with the words' in bitmaps before reading a row (`from:bigcorp.example invoice`: 220 -> 80 ms).
                where.append(t.requester_id == any_(func.array(senders.scalar_subquery())))
            else:
                where.append(t.requester_id.in_(senders))
        if f.unassigned:
            where.append(t.assignee_id.is_(None))
        if f.assignee_ids is not None:
            where.append(t.assignee_id.in_(list(f.assignee_ids)) if f.assignee_ids else false())
        if f.category:
            where.append(t.category == f.category)
        if f.priority is not None:
            where.append(t.priority == f.priority)
        if f.after is not None:
            where.append(t.created_at >= f.after)
        if f.before is not None:
            where.append(t.created_at < f.before)
        where.extend(self._visible(f))
        return where

    def _visible(self, f: SearchFilter) -> list[ColumnElement[bool]]:
        t = orm.tickets.c
        c = orm.collaborators.c
        pulled_in = (t.id.in_(select(c.ticket_id).where(c.agent_id == f.pulled_in_by))
                     if f.pulled_in_by is not None else None)
        if f.only_pulled_in:
            return [pulled_in if pulled_in is not None else false()]
        if not f.hidden_teams:
            return []
        shown = or_(t.team.is_(None), t.team.not_in(list(f.hidden_teams)))
        return [or_(shown, pulled_in) if pulled_in is not None else shown]

    def _has_tag(self, tag: str) -> ColumnElement[bool]:
        tags = orm.tickets.c.tags
        if self._pg:
            each = func.json_array_elements_text(tags).table_valued("value")
        else:
            each = func.json_each(tags).table_valued("value")
        return exists(select(literal(1)).select_from(each).where(func.lower(each.c.value) == tag.lower()))

    async def _load(self, ids: Sequence[int]) -> list[Ticket]:
        """The page's tickets in order, with their customers and assignees loaded in the same breath: taking
        their views then asks the session's identity map, not the database, for each one. The identity map
        holds rows only weakly, so they are kept on this repository until the unit of work ends."""
        if not ids:
            return []
        tickets = {tk.id: tk for tk in (await self.session.scalars(select(Ticket).where(orm.tickets.c.id.in_(ids)))).all()}
        contacts = sorted({tk.requester_id for tk in tickets.values() if tk.requester_id is not None})
        agents = sorted({tk.assignee_id for tk in tickets.values() if tk.assignee_id is not None})
        for some in chunks(contacts):
            self._kept.extend((await self.session.scalars(select(Contact).where(orm.contacts.c.id.in_(some)))).all())
        for some in chunks(agents):
            self._kept.extend((await self.session.scalars(select(Agent).where(orm.agents.c.id.in_(some)))).all())
        return [tickets[i] for i in ids if i in tickets]


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _like_prefix(text: str) -> str:
    return _escape_like(text) + "%"


def _sender(sender: str) -> ColumnElement[bool]:
    email = orm.contacts.c.email
    if "@" in sender:
        return email == sender.lower()
    domain = sender.lower().lstrip(".")
    escaped = _escape_like(domain)
    return or_(email.like(f"%@{escaped}", escape="\\"), email.like(f"%@%.{escaped}", escape="\\"))
