"""The customer's side of a DM ticket: an acknowledgement, then every reply, in their direct messages.

A ticket opened by DM (`bot.handlers.chat_intake`) has a thread row of platform
"discord-dm" whose channel is the DM. Syncing it works like a team thread, with
the same lease and posting records: the "root" is the acknowledgement, and of
the ticket's messages only replies are sent; notes and everything else are
recorded as not for the customer, so nothing internal ever reaches the DM.

A DM that is exactly a command (`link …`, `status`) is answered by
`bot.adapters.discord.dm_commands` instead of reaching the ticket.
"""

from __future__ import annotations

import uuid

from bot.adapters.discord import views
from bot.adapters.discord.parts import DiscordParts
from bot.adapters.discord.publisher import send_posts
from bot.chat.sync_queue import SyncQueue
from bot.domain.chat_contacts import chat_user, dm_platform
from bot.domain.model import MessageKind
from bot.handlers import contact_link, events, threads

DM = dm_platform("discord")
NOT_FOR_THE_CUSTOMER = "-"


class DmRelay:
    def __init__(self, parts: DiscordParts) -> None:
        self.parts = parts
        self.owner = f"discord-dm-{uuid.uuid4().hex[:12]}"
        self.queue = SyncQueue("discord-dm", self.sync,
                               lambda: threads.tickets_to_sync(parts.ctx, DM, existing_only=True), workers=2)

    def subscribe(self) -> None:
        for event_type in (events.TicketOpened, events.MessageAdded):
            self.parts.ctx.bus.subscribe(event_type, self._on_event)

    async def _on_event(self, event: events.TicketOpened | events.MessageAdded) -> None:
        chat = chat_user(event.ticket.requester_email)
        if chat is not None:
            if chat[0] == "discord":
                self.queue.mark(event.ticket.number)
            return
        # A linked customer's DM ticket has their mail contact as requester: asked of the store, but only
        # for what the DM shows (a reply) or what came from it (a DM opening or continuing the ticket).
        message = event.first_message if isinstance(event, events.TicketOpened) else event.message
        if (message.kind == MessageKind.REPLY or message.author.endswith("(DM)")) and \
                await contact_link.shown_in_dm(self.parts.ctx, DM, event.ticket.number):
            self.queue.mark(event.ticket.number)

    async def sync(self, number: int) -> bool:
        owner = f"{self.owner}-{uuid.uuid4().hex[:8]}"
        ctx = self.parts.ctx
        work = await threads.begin_sync(ctx, DM, number, "", owner)
        if work is None:
            return False
        try:
            dm = self.parts.client.get_partial_messageable(int(work.channel))
            if work.root_ref is None:
                ack = await dm.send(views.dm_ack(work.ticket), nonce=f"tiketti-a{number}")
                await threads.root_posted(ctx, DM, number, str(ack.id), work.ticket.updated_at)
            for message in work.unposted:
                ref = NOT_FOR_THE_CUSTOMER
                if message.kind == MessageKind.REPLY:
                    ref = str(await send_posts(dm, views.dm_posts(message), nonce=f"tiketti-r{message.id}"))
                await threads.message_posted(ctx, DM, number, message.id, ref)
            if work.root_stale:
                await threads.root_rendered(ctx, DM, number, work.ticket.updated_at)
            return True
        finally:
            await threads.end_sync(ctx, DM, number, owner)

