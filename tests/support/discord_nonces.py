"""Message nonces as Discord keeps them, for the fake Discord.

From https://discord.com/developers/docs/resources/message#create-message: with `enforce_nonce`,
"the nonce will be checked for uniqueness in the past few minutes. If another message was created
by the same author with the same nonce, that message will be returned and no new message will be
created". So a nonce is per author, across channels, and only for minutes (`forget` is those minutes
passing). The nonce is not stored with the message: a fetched message carries none (it is in the
create response and the MESSAGE_CREATE event only; Rapptz/discord.py#2451).
"""

from __future__ import annotations

import time
from typing import Any

Json = dict[str, Any]
WINDOW_SECONDS = 120.0  # "a few minutes": the least of them, so nothing here is kinder than Discord


class Nonces:
    def __init__(self) -> None:
        self._seen: dict[tuple[str, str], tuple[float, Json]] = {}

    def earlier(self, author_id: str, nonce: str) -> Json | None:
        """The message `author_id` created with `nonce` in the last minutes, if any."""
        kept = self._seen.get((author_id, nonce))
        if kept is None or time.monotonic() - kept[0] > WINDOW_SECONDS:
            return None
        return kept[1]

    def keep(self, author_id: str, nonce: str, message: Json) -> None:
        self._seen[(author_id, nonce)] = (time.monotonic(), message)

    def forget(self) -> None:
        """Minutes pass: no nonce seen so far deduplicates any more."""
        self._seen.clear()


def fetched(message: Json) -> Json:
    """A message as a fetch (history) returns it: without the nonce it was sent with."""
    return {k: v for k, v in message.items() if k != "nonce"}
