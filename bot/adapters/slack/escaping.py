"""Slash-command text as Slack sends it, turned back into what the person typed.

The manifest sets `should_escape: true` for `/ticket` (config/slack-manifest.yaml), so Slack sends
the text escaped (https://api.slack.com/interactivity/slash-commands, "Escaping"):
- `&`, `<` and `>` arrive as `&amp;`, `&lt;` and `&gt;`;
- a person picked from Slack's @ list arrives as `<@U012AB3CD|ben>` (or `<@U012AB3CD>`), a channel as
  `<#C012AB3CD|general>`, a user group as `<!subteam^S012AB3CD|@support>`, `@here` as `<!here>`;
- a link or an address as `<https://example.com|label>` / `<mailto:a@b.example|a@b.example>`.
Text that only looks like a mention (`@ben` typed but not picked, a name Slack does not know) stays
plain text. So a user is a person only when the text holds `<@U…>`: anything else names nobody, and
is refused rather than taken for a user id (which made phantom agents). Free text (a reply, a note)
is unescaped before it is stored or mailed: `Price &lt; 10 &amp; free` is mailed as `Price < 10 & free`.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable

from bot.adapters.commands import Dialect, UsageError

USER_ID = r"[UW][A-Z0-9]{2,}"
_USER = re.compile(rf"^<@({USER_ID})(?:\|([^>]*))?>$")
_MARKUP = re.compile(r"<([@#!])([^>|]*)(?:\|([^>]*))?>|<((?:https?|mailto|tel):[^>|]+)(?:\|([^>]*))?>")
_ENTITY = re.compile(r"&(amp|lt|gt);")
_ENTITIES = {"amp": "&", "lt": "<", "gt": ">"}
_UNNAMED = re.compile(rf"<@({USER_ID})>")


def unescape(text: str) -> str:
    """Only the three entities Slack writes; a typed `&amp;` arrives as `&amp;amp;` and comes back as typed."""
    return _ENTITY.sub(lambda m: _ENTITIES[m.group(1)], text)


def as_typed(text: str) -> str:
    """Slack's markup as a person reads it: `<@U1|ben>` -> `@ben`, `<#C1|general>` -> `#general`, links
    unwrapped (`label (url)` when the label differs), entities decoded."""
    def plain(match: re.Match[str]) -> str:
        sigil, target, label, url, url_label = match.groups()
        if url is not None:
            shown = url.removeprefix("mailto:").removeprefix("tel:")
            return shown if not url_label or unescape(url_label) == shown else f"{url_label} ({shown})"
        if sigil == "!":  # <!here>, <!subteam^S1|@support>, <!date^…|fallback>
            return label if label else f"@{target.split('^')[0]}"
        return f"{sigil}{label or target}"

    return unescape(_MARKUP.sub(plain, text))


def user_id(token: str, usage: str) -> str:
    """The user id of a mention Slack resolved; anything else names nobody Slack knows."""
    match = _USER.match(token)
    if match is None:
        shown = as_typed(token) or token
        raise UsageError(f"no such person: {shown}. Pick them from Slack's @ list as you type (the name turns "
                         f"into a mention); usage: {usage}")
    return match.group(1)


def channel_name(text: str) -> str:
    """A team named as a channel (`<#C1|billing>`, `#billing`) is the team's name."""
    return as_typed(text).strip().removeprefix("#")


def as_query(text: str) -> str:
    """A search as typed, for the search grammar: a person Slack resolved stays their id (`<@U1|Ana Agent>`
    -> `@U1`, where `@Ana Agent` would split in two words and name nobody by id), a channel its name, an
    address or a link its text (`<mailto:mia@x.fi|mia@x.fi>` -> `mia@x.fi`, `<http://x.fi|x.fi>` -> `x.fi`)."""
    def plain(match: re.Match[str]) -> str:
        sigil, target, label, url, url_label = match.groups()
        if url is not None:
            shown = url.removeprefix("mailto:").removeprefix("tel:")
            return unescape(url_label) if url_label else shown
        if sigil == "@":
            return f"@{target}"
        if sigil == "#":
            return label or target
        return label if label else f"@{target.split('^')[0]}"

    return unescape(_MARKUP.sub(plain, text))


SLACK = Dialect(user=user_id, text=as_typed, query=as_query)


async def name_mentions(text: str, name_of: Callable[[str], Awaitable[str]]) -> str:
    """`<@U1>` (Slack may leave the name out) as `<@U1|name>`, so the text reads `@name`, not `@U1`."""
    ids = dict.fromkeys(_UNNAMED.findall(text))
    names = {uid: await name_of(uid) for uid in ids}
    return _UNNAMED.sub(lambda m: f"<@{m.group(1)}|{names[m.group(1)]}>" if names[m.group(1)] else m.group(0), text)
