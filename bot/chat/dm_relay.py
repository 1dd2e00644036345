"""The customer's side of a chat ticket: an acknowledgement, then every reply, in their direct messages.

A ticket opened by DM (`bot.handlers.chat_intake`) has a thread row of the
platform's DM kind ("discord-dm") whose channel is the DM. It is synced by a
`ThreadSync` for the customer: the "root" is the acknowledgement and of the
ticket's messages only replies are sent, so nothing internal ever reaches a DM.
"""

from __future__ import annotations

from bot.chat.surface import ChatSurface
from bot.chat.thread_sync import ThreadSync
from bot.domain.chat_contacts import chat_user
from bot.domain.model import MessageKind
from bot.handlers import contact_link, events
from bot.handlers.context import Context


class DmRelay(ThreadSync):
    def __init__(self, ctx: Context, surface: ChatSurface, *, chat_platform: str) -> None:
        """`surface` posts in DMs (its `platform` is the DM kind); `chat_platform` is whose users it serves."""
        super().__init__(ctx, surface, workers=2, for_customer=True)
        self.chat_platform = chat_platform

    def subscribe(self) -> None:
        for event_type in (events.TicketOpened, events.MessageAdded):
            self.ctx.bus.subscribe(event_type, self._on_customer_event)

    async def _on_customer_event(self, event: events.TicketOpened | events.MessageAdded) -> None:
        chat = chat_user(event.ticket.requester_email)
        if chat is not None:
            if chat[0] == self.chat_platform:
                self.mark(event.ticket.number)
            return
        # A linked customer's DM ticket has their mail contact as requester: asked of the store, but only
        # for what the DM shows (a reply) or what came from it (a DM opening or continuing the ticket).
        message = event.first_message if isinstance(event, events.TicketOpened) else event.message
        if (message.kind == MessageKind.REPLY or message.author.endswith("(DM)")) and \
                await contact_link.shown_in_dm(self.ctx, self.platform, event.ticket.number):
            self.mark(event.ticket.number)
