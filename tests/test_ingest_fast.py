"""`tiketti ingest` as an MTA runs it once per mail: little imported, no migration when current,
and the mail handed to a running instance's listener when there is one (bot.mail.handoff)."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import text

from bot.app import Core, build_core
from bot.mail.handoff import Listener, configured_listener
from bot.mail.listener import InboundListener
from bot.mail.pipeline import MailPipeline
from bot.settings import Settings
from bot.store.db import create_engine
from bot.store.migrate import alembic_config, current_revisions, ensure_schema, head_revisions
from tests.support.cli import run_tiketti
from tests.support.db import temporary_pg_database
from tests.test_cli import customer_mail

# What storing one mail never needs: chat SDKs, the scheduler, charts, the web server, Alembic.
HEAVY = ("slack_bolt", "slack_sdk", "discord", "apscheduler", "matplotlib", "aiohttp", "alembic")


def _imported(stderr: bytes) -> set[str]:
    """Top-level packages named in `python -X importtime` output."""
    return {name.decode().split(".")[0] for name in re.findall(rb"\|\s+([\w.]+)\s*$", stderr, re.M)}


@pytest.fixture
async def core(tmp_path: Path) -> AsyncIterator[Core]:
    url = f"sqlite+aiosqlite:///{tmp_path / 'fast.db'}"
    core = await build_core(Settings(database_url=url, support_address="support@helpdesk.test"))
    yield core
    await core.close()


def _env(core: Core, tmp_path: Path, **extra: str) -> dict[str, str]:
    return {"TIKETTI_DATABASE_URL": core.settings.database_url, "TIKETTI_SUPPORT_ADDRESS": "support@helpdesk.test",
            "TIKETTI_OUTBOUND_DIR": str(tmp_path / "out"), **extra}


async def _tickets(core: Core) -> int:
    async with core.engine.connect() as conn:
        return int((await conn.execute(text("SELECT count(*) FROM tickets"))).scalar_one())


def test_head_read_from_the_files_is_alembics_head() -> None:
    assert head_revisions() == frozenset(ScriptDirectory.from_config(alembic_config("sqlite://")).get_heads())


@pytest.fixture(params=["sqlite", "postgres"])
async def empty_store_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'new.db'}"
    else:
        async for url in temporary_pg_database():
            yield url


async def test_schema_check_runs_alembic_only_when_behind(empty_store_url: str) -> None:
    engine = create_engine(empty_store_url)
    try:
        assert await current_revisions(engine) is None
        assert await ensure_schema(engine) is True
        assert await current_revisions(engine) == head_revisions()
        assert await ensure_schema(engine) is False
    finally:
        await engine.dispose()


async def test_standalone_ingest_imports_no_chat_scheduler_charts_web_or_alembic(core: Core, tmp_path: Path) -> None:
    res = await asyncio.to_thread(run_tiketti, ["ingest"], env=_env(core, tmp_path, PYTHONPROFILEIMPORTTIME="1"),
                                  cwd=tmp_path, stdin=customer_mail())
    assert res.returncode == 0, res.stderr.decode()[-2000:]
    assert res.stdout.decode().strip() == "created ticket #1"
    assert not set(HEAVY) & _imported(res.stderr)


@pytest.mark.parametrize("lmtp", [True, False], ids=["lmtp", "smtp"])
async def test_ingest_hands_the_mail_to_the_running_listener(core: Core, tmp_path: Path, lmtp: bool) -> None:
    pipeline = MailPipeline(core.ctx)
    listener = InboundListener(core.ctx, pipeline, "127.0.0.1", 0, lmtp=lmtp)
    await listener.start()
    try:
        env = _env(core, tmp_path, TIKETTI_INBOUND_SMTP_PORT=str(listener.port), TIKETTI_INBOUND_LMTP=str(lmtp).lower(),
                   PYTHONPROFILEIMPORTTIME="1")
        res = await asyncio.to_thread(run_tiketti, ["ingest"], env=env, cwd=tmp_path, stdin=customer_mail())
    finally:
        await listener.stop()
        pipeline.close(wait=True)
    assert res.returncode == 0, res.stderr.decode()[-2000:]
    assert res.stdout.decode().startswith(
        f"handed to the running instance ({'LMTP' if lmtp else 'SMTP'} 127.0.0.1:{listener.port}): 2.0.0")
    assert await _tickets(core) == 1
    assert not {"sqlalchemy", "pydantic", "pydantic_settings", "asyncio"} & _imported(res.stderr)


async def test_ingest_stores_the_mail_itself_when_nothing_listens(core: Core, tmp_path: Path) -> None:
    env = _env(core, tmp_path, TIKETTI_INBOUND_SMTP_PORT="1", TIKETTI_INBOUND_LMTP="true")  # nothing on port 1
    res = await asyncio.to_thread(run_tiketti, ["ingest"], env=env, cwd=tmp_path, stdin=customer_mail())
    assert res.returncode == 0, res.stderr.decode()
    assert res.stdout.decode().strip() == "created ticket #1"
    assert await _tickets(core) == 1


@pytest.mark.parametrize(("env", "expected"), [
    ({}, None),
    ({"TIKETTI_INBOUND_SMTP_PORT": "2525"}, Listener("127.0.0.1", 2525, False)),
    ({"TIKETTI_INBOUND_SMTP_PORT": "24", "TIKETTI_INBOUND_LMTP": "true", "TIKETTI_INBOUND_SMTP_HOST": "0.0.0.0"},
     Listener("127.0.0.1", 24, True)),
    ({"TIKETTI_INBOUND_SMTP_PORT": "24", "TIKETTI_INBOUND_SMTP_HOST": "192.0.2.7"}, None),  # not this host's
    ({"TIKETTI_INBOUND_SMTP_PORT": "24", "TIKETTI_INGEST_HANDOFF": "0"}, None),
])
def test_listener_is_read_from_the_settings_variables(env: dict[str, str], expected: Listener | None) -> None:
    assert configured_listener(env) == expected
