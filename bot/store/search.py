"""Full-text search over tickets: SQLite FTS5 or PostgreSQL tsvector + GIN, no search server.

The indexes (migration 0011_search) hold every ticket's subject and every message's text, and are
written by the database itself in the transaction that writes the ticket or the message: FTS5
external-content tables kept by triggers on SQLite, generated `search_vector` columns on
PostgreSQL. So a search run right after a reply finds it, and nothing can forget to index.

Both stores split words the same way and keep them whole and lower-cased (FTS5's `unicode61`
tokenizer without diacritic folding, PostgreSQL's `simple` configuration): why, in the migration.
A word ending in `*` finds the words it begins (`lasku*`: lasku, laskun, laskutus), which serves
inflected languages where a stemmer for one language would mangle the others.

A ticket is found when every term is somewhere in it, in its subject or in any message the
searcher may read (not necessarily the same message). Best first sums, over the terms, the best
score each term has in the ticket (bm25 on SQLite, ts_rank on PostgreSQL, a subject match counting
double); ties and `newest` go by creation, newest first.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Float, Integer, column, exists, false, func, literal, or_, select, text
from sqlalchemy.sql import ColumnElement, Select
from sqlalchemy.sql.selectable import Subquery

from bot.domain.model import Agent, Contact, MessageKind, Ticket
from bot.domain.search_query import SearchFilter, Term
from bot.store import orm
from bot.store.repositories import _Repo, chunks

# What the migration adds that the ORM's tables do not describe (tests/test_schema.py leaves them out
# of the comparison): the FTS5 tables with their shadow tables on SQLite, the generated columns and
# their GIN indexes on PostgreSQL. Alembic cannot describe virtual tables or generated tsvectors.
FTS_TABLES = ("messages_fts", "tickets_fts")
SEARCH_COLUMN = "search_vector"
SEARCH_INDEXES = ("ix_messages_search_vector", "ix_tickets_search_vector")
SUBJECT_WEIGHT = 2.0
INTERNAL_KINDS = (MessageKind.NOTE.value, MessageKind.SYSTEM.value)


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


class SqlSearch(_Repo):
    async def page(self, f: SearchFilter, *, limit: int, offset: int) -> tuple[list[Ticket], int]:
        """One page of matching tickets in order, and how many match in all."""
        found = self._matching(f)
        total = int((await self.session.execute(select(func.count()).select_from(found.order_by(None).subquery()))).scalar_one())
        if total == 0 or offset >= total:
            return [], total
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

    def _matching(self, f: SearchFilter) -> Select[tuple[int]]:
        t = orm.tickets.c
        scores = [self._term(f, i, term) for i, term in enumerate(f.terms)]
        q = select(t.id).select_from(orm.tickets)
        for s in scores:
            q = q.join(s, s.c.ticket_id == t.id)
        q = q.where(*self._filters(f))
        if f.ranked and scores:
            total_score: ColumnElement[float] = scores[0].c.score
            for s in scores[1:]:
                total_score = total_score + s.c.score
            return q.order_by(total_score, t.created_at.desc(), t.id.desc())
        return q.order_by(t.created_at.desc(), t.id.desc())

    def _term(self, f: SearchFilter, i: int, term: Term) -> Subquery:
        """(ticket_id, score) for the tickets with `term` in their subject or a message; lower scores are better."""
        kinds = "" if f.notes else f" AND m.kind NOT IN ('{INTERNAL_KINDS[0]}', '{INTERNAL_KINDS[1]}')"
        if self._pg:
            query = (f"to_tsquery('simple'::regconfig, :q{i})" if term.prefix
                     else f"phraseto_tsquery('simple'::regconfig, :q{i})")
            value = f"{term.text}:*" if term.prefix else term.text
            sql = (f"SELECT ticket_id, min(score) AS score FROM ("
                   f"SELECT m.ticket_id AS ticket_id, -ts_rank(m.search_vector, q) AS score "
                   f"FROM messages m, {query} q WHERE m.search_vector @@ q{kinds} "
                   f"UNION ALL SELECT s.id, -{SUBJECT_WEIGHT} * ts_rank(s.search_vector, q) "
                   f"FROM tickets s, {query} q WHERE s.search_vector @@ q) AS hits GROUP BY ticket_id")
        else:
            value = match_expression(term)
            sql = (f"SELECT ticket_id, min(score) AS score FROM ("
                   f"SELECT m.ticket_id AS ticket_id, bm25(messages_fts) AS score "
                   f"FROM messages_fts JOIN messages m ON m.id = messages_fts.rowid "
                   f"WHERE messages_fts MATCH :q{i}{kinds} "
                   f"UNION ALL SELECT tickets_fts.rowid, {SUBJECT_WEIGHT} * bm25(tickets_fts) "
                   f"FROM tickets_fts WHERE tickets_fts MATCH :q{i}) AS hits GROUP BY ticket_id")
        return (text(sql).bindparams(**{f"q{i}": value})
                .columns(column("ticket_id", Integer), column("score", Float)).subquery(f"term{i}"))

    def _filters(self, f: SearchFilter) -> list[ColumnElement[bool]]:
        t = orm.tickets.c
        where: list[ColumnElement[bool]] = []
        if f.statuses:
            where.append(t.status.in_(list(f.statuses)))
        if f.status_label:
            where.append(func.lower(t.status_label) == f.status_label.lower())
        if f.team:
            where.append(func.lower(t.team) == f.team.lower())
        for tag in f.tags:
            where.append(self._has_tag(tag))
        if f.sender:
            where.append(t.requester_id.in_(select(orm.contacts.c.id).where(_sender(f.sender))))
        if f.unassigned:
            where.append(t.assignee_id.is_(None))
        if f.assignee_ids is not None:
            where.append(t.assignee_id.in_(list(f.assignee_ids)) if f.assignee_ids else false())
        if f.category:
            where.append(func.lower(t.category) == f.category.lower())
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
        their views then asks the session's identity map, not the database, for each one."""
        if not ids:
            return []
        tickets = {tk.id: tk for tk in (await self.session.scalars(select(Ticket).where(orm.tickets.c.id.in_(ids)))).all()}
        contacts = sorted({tk.requester_id for tk in tickets.values() if tk.requester_id is not None})
        agents = sorted({tk.assignee_id for tk in tickets.values() if tk.assignee_id is not None})
        for some in chunks(contacts):
            (await self.session.scalars(select(Contact).where(orm.contacts.c.id.in_(some)))).all()
        for some in chunks(agents):
            (await self.session.scalars(select(Agent).where(orm.agents.c.id.in_(some)))).all()
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
