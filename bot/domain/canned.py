"""Canned replies: one Markdown file each, YAML front matter on top, a Jinja2 template below.

Pure on purpose: parsing a file, deciding who sees a reply, choosing its language and rendering it need
no store and no chat platform (bot.handlers.canned reads the folder and gathers the ticket's facts).

Templates are written by operators and, through `/ticket replies save`, by agents, and their output is
mailed to customers: they run in Jinja2's SandboxedEnvironment (no `''.__class__.__mro__` walks), with
StrictUndefined (a misspelt placeholder is an error the agent sees, never an empty hole in a customer's
mail) and without autoescape (the mail is plain text).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import yaml
from jinja2 import StrictUndefined, TemplateError, nodes
from jinja2.sandbox import SandboxedEnvironment

from bot.domain.front_matter import FrontMatterError
from bot.domain.front_matter import split as split_front_matter

DEFAULT_LANGUAGE = "en"
NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
LANGUAGE = re.compile(r"^[a-z]{2,3}(?:-[a-z0-9]{2,8})?$")
_KEYS = frozenset({"name", "title", "language", "team", "owner", "tags", "saved_by"})

# Every placeholder a template may use: {{ customer.first_name }} and so on (docs/configuration.md).
PLACEHOLDERS: Mapping[str, frozenset[str]] = {
    "customer": frozenset({"first_name", "name", "email"}),
    "ticket": frozenset({"number", "subject", "status", "priority", "team"}),
    "agent": frozenset({"name", "first_name"}),
    "sla": frozenset({"first_response_due", "resolution_due"}),
    "helpdesk": frozenset({"name"}),
}


class CannedError(ValueError):
    """A reply file that cannot be used, or a reply that cannot be rendered; the text says why, for people."""


@dataclass(frozen=True)
class CannedReply:
    name: str
    title: str
    language: str
    body: str  # the Jinja2 template, as written
    source: str  # the file, relative to the replies folder
    team: str | None = None  # shared with this team only; None: with everyone
    owner: str | None = None  # a personal reply: this agent's chat user id or email
    tags: tuple[str, ...] = ()
    saved_by: str | None = None  # who saved it from chat (`/ticket replies save`): they may save it again

    @property
    def scope(self) -> str:
        return "personal" if self.owner else f"team {self.team}" if self.team else "everyone"


@dataclass(frozen=True)
class BrokenReply:
    """A file that was skipped: shown in `/ticket replies` so whoever keeps the folder finds it."""

    source: str
    reason: str


@dataclass(frozen=True)
class Viewer:
    """Who asks, as far as seeing replies goes: their keys (chat id, email), their teams, manager or more."""

    keys: frozenset[str]
    teams: frozenset[str]
    manager: bool = False


def environment() -> SandboxedEnvironment:
    return SandboxedEnvironment(undefined=StrictUndefined, autoescape=False, trim_blocks=True, lstrip_blocks=True)


_ENV = environment()


def parse_reply(relative: str, text: str) -> CannedReply:
    """One file's reply. `relative` is its path in the folder: `refund-policy.fi.md` says name and language
    unless the front matter does; CannedError says what is wrong."""
    try:
        meta, text = split_front_matter(text)
    except FrontMatterError as exc:
        raise CannedError(str(exc)) from None
    if meta is None:
        raise CannedError("no front matter: the file must start with a line '---', the YAML keys, and '---'")
    if unknown := sorted(str(k) for k in meta if k not in _KEYS):
        raise CannedError(f"unknown front matter key(s): {', '.join(unknown)} (known: {', '.join(sorted(_KEYS))})")
    stem = relative.replace("\\", "/").rsplit("/", 1)[-1].removesuffix(".md")
    base, _, suffix = stem.rpartition(".")
    file_name, file_language = (base, suffix) if base and LANGUAGE.match(suffix.lower()) else (stem, None)
    name = _text(meta, "name") or file_name
    if not NAME.match(name.lower()):
        raise CannedError(f"the name {name!r} must be lower-case letters, digits, '-' or '_' (at most 64)")
    language = (_text(meta, "language") or file_language or DEFAULT_LANGUAGE).lower()
    if not LANGUAGE.match(language):
        raise CannedError(f"the language {language!r} is not a language code like en, fi or pt-br")
    tags = meta.get("tags") or ()
    if isinstance(tags, str):
        tags = tags.split(",")
    if not isinstance(tags, list | tuple):
        raise CannedError("tags must be a list")
    body = text.strip("\n")
    if not body.strip():
        raise CannedError("the reply has no text below the front matter")
    check_template(body)
    return CannedReply(name=name.lower(), title=_text(meta, "title") or name, language=language, body=body,
                       source=relative, team=_text(meta, "team") or None, owner=_text(meta, "owner") or None,
                       tags=tuple(str(t).strip() for t in tags if str(t).strip()),
                       saved_by=_text(meta, "saved_by") or None)


def _text(meta: Mapping[Any, Any], key: str) -> str:
    value = meta.get(key)
    if value is None:
        return ""
    if isinstance(value, dict | list):
        raise CannedError(f"{key} must be a single value")
    return str(value).strip()


def check_template(body: str) -> None:
    """The template parses and names only known placeholders: a typo is found when the file is read,
    not when a customer is waiting. Rendering checks again (StrictUndefined) for what this cannot see."""
    try:
        tree = _ENV.parse(body)
    except TemplateError as exc:
        line = getattr(exc, "lineno", None)
        raise CannedError(f"template error{f' on line {line}' if line else ''}: {exc}") from None
    assigned = {n.name for n in tree.find_all(nodes.Name) if n.ctx in ("store", "param")}
    for node in tree.find_all(nodes.Getattr):
        if isinstance(node.node, nodes.Name) and node.node.name in PLACEHOLDERS:
            if node.attr not in PLACEHOLDERS[node.node.name]:
                raise CannedError(f"unknown placeholder {{{{ {node.node.name}.{node.attr} }}}}; "
                                  f"{node.node.name} has {', '.join(sorted(PLACEHOLDERS[node.node.name]))}")
    for node in tree.find_all(nodes.Name):
        if node.ctx == "load" and node.name not in PLACEHOLDERS and node.name not in assigned:
            raise CannedError(f"unknown placeholder {{{{ {node.name} }}}}; known: {', '.join(PLACEHOLDERS)}")


def render(reply: CannedReply, values: Mapping[str, Mapping[str, str]]) -> str:
    """The reply's text for one ticket. CannedError says which placeholder or what the sandbox refused."""
    try:
        text = _ENV.from_string(reply.body).render({k: dict(v) for k, v in values.items()})
    except TemplateError as exc:  # UndefinedError, SecurityError (a subclass), TemplateSyntaxError
        kind = "refused by the sandbox" if type(exc).__name__ == "SecurityError" else "cannot be filled in"
        raise CannedError(f"the canned reply :{reply.name} ({reply.language}) {kind}: {exc}") from None
    return text.strip()


def first_name(name: str, email: str = "") -> str:
    """'Mia' of 'Mia Virtanen' or of 'Virtanen, Mia'; empty when the name is unknown (or only an address),
    so a template can fall back: `Hi {{ customer.first_name or "there" }},`."""
    name = name.strip().strip('"').strip()
    if not name or "@" in name or (email and name.lower() == email.lower()):
        return ""
    if "," in name:
        name = name.split(",", 1)[1].strip() or name.split(",", 1)[0]
    first = name.split()[0] if name.split() else ""
    return first if any(ch.isalpha() for ch in first) else ""


def visible(reply: CannedReply, who: Viewer) -> bool:
    """Personal replies to their owner only; team replies to that team's members, managers and admins."""
    if reply.owner is not None:
        return reply.owner.lower() in who.keys
    if reply.team is not None:
        return who.manager or reply.team.lower() in {t.lower() for t in who.teams}
    return True


def split_language(name: str) -> tuple[str, str | None]:
    """`refund-policy@fi` or `refund-policy.fi` → ('refund-policy', 'fi'); a plain name has none."""
    for sep in ("@", "."):
        base, found, language = name.rpartition(sep)
        if found and base and LANGUAGE.match(language.lower()):
            return base.lower(), language.lower()
    return name.lower(), None


def choose(variants: Sequence[CannedReply], wanted: str | None, guessed: str | None) -> CannedReply:
    """The variant in the language asked for, else the customer's guessed one, else English, else the first."""
    by_language = {v.language: v for v in sorted(variants, key=lambda v: v.source)}
    if wanted is not None:
        if wanted in by_language:
            return by_language[wanted]
        short = wanted.split("-")[0]
        if (near := next((v for lang, v in by_language.items() if lang.split("-")[0] == short), None)) is not None:
            return near
        raise CannedError(f"the canned reply :{variants[0].name} has no {wanted} version "
                          f"(it has {', '.join(sorted(by_language))})")
    for language in (guessed, DEFAULT_LANGUAGE):
        if language and language in by_language:
            return by_language[language]
    return by_language[sorted(by_language)[0]]


# A handful of the commonest short words per language: enough to tell a customer's mail apart among the
# languages one reply exists in, which is all `guess_language` is asked.
_STOP_WORDS: Mapping[str, frozenset[str]] = {
    "en": frozenset("the and is are was you your my our have has not with for this that what when please "
                    "thanks thank can could would it of to".split()),
    "fi": frozenset("ja on ei se että mutta kun kuin olen ole oli minä meidän teidän voisitteko kiitos "
                    "hei terveisin tämä mitä miten myös vielä nyt jos".split()),
    "sv": frozenset("och är inte det att men som jag vi ni har med för kan tack hej hälsningar också "
                    "detta vad".split()),
    "de": frozenset("und ist nicht das die der ich wir sie mit für bitte danke hallo grüße auch "
                    "haben kann".split()),
    "fr": frozenset("et est pas le la les je nous vous avec pour merci bonjour cordialement aussi "
                    "une des".split()),
    "es": frozenset("y es no el la los yo nosotros usted con para gracias hola saludos también una "
                    "por que".split()),
    "nl": frozenset("en is niet het de ik wij u met voor bedankt hallo groeten ook een van".split()),
    "et": frozenset("ja on ei see et aga kui mina meie teie palun aitäh tere".split()),
}
_WORD = re.compile(r"[^\W\d_]+", re.UNICODE)


def guess_language(text: str, among: Iterable[str]) -> str | None:
    """The language among `among` whose common words the text uses most; None when it cannot tell."""
    words = [w.lower() for w in _WORD.findall(text[:5000])]
    scores = {lang: sum(w in _STOP_WORDS[lang.split("-")[0]] for w in words)
              for lang in set(among) if lang.split("-")[0] in _STOP_WORDS}
    if not scores:
        return None
    ranked = sorted(scores.items(), key=lambda kv: -kv[1])
    best, score = ranked[0]
    if score == 0 or (len(ranked) > 1 and ranked[1][1] == score):
        return None
    return best


def raw_template(text: str) -> str:
    """A reply typed in chat, saved as a template that renders back to exactly that text."""
    if any(mark in text for mark in ("{{", "{%", "{#")):
        return "{% raw %}" + text.replace("{% endraw %}", "{% endraw %}{{ '{% endraw %}' }}{% raw %}") + "{% endraw %}"
    return text


def front_matter(meta: Mapping[str, object]) -> str:
    """The `---` block for a saved reply (values quoted by YAML itself, so a title cannot break it)."""
    kept = {k: v for k, v in meta.items() if v not in (None, "", (), [])}
    return "---\n" + yaml.safe_dump(kept, allow_unicode=True, sort_keys=False) + "---\n"
