"""full-text search over tickets (issue 14): one search document per ticket, FTS5 on SQLite, tsvector + GIN on PostgreSQL

Why one document per TICKET, not one per message: a search lists tickets, and a ticket is found when
every word is somewhere in it (its subject or any of its messages, not necessarily the same one).
With a document per message, a common word's search scored and looked up every matching MESSAGE
(49,550 for `invoice` at 1,000,000 messages) and then grouped them by ticket, one GROUP BY per word,
so a search took 0.5-2 s and two words on PostgreSQL 11-21 s (docs/performance.md, "Search"). With a
document per ticket every word is one lookup in one index, the words are AND-ed inside the index
(FTS5's implicit AND, tsquery `&&`), no grouping is needed, and the work grows with matching tickets.

Each ticket's document has three parts, so who may find what is a filter on the part, not on rows:
the subject; what the customer can see (their mail and our replies); and what only agents can
(internal notes, Tiketti's system notes). A light agent's words must never match the last part.

SQLite (3.40: no `contentless_delete`, so a contentless table could not forget a ticket's old text):
the FTS5 table `ticket_search(subject, public, notes)`, rowid = the ticket's id, storing its text.
Triggers keep it in the transaction that writes: a new ticket inserts its row; a new message appends
its text to its part (FTS5 re-indexes that one row, a few KB for a usual ticket); an edited, moved
(merge) or deleted message, and a subject change, recompute the ticket's parts from its messages.
A light agent's match is limited to `{subject public}`; best first is bm25 with the subject weighted.

PostgreSQL: a `search_vector` tsvector column on tickets (GIN-indexed) with weights: A the subject,
B what the customer can see, C notes. A new message appends `setweight(to_tsvector(...))` to it (a
cheap concatenation); an edit, move or delete of a message and a subject change recompute it from
the ticket's messages (`tiketti_ticket_vector`). A light agent's match is also checked against
`ts_filter(search_vector, '{a,b}')`. A tsvector holds at most 1 MB: appending to a ticket that has
reached it leaves the vector as it was (the message is kept, it is just not searchable).

Both stores keep words whole and lower-cased (the `simple` configuration, FTS5's `unicode61` without
diacritic folding), not a language's stemmer: a helpdesk here gets Finnish, Swedish, English and
German mail, often mixed in one thread, and a message does not say its language; a stemmer for one
language mangles the others, and four configurations would quadruple the index. A typed prefix
(`lasku*`) serves the inflected languages the same on both stores, so a deployment finds the same
tickets on either. Each message is indexed up to its first 100,000 characters and each part of a
ticket up to its first 200,000 (a pasted log must not make storing the mail fail, nor every later
message on that ticket dear to index).

A later migration that rebuilds `tickets` or `messages` on SQLite (batch mode's copy-and-rename)
drops these triggers with the old table and must create them again (`sqlite_triggers` below).

Revision ID: 0011
Revises: 0010
"""

from __future__ import annotations

from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

TOKENIZER = "unicode61 remove_diacritics 0"
MESSAGE_CHARACTERS = 100_000  # of each message
PART_CHARACTERS = 200_000  # of each part of a ticket (customer-visible text, notes)
INTERNAL = "('note', 'system')"  # MessageKind.NOTE, MessageKind.SYSTEM


def _sqlite_part(ticket: str, internal: bool) -> str:
    """A part of a ticket's document from its messages, in order: what appending built, message by message."""
    kinds = f"kind {'' if internal else 'NOT '}IN {INTERNAL}"
    return (f"coalesce((SELECT substr(group_concat(b, char(10)), 1, {PART_CHARACTERS}) FROM "
            f"(SELECT substr(body_text, 1, {MESSAGE_CHARACTERS}) AS b FROM messages "
            f"WHERE ticket_id = {ticket} AND {kinds} ORDER BY id)), '')")


def _sqlite_append(part: str, internal: bool) -> str:
    kinds = f"new.kind {'' if internal else 'NOT '}IN {INTERNAL}"
    text = f"substr(new.body_text, 1, {MESSAGE_CHARACTERS})"
    return (f"UPDATE ticket_search SET {part} = substr(CASE WHEN {part} = '' THEN {text} "
            f"ELSE {part} || char(10) || {text} END, 1, {PART_CHARACTERS}) "
            f"WHERE rowid = new.ticket_id AND {kinds} AND length({part}) < {PART_CHARACTERS};")


def _sqlite_recompute(ticket: str) -> str:
    return (f"UPDATE ticket_search SET public = {_sqlite_part(ticket, False)}, "
            f"notes = {_sqlite_part(ticket, True)} WHERE rowid = {ticket};")


SQLITE_TRIGGERS = {
    "ticket_search_ticket_insert": "AFTER INSERT ON tickets BEGIN "
    "INSERT INTO ticket_search(rowid, subject, public, notes) VALUES (new.id, new.subject, '', ''); END",
    "ticket_search_ticket_subject": "AFTER UPDATE OF subject ON tickets WHEN old.subject IS NOT new.subject BEGIN "
    "UPDATE ticket_search SET subject = new.subject WHERE rowid = new.id; END",
    "ticket_search_ticket_delete": "AFTER DELETE ON tickets BEGIN DELETE FROM ticket_search WHERE rowid = old.id; END",
    "ticket_search_message_insert": "AFTER INSERT ON messages BEGIN "
    f"{_sqlite_append('public', False)} {_sqlite_append('notes', True)} END",
    "ticket_search_message_update": "AFTER UPDATE OF body_text, kind, ticket_id ON messages WHEN "
    "old.body_text IS NOT new.body_text OR old.kind IS NOT new.kind OR old.ticket_id IS NOT new.ticket_id BEGIN "
    f"{_sqlite_recompute('old.ticket_id')} {_sqlite_recompute('new.ticket_id')} END",
    "ticket_search_message_delete": f"AFTER DELETE ON messages BEGIN {_sqlite_recompute('old.ticket_id')} END",
}


def sqlite_triggers() -> list[str]:
    return [f"CREATE TRIGGER {name} {body}" for name, body in SQLITE_TRIGGERS.items()]


def _pg_part(internal: bool) -> str:
    kinds = f"m.kind {'' if internal else 'NOT '}IN {INTERNAL}"
    return (f"setweight(to_tsvector('simple'::regconfig, coalesce(left(string_agg(left(m.body_text, "
            f"{MESSAGE_CHARACTERS}), E'\\n' ORDER BY m.id) FILTER (WHERE {kinds}), {PART_CHARACTERS}), '')), "
            f"'{'C' if internal else 'B'}')")


PG_FUNCTIONS = [
    # The whole vector of one ticket from its subject and messages: for edits, moves and the subject.
    "CREATE FUNCTION tiketti_ticket_vector(ticket bigint, subject text) RETURNS tsvector LANGUAGE sql STABLE AS $$ "
    "SELECT setweight(to_tsvector('simple'::regconfig, subject), 'A') || "
    f"{_pg_part(False)} || {_pg_part(True)} FROM messages m WHERE m.ticket_id = ticket $$",
    "CREATE FUNCTION tiketti_ticket_indexed() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
    "IF TG_OP = 'INSERT' THEN NEW.search_vector := setweight(to_tsvector('simple'::regconfig, NEW.subject), 'A'); "
    "ELSE NEW.search_vector := tiketti_ticket_vector(NEW.id, NEW.subject); END IF; RETURN NEW; END $$",
    "CREATE FUNCTION tiketti_message_indexed() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
    "IF TG_OP = 'INSERT' THEN "
    "  BEGIN "
    "    UPDATE tickets SET search_vector = coalesce(search_vector, ''::tsvector) || setweight(to_tsvector("
    f"'simple'::regconfig, left(NEW.body_text, {MESSAGE_CHARACTERS})), "
    f"CASE WHEN NEW.kind IN {INTERNAL} THEN 'C' ELSE 'B' END::\"char\") WHERE id = NEW.ticket_id; "
    "  EXCEPTION WHEN program_limit_exceeded THEN NULL; "  # the 1 MB a tsvector may hold: keep what is there
    "  END; "
    "  RETURN NULL; "
    "END IF; "
    "UPDATE tickets SET search_vector = tiketti_ticket_vector(id, subject) WHERE id = OLD.ticket_id; "
    "IF TG_OP = 'UPDATE' AND NEW.ticket_id IS DISTINCT FROM OLD.ticket_id THEN "
    "  UPDATE tickets SET search_vector = tiketti_ticket_vector(id, subject) WHERE id = NEW.ticket_id; "
    "END IF; "
    "RETURN NULL; END $$",
]

PG_TRIGGERS = [
    "CREATE TRIGGER tiketti_ticket_insert BEFORE INSERT ON tickets FOR EACH ROW EXECUTE FUNCTION tiketti_ticket_indexed()",
    "CREATE TRIGGER tiketti_ticket_subject BEFORE UPDATE OF subject ON tickets FOR EACH ROW "
    "WHEN (OLD.subject IS DISTINCT FROM NEW.subject) EXECUTE FUNCTION tiketti_ticket_indexed()",
    "CREATE TRIGGER tiketti_message_insert AFTER INSERT ON messages FOR EACH ROW EXECUTE FUNCTION tiketti_message_indexed()",
    "CREATE TRIGGER tiketti_message_update AFTER UPDATE OF body_text, kind, ticket_id ON messages FOR EACH ROW "
    "WHEN (OLD.body_text IS DISTINCT FROM NEW.body_text OR OLD.kind IS DISTINCT FROM NEW.kind "
    "OR OLD.ticket_id IS DISTINCT FROM NEW.ticket_id) EXECUTE FUNCTION tiketti_message_indexed()",
    "CREATE TRIGGER tiketti_message_delete AFTER DELETE ON messages FOR EACH ROW EXECUTE FUNCTION tiketti_message_indexed()",
]


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute(f"CREATE VIRTUAL TABLE ticket_search USING fts5(subject, public, notes, tokenize='{TOKENIZER}')")
        # The existing rows in one pass: each ticket's messages grouped in id order (the triggers' order).
        parts = ", ".join(
            f"substr(group_concat(CASE WHEN kind {'' if internal else 'NOT '}IN {INTERNAL} THEN "
            f"substr(body_text, 1, {MESSAGE_CHARACTERS}) END, char(10)), 1, {PART_CHARACTERS}) AS {name}"
            for name, internal in (("public", False), ("notes", True)))
        op.execute("INSERT INTO ticket_search(rowid, subject, public, notes) "
                   "SELECT t.id, t.subject, coalesce(p.public, ''), coalesce(p.notes, '') FROM tickets t LEFT JOIN "
                   f"(SELECT ticket_id, {parts} FROM (SELECT ticket_id, kind, body_text FROM messages "
                   "ORDER BY ticket_id, id) GROUP BY ticket_id) p ON p.ticket_id = t.id")
        for statement in sqlite_triggers():
            op.execute(statement)
        return
    op.execute("ALTER TABLE tickets ADD COLUMN search_vector tsvector")
    for statement in PG_FUNCTIONS:
        op.execute(statement)
    # The existing rows in one pass over messages grouped by ticket, then the tickets without messages.
    op.execute(f"UPDATE tickets t SET search_vector = setweight(to_tsvector('simple'::regconfig, t.subject), 'A') "
               f"|| g.b || g.c FROM (SELECT m.ticket_id, {_pg_part(False)} AS b, {_pg_part(True)} AS c "
               "FROM messages m GROUP BY m.ticket_id) g WHERE g.ticket_id = t.id")
    op.execute("UPDATE tickets SET search_vector = setweight(to_tsvector('simple'::regconfig, subject), 'A') "
               "WHERE search_vector IS NULL")
    op.execute("CREATE INDEX ix_tickets_search_vector ON tickets USING gin (search_vector)")
    for statement in PG_TRIGGERS:
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for name in SQLITE_TRIGGERS:
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
        op.execute("DROP TABLE IF EXISTS ticket_search")
        return
    op.execute("DROP TRIGGER IF EXISTS tiketti_message_delete ON messages")
    op.execute("DROP TRIGGER IF EXISTS tiketti_message_update ON messages")
    op.execute("DROP TRIGGER IF EXISTS tiketti_message_insert ON messages")
    op.execute("DROP TRIGGER IF EXISTS tiketti_ticket_subject ON tickets")
    op.execute("DROP TRIGGER IF EXISTS tiketti_ticket_insert ON tickets")
    op.execute("DROP FUNCTION IF EXISTS tiketti_message_indexed()")
    op.execute("DROP FUNCTION IF EXISTS tiketti_ticket_indexed()")
    op.execute("DROP FUNCTION IF EXISTS tiketti_ticket_vector(bigint, text)")
    op.execute("DROP INDEX IF EXISTS ix_tickets_search_vector")
    op.execute("ALTER TABLE tickets DROP COLUMN IF EXISTS search_vector")
