"""The two things a customer may ask the bot in a DM: `link` their mail address, and `status` of their tickets.

A customer is not an agent: no `/ticket`, no notes, no assignees, nobody
else's tickets. `status` (or `tickets`) lists their own latest tickets, DM and
(once linked) mail ones, as `bot.handlers.customer_status` words them for a
customer. Only a message that is exactly the command counts ("status?" too);
"status of my order 55" is an ordinary message and goes to their ticket, so a
customer never loses words to a command they did not mean.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import discord

from bot.adapters.discord.embeds import MESSAGE_CHARS, cut
from bot.adapters.discord.parts import PLATFORM, DiscordParts
from bot.handlers import contact_link
from bot.handlers.customer_status import CustomerTicket, customer_tickets

_STATUS = re.compile(r"^\s*!?(status|tickets)\s*[?.!]?\s*$", re.IGNORECASE)
NO_TICKETS = "You have no tickets with us yet. Write your question here and it becomes one."


def is_status(text: str) -> bool:
    return _STATUS.match(text) is not None


def status_text(tickets: Sequence[CustomerTicket]) -> str:
    """The customer's tickets in their words: number, subject, where it stands. Nothing internal."""
    if not tickets:
        return NO_TICKETS
    lines = ["**Your tickets**"]
    for t in tickets:
        subject = discord.utils.escape_markdown(cut(t.subject, 100))
        lines.append(f"• **#{t.number}** {subject} — {t.state} (updated <t:{int(t.updated_at.timestamp())}:R>)")
    lines.append("Write here any time to reach the team.")
    return cut("\n".join(lines), MESSAGE_CHARS)


async def answer_command(parts: DiscordParts, message: discord.Message, text: str) -> bool:
    """A DM command (`link …` or `status`) answered in the DM; False if the message is no command
    (then it is the customer's message). A command never opens a ticket."""
    argument = contact_link.command_argument(text)
    if argument is not None:
        answer = await contact_link.handle(parts.ctx, contact_link.LinkRequest(
            platform=PLATFORM, user_id=str(message.author.id), message_id=str(message.id), argument=argument))
    elif is_status(text):
        answer = status_text(await customer_tickets(parts.ctx, PLATFORM, str(message.author.id)))
    else:
        return False
    if answer is not None:
        await message.channel.send(answer, nonce=f"tiketti-l{message.id}")
    return True
