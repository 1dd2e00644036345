"""A knowledge-base article as written: a Markdown file with YAML front matter, and its text for a plain mail.

The file is what an editor writes by hand, so reading it forgives what it can (a missing title falls back to
the first heading, tags may be one string or a list) and says plainly what it cannot (`ArticleError`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.domain.front_matter import FrontMatterError
from bot.domain.front_matter import split as split_front_matter


class ArticleError(ValueError):
    """The file is not an article we can read; the message says why (shown to whoever runs Tiketti)."""


@dataclass(frozen=True)
class Article:
    slug: str  # the file's path under the folder, without `.md`: `printer-setup`, `it/vpn`
    title: str
    body: str  # the Markdown after the front matter
    tags: tuple[str, ...] = ()
    language: str | None = None  # "en", "fi"; None: any
    url: str | None = None  # where customers can read it; None: the text can be inserted, not a link


_HEADING = re.compile(r"^#{1,6}\s+(?P<text>.+?)\s*#*\s*$", re.MULTILINE)


def parse_article(slug: str, text: str) -> Article:
    """The article in `text` (a file's content); ArticleError when the front matter is not YAML or not a table."""
    try:
        meta, body = split_front_matter(text)
    except FrontMatterError as exc:
        raise ArticleError(f"{slug}: {exc}") from None
    meta = meta or {}
    heading = _HEADING.search(body)
    title = _one_line(meta.get("title")) or (heading.group("text") if heading else "") or slug
    url = _one_line(meta.get("url")) or None
    if url is not None and not re.match(r"^https?://\S+$", url):
        raise ArticleError(f"{slug}: url must be an http(s) address, not {url!r}")
    language = (_one_line(meta.get("language")) or "").lower() or None
    return Article(slug=slug, title=title, body=body.strip(), tags=_tags(meta.get("tags")), language=language, url=url)


def _one_line(value: object) -> str:
    return " ".join(str(value).split()) if value is not None else ""


def _tags(value: object) -> tuple[str, ...]:
    items = value if isinstance(value, list) else re.split(r"[,\s]+", str(value or ""))
    return tuple(dict.fromkeys(t for t in (_one_line(i).lower() for i in items) if t))


_LINK = re.compile(r"!?\[(?P<text>[^\]]*)\]\((?P<url>[^)\s]+)(?:\s+\"[^\"]*\")?\)")
_EMPHASIS = re.compile(r"(\*\*|__|\*|_|~~)(?=\S)(?P<text>.+?)(?<=\S)\1")
_CODE = re.compile(r"`(?P<text>[^`]+)`")
_LIST = re.compile(r"^(?P<indent>\s*)[*+-]\s+", re.MULTILINE)
_QUOTE = re.compile(r"^>\s?", re.MULTILINE)
_RULE = re.compile(r"^\s*([-*_])(\s*\1){2,}\s*$", re.MULTILINE)
_FENCE = re.compile(r"^```.*$", re.MULTILINE)


def plain_text(markdown: str) -> str:
    """The Markdown as a plain-text mail reads well: headings as lines of their own, links as "text (url)",
    lists with "- ", no emphasis marks or code fences. Not a Markdown renderer: a readable approximation."""
    text = _FENCE.sub("", markdown)
    text = _HEADING.sub(lambda m: m.group("text"), text)
    text = _LINK.sub(lambda m: _link(m.group("text"), m.group("url")), text)
    text = _CODE.sub(lambda m: m.group("text"), text)
    text = _EMPHASIS.sub(lambda m: m.group("text"), text)
    text = _LIST.sub(lambda m: f"{m.group('indent')}- ", text)
    text = _QUOTE.sub("", text)
    text = _RULE.sub("", text)
    return re.sub(r"\n{3,}", "\n\n", text).strip()


def _link(text: str, url: str) -> str:
    return url if not text or text == url else f"{text} ({url})"
