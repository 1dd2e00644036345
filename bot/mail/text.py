"""Mail bodies as text a person reads in chat: bytes decoded, HTML flattened, quoted history off.

Everything here is forgiving on purpose: a body we cannot fully understand is still
shown (slightly mangled) rather than making the whole mail unreadable.
"""

from __future__ import annotations

import codecs
import html as html_lib
import re
from typing import ClassVar

import html2text
from mailparser_reply import EmailMessage
from mailparser_reply.constants import MAIL_LANGUAGES, QUOTED_MATCH_INCLUDE

# Reply-header languages we expect in a Nordic/German helpdesk; English is always added.
LANGUAGES = ("fi", "sv", "de", "en")

# mail-parser-reply ships no Finnish, so we add it (Outlook headers, Gmail/Thunderbird "kirjoitti:").
_FINNISH: dict[str, str | list[str]] = {
    "wrote_header": r"^(" + QUOTED_MATCH_INCLUDE + r"[^\n]{0,200}\skirjoitti(?:\s[^\n]{0,100})?:)$",
    "from_header": r"((?:(?:^|\n|\n" + QUOTED_MATCH_INCLUDE
    + r")[* ]*(?:Lähettäjä|Lähetetty|Vastaanottaja|Aihe|Päivämäärä|Kopio):[ *]*(?:\s{,2}).*){2,}(?:\n.*){,1})",
    "signatures": ["Ystävällisin terveisin", "Parhain terveisin", "Terveisin", "Kiittäen"],
    "sent_from": r"Lähetetty(?= (?:iPhone|iPad|Android|Samsung|Outlook|mobiili))",
    "disclaimers": [],
}
# Swedish "/Anna" sign-off pattern also eats any line starting with a path ("/var/log/...").
_RISKY_SIGNATURES = {r"/\w+"}
# A sign-off is a short line; without this "Thanks, that fixed it. But now ..." loses the rest.
_SIGNOFF_MAX_TAIL = r"[^\n]{0,40}$"

_FORWARD_MARKER = re.compile(
    r"^[ >]*(?:-+ ?)?(?:Forwarded message|Begin forwarded message|Välitetty viesti"
    r"|Weitergeleitete Nachricht|Vidarebefordrat meddelande)",
    re.MULTILINE | re.IGNORECASE,
)
_QUOTED_LINE = re.compile(r"^\s*>")
_BLANK_RUNS = re.compile(r"\n{3,}")
_TAG = re.compile(r"<[^>]*>")


class _ReplyMessage(EmailMessage):
    """The library's parser with Finnish added and its over-eager sign-off patterns tamed.

    The library assembles and compiles its three big patterns for every message (re's own
    cache is too small to keep them); they depend only on the languages, so we keep them.
    """

    _compiled: ClassVar[dict[tuple[str, tuple[str, ...], bool], re.Pattern[str]]] = {}

    def _pattern(self, name: str) -> re.Pattern[str]:
        key = (name, tuple(self.languages), self.keep_hyphen_lists)
        pattern = self._compiled.get(key)
        if pattern is None:
            pattern = self._compiled[key] = getattr(EmailMessage, name).fget(self)
        return pattern

    HEADER_REGEX = property(lambda self: self._pattern("HEADER_REGEX"))  # type: ignore[assignment]
    SIGNATURE_REGEX = property(lambda self: self._pattern("SIGNATURE_REGEX"))  # type: ignore[assignment]
    DISCLAIMERS_REGEX = property(lambda self: self._pattern("DISCLAIMERS_REGEX"))  # type: ignore[assignment]

    def _get_language_regex(self, language: str, regex_key: str) -> str:
        if language == "fi":
            value = _FINNISH.get(regex_key, "")
        else:
            value = MAIL_LANGUAGES.get(language, {}).get(regex_key, "")
        if regex_key != "signatures":
            return "|".join(value) if isinstance(value, list) else value
        patterns = [value] if isinstance(value, str) else [p for p in value if p not in _RISKY_SIGNATURES]
        return f"(?:{'|'.join(patterns)}){_SIGNOFF_MAX_TAIL}" if patterns else ""


def decode_bytes(data: bytes, charset: str | None) -> str:
    """Never fails: mail in the wild lies about its charset or names ones that do not exist."""
    codec = _codec(charset)
    for name in (codec, "utf-8"):
        if name:
            try:
                return data.decode(name)
            except UnicodeDecodeError:
                pass
    if codec and codec not in ("utf-8", "ascii", "cp1252"):
        return data.decode(codec, errors="replace")  # a real multibyte charset with a few bad bytes
    try:
        return data.decode("cp1252")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def _codec(charset: str | None) -> str | None:
    """Python's codec for a MIME charset label; ISO-8859-1 read as its superset cp1252 like browsers do."""
    if not charset:
        return None
    try:
        name = codecs.lookup(charset.strip().strip('"').lower()).name
    except (LookupError, ValueError):
        return None
    return "cp1252" if name in ("iso8859-1", "latin-1") else name


def clean_str(value: str) -> str:
    """Header strings can carry raw bytes as surrogates (unknown charsets); they break JSON and databases."""
    if not any("\ud800" <= ch <= "\udfff" for ch in value):
        return value
    try:
        return decode_bytes(value.encode("utf-8", "surrogateescape"), None)
    except UnicodeEncodeError:
        return value.encode("utf-8", "replace").decode("utf-8")


def html_to_text(html: str) -> str:
    """HTML-only mails still need a readable body; links stay (as Markdown) because they are often the point."""
    converter = html2text.HTML2Text()  # stateful, so one per call
    converter.body_width = 0
    converter.ignore_images = True
    converter.ignore_links = False
    converter.ignore_emphasis = True
    converter.unicode_snob = True
    try:
        text = converter.handle(html)
    except Exception:  # html2text is tolerant, but a body must never sink the mail
        text = html_lib.unescape(_TAG.sub(" ", html))
    return _tidy(text)


def strip_quotes(text: str) -> str:
    """The new part of a reply: what chat should show. Falls back to the whole text rather than nothing."""
    original = _tidy(text)
    latest = _latest_reply(original) if original else None
    if not latest or _FORWARD_MARKER.search(latest):
        return original  # all quote, or a forward whose quoted part is the actual request
    return _drop_trailing_quote(latest) or original


def _latest_reply(text: str) -> str | None:
    """Text above the first reply header, minus the sign-off; None when the mail starts with a header."""
    try:
        message = _ReplyMessage(text=text, languages=list(LANGUAGES), keep_hyphen_lists=True).read()
    except Exception:  # a regex blow-up on odd input must not lose the body
        return text
    first = message.replies[0] if message.replies else None
    if first is None or first.headers:
        return None
    body = first.content
    if first.signatures:
        body = body[: -len(first.signatures)] if body.endswith(first.signatures) else body.replace(first.signatures, "")
    return _restore_indentation(text, body.strip())


def _restore_indentation(original: str, kept: str) -> str:
    """The library strips every line; log excerpts and code read better with their indentation back."""
    kept_lines = kept.split("\n")
    lines = original.split("\n")
    start = next((i for i, line in enumerate(lines) if line.strip()), 0)
    candidate = lines[start : start + len(kept_lines)]
    if [line.strip() for line in candidate] == [line.strip() for line in kept_lines]:
        return "\n".join(candidate)
    return kept


def _drop_trailing_quote(text: str) -> str:
    """Bottom-quoting with bare "> " lines and no header line: the library keeps those."""
    lines = text.split("\n")
    while lines and (not lines[-1].strip() or _QUOTED_LINE.match(lines[-1])):
        lines.pop()
    return "\n".join(lines).strip("\n")


def _tidy(text: str) -> str:
    """Unix newlines, no trailing spaces, at most one blank line in a row."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = "\n".join(line.rstrip() for line in text.split("\n"))
    return _BLANK_RUNS.sub("\n\n", text).strip("\n")
