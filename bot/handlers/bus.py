"""In-process event bus: handlers publish after commit, adapters subscribe."""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

log = logging.getLogger(__name__)

Subscriber = Callable[[Any], Awaitable[None]]


class EventBus:
    def __init__(self) -> None:
        self._subs: dict[type, list[Subscriber]] = defaultdict(list)

    def subscribe(self, event_type: type, fn: Subscriber) -> None:
        self._subs[event_type].append(fn)

    def has_subscribers(self, event_type: type) -> bool:
        return bool(self._subs.get(event_type))

    async def publish(self, events: Iterable[object]) -> None:
        """Deliver each event to its subscribers in order.

        A failing subscriber is logged and skipped: the change is already committed,
        and one broken view must not stop the others (or the mail pipeline) from running.
        """
        for event in events:
            for fn in self._subs.get(type(event), ()):
                try:
                    await fn(event)
                except Exception:
                    log.exception("subscriber %s failed on %s", getattr(fn, "__qualname__", fn), type(event).__name__)
