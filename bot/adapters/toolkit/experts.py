"""`/ticket ask N expert@… [--with-message] | question`: an outside expert consulted by mail."""

from __future__ import annotations

import re

from bot.adapters.commands import SPECS, TicketCommand, UsageError
from bot.handlers import experts
from bot.handlers.context import Actor, Context
from bot.handlers.tickets import ActionResult

WITH_MESSAGE = "--with-message"  # quote the customer's last message to the expert
_FLAG = re.compile(r"(?:--|[–—])with-message", re.IGNORECASE)  # phones turn "--" into a dash


async def perform(ctx: Context, actor: Actor, cmd: TicketCommand) -> ActionResult | str:
    """/ticket ask: the question mailed and noted, or a UsageError saying how to ask."""
    address, with_message, question = split_ask(cmd.text)
    return await experts.ask_expert(ctx, actor, cmd.number or 0, address, question,
                                    with_customer_message=with_message)


def split_ask(text: str) -> tuple[str, bool, str]:
    """'expert@x --with-message | question' -> (address, with the customer's message, question).

    The address is everything before the first space or `|`, so a line break typed into it stays there
    for the handler to refuse (never split off into a header)."""
    head, bar, rest = text.partition("|")
    if not bar:  # `/ticket ask N expert@x [--with-message] question…` reads as well
        head, _, rest = text.strip(" ").partition(" ")
        first, _, after = rest.strip(" ").partition(" ")
        if _FLAG.fullmatch(first):
            head, rest = f"{head} {first}", after
    if "\r" in head or "\n" in head:  # the handler refuses it as an address: nothing is split off or sent
        return head.strip(" "), False, rest.strip()
    words = head.split()
    if not words:
        raise UsageError(f"name the expert's address; usage: {SPECS['ask'].usage}")
    address, flags = words[0], words[1:]
    if any(_FLAG.fullmatch(f) is None for f in flags):
        raise UsageError(f"unexpected {' '.join(flags)!r}; usage: {SPECS['ask'].usage}")
    if not rest.strip():
        raise UsageError(f"usage: {SPECS['ask'].usage}")
    return address, bool(flags), rest.strip()
