"""A reply typed as a command when a colleague is answering the same customer: held, not sent.

The Reply forms warn when they open and ask again at submit (`bot.handlers.collision`).
A typed `/ticket reply N text` has no form, so it is checked as it is sent, on every
platform: if another agent replied in the last few minutes, or has a Reply form open,
nothing is mailed and the agent is told who, with the way to send it anyway
(`/ticket reply N --anyway text`; Discord offers a button instead). This is what a
Zendesk agent expects from its collision warning: a mail cannot be taken back, so the
warning comes before sending, never after.
"""

from __future__ import annotations

from collections.abc import Sequence

from bot.domain.errors import UserFacingError
from bot.handlers import collision, replies
from bot.handlers.context import Actor, Context
from bot.handlers.tickets import ActionResult

ANYWAY = "/ticket reply {number} --anyway {text}"


class ReplyHeld(UserFacingError):
    """Not sent: `lines` say who else is answering. The words end with the typed way to send it anyway."""

    def __init__(self, number: int, lines: Sequence[str], text: str) -> None:
        self.number, self.lines, self.text = number, tuple(lines), text
        super().__init__(f"not sent to #{number}'s customer: {held_because(lines)}. Nothing was mailed; read the "
                         f"thread, then to send it anyway: {ANYWAY.format(number=number, text=text)}")


def held_because(lines: Sequence[str]) -> str:
    """'Ben replied to the customer just now; Eva is writing a reply too (opened 2 min ago)'."""
    return "; ".join(lines)


async def reply_unless_answered(ctx: Context, actor: Actor, number: int, text: str, *,
                                anyway: bool = False) -> ActionResult:
    """Mail `text` unless a colleague is answering too (ReplyHeld); `anyway`: the agent has seen that.

    Asking opens a draft for the moment of sending, as a form would, so a colleague opening
    their form meanwhile is warned of this reply too; it is closed however the send ends.
    """
    if anyway:
        return await replies.reply(ctx, actor, number, text)
    crowd = await collision.reply_opened(ctx, actor, number)  # refused here (audited) if they may not reply
    try:
        if crowd:
            raise ReplyHeld(number, crowd.lines, text)
        return await replies.reply(ctx, actor, number, text)
    finally:
        await collision.reply_closed(ctx, actor, number)
