"""The console adapter: Tiketti without a chat platform, for `tiketti demo` and scripts.

The terminal plays the tickets channel. Events from the bus are printed as a chat
would show them (root block, thread messages, root updates), and typed lines
take the same actions as Slack, through the same handlers. A plain line inside
a ticket's thread is an internal note, exactly like typing in a Slack thread:
only `/ticket reply` ever mails the customer.
"""

from __future__ import annotations

import logging
import os
from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable, Iterable
from typing import TextIO

from bot.adapters.capabilities import NOTICE_EVENTS, controls_in
from bot.adapters.collisions import ReplyHeld
from bot.adapters.errors import something_went_wrong
from bot.domain.errors import UserFacingError
from bot.handlers import events, queries, tickets
from bot.handlers.context import Actor, Context
from bot.handlers.tickets import ActionResult

from . import notices, render
from .commands import UsageError, help_text, parse_number, parse_ticket, parse_user, perform, split_slash

log = logging.getLogger(__name__)

ExtraCommand = Callable[[str], Awaitable[None]]

_BUILTIN = frozenset({"ticket", "help", "as", "open", "leave", "quit", "exit"})
_QUIT = frozenset({"quit", "exit"})


def default_actor() -> Actor:
    """The person at the terminal runs Tiketti: the operator, an admin."""
    return Actor("console", os.environ.get("USER") or "Agent", operator=True)


class ConsoleAdapter:
    def __init__(self, ctx: Context, out: TextIO, *, actor: Actor | None = None) -> None:
        self.ctx = ctx
        self.out = out
        self.actor = actor or default_actor()
        self.thread: int | None = None  # the ticket whose thread we are "in" after /open
        self._extra: dict[str, tuple[ExtraCommand, str]] = {}
        self._shown: set[int] = set()  # tickets the channel printed during the current command

    # ---- the channel: events in, text out -------------------------------------------------

    def subscribe(self) -> None:
        """Show every ticket event on this console, as the tickets channel would, and every notice
        the chat platforms post (`bot.adapters.capabilities.NOTICE_EVENTS`)."""
        bus = self.ctx.bus
        bus.subscribe(events.TicketOpened, self._on_opened)
        bus.subscribe(events.TicketChanged, self._on_changed)
        bus.subscribe(events.MessageAdded, self._on_message)
        for event_type in NOTICE_EVENTS:
            bus.subscribe(event_type, self._on_notice)

    async def _on_opened(self, event: events.TicketOpened) -> None:
        self._channel(event.ticket.number,
                      render.ticket_opened(event, controls_in(self.ctx.config.workflow, event.ticket)))

    async def _on_changed(self, event: events.TicketChanged) -> None:
        self._channel(event.ticket.number, render.ticket_changed(event))

    async def _on_message(self, event: events.MessageAdded) -> None:
        self._channel(event.ticket.number, render.message_added(event))

    async def _on_notice(self, event: object) -> None:
        ticket = getattr(event, "ticket", None)
        number = ticket.number if ticket is not None else getattr(event, "number", None)
        self._channel(number, notices.words(NOTICE_EVENTS[type(event)], event, self.ctx.clock()))

    def _channel(self, number: int | None, text: str) -> None:
        if number is not None:
            self._shown.add(number)
        self._say(text)

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
        self._shown.clear()
        try:
            return await self._execute(line.strip())
        except ReplyHeld as held:  # a colleague is answering too: who, and how to send it anyway
            self._say(notices.reply_held(held))
        except UserFacingError as exc:  # written for the agent: one line, and the session goes on
            self._say(render.error(str(exc)))
        except Exception:  # the session must survive whatever a handler or extra command does
            self._say(render.error(something_went_wrong(log, "console command %r", line[:80])))
        return True

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
        """Confirm to the person who acted, unless the channel already showed the change."""
        if result.ticket.number not in self._shown:
            self._say(render.ok(result.summary))

    async def _plain(self, text: str) -> None:
        if self.thread is None:
            self._say("(plain text goes nowhere outside a thread: /open N, then type internal notes on ticket N;\n"
                      " /ticket help for everything else)")
            return
        # Whatever it looks like ("reply ...", capitals, a pasted mail), thread text is a note.
        self._ack(await tickets.add_note(self.ctx, self.actor, self.thread, text))

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


async def _aiter(lines: AsyncIterable[str] | Iterable[str]) -> AsyncIterator[str]:
    if isinstance(lines, AsyncIterable):
        async for line in lines:
            yield line
    else:
        for line in lines:
            yield line
