"""full-text search over tickets and messages (issue 14): FTS5 on SQLite, tsvector + GIN on PostgreSQL

Both indexes are kept by the database in the transaction that writes a ticket or a message, and
this migration fills them for the rows already there (`rebuild` on SQLite; on PostgreSQL adding
a stored generated column computes it for every row).

SQLite: two external-content FTS5 tables (`tickets_fts` over subjects, `messages_fts` over every
message's text; the text is not stored twice), kept by AFTER INSERT/UPDATE/DELETE triggers. A
later migration that rebuilds `tickets` or `messages` (batch mode's copy-and-rename) drops these
triggers with the old table and must create them again (`_sqlite_triggers` below).

PostgreSQL: a generated `search_vector` column on each table and a GIN index on it. The vector
uses the `simple` configuration (words whole and lower-cased, no stemming, no stop words), not a
language's: a helpdesk here gets Finnish, Swedish, English and German mail, often mixed in one
thread, and a message does not say its language. A Finnish stemmer applied to English mail (or
an English one to Finnish) conflates unrelated words and drops the other language's stop words
as if they were content; indexing every message under four configurations would quadruple the
index for every search. Exact words plus a typed prefix (`lasku*` for lasku/laskun/laskutus, the
suffix-heavy languages' answer) behaves the same in every language, and the same as SQLite's
FTS5 `unicode61` tokenizer (no diacritic folding either: "hätä" is not "hata" in Finnish), so a
deployment finds the same tickets on either store. Messages are indexed up to their first
100,000 characters: a tsvector holds at most 1 MB, and a longer text (a pasted log) would
otherwise make storing the mail itself fail.

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
INDEXED_CHARACTERS = 100_000


def _sqlite_triggers(table: str, fts: str, col: str) -> list[str]:
    new = f"INSERT INTO {fts}(rowid, {col}) VALUES (new.id, new.{col});"
    old = f"INSERT INTO {fts}({fts}, rowid, {col}) VALUES ('delete', old.id, old.{col});"
    return [
        f"CREATE TRIGGER {fts}_insert AFTER INSERT ON {table} BEGIN {new} END",
        f"CREATE TRIGGER {fts}_delete AFTER DELETE ON {table} BEGIN {old} END",
        f"CREATE TRIGGER {fts}_update AFTER UPDATE OF {col} ON {table} BEGIN {old} {new} END",
    ]


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for table, fts, col in (("tickets", "tickets_fts", "subject"), ("messages", "messages_fts", "body_text")):
            op.execute(f"CREATE VIRTUAL TABLE {fts} USING fts5({col}, content='{table}', content_rowid='id', "
                       f"tokenize='{TOKENIZER}')")
            for statement in _sqlite_triggers(table, fts, col):
                op.execute(statement)
            op.execute(f"INSERT INTO {fts}({fts}) VALUES ('rebuild')")
        return
    op.execute("ALTER TABLE tickets ADD COLUMN search_vector tsvector "
               "GENERATED ALWAYS AS (to_tsvector('simple'::regconfig, subject)) STORED")
    op.execute("ALTER TABLE messages ADD COLUMN search_vector tsvector GENERATED ALWAYS AS "
               f"(to_tsvector('simple'::regconfig, left(body_text, {INDEXED_CHARACTERS}))) STORED")
    op.execute("CREATE INDEX ix_tickets_search_vector ON tickets USING gin (search_vector)")
    op.execute("CREATE INDEX ix_messages_search_vector ON messages USING gin (search_vector)")


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for fts in ("tickets_fts", "messages_fts"):
            for suffix in ("insert", "delete", "update"):
                op.execute(f"DROP TRIGGER IF EXISTS {fts}_{suffix}")
            op.execute(f"DROP TABLE IF EXISTS {fts}")
        return
    op.execute("DROP INDEX IF EXISTS ix_messages_search_vector")
    op.execute("DROP INDEX IF EXISTS ix_tickets_search_vector")
    op.execute("ALTER TABLE messages DROP COLUMN IF EXISTS search_vector")
    op.execute("ALTER TABLE tickets DROP COLUMN IF EXISTS search_vector")
