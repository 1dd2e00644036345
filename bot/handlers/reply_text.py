"""A reply as the agent typed it → the text mailed: canned replies and knowledge-base articles inserted.

`:refund-policy` (first word) puts the canned reply of that name in its place, rendered for this ticket
(bot.handlers.canned); `:kb:printer-setup` inserts the article's title and link, `:kb-text:printer-setup`
its text (bot.handlers.kb). Any other text is mailed as typed: `:)` or `:smile:` match neither form.
Every reply door (the command, Slack's and Discord's Reply forms, a macro) goes through `expand`, because
they all end in bot.handlers.replies.reply.
"""

from __future__ import annotations

import re

from bot.handlers import canned, kb
from bot.handlers.context import Actor, Context

_KB = re.compile(r":kb(?P<text>-text)?:(?P<slug>[a-z0-9][a-z0-9_-]*)(?=\s|$)", re.IGNORECASE)
_CANNED = re.compile(r"^:(?P<name>[a-z0-9][a-z0-9_.-]*(?:@[a-z]{2,3}(?:-[a-z0-9]{2,8})?)?)(?=\s|$)", re.IGNORECASE)


async def expand(ctx: Context, actor: Actor, number: int, text: str) -> str:
    """The text to mail; UserFacingError (shown as is) names a canned reply or article that does not exist."""
    stripped = text.strip()
    if (match := _CANNED.match(stripped)) is not None and not stripped.lower().startswith((":kb:", ":kb-text:")):
        rest = stripped[match.end():].strip()
        body = await canned.render_canned(ctx, actor, number, match.group("name"))
        text = f"{body}\n\n{rest}" if rest else body
    if _KB.search(text) is None:
        return text
    parts: list[str] = []
    last = 0
    for found in _KB.finditer(text):
        parts.append(text[last:found.start()])
        parts.append(await kb.insert_article(ctx, actor, found.group("slug"),
                                             as_text=found.group("text") is not None))
        last = found.end()
    parts.append(text[last:])
    return "".join(parts)
