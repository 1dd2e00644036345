"""The console as a chat platform: channels holding roots, each root its thread of posts, all in memory.

The console implements `bot.chat.surface.ChatSurface`, so the chat layer (`ThreadSync`,
`NoticeDelivery`) runs on it exactly as it runs on Slack and Discord. That makes it the place
where the chat flows are tested once, with nothing mocked between the handlers and what a person
reads (tests/test_chat_flows.py), and what `tiketti demo` shows in the terminal.

Texts are the console's own renderings (`render`, `notices`). Every post is kept under its key:
a call with a key already posted returns the first post, as the real platforms' surfaces do when
they look before posting again. A caller that repeats a key without saying an earlier attempt may
have landed (`maybe_posted`) is recorded in `repeated`, so a test can hold the chat layer to its
word. `fail_next` makes the next posts (or root updates) fail (before or after they land), with a
passing error or a refusal for good (`Undeliverable`), so retries and refusals can be tested.
"""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TextIO

from bot.adapters.capabilities import controls_for, controls_in
from bot.chat.surface import MoveNote, Place, Undeliverable
from bot.domain.model import MessageKind
from bot.domain.workflow import Workflow
from bot.handlers.snapshots import MessageView, TicketView

from . import notices, render

PLATFORM = "console"
BOT = "tiketti"  # the author of what the bot posts; people's posts carry their chat user id


@dataclass
class Post:
    """One message in a channel: a root or a channel notice (`root` None), or a post in a thread."""

    ref: str
    channel: str
    root: str | None
    text: str
    author: str = BOT
    key: str | None = None
    number: int | None = None  # the ticket it is about, if any


class PostFailed(Exception):
    """A post made to fail by `fail_next`: a transient error, as a platform's 5xx is."""


class ConsoleSurface:
    """In-memory channels and threads; optionally echoed to a terminal as they change."""

    platform = PLATFORM

    def __init__(self, *, default_channel: str = "tickets", workflow: Workflow | None = None,
                 clock: Callable[[], datetime] | None = None, echo: TextIO | None = None) -> None:
        """`workflow` decides which controls a root offers; `clock` is the now SLA notices count from."""
        self.default_channel = default_channel
        self.workflow, self.echo = workflow, echo
        self.clock = clock or (lambda: datetime.now(UTC))
        self._session = uuid.uuid4().hex[:6]  # refs stay unique across sessions on one store
        self._seq = itertools.count(1)
        self._posts: dict[str, Post] = {}
        self._keys: dict[str, str] = {}
        self._channels: dict[str, list[str]] = {}
        self._threads: dict[str, list[str]] = {}
        self._shown: dict[str, TicketView] = {}  # root ref -> the ticket as its root last showed it
        self._newest: dict[int, str] = {}  # ticket number -> its newest root
        self._faults: list[tuple[Exception, bool, str]] = []  # (error, landed, key prefix)
        self._activity: list[int | None] = []  # the ticket of each change shown, in order
        self.repeated: list[str] = []
        self.calls: list[str] = []  # the key of every post and "update-<n>" of every root update asked for

    # ---- for tests: faults and reading -------------------------------------------------------

    def fail_next(self, count: int = 1, *, key: str = "", landed: bool = False,
                  error: Exception | None = None) -> None:
        """The next `count` posts whose key starts with `key` raise `error` (a transient `PostFailed`
        by default). `landed`: each is made first, as when the platform took it and the answer was lost.
        A root update is named `update-<ticket number>`: only a `key` naming it makes one fail."""
        self._faults += [(error or PostFailed("console: made to fail"), landed, key)] * count

    def channel(self, name: str | None = None) -> list[str]:
        """The texts at a channel's top level (roots and notices posted there), oldest first."""
        return [self._posts[ref].text for ref in self._channels.get(name or self.default_channel, [])]

    def root(self, number: int) -> str:
        """Ticket `number`'s root as it reads now (its newest, after a move)."""
        return self._posts[self._newest[number]].text

    def thread(self, number: int) -> list[str]:
        """The texts in ticket `number`'s thread, under its root, oldest first."""
        return [post.text for post in self.posts(number)]

    def posts(self, number: int) -> list[Post]:
        root = self._newest.get(number)
        return [self._posts[ref] for ref in self._threads.get(root, [])] if root else []

    def root_of(self, number: int) -> tuple[str, str] | None:
        """(channel, root ref) of ticket `number`'s newest thread, if this console shows one."""
        root = self._newest.get(number)
        return (self._posts[root].channel, root) if root else None

    def mark(self) -> int:
        """A point in what was shown, for `touched_since`."""
        return len(self._activity)

    def touched_since(self, mark: int) -> set[int]:
        """The tickets whose roots or threads changed since `mark`."""
        return {n for n in self._activity[mark:] if n is not None}

    # ---- people typing ------------------------------------------------------------------------

    def new_ref(self) -> str:
        return f"{self._session}.{next(self._seq)}"

    def chat_ref(self, channel: str, ref: str) -> str:
        """How a post typed by a person is stored as a note; ThreadSync never posts such a note back."""
        return f"{PLATFORM}:{channel}:{ref}"

    def typed(self, number: int, user: str, name: str, text: str, *, ref: str) -> Post:
        """What a person typed in ticket `number`'s thread, kept as theirs (a note, shown once)."""
        where = self.root_of(number)
        if where is None:
            raise LookupError(f"#{number} has no thread on the console yet")
        note = MessageView(id=0, ticket_number=number, kind=MessageKind.NOTE, author=name or user,
                           created_at=self.clock(), text=text, full_text=text)
        return self._store(Post(ref, where[0], where[1], "\n".join(render.message_block(note)), user, None, number))

    def said(self, number: int, text: str) -> Post:
        """The bot says something in ticket `number`'s thread outside the sync (who was pulled in)."""
        where = self.root_of(number)
        if where is None:
            raise LookupError(f"#{number} has no thread on the console yet")
        return self._store(Post(self.new_ref(), where[0], where[1], text, BOT, None, number))

    # ---- ChatSurface ---------------------------------------------------------------------------

    def link(self, channel: str, root: str) -> str:
        post = self._posts.get(root)
        what = f"thread of #{post.number}" if post and post.number else f"thread {root}"
        return f"{what} in #{channel}"

    async def post_root(self, channel: str, ticket: TicketView, *, key: str, maybe_posted: bool,
                        replaces: str | None = None) -> str:
        ref = self._post(channel, None, self._root_text(ticket), key=key, maybe_posted=maybe_posted,
                         number=ticket.number)
        self._shown.setdefault(ref, ticket)
        self._newest[ticket.number] = ref
        return ref

    async def update_root(self, channel: str, root: str, ticket: TicketView, *, moved: MoveNote | None = None) -> None:
        name = f"update-{ticket.number}"
        self.calls.append(name)
        fault = next((f for f in self._faults if f[2] and name.startswith(f[2])), None)
        if fault is not None:
            self._faults.remove(fault)
            raise fault[0]
        moved_words = notices.move_note(moved).removeprefix("➡ ") if moved else None
        text = self._root_text(ticket, moved_words)
        post = self._posts.get(root) or self._adopt(channel, root, ticket.number)
        if post.text == text:
            return  # nothing a person could see changed (the ticket's time stamp)
        post.text, before = text, self._shown.get(root)
        self._shown[root] = ticket
        self._show(ticket.number, render.root_changed(before, ticket, moved=moved_words))

    async def post_message(self, channel: str, root: str, message: MessageView, *, key: str,
                           maybe_posted: bool) -> str:
        self._thread_of(channel, root, message.ticket_number)
        return self._post(channel, root, "\n".join(render.message_block(message)), key=key,
                          maybe_posted=maybe_posted, number=message.ticket_number)

    async def post_history(self, channel: str, root: str, others: Sequence[TicketView], links: Mapping[int, str], *,
                           key: str, maybe_posted: bool) -> str:
        number = self._posts[root].number if root in self._posts else None
        text = "\n".join(render.others_lines(others[0].requester_email if others else "", others))
        return self._post(channel, root, text, key=key, maybe_posted=maybe_posted, number=number)

    async def post_move(self, channel: str, root: str, note: MoveNote, *, key: str) -> str:
        number = self._posts[root].number if root in self._posts else None
        return self._post(channel, root, notices.move_note(note), key=key, maybe_posted=True, number=number)

    async def post_notice(self, place: Place, notice: Any, *, key: str, maybe_posted: bool) -> str:
        ticket = getattr(notice, "ticket", None)
        text = notices.placed(notice, self.clock(), mention=place.mention, link=place.link)
        return self._post(place.channel, place.root, text, key=key, maybe_posted=maybe_posted,
                          number=ticket.number if ticket is not None else None)

    def refused(self, exc: Exception) -> Undeliverable | None:
        """The console refuses nothing of its own: only what a test makes it (`fail_next(error=...)`)."""
        return exc if isinstance(exc, Undeliverable) else None

    # ---- keeping --------------------------------------------------------------------------------

    def _root_text(self, ticket: TicketView, moved: str | None = None) -> str:
        controls = controls_in(self.workflow, ticket) if self.workflow else controls_for(ticket)
        return render.root_text(ticket, controls, moved=moved)

    def _post(self, channel: str, root: str | None, text: str, *, key: str, maybe_posted: bool,
              number: int | None) -> str:
        self.calls.append(key)
        if (ref := self._keys.get(key)) is not None:
            if not maybe_posted:
                self.repeated.append(key)
            return ref
        post = Post(self.new_ref(), channel, root, text, BOT, key, number)
        fault = next((f for f in self._faults if key.startswith(f[2])), None)
        if fault is None:
            return self._store(post).ref
        self._faults.remove(fault)
        if fault[1]:  # landed: posted, and the caller is told it failed
            self._store(post)
        raise fault[0]

    def _store(self, post: Post) -> Post:
        self._posts[post.ref] = post
        if post.key:
            self._keys[post.key] = post.ref
        if post.root is None:
            self._channels.setdefault(post.channel, []).append(post.ref)
        else:
            self._threads.setdefault(post.root, []).append(post.ref)
        self._show(post.number, post.text)
        return post

    def _adopt(self, channel: str, root: str, number: int) -> Post:
        """A root posted before this console started (its memory is gone): known from now on, unseen."""
        post = Post(root, channel, None, "", BOT, None, number)
        self._posts[root] = post
        self._channels.setdefault(channel, []).append(root)
        self._newest.setdefault(number, root)
        return post

    def _thread_of(self, channel: str, root: str, number: int) -> None:
        if root not in self._posts:
            self._adopt(channel, root, number)

    def _show(self, number: int | None, text: str) -> None:
        self._activity.append(number)
        self._say(text)

    def _say(self, text: str) -> None:
        if self.echo is not None:
            self.echo.write(text + "\n")
            self.echo.flush()
