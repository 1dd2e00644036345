"""Mail bodies as text a person reads in chat: bytes decoded, HTML flattened, quoted history hidden.

Everything here is forgiving on purpose: a body we cannot fully understand is still
shown (slightly mangled) rather than making the whole mail unreadable.
"""

from __future__ import annotations

import codecs
import html as html_lib
import re

import html2text

from bot.mail import html_quotes, quotes
from bot.mail.quote_words import FORWARD_SUBJECT

_BLANK_RUNS = re.compile(r"\n{3,}")
_TAG = re.compile(r"<[^>]*>")
# html2text escapes what Markdown would read as a rule, a list or a heading ("\\-----", "\\+", "1\\."); in chat
# those backslashes are noise in the customer's own text ("-----Original Message-----" must stay that).
# A text part that only points at the HTML part ("This is an HTML message…", "View this email in your browser").
_PLACEHOLDER_TOPIC = re.compile(r"html|web ?page|browser|online[- ]version|selaime|webbläsare|nettleser|browseren"
                                r"|navigateur|navegador|navigatore|przeglądar|браузер|ブラウザ", re.IGNORECASE)
_PLACEHOLDER_VERB = re.compile(r"\b(?:view|read|see|open|display|show|support\w*|capable|enable|näytä|lue|avaa|visa"
                               r"|läs|vis|les|anzeigen|lesen|öffnen|bekijk|afficher|lire|ver|leer|abrir|visualizza"
                               r"|leggere|aprire|zobacz|wyświetl|visualizar|просмотр|открыть)\b|表示|見る", re.IGNORECASE)
_PLACEHOLDER_MAX = 400
_MARKDOWN_ESCAPE = re.compile(r"^(\s*)\\(?=[-+#*])|^(\s*\d+)\\(?=\.)", re.MULTILINE)


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
    return _tidy(_MARKDOWN_ESCAPE.sub(lambda m: m.group(1) or m.group(2), text))


def readable_body(plain: str | None, html: str | None, *, subject: str = "") -> tuple[str, str]:
    """(the whole text, what chat shows) from a mail's text and HTML parts.

    The text part wins when it says something. An empty one (a lone CRLF) or a "view this mail in
    HTML" stub would make a blank ticket while the HTML part holds the letter, so then the HTML is read.
    """
    forwarded = FORWARD_SUBJECT.match(subject) is not None
    if html is not None and not _says_something(plain):
        whole = html_to_text(html)
        if _says_something(whole):
            return whole, _visible_html(html, whole, forwarded=forwarded)
    text = plain if plain is not None else html_to_text(html or "")
    return text, strip_quotes(text, forwarded=forwarded)


def _says_something(text: str | None) -> bool:
    return bool(text and text.strip()) and not is_placeholder(text or "")


def is_placeholder(text: str) -> bool:
    """A text part that only says to read the HTML part; short, about HTML or a browser, and says view/read."""
    text = text.strip()
    return (len(text) <= _PLACEHOLDER_MAX and _PLACEHOLDER_TOPIC.search(text) is not None
            and _PLACEHOLDER_VERB.search(text) is not None)


def strip_quotes(text: str, *, forwarded: bool = False) -> str:
    """The new part of a reply: what chat should show. Falls back to the whole text rather than nothing.

    `forwarded` (the subject says Fwd/FW/WG…) shows the whole text: the forwarded mail is the request.
    """
    original = _tidy(text)
    if not original:
        return original
    try:
        return quotes.visible_text(original, forwarded=forwarded)
    except Exception:  # a surprise in our own reading must not lose the body
        return original


def visible_html(html: str, *, forwarded: bool = False) -> str:
    """What chat shows of an HTML body: history found by its structure first, then by its words."""
    return _visible_html(html, html_to_text(html), forwarded=forwarded)


def _visible_html(html: str, whole: str, *, forwarded: bool) -> str:
    """`whole` is `html` flattened; it is read by its words alone when the structure shows no history."""
    if not forwarded:
        try:
            own = html_quotes.without_history(html)
            shown = strip_quotes(html_to_text(own)) if own is not None else ""
        except Exception:  # odd markup: the flattened whole, read by its words alone, is still right
            shown = ""
        if shown.strip():
            return shown
    return strip_quotes(whole, forwarded=forwarded)


def _tidy(text: str) -> str:
    """Unix newlines, no trailing spaces, at most one blank line in a row."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = "\n".join(line.rstrip() for line in text.split("\n"))
    return _BLANK_RUNS.sub("\n\n", text).strip("\n")
