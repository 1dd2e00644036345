"""Builds the object graph from settings: the only place that knows which concrete parts are in use."""

from __future__ import annotations

import secrets
import tomllib
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.domain.workflow import Workflow, WorkflowError, parse_workflow
from bot.handlers.bus import EventBus
from bot.handlers.config import HelpdeskConfig
from bot.handlers.context import Context
from bot.mail.compose import MailComposer
from bot.settings import Settings
from bot.store.db import create_engine
from bot.store.migrate import ensure_schema
from bot.store.uow import SqlUnitOfWorkFactory


@dataclass
class Core:
    settings: Settings
    engine: AsyncEngine
    ctx: Context

    async def close(self) -> None:
        await self.engine.dispose()


def helpdesk_config(s: Settings) -> HelpdeskConfig:
    return HelpdeskConfig(
        support_address=s.support_address.lower(),
        support_name=s.support_name,
        subject_tag=s.subject_tag,
        own_addresses=frozenset(s.all_own_addresses),
        ack_enabled=s.ack_enabled,
        ack_limit_per_hour=s.ack_limit_per_hour,
        send_limit_per_hour=s.send_limit_per_hour,
        first_response_text=s.first_response_text,
        undo_seconds=s.undo_seconds,
        max_attachment_bytes=s.max_attachment_bytes,
        max_mime_parts=s.max_mime_parts,
        max_attachments=s.max_attachments,
        workflow=load_workflow(s.workflow_file),
        replies_dir=s.replies_dir,
        timezone=s.timezone,
        chat_platforms=chat_platforms(s),
        kb_dir=str(s.kb_dir),
        kb_rescan_seconds=s.kb_rescan_seconds,
        kb_suggestions=s.kb_suggestions,
    )


def chat_platforms(s: Settings) -> frozenset[str]:
    """The platforms `tiketti run` shows tickets on: those whose token is set."""
    return frozenset(name for name, token in (("slack", s.slack_bot_token), ("discord", s.discord_token)) if token)


def load_workflow(path: Path) -> Workflow:
    """Teams, routing rules and templates from the workflow file; none of them when there is no file."""
    if not path.is_file():
        return Workflow()
    with path.open("rb") as f:
        try:
            return parse_workflow(tomllib.load(f))
        except (tomllib.TOMLDecodeError, WorkflowError, ValueError) as exc:
            raise WorkflowError(f"{path}: {exc}") from exc


async def build_core(settings: Settings, *, migrate: bool = True, engine: AsyncEngine | None = None) -> Core:
    """Open the store (migrating it first unless told not to) and wire the handlers' context."""
    engine = engine or create_engine(settings.database_url)
    if migrate:
        await ensure_schema(engine)  # Alembic itself only when the schema is behind
    uow = SqlUnitOfWorkFactory(engine)
    key = await _signing_key(settings, uow)
    ctx = Context(
        uow=uow,
        config=helpdesk_config(settings),
        composer=MailComposer(settings.support_address, settings.support_name),
        key=key,
        bus=EventBus(),
    )
    return Core(settings=settings, engine=engine, ctx=ctx)


async def _signing_key(settings: Settings, uow: SqlUnitOfWorkFactory) -> bytes:
    """The configured key, or one generated once and kept in the database so every instance agrees."""
    if settings.secret_key is not None:
        return settings.secret_key.get_secret_value().encode()
    async with uow() as u:
        value = await u.kv.put_if_absent("message_id_key", secrets.token_hex(32))
        await u.commit()
    return value.encode()
