"""What a refused action must leave as it was, for the Discord permission tests: the store and the channels.

`store_state` (tests.support.store_state) is everything an action could change in the
store but the audit rows of refusals, which a refusal must write (`refusals` counts them). `public_writes`
counts Discord REST writes but interaction answers (ephemeral, to the caller) and a
DM to the person (how a refused thread message is answered: a thread has no private
answer).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from bot.app import Core
from bot.store import orm
from tests.support.fake_discord import FakeDiscord
from tests.support.store_state import store_state  # noqa: F401 - the Discord tests' one import

Json = dict[str, Any]


async def refusals(core: Core, user: Json | None = None) -> int:
    """Audit rows of refused attempts (by `user`, or by anyone), ticket or not."""
    a = orm.audit_events.c
    query = select(func.count()).select_from(orm.audit_events).where(a.action == "refused")
    if user is not None:
        query = query.where(a.actor == f"agent:{user['id']}")
    async with core.engine.connect() as conn:
        return int((await conn.execute(query)).scalar_one())


def public_writes(fake: FakeDiscord, user: Json | None = None) -> list[str]:
    """Every REST write the bot made but its answers to interactions (and a DM to `user`)."""
    dm = next((c["id"] for c in fake.channels.values() if c["type"] == 1 and user is not None
               and c["recipients"][0]["id"] == user["id"]), None)
    private = ("/interactions/", "/webhooks/", "/users/@me/channels")
    return [path for name, path in fake.calls if not name.startswith("GET ")
            and not any(p in name for p in private) and not (dm is not None and f"/channels/{dm}/" in path)]
