"""Slack requests kept before the ack (bot.handlers.inbox): their natural key, who to tell, how to redo them.

A request is kept whole, as Slack sent it (the parsed body), so that after a restart it can be fed
to the same Bolt listeners again (`replay`): the listener takes the same path, and its deferred work
is captured instead of being kept a second time (bot.adapters.slack.work). Nothing here knows what
the work is; the listeners stay the one place that says it.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from bot.adapters.slack import answers
from bot.handlers import inbox
from bot.handlers.context import Context
from bot.handlers.ports import InboxItem

log = logging.getLogger(__name__)

PLATFORM = "slack"
Job = Callable[[], Awaitable[None]]
Replay = Callable[[Mapping[str, Any]], Awaitable[Job | None]]  # the work a kept request stands for, if any
Tell = Callable[[str, str | None, dict[str, Any], str | None], Awaitable[None]]  # user, channel, message, thread


def key_of(body: Mapping[str, Any]) -> str:
    """The id Slack gives this delivery, the same on every redelivery: an event's event_id, an
    interaction's or command's trigger_id (one per click or submission). A hash of the body otherwise."""
    if body.get("type") == "event_callback" and isinstance(body.get("event_id"), str):
        return f"event:{body['event_id']}"
    if isinstance(body.get("trigger_id"), str) and body["trigger_id"]:
        kind = "command" if "command" in body else str(body.get("type") or "interaction")
        return f"{kind}:{body['trigger_id']}"
    digest = hashlib.sha256(json.dumps(body, sort_keys=True, default=str).encode()).hexdigest()
    return f"body:{digest}"


@dataclass(frozen=True)
class Person:
    """Who did what a request carries, and where they did it: whom to tell if it cannot be done."""

    user: str | None
    channel: str | None
    thread: str | None


def person_of(body: Mapping[str, Any]) -> Person:
    if "command" in body:
        return Person(body.get("user_id"), body.get("channel_id"), None)
    if body.get("type") == "event_callback":
        event = body.get("event") or {}
        message = event.get("message") or {}  # message_changed: the person is the edited message's author
        item = event.get("item") or {}  # reaction_added: the message reacted to
        return Person(event.get("user") or message.get("user"), event.get("channel") or item.get("channel"),
                      event.get("thread_ts") or message.get("thread_ts"))
    container = body.get("container") or {}
    return Person((body.get("user") or {}).get("id"), (body.get("channel") or {}).get("id"),
                  container.get("thread_ts") or (body.get("message") or {}).get("thread_ts"))


class KeptRequests:
    """The inbox, as the Slack adapter's workers use it: one owner name per process."""

    def __init__(self, ctx: Context, replay: Replay, tell: Tell, lease: timedelta = inbox.LEASE) -> None:
        self.ctx = ctx
        self.replay = replay
        self.tell = tell
        self.lease = lease
        self.owner = f"{PLATFORM}-{uuid.uuid4().hex[:12]}"
        self._batch: list[tuple[InboxItem, asyncio.Future[int | None]]] = []
        self._writer: asyncio.Task[None] | None = None

    async def keep(self, body: Mapping[str, Any], what: str) -> int | None:
        """Kept before the ack; None when Slack delivered the same thing before (it is or was being done).

        Requests that arrive while a commit is under way wait for the next one and share it (group
        commit): under a burst, SQLite's single writer is taken once per batch instead of once per
        request, and the acks do not queue behind the workers' transactions one by one."""
        key = key_of(body)
        waiting: asyncio.Future[int | None] = asyncio.get_running_loop().create_future()
        self._batch.append((InboxItem(PLATFORM, key, what[:64], body, self.ctx.clock()), waiting))
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._write(), name="slack-keep")
        item_id = await waiting
        if item_id is None:
            log.info("slack: %s (%s) was delivered again; it is kept already, so it is done once", what, key)
        return item_id

    async def _write(self) -> None:
        while self._batch:
            batch, self._batch = self._batch, []
            try:
                ids = await inbox.keep(self.ctx, [item for item, _ in batch], self.owner, self.lease)
            except Exception as exc:  # not kept, so not acknowledged: the listener fails, Slack hears 500
                for _, waiting in batch:
                    waiting.set_exception(exc)
            else:
                for (_, waiting), item_id in zip(batch, ids, strict=True):
                    waiting.set_result(item_id)

    async def restore(self, item_id: int) -> tuple[InboxItem, Job | None] | None:
        """Lease a kept item and rebuild its work from what Slack sent; None if it is not ours to run."""
        item = await inbox.claim(self.ctx, item_id, self.owner, self.lease)
        if item is None:
            return None
        return item, await self.replay(item.payload)

    async def finish(self, item_id: int) -> None:
        await inbox.finish(self.ctx, item_id)

    async def retry_later(self, item_id: int, delay: timedelta, error: str) -> None:
        await inbox.retry_later(self.ctx, item_id, delay, error)

    async def release(self, item_ids: list[int]) -> None:
        """Stopping with these not done: free them for the next start instead of letting their leases run out."""
        await inbox.release(self.ctx, item_ids, self.owner)

    async def give_up(self, item_id: int, payload: Mapping[str, Any], what: str, error: str) -> None:
        """Marked failed, and the person who did it hears so privately: the work was acknowledged to them."""
        await inbox.fail(self.ctx, item_id, error)
        person = person_of(payload)
        if person.user:
            await self.tell(person.user, person.channel, answers.text(
                f":warning: Tiketti could not finish your {what} and has given up on it (reference inbox-{item_id}). "
                "It was not done: please try again, or tell whoever runs Tiketti."), person.thread)

    async def due(self) -> list[int]:
        return list(await inbox.due(self.ctx, PLATFORM))

    async def renew(self, item_ids: list[int]) -> None:
        await inbox.renew(self.ctx, item_ids, self.owner, self.lease)

    async def purge(self) -> int:
        return await inbox.purge(self.ctx, PLATFORM)
