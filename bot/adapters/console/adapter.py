"""The console adapter: Tiketti without a chat platform, for `tiketti demo` and scripts.

The terminal plays the tickets channel. What a chat platform shows is shown here the same
way: the chat layer (`ThreadSync`, `NoticeDelivery`) brings the console's surface
(`surface.ConsoleSurface`) up to date from the store, and the surface echoes each post (root
block, thread messages, a root updated in place, notices) to the terminal. Typed lines take the
same actions as Slack, through the same handlers. A plain line inside a ticket's thread is an
internal note, exactly like typing in a Slack thread: kept as the person's own post, never
posted back by the bot, and never mailed (only `/ticket reply` mails the customer).

The console syncs a ticket as soon as its event arrives, inside the command that caused it, so
a transcript reads in order; what could not be shown then (another worker held the thread) is
caught up after the command.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable, Iterable, Sequence
from typing import TextIO

from bot.adapters.capabilities import NOTICE_EVENTS
from bot.adapters.collisions import ReplyHeld
from bot.adapters.errors import something_went_wrong
from bot.chat import notes
from bot.chat.notices import NoticeDelivery
from bot.chat.thread_sync import THREAD_EVENTS, ThreadSync
from bot.domain.errors import UserFacingError
from bot.handlers import notices as kept_notices
from bot.handlers import queries
from bot.handlers.context import Actor, Context
from bot.handlers.snapshots import TicketDetails
from bot.handlers.tickets import ActionResult

from . import notices, render
from .commands import (
    UsageError,
    console_user,
    help_text,
    parse_number,
    parse_ticket,
    parse_user,
    perform,
    split_slash,
)
from .surface import PLATFORM, ConsoleSurface

log = logging.getLogger(__name__)

ExtraCommand = Callable[[str], Awaitable[None]]

_BUILTIN = frozenset({"ticket", "help", "as", "open", "leave", "quit", "exit"})
_QUIT = frozenset({"quit", "exit"})
_MENTION = re.compile(r"(?<!\S)<?@([A-Za-z0-9._-]+)>?")  # '@U2' or '<@U2>' as a word, not inside an address


def default_actor() -> Actor:
    """The person at the terminal runs Tiketti: the operator, an admin."""
    return Actor("console", os.environ.get("USER") or "Agent", operator=True)


class ConsoleAdapter:
    def __init__(self, ctx: Context, out: TextIO, *, actor: Actor | None = None,
                 surface: ConsoleSurface | None = None) -> None:
        """`surface`: the channel to show and type in (tests share one); by default one echoing to `out`."""
        self.ctx = ctx
        self.out = out
        self.actor = actor or default_actor()
        self.surface = surface or ConsoleSurface(workflow=ctx.config.workflow, clock=lambda: ctx.clock(), echo=out)
        self.sync = ThreadSync(ctx, self.surface, workers=1)
        self.delivery = NoticeDelivery(ctx, self.surface)
        self.thread: int | None = None  # the ticket whose thread we are "in" after /open
        self._extra: dict[str, tuple[ExtraCommand, str]] = {}
        self._showing = False  # subscribed: the console shows the channel as it changes
        self._behind: set[int] = set()  # tickets whose sync found another worker holding the thread
        self._mark = 0  # where the surface was when the current command began
        self._told = notes.Once()

    # ---- the channel: events in, posts out ------------------------------------------------

    def subscribe(self) -> None:
        """Show every ticket's thread on this console, as the tickets channel would, and every notice
        the chat platforms post (`bot.adapters.capabilities.NOTICE_EVENTS`)."""
        self._showing = True
        for event_type in dict.fromkeys((*THREAD_EVENTS, *NOTICE_EVENTS)):
            self.ctx.bus.subscribe(event_type, self._on_event)

    async def _on_event(self, event: object) -> None:
        ticket = getattr(event, "ticket", None)
        number = ticket.number if ticket is not None else getattr(event, "number", None)
        if type(event) in THREAD_EVENTS and isinstance(number, int):
            await self._show(number)
        if type(event) in kept_notices.KINDS:  # kept as a row: delivered (once) through the surface
            await self.delivery.deliver_due()
        elif type(event) in NOTICE_EVENTS:  # said once, as it happens (a move, the daily digest)
            self._say(notices.words(NOTICE_EVENTS[type(event)], event, self.ctx.clock()))

    async def _show(self, number: int) -> None:
        """Bring ticket `number`'s thread up to date now; later, if another worker holds it."""
        if await self.sync.sync(number):
            self._behind.discard(number)
        else:
            self._behind.add(number)

    async def _catch_up(self) -> None:
        for number in sorted(self._behind):
            await self._show(number)
        await self.delivery.deliver_due()

    def _say(self, text: str) -> None:
        self.out.write(text + "\n")
        self.out.flush()

    # ---- commands: text in, handler calls out ---------------------------------------------

    def register(self, name: str, fn: ExtraCommand, help: str) -> None:
        """Add a console command (the demo's `/mail-from`...). `fn` gets the text after the name."""
        key = name.removeprefix("/").lower()
        if not key or " " in key or key in _BUILTIN:
            raise ValueError(f"cannot register console command {name!r}")
        self._extra[key] = (fn, help)

    async def run_lines(self, lines: AsyncIterable[str] | Iterable[str], *, echo: bool = True) -> None:
        """Run a script or a terminal session; a script echoes each line so the output reads like a transcript."""
        async for line in _aiter(lines):
            line = line.rstrip("\r\n")
            if echo and line.strip().startswith("#"):
                self._say(line.strip())  # a script's comments narrate the transcript
            elif echo and line.strip():
                self._say("> " + line.strip())
            if not await self.execute(line):
                return

    async def execute(self, line: str) -> bool:
        """Run one line. Returns False only for /quit; errors are printed, never raised."""
        self._mark = self.surface.mark()
        try:
            return await self._execute(line.strip())
        except ReplyHeld as held:  # a colleague is answering too: who, and how to send it anyway
            self._say(notices.reply_held(held))
        except UserFacingError as exc:  # written for the agent: one line, and the session goes on
            self._say(render.error(str(exc)))
        except Exception:  # the session must survive whatever a handler or extra command does
            self._say(render.error(something_went_wrong(log, "console command %r", line[:80])))
        finally:
            if self._showing:
                await self._caught_up(line)
        return True

    async def _caught_up(self, line: str) -> None:
        try:
            await self._catch_up()
        except Exception:  # the store is away: the next command tries again
            log.exception("console: showing what changed after %r failed", line[:80])

    async def _execute(self, line: str) -> bool:
        if not line or line.startswith("#"):
            return True
        if not line.startswith("/"):
            await self._plain(line)
            return True
        name, args = split_slash(line)
        if name in _QUIT:
            return False
        if name == "help":
            self._say(help_text({k: h for k, (_, h) in self._extra.items()}))
        elif name == "ticket":
            await self._ticket(args)
        elif name == "as":
            self._switch_actor(args)
        elif name == "open":
            await self._open(args)
        elif name == "leave":
            self._leave()
        elif name in self._extra:
            await self._extra[name][0](args)
        else:
            raise UsageError(f"unknown command '/{render.one_line(name, 30)}'; try /help")
        return True

    async def _ticket(self, args: str) -> None:
        outcome = await perform(self.ctx, self.actor, parse_ticket(args))
        if isinstance(outcome, str):
            self._say(outcome)
        else:
            self._ack(outcome)

    def _ack(self, result: ActionResult) -> None:
        """Confirm to the person who acted, unless the channel already showed the change (a held reply is
        always confirmed: the line says how to take it back, which no channel shows)."""
        if result.held_until is not None or result.ticket.number not in self.surface.touched_since(self._mark):
            self._say(render.ok(result.summary))

    async def _plain(self, text: str) -> None:
        """A line typed in a ticket's thread: whatever it looks like ("reply ...", capitals, a pasted
        mail), it is an internal note (`bot.chat.notes`), kept as the person's own post; '@someone'
        pulls them in."""
        number = self.thread
        if number is None:
            self._say("(plain text goes nowhere outside a thread: /open N, then type internal notes on ticket N;\n"
                      " /ticket help for everything else)")
            return
        if self.surface.root_of(number) is None:
            await self._show(number)  # a thread this console has not shown yet: shown first, then typed in
        where = self.surface.root_of(number)
        if where is None:
            raise UsageError(f"#{number}'s thread is being shown elsewhere just now; type the line again")
        ref, user = self.surface.new_ref(), self.actor.chat_user_id
        line = notes.Line(PLATFORM, where[0], where[1], user, text, self.surface.chat_ref(where[0], ref),
                          mentions=_MENTION.findall(text))
        port = _ThreadPort(self, number)
        if await notes.note_typed(self.ctx, line, port, self._told) is not None:
            self.surface.typed(number, user, self.actor.name, text, ref=ref)
        await port.post_summary()

    def _switch_actor(self, args: str) -> None:
        user, _, name = args.partition(" ")
        if not user:
            raise UsageError("usage: /as USERID [Name]")
        # Someone "in the console's channel": an agent with no roster, else what the roster makes them.
        self.actor = Actor(parse_user(user, "/as USERID [Name]"), name.strip(), in_tickets_channel=True)
        shown = f"{self.actor.name} ({self.actor.chat_user_id})" if self.actor.name else self.actor.chat_user_id
        self._say(f"→ you are now {shown}")

    async def _open(self, args: str) -> None:
        number = parse_number(args.strip(), "/open N")
        details = await queries.show(self.ctx, self.actor, number)  # NotFound keeps us where we were
        self.thread = number
        self._say(f"→ in the thread of #{number} {render.one_line(details.ticket.subject, 60)}\n"
                  "  plain lines are saved as internal notes (never mailed); /leave to leave")

    def _leave(self) -> None:
        if self.thread is None:
            self._say("(you are not in a ticket's thread)")
            return
        self._say(f"← left the thread of #{self.thread}")
        self.thread = None


class _ThreadPort:
    """What `bot.chat.notes` asks of the console for a line typed in ticket `number`'s thread.

    The person at the terminal is answered there directly (in-thread privacy, like Slack's ephemeral
    answers). The summary for colleagues pulled in is posted after the typed line, so the thread
    reads in the order things happened."""

    private_in_thread = True

    def __init__(self, console: ConsoleAdapter, number: int) -> None:
        self.console, self.number = console, number
        self._summary: tuple[TicketDetails, Sequence[str]] | None = None

    async def actor_of(self, user: str) -> Actor:
        actor = self.console.actor
        return actor if user == actor.chat_user_id else await console_user(user, "")

    async def tell(self, user: str, text: str, tone: notes.Tone) -> None:
        self.console._say(render.error(text))

    async def post_pulled_in(self, details: TicketDetails, users: Sequence[str]) -> None:
        self._summary = (details, users)

    async def post_summary(self) -> None:
        if self._summary is not None:
            self.console.surface.said(self.number, "\n".join(render.pulled_in(*self._summary)))


async def _aiter(lines: AsyncIterable[str] | Iterable[str]) -> AsyncIterator[str]:
    if isinstance(lines, AsyncIterable):
        async for line in lines:
            yield line
    else:
        for line in lines:
            yield line
