"""Slack's size limits and escaping, applied once so no view is ever rejected.

Slack refuses a whole message when one block is too long (`invalid_blocks`), and
mail is written by strangers: bodies are any length and may contain `<!channel>`.
Everything user-written passes through here before it reaches a block: it is
escaped (so it can link or ping nobody), stripped of control characters, and cut
at the limit that applies to the place it goes.
"""

from __future__ import annotations

import re
import unicodedata

MAX_BLOCKS = 50  # blocks in one message
MAX_MODAL_BLOCKS = 100
MAX_SECTION_TEXT = 3000
MAX_FIELD_TEXT = 2000  # each of a section's fields
MAX_FIELDS = 10
MAX_HEADER_TEXT = 150
MAX_BUTTON_TEXT = 75
MAX_OPTION_TEXT = 75
MAX_CONTEXT_ELEMENTS = 10
MAX_MESSAGE_TEXT = 40_000  # the top-level "text" (notification fallback)
MAX_MODAL_TITLE = 24
MAX_INPUT_VALUE = 3000  # plain_text_input initial_value
MAX_PRIVATE_METADATA = 3000

# Slack refuses a message whose blocks hold more than about 12,000-13,300 characters of text in all
# (`msg_blocks_too_long`), however small each block is. Undocumented; reported in slackapi/bolt-js#2509
# ("Blocks too long error at ~13200 characters") and #2867. We keep every message's blocks under this,
# a margin below the lowest figure reported, so a long mail or answer becomes several messages instead.
MAX_BLOCKS_TEXT = 11_000

# How much of one mail body a ticket's thread shows (over as many messages as MAX_BLOCKS_TEXT needs).
# Beyond it the head is shown and the whole text is attached as a file: a 100 KB mail in the channel
# helps nobody.
MAX_BODY_CHARS = 5 * MAX_SECTION_TEXT
NOTIFICATION_CHARS = 300  # the fallback text: enough for a notification preview

ELLIPSIS = "…"
_ENTITY_MAX = len("&amp;")


# A Slack user id (U…, or W… on Enterprise Grid). An assignee's chat id may be another platform's (a Discord
# snowflake is all digits): as a `<@…>` mention or a users_select's `initial_user` it would show raw or be
# refused, so only an id of this shape is ever used as a Slack user.
_SLACK_USER_ID = re.compile(r"[UW][A-Z0-9]{2,}")


def slack_user_id(chat_id: str | None) -> str | None:
    """`chat_id` when it is a Slack user id, else None (another platform's id names nobody here)."""
    return chat_id if chat_id and _SLACK_USER_ID.fullmatch(chat_id) else None


def clean(text: str) -> str:
    """Normalise line ends and drop control characters (a mail may carry any byte)."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\t", "    ")
    return "".join(ch for ch in text if ch == "\n" or unicodedata.category(ch) != "Cc")


def escape(text: str) -> str:
    """Slack's three control characters in mrkdwn: with them escaped, `<!channel>` is just text."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def one_line(text: str, limit: int) -> str:
    """Plain text on one line, at most `limit` characters (an ellipsis marks a cut)."""
    flat = " ".join(clean(text).split())
    return flat if len(flat) <= limit else flat[: max(limit - 1, 0)] + ELLIPSIS


def mrkdwn_line(text: str, limit: int) -> str:
    """Escaped one-line mrkdwn within `limit`; cut before escaping so no entity is broken."""
    flat = " ".join(clean(text).split())
    room = limit
    while True:
        shown = escape(flat if len(flat) <= room else flat[: max(room - 1, 0)] + ELLIPSIS)
        if len(shown) <= limit:
            return shown
        room -= len(shown) - limit


def _cut_point(text: str, limit: int) -> int:
    """Where to end a piece of escaped text: a paragraph, a line, a word; never inside `&amp;`."""
    if len(text) <= limit:
        return len(text)
    window = text[:limit]
    for sep in ("\n\n", "\n", " "):
        at = window.rfind(sep)
        if at >= limit // 2:
            return at + len(sep)
    amp = window.rfind("&", max(0, limit - _ENTITY_MAX))
    if amp >= 0 and ";" not in window[amp:]:
        return amp  # 0 when not even one entity fits
    return limit


def split_for_slack(text: str, *, piece: int = MAX_SECTION_TEXT, budget: int = MAX_BODY_CHARS) -> tuple[list[str], bool]:
    """Escape user text and cut it into section-sized pieces.

    Returns the pieces (each at most `piece` characters, together at most
    `budget`) and whether anything was left out, in which case the last piece
    ends with an ellipsis and the caller should attach the whole text as a file.
    """
    rest = escape(clean(text).strip("\n").rstrip())
    truncated = len(rest) > budget
    if truncated:  # cut once at the budget, so the pieces below are all full-sized
        rest = rest[: _cut_point(rest, budget - len(ELLIPSIS))].rstrip()
    pieces: list[str] = []
    while rest:
        last = len(rest) <= piece
        cut = _cut_point(rest, piece - len(ELLIPSIS) if truncated and last else piece)
        if cut == 0:
            break
        head, rest = rest[:cut].rstrip(), rest[cut:].lstrip("\n")
        if head:
            pieces.append(head)
    if truncated and pieces:
        pieces[-1] += ELLIPSIS
    return pieces, truncated


