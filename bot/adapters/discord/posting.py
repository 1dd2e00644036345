"""Posting to Discord once: a nonce on every post, and a look for an earlier attempt when one may have landed.

Discord drops a message whose nonce the same author used "in the past few minutes" and answers with
the first one (Create Message, `enforce_nonce`; discord.py sets it with every nonce). That covers a
retry soon after (discord.py itself retries a 500 with the same body). It does not cover a crash or
an outage longer than that, and a fetched message carries no nonce (it is not stored with the
message: Rapptz/discord.py#2451). So a post made with `maybe_posted` first reads the place's recent
history for a message of ours with the same words.

A message found or sent for one key is never taken for another in this process: two posts with the
same words (a customer who writes "thanks" twice) stay two.
"""

from __future__ import annotations

import hashlib
import io
from collections import OrderedDict
from collections.abc import Callable, Sequence

import discord

from bot.adapters.discord.embeds import Post

LOOK_BACK = 100  # messages read back when looking for an earlier attempt (one request; Discord's maximum)
REMEMBERED = 10_000  # message ids whose key this process remembers
NONCE_CHARS = 25  # Discord: a nonce is at most 25 characters

Same = Callable[[str, str], bool]  # (what Discord shows, what we would post) -> the same post?


def same_words(shown: str, wanted: str) -> bool:
    """Discord trims a message's content; nothing else changes it."""
    return shown.strip() == wanted.strip()


class Posting:
    """Sends for one of our surfaces (`platform` keeps its nonces apart from another surface's same keys:
    Discord deduplicates per author, across channels)."""

    def __init__(self, client: discord.Client, platform: str) -> None:
        self.client, self.platform = client, platform
        self._keys: OrderedDict[int, str] = OrderedDict()  # message id -> the key it was posted or found for

    def nonce(self, key: str) -> str:
        """A nonce naming the post `key` on this surface, within Discord's 25 characters."""
        digest = hashlib.blake2b(f"{self.platform}\n{key}".encode(), digest_size=12).hexdigest()
        return digest[:NONCE_CHARS]

    def remember(self, message_id: int, key: str) -> None:
        self._keys[message_id] = key
        self._keys.move_to_end(message_id)
        while len(self._keys) > REMEMBERED:
            self._keys.popitem(last=False)

    async def ours(self, where: discord.abc.Messageable, *, after: int = 0) -> list[discord.Message]:
        """Our recent messages in `where` newer than `after`, oldest first."""
        me = self.client.user
        if me is None:
            return []
        found = [m async for m in where.history(limit=LOOK_BACK) if m.author.id == me.id and m.id > after]
        return sorted(found, key=lambda m: m.id)

    def pick(self, candidates: Sequence[discord.Message], key: str, wanted: str,
             same: Same = same_words) -> discord.Message | None:
        """The oldest candidate showing `wanted` that no other key has taken."""
        for message in candidates:
            if self._keys.get(message.id, key) == key and same(message.content, wanted):
                return message
        return None

    async def send(self, where: discord.abc.Messageable, posts: Sequence[Post], *, key: str, maybe_posted: bool,
                   after: int = 0, same: Same = same_words,
                   mentions: discord.AllowedMentions | None = None) -> int:
        """Send one thing as its posts (a long message is split, or its whole text attached); the first's id.

        With `maybe_posted`, parts an earlier attempt left are taken instead of sent again, in order;
        `after` is the newest message the store knows here (nothing older can be an unrecorded attempt)."""
        earlier = await self.ours(where, after=after) if maybe_posted else []
        first = last = 0
        for i, post in enumerate(posts):
            part = key if i == 0 else f"{key}#{i}"
            found = self.pick([m for m in earlier if m.id > last], part, post.content, same)
            if found is None:
                earlier = []  # a part that was not there: the attempt ended before it, nothing later is there
                found = await where.send(post.content, nonce=self.nonce(part),
                                         allowed_mentions=mentions or discord.AllowedMentions.none(),
                                         **_attachment(post))
            self.remember(found.id, part)
            first, last = first or found.id, found.id
        return first


def _attachment(post: Post) -> dict[str, discord.File]:
    if post.file_name and post.file_text is not None:
        return {"file": discord.File(io.BytesIO(post.file_text.encode("utf-8")), filename=post.file_name)}
    return {}
