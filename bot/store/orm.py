"""Tables, and the imperative mapping of the domain classes onto them.

Imperative mapping (rather than declarative models) keeps `bot.domain` free of
SQLAlchemy: the domain classes stay plain, and this module teaches the ORM how
to load and save them. Alembic's migrations are the source of truth for the
live schema; `metadata` here must describe the same thing (a test checks it).
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import registry

from bot.domain.model import (
    Agent,
    Attachment,
    AuditEvent,
    ChatPost,
    ChatThread,
    Collaborator,
    Contact,
    JobRun,
    MailboxCursor,
    MailState,
    Message,
    MessageKind,
    OutboundMail,
    QuarantinedMail,
    ReplyDraft,
    Task,
    Ticket,
)
from bot.domain.priority import Priority
from bot.domain.status import Status
from bot.store.columns import PK, StrEnumType, UTCDateTime, metadata  # noqa: F401  (re-exported)

contacts = Table(
    "contacts",
    metadata,
    Column("id", PK, primary_key=True, autoincrement=True),
    Column("email", String(320), nullable=False, unique=True),
    Column("name", String(200), nullable=False, default=""),
    Column("created_at", UTCDateTime(), nullable=True),
    Column("automatic_mail_stopped_at", UTCDateTime(), nullable=True),
    Column("automatic_mail_stopped_reason", Text, nullable=True),
)

agents = Table(
    "agents",
    metadata,
    Column("id", PK, primary_key=True, autoincrement=True),
    Column("chat_user_id", String(64), nullable=False, unique=True),
    Column("name", String(200), nullable=False, default=""),
    Column("email", String(320), nullable=True, index=True),
    Column("created_at", UTCDateTime(), nullable=True),
)

tickets = Table(
    "tickets",
    metadata,
    Column("id", PK, primary_key=True, autoincrement=True),
    Column("subject", String(998), nullable=False),
    Column("requester_id", PK, ForeignKey("contacts.id"), nullable=True, index=True),  # None: an internal ticket
    Column("status", StrEnumType(Status), nullable=False, index=True),
    Column("priority", StrEnumType(Priority), nullable=False),
    Column("assignee_id", PK, ForeignKey("agents.id"), nullable=True, index=True),
    Column("team", String(64), nullable=True, index=True),
    Column("tags", JSON, nullable=False),
    Column("created_at", UTCDateTime(), nullable=False, index=True),
    Column("updated_at", UTCDateTime(), nullable=False, index=True),  # chat adapters catch up by it
    Column("first_response_at", UTCDateTime(), nullable=True, index=True),  # reports count by it
    Column("solved_at", UTCDateTime(), nullable=True, index=True),  # reports count by it
    Column("closed_at", UTCDateTime(), nullable=True),
    Column("last_inbound_message_id", String(998), nullable=True),
    Column("references", JSON, nullable=False),
    Column("follow_up_of", PK, ForeignKey("tickets.id"), nullable=True),
    Column("category", String(64), nullable=True, index=True),
    Column("status_label", String(64), nullable=True),
    Column("parent_id", PK, ForeignKey("tickets.id"), nullable=True, index=True),
    Column("merged_into", PK, ForeignKey("tickets.id"), nullable=True),
    Column("sla_policy", String(64), nullable=True),
    Column("first_response_due_at", UTCDateTime(), nullable=True, index=True),
    Column("resolution_due_at", UTCDateTime(), nullable=True, index=True),
    Column("sla_paused_since", UTCDateTime(), nullable=True),
    Column("first_response_breached_at", UTCDateTime(), nullable=True),
    Column("resolution_breached_at", UTCDateTime(), nullable=True),
    Column("sla_events", JSON, nullable=False, default=list),
)

messages = Table(
    "messages",
    metadata,
    Column("id", PK, primary_key=True, autoincrement=True),
    Column("ticket_id", PK, ForeignKey("tickets.id"), nullable=False, index=True),
    Column("kind", StrEnumType(MessageKind), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("body_text", Text, nullable=False),
    Column("body_display", Text, nullable=False),
    Column("body_html", Text, nullable=True),
    Column("author_contact_id", PK, ForeignKey("contacts.id"), nullable=True),
    Column("author_agent_id", PK, ForeignKey("agents.id"), nullable=True),
    Column("author_label", String(400), nullable=False),
    # Unique: the same mail delivered twice (retries, CC copies, IMAP re-reads) is stored once.
    Column("mail_message_id", String(998), nullable=True, unique=True),
    Column("in_reply_to", String(998), nullable=True),
    Column("chat_ref", String(128), nullable=True, index=True, unique=True),  # one note per chat message
)

attachments = Table(
    "attachments",
    metadata,
    Column("id", PK, primary_key=True, autoincrement=True),
    Column("message_id", PK, ForeignKey("messages.id"), nullable=False, index=True),
    Column("filename", String(400), nullable=False),
    Column("content_type", String(200), nullable=False),
    Column("size", BigInteger, nullable=False),
    Column("content", LargeBinary, nullable=True),
)

audit_events = Table(
    "audit_events",
    metadata,
    Column("id", PK, primary_key=True, autoincrement=True),
    Column("ticket_id", PK, ForeignKey("tickets.id"), nullable=True, index=True),
    Column("action", String(64), nullable=False),
    Column("actor", String(400), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("field", String(64), nullable=True),
    Column("before", Text, nullable=True),
    Column("after", Text, nullable=True),
    Column("detail", Text, nullable=True),
)

outbox = Table(
    "outbox",
    metadata,
    Column("id", PK, primary_key=True, autoincrement=True),
    Column("kind", String(32), nullable=False),
    Column("ticket_id", PK, ForeignKey("tickets.id"), nullable=True, index=True),
    Column("message_id", PK, ForeignKey("messages.id"), nullable=True),
    Column("to_addr", String(320), nullable=False, index=True),
    Column("subject", String(998), nullable=False),
    Column("mail_message_id", String(998), nullable=False, unique=True),
    Column("raw", LargeBinary, nullable=False),
    Column("state", StrEnumType(MailState), nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("last_error", Text, nullable=True),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("next_attempt_at", UTCDateTime(), nullable=False),
    Column("lease_until", UTCDateTime(), nullable=True),
    Column("sent_at", UTCDateTime(), nullable=True),
    Index("ix_outbox_due", "state", "next_attempt_at"),
)

# A reply whose mail waits in the outbox for its undo window (bot.handlers.undo), with what the reply
# changed on its ticket, so an undo can put exactly that back. Gone once the window is over.
held_replies = Table(
    "held_replies",
    metadata,
    Column("message_id", PK, ForeignKey("messages.id"), primary_key=True),
    Column("ticket_id", PK, ForeignKey("tickets.id"), nullable=False, index=True),
    Column("outbox_id", PK, ForeignKey("outbox.id"), nullable=False),
    Column("agent_id", PK, ForeignKey("agents.id"), nullable=False),
    Column("held_until", UTCDateTime(), nullable=False, index=True),
    Column("status_before", String(32), nullable=True),  # set when the reply changed the status
    Column("status_label_before", String(64), nullable=True),
    Column("status_after", String(32), nullable=True),
    Column("first_response", Boolean, nullable=False),  # the reply was the ticket's first response
    Column("took_assignee", Boolean, nullable=False),  # the reply assigned the ticket to its author
)

quarantine = Table(
    "quarantine",
    metadata,
    Column("id", PK, primary_key=True, autoincrement=True),
    Column("raw", LargeBinary, nullable=False),
    Column("reason", Text, nullable=False),
    Column("source", String(200), nullable=False),
    Column("received_at", UTCDateTime(), nullable=False),
    Column("sender", String(400), nullable=False),
    Column("subject", String(998), nullable=False),
    Column("resolved_at", UTCDateTime(), nullable=True),
    Column("resolution", Text, nullable=True),
    Column("announced_at", UTCDateTime(), nullable=True),
)

mailbox_cursors = Table(
    "mailbox_cursors",
    metadata,
    Column("id", PK, primary_key=True, autoincrement=True),
    Column("mailbox", String(400), nullable=False, unique=True),
    Column("uidvalidity", BigInteger, nullable=False),
    Column("last_uid", BigInteger, nullable=False),
)

# Small key/value facts the deployment must keep (e.g. the generated signing key).
kv = Table(
    "kv",
    metadata,
    Column("key", String(100), primary_key=True),
    Column("value", Text, nullable=False),
)

# Where each ticket is shown in chat: one row per ticket and platform (see bot.domain.model.ChatThread).
chat_threads = Table(
    "chat_threads",
    metadata,
    Column("id", PK, primary_key=True, autoincrement=True),
    Column("platform", String(16), nullable=False),
    Column("ticket_id", PK, ForeignKey("tickets.id"), nullable=False),
    Column("channel", String(64), nullable=False),
    Column("root_ref", String(64), nullable=True),
    Column("post_attempts", Integer, nullable=False),
    Column("rendered_at", UTCDateTime(), nullable=True),
    Column("lease_owner", String(64), nullable=True),
    Column("lease_until", UTCDateTime(), nullable=True),
    Column("created_at", UTCDateTime(), nullable=True),
    Column("moved_from_channel", String(64), nullable=True),
    Column("moved_from_root", String(64), nullable=True),
    UniqueConstraint("platform", "ticket_id", name="uq_chat_threads_platform_ticket"),
    Index("ix_chat_threads_root", "platform", "channel", "root_ref"),
)

chat_posts = Table(
    "chat_posts",
    metadata,
    Column("id", PK, primary_key=True, autoincrement=True),
    Column("platform", String(16), nullable=False),
    Column("message_id", PK, ForeignKey("messages.id"), nullable=False),
    Column("ticket_id", PK, ForeignKey("tickets.id"), nullable=False, index=True),
    Column("ref", String(64), nullable=False),
    UniqueConstraint("platform", "message_id", name="uq_chat_posts_platform_message"),
)

collaborators = Table(
    "collaborators",
    metadata,
    Column("id", PK, primary_key=True, autoincrement=True),
    Column("ticket_id", PK, ForeignKey("tickets.id"), nullable=False, index=True),
    Column("agent_id", PK, ForeignKey("agents.id"), nullable=False),
    Column("added_at", UTCDateTime(), nullable=False),
    Column("added_by", String(400), nullable=False),
    UniqueConstraint("ticket_id", "agent_id", name="uq_collaborators_ticket_agent"),
)

tasks = Table(
    "tasks",
    metadata,
    Column("id", PK, primary_key=True, autoincrement=True),
    Column("ticket_id", PK, ForeignKey("tickets.id"), nullable=False, index=True),
    Column("text", Text, nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("created_by", String(400), nullable=False),
    Column("assignee_id", PK, ForeignKey("agents.id"), nullable=True, index=True),
    Column("due_at", UTCDateTime(), nullable=True),
    Column("done_at", UTCDateTime(), nullable=True),
    Column("reminded_at", UTCDateTime(), nullable=True),
    Index("ix_tasks_due", "done_at", "reminded_at", "due_at"),
)

# Time agents spent on tickets (bot.handlers.time_tracking), whole minutes; a correction is a negative row.
time_entries = Table(
    "time_entries",
    metadata,
    Column("id", PK, primary_key=True, autoincrement=True),
    Column("ticket_id", PK, ForeignKey("tickets.id"), nullable=False, index=True),
    Column("agent_id", PK, ForeignKey("agents.id"), nullable=False, index=True),
    Column("minutes", Integer, nullable=False),
    Column("note", Text, nullable=False),
    Column("source", String(16), nullable=False),  # command, reply-form, correction
    Column("created_at", UTCDateTime(), nullable=False, index=True),  # reports pick a period by it
)

reply_drafts = Table(
    "reply_drafts",
    metadata,
    Column("id", PK, primary_key=True, autoincrement=True),
    Column("ticket_id", PK, ForeignKey("tickets.id"), nullable=False, index=True),
    Column("agent_id", PK, ForeignKey("agents.id"), nullable=False),
    Column("opened_at", UTCDateTime(), nullable=False),
    UniqueConstraint("ticket_id", "agent_id", name="uq_reply_drafts_ticket_agent"),
)

job_runs = Table(
    "job_runs",
    metadata,
    Column("id", PK, primary_key=True, autoincrement=True),
    Column("job", String(64), nullable=False),
    Column("fire_at", UTCDateTime(), nullable=False),
    Column("instance", String(64), nullable=False),
    Column("started_at", UTCDateTime(), nullable=False),
    Column("finished_at", UTCDateTime(), nullable=True),
    UniqueConstraint("job", "fire_at", name="uq_job_runs_job_fire_at"),
)

# A chat user who proved they own a mail address (bot.handlers.contact_link): their DMs belong to that contact.
contact_links = Table(
    "contact_links",
    metadata,
    Column("id", PK, primary_key=True, autoincrement=True),
    Column("chat_address", String(320), nullable=False, unique=True),  # bot.domain.chat_contacts.chat_address
    Column("contact_id", PK, ForeignKey("contacts.id"), nullable=False, index=True),
    Column("created_at", UTCDateTime(), nullable=False),
)

# Codes mailed to prove an address: hashed, short-lived, a few tries each; the rows also count for the rate limit.
link_codes = Table(
    "link_codes",
    metadata,
    Column("id", PK, primary_key=True, autoincrement=True),
    Column("chat_address", String(320), nullable=False),
    Column("email", String(320), nullable=False),
    Column("code_hash", String(64), nullable=False),
    Column("expires_at", UTCDateTime(), nullable=False),
    Column("tries", Integer(), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Index("ix_link_codes_chat", "chat_address", "created_at"),
    Index("ix_link_codes_email", "email", "created_at"),  # codes mailed to one address, whoever asked
)

# Inbound chat work kept before the platform is answered (bot.handlers.inbox): a crash after the ack
# loses nothing, and a redelivery of the same natural key (Slack's event_id, an interaction's trigger_id)
# is kept once. Done rows stay a day so late redeliveries are still recognised.
chat_inbox = Table(
    "chat_inbox",
    metadata,
    Column("id", PK, primary_key=True, autoincrement=True),
    Column("platform", String(16), nullable=False),
    Column("key", String(200), nullable=False),
    Column("what", String(64), nullable=False),
    Column("payload", JSON, nullable=False),
    Column("state", String(16), nullable=False),  # pending, done, failed
    Column("attempts", Integer, nullable=False),
    Column("received_at", UTCDateTime(), nullable=False),
    Column("next_attempt_at", UTCDateTime(), nullable=False),
    Column("lease_owner", String(64), nullable=True),
    Column("lease_until", UTCDateTime(), nullable=True),
    Column("finished_at", UTCDateTime(), nullable=True),
    Column("last_error", Text, nullable=True),
    UniqueConstraint("platform", "key", name="uq_chat_inbox_platform_key"),
    Index("ix_chat_inbox_due", "platform", "state", "next_attempt_at"),
)

# Notices for people (SLA warnings, tasks due, quarantined mail...), written with the change that causes
# them; each chat platform delivers each one once (notice_deliveries), retried until it is shown.
notices = Table(
    "notices",
    metadata,
    Column("id", PK, primary_key=True, autoincrement=True),
    Column("key", String(200), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("ticket_id", Integer, nullable=True),
    Column("data", JSON, nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    UniqueConstraint("key", name="uq_notices_key"),
    Index("ix_notices_created_at", "created_at"),
)

notice_deliveries = Table(
    "notice_deliveries",
    metadata,
    Column("notice_id", PK, ForeignKey("notices.id", ondelete="CASCADE"), primary_key=True),
    Column("platform", String(16), primary_key=True),
    Column("attempts", Integer, nullable=False),
    Column("ref", String(64), nullable=True),  # what the platform calls the post; "-": not shown there
    Column("delivered_at", UTCDateTime(), nullable=True),
    Column("given_up_at", UTCDateTime(), nullable=True),
    Column("next_attempt_at", UTCDateTime(), nullable=False),
    Column("lease_owner", String(64), nullable=True),
    Column("lease_until", UTCDateTime(), nullable=True),
    Column("last_error", Text, nullable=True),
)

# Mail between the helpdesk and outside experts about a ticket (bot.handlers.experts): our questions and
# their answers, by Message-ID, so an answer finds its ticket and a follow-up continues the mail thread.
expert_asks = Table(
    "expert_asks",
    metadata,
    Column("id", PK, primary_key=True, autoincrement=True),
    Column("ticket_id", PK, ForeignKey("tickets.id"), nullable=False),
    Column("expert", String(320), nullable=False, index=True),
    Column("mail_message_id", String(998), nullable=False, unique=True),
    Column("direction", String(16), nullable=False),  # question, answer
    Column("asked_by", String(400), nullable=True),
    Column("message_id", PK, ForeignKey("messages.id"), nullable=True),
    Column("created_at", UTCDateTime(), nullable=False),
    Index("ix_expert_asks_ticket_expert", "ticket_id", "expert"),
)

mapper_registry = registry(metadata=metadata)
_started = False


def start_mappers() -> None:
    """Map the domain classes once per process; idempotent so tests and CLI can both call it."""
    global _started
    if _started:
        return
    for cls, table in (
        (Contact, contacts),
        (Agent, agents),
        (Ticket, tickets),
        (Message, messages),
        (Attachment, attachments),
        (AuditEvent, audit_events),
        (OutboundMail, outbox),
        (QuarantinedMail, quarantine),
        (MailboxCursor, mailbox_cursors),
        (ChatThread, chat_threads),
        (ChatPost, chat_posts),
        (Collaborator, collaborators),
        (Task, tasks),
        (ReplyDraft, reply_drafts),
        (JobRun, job_runs),
    ):
        mapper_registry.map_imperatively(cls, table)
    _started = True
