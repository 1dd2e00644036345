"""YAML front matter (`---` lines around `key: value` lines at the top of a Markdown file).

Canned replies (bot.domain.canned) and knowledge-base articles (bot.domain.kb_article) are both written
this way by operators; one reader keeps both forgiving of the same things (a BOM, CRLF, an empty block).
"""

from __future__ import annotations

import re
from typing import Any

import yaml

_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml's, where PyYAML was built with it: 10x faster
_FRONT = re.compile(r"\A---[ \t]*\r?\n(?P<yaml>.*?)^---[ \t]*(?:\r?\n|\Z)", re.DOTALL | re.MULTILINE)


class FrontMatterError(ValueError):
    """The block is there but is not YAML keys and values; the message says where."""


def split(text: str) -> tuple[dict[str, Any] | None, str]:
    """(the front matter's keys, or None when the file has none; the text after it)."""
    text = text.lstrip("\ufeff")
    match = _FRONT.match(text)
    if match is None:
        return None, text
    try:
        meta = yaml.load(match.group("yaml"), Loader=_LOADER) or {}  # noqa: S506 (a safe loader)
    except yaml.YAMLError as exc:
        where = getattr(exc, "problem_mark", None)
        raise FrontMatterError(f"the front matter is not YAML{f' (line {where.line + 2})' if where else ''}") from None
    if not isinstance(meta, dict):
        raise FrontMatterError("the front matter must be keys and values (key: value lines)")
    return meta, text[match.end():]
