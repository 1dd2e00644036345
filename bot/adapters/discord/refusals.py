"""Which of Discord's errors no retry can mend, and what an agent can do about each.

`DiscordSurface.refused` (and the DM surface's) turn a failed call into
`bot.chat.surface.Undeliverable`, which the thread sync stops on for that item and tells agents
of in these words. Codes are Discord's JSON error codes
(https://discord.com/developers/docs/topics/opcodes-and-status-codes#json). A 429 or a 5xx, a
timeout or a dropped connection is passing: None, retried with backoff. Any other 4xx is a refusal
of that one post (Discord answers the same request the same way however often it is sent).
"""

from __future__ import annotations

import discord

from bot.chat.surface import Scope, Undeliverable

SHOW = "read the ticket with /ticket show"
PERMISSIONS = "give Tiketti's role View Channel, Send Messages, Send Messages in Threads, Embed Links and Attach Files there"

# JSON error code -> (why, in plain words; what to do; how much it stops)
REFUSALS: dict[int, tuple[str, str, Scope]] = {
    10003: ("the ticket's thread or channel was deleted", SHOW, Scope.THREAD),  # Unknown Channel
    10008: ("the ticket's message was deleted", SHOW, Scope.THREAD),  # Unknown Message
    50001: ("the bot cannot see the channel", PERMISSIONS, Scope.CHANNEL),  # Missing Access
    50013: ("the bot lacks permission to post there", PERMISSIONS, Scope.CHANNEL),  # Missing Permissions
    50007: ("the customer's Discord DMs are closed", "reply by mail or ask them to open DMs", Scope.ITEM),
    50083: ("the ticket's post is archived", "open the post and unarchive it", Scope.THREAD),  # Thread is archived
    160005: ("the ticket's thread is locked", "unlock it", Scope.THREAD),  # Thread is locked
    50035: ("Discord refused the message as too long or malformed", SHOW, Scope.ITEM),  # Invalid Form Body
    40005: ("Discord refused the message as too large", SHOW, Scope.ITEM),  # Request entity too large
}


def refusal(exc: Exception) -> Undeliverable | None:
    """`exc` as a refusal for good, or None when Discord may take the same call later."""
    if isinstance(exc, Undeliverable):
        return exc
    if not isinstance(exc, discord.HTTPException) or isinstance(exc, discord.DiscordServerError) \
            or exc.status in (401, 429) or exc.status >= 500:  # 401: a token an operator may yet replace
        return None
    if exc.code in REFUSALS:
        reason, hint, scope = REFUSALS[exc.code]
        return Undeliverable(reason, hint, code=str(exc.code), scope=scope)
    if 400 <= exc.status < 500:
        return Undeliverable(f"Discord refused it (HTTP {exc.status}, code {exc.code}: {exc.text[:200]})", SHOW,
                             code=str(exc.code or exc.status))
    return None
