"""Which lines of a plain-text reply are the customer's new words, and which are history or footers.

Works on whole lines and only ever hides them: what the customer wrote comes out exactly as
written (trailing spaces and runs of blank lines aside), never edited. The words clients put
around history are tables in `bot.mail.quote_words`; this module is the reading:

- a line starting with ">" is quoted history; an attribution ("On … wrote:", wrapped over up to
  three lines) above quoted lines is hidden with them, and what follows the quote is shown again,
  so a reply written below or between quotes is kept;
- an attribution with unquoted text below it, an Outlook-style header block (From/Sent/To/Subject
  in any of the languages) or an "-----Original Message-----" line starts history that runs to the
  end (those clients never write below it);
- a forward is shown whole: the forwarded mail is usually the request;
- in what is left, a signature after "-- ", device footers ("Sent from my iPhone") and mailing-list
  footers are hidden.

When nothing would be left, the whole text is shown: hiding everything helps nobody.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from bot.mail import quote_words as words


def _alternation(items: tuple[str, ...] | list[str], escape: bool = False) -> str:
    ordered = sorted(items, key=len, reverse=True)  # longest first: "enviado el" before "enviado"
    return "|".join(re.escape(i) for i in ordered) if escape else "|".join(ordered)


_QUOTED = re.compile(r"^\s*>")
_SHALLOW_QUOTE = re.compile(r"^\s*>(?!>>)")
_NEVER = re.compile(r"(?!)")
_RULE = re.compile(r"^\s*(?:[-_=*]\s*){3,}$")  # a line of dashes or underscores; "* * *" is a flattened <hr>
_SIG_DELIMITER = re.compile(r"^--\s*$")
_DELIMITER_LINE = re.compile(r"^\s*(?:[-_=*—–]\s*){1,80}$")  # a rule of any length just above a footer
_EVIDENCE = re.compile(r"\d|@")
_TIME = re.compile(r"\d{1,2}[:.]\d{2}")
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af]")

_VERB_END = re.compile(
    r"(?:(?<!\w)(?:" + _alternation([v for v in words.VERBS_AT_END if not _CJK.search(v)]) + r")"
    r"|(?:" + _alternation([v for v in words.VERBS_AT_END if _CJK.search(v)]) + r"))$",
    re.IGNORECASE,
)
_VERB_TAIL = re.compile(r"(?<!\w)(?:" + _alternation(words.VERBS_BEFORE_NAME) + r")\s+(?P<tail>.{1,100})$",
                        re.IGNORECASE)
_VERBLESS = re.compile(r"<\s*[^<>\s@]+@[^<>\s]+\s*>$")  # Gmail in ru, ja, zh…: "<date>, Name <address>:"

_FIELD_KIND = {label: kind for kind, labels in words.FIELDS.items() for label in labels}
_FIELD = re.compile(r"^\s*[*_]{0,2}\s*(" + _alternation(list(_FIELD_KIND), escape=True) + r")\s*[*_]{0,2}\s*[:：]",
                    re.IGNORECASE)

_FORWARD_PHRASES = {p.lower() for p in words.FORWARDED}
_SEPARATOR = re.compile(
    r"^[\s\-_=*#]*(?P<phrase>" + _alternation(words.ORIGINAL_MESSAGE + words.FORWARDED, escape=True)
    + r")[\s\-_=*#:：]*$",
    re.IGNORECASE,
)
_FOOTER = re.compile(r"^(?:" + _alternation(words.FOOTER_OPENINGS, escape=True) + r")\b", re.IGNORECASE)
_FOOTER_DEVICE = re.compile(r"(?<!\w)(?:" + _alternation(words.FOOTER_DEVICES, escape=True) + r")", re.IGNORECASE)
_FOOTER_WHOLE = re.compile(r"^(?:" + "|".join(words.FOOTER_WHOLE) + r")[.!]?$", re.IGNORECASE)

_LONGEST_VERB = 2 + max(map(len, words.VERBS_AT_END))  # only a line's end is searched for the verb
_LONGEST_LABEL = 40  # "**Enviado el:**" and its kin fit
_LONGEST_HEADER = 300  # an attribution longer than this is someone's paragraph
_LONGEST_MARKER = 200  # the same for a separator or a footer line
_MOST_LINES = 20_000  # history is looked for this far; a longer body is shown from there on as it is
_LONGEST_SIGNATURE = 15  # non-blank lines after "-- "; more is a message that uses "--" as a divider


def visible_text(text: str, *, forwarded: bool = False) -> str:
    """The lines a person should see in chat; `text` itself when nothing would be left or it is a forward.

    `text` should already be tidied (Unix newlines, no trailing spaces): the lines shown are its lines.
    """
    lines = text.split("\n")
    # Only ">>>" lines and no shallower quote: a pasted Python session, not three levels of history.
    quoted = _QUOTED if any(_SHALLOW_QUOTE.match(line) for line in lines) else _NEVER
    hidden = None if forwarded else _history(lines, quoted)
    if hidden is None:
        return text
    _hide_footers(lines, hidden)
    return _join(lines, hidden) or text


# --- history ----------------------------------------------------------------------------------


def _history(lines: list[str], quoted: re.Pattern[str]) -> list[bool] | None:
    """Hidden flag per line for quoted history; None when the mail is a forward (shown whole)."""
    hidden = [False] * len(lines)
    ends: list[bool | None] = [None] * len(lines)
    fields: dict[int, str | None] = {}
    seen_history = False
    i = 0
    while i < min(len(lines), _MOST_LINES):
        line = lines[i]
        if quoted.match(line):
            hidden[i] = seen_history = True
        elif line.strip():
            separator = _separator(line)
            if separator is not None and separator.group("phrase").lower() in _FORWARD_PHRASES:
                if not seen_history:
                    return None
                _hide_rest(lines, hidden, i)
                break
            if separator is not None or _header_block_at(lines, i, quoted, fields):
                _hide_rest(lines, hidden, i)
                break
            end = _attribution_at(lines, i, quoted, ends)
            if end is not None:
                following = _next_written(lines, end + 1)
                if following is None or not quoted.match(lines[following]):
                    _hide_rest(lines, hidden, i)  # unquoted history below: to the end
                    break
                _hide_rest(lines, hidden, i, end + 1)
                seen_history = True
                i = end
        i += 1
    return hidden


def _separator(line: str) -> re.Match[str] | None:
    """"-----Original Message-----" and kin; a bare word ("Original") only between rules, as QQ Mail writes it."""
    found = _SEPARATOR.match(line) if len(line) <= _LONGEST_MARKER else None
    if found is not None and found.group("phrase").lower() in words.NEEDS_RULES and "--" not in line:
        return None
    return found


def _hide_rest(lines: list[str], hidden: list[bool], start: int, stop: int | None = None) -> None:
    """Hide start..stop (default: the end), and a rule just above (a blank line between or not), which
    clients draw before history."""
    for k in range(start, len(lines) if stop is None else stop):
        hidden[k] = True
    above = start - 1 if start > 0 and lines[start - 1].strip() else start - 2
    if above >= 0 and len(lines[above]) <= _LONGEST_MARKER and _RULE.match(lines[above]):
        hidden[above] = True


def _next_written(lines: list[str], start: int) -> int | None:
    return next((k for k in range(start, len(lines)) if lines[k].strip()), None)


def _attribution_at(lines: list[str], start: int, quoted: re.Pattern[str], ends: list[bool | None]) -> int | None:
    """The last line of an attribution ("On … wrote:") starting at `start`; clients wrap them over up to three lines.

    `ends` caches, per line, whether an attribution could end there (each line is asked up to three times).
    """
    for end in range(start, min(start + 3, len(lines))):
        line = lines[end]
        if not line.strip() or len(line) > _LONGEST_HEADER or quoted.match(line):
            return None
        if ends[end] is None:
            tail = line.rstrip().rstrip("-").rstrip()
            ends[end] = tail.endswith((":", "：", ">")) or _VERB_END.search(tail[-_LONGEST_VERB:]) is not None
        if not ends[end]:
            continue
        following = _next_written(lines, end + 1)
        quote_follows = following is not None and quoted.match(lines[following]) is not None
        if is_attribution(" ".join(b.strip() for b in lines[start:end + 1]), quote_follows=quote_follows,
                          wrapped=start < end):
            return end
    return None


def is_attribution(text: str, *, quote_follows: bool, wrapped: bool = False) -> bool:
    """Whether `text` (one attribution, joined if wrapped) introduces quoted history.

    Without a date or an address in it, it counts only right above quoted lines ("John wrote:" could
    be anyone's sentence); a wrapped one must open like one, so a sentence above it is not taken in.
    """
    text = text.strip().strip("-*").strip()  # Zoho "---- On … wrote ----", Yahoo "--- On … wrote:"
    if not 6 <= len(text) <= _LONGEST_HEADER:
        return False
    colon = text.endswith((":", "："))
    body = text.rstrip(":：").rstrip()  # French typography: "a écrit :"
    opens = words.OPENING.match(body) is not None
    evidence = _EVIDENCE.search(body) is not None
    if wrapped and not opens:
        return False
    if _VERB_END.search(body) is None:
        tail = _VERB_TAIL.search(body)
        if tail is None or not (opens or "@" in body or tail.group("tail")[0].isdigit()):
            return colon and _without_verb(body, opens=opens, quote_follows=quote_follows)
    if not colon and not (opens and evidence):  # "On … wrote" with its colon lost
        return False
    return evidence or quote_follows


def _without_verb(body: str, *, opens: bool, quote_follows: bool) -> bool:
    """Attributions with no verb we know: "Quoting Name <a>:", Gmail's "<date> <time>, Name <a>:" (ru, ja,
    zh…), and in any language a time and an address right above quoted lines."""
    if words.QUOTING.match(body) is not None:
        return True
    timed = _TIME.search(body) is not None
    return timed and ((opens and _VERBLESS.search(body) is not None) or (quote_follows and "@" in body))


def _header_block_at(lines: list[str], start: int, quoted: re.Pattern[str], fields: dict[int, str | None]) -> bool:
    """An Outlook-style block from `start`: sender, subject and another field, lines wrapped or not.

    `fields` caches each line's field kind: a run of field lines is looked at from each of its lines.
    """
    kinds: set[str] = set()
    loose = 0
    for k in range(start, min(start + 24, len(lines))):
        line = lines[k]
        if k not in fields:
            fields[k] = _field(line)
        kind = fields[k]
        if k == start and kind is None:
            return False
        if kind is not None:
            kinds.add(kind)
            loose = 0
        elif not line.strip() or quoted.match(line):
            break
        else:
            loose += 1  # a long To: or Cc: wrapped onto the next lines
            if loose > 5:
                break
    return {"from", "subject"} <= kinds and len(kinds) >= 3  # "From: Helsinki / To: Oslo / Date: …" is a trip


def _field(line: str) -> str | None:
    """The kind of header field the line starts ("from", "sent", "to", "cc", "subject"), if any."""
    head = line[:_LONGEST_LABEL]
    if ":" not in head and "：" not in head:
        return None
    field = _FIELD.match(head)
    return _FIELD_KIND[field.group(1).lower()] if field is not None else None


# --- footers ----------------------------------------------------------------------------------


def _hide_footers(lines: list[str], hidden: list[bool]) -> None:
    """In each stretch of the customer's own lines: list footers, a "-- " signature, then device footers."""
    for start, stop in list(_stretches(hidden)):
        for k in range(start, stop):
            if _is_list_footer(lines, k, stop) or (
                _SIG_DELIMITER.match(lines[k]) and sum(1 for b in lines[k + 1:stop] if b.strip()) <= _LONGEST_SIGNATURE
            ):
                for j in range(k, stop):
                    hidden[j] = True
                if k > start and _DELIMITER_LINE.match(lines[k - 1]):  # Google Groups' "---", GitHub's "—"
                    hidden[k - 1] = True
                break
        for k in range(stop - 1, start - 1, -1):
            if hidden[k] or not lines[k].strip():
                continue
            if not is_footer(lines[k]):
                break
            hidden[k] = True


def _is_list_footer(lines: list[str], k: int, stop: int) -> bool:
    line = lines[k].strip()
    if words.LIST_FOOTER.match(line):
        return True
    return line.startswith("_____") and _RULE.match(line) is not None and any(
        words.LIST_WORDS.search(b) for b in lines[k + 1:min(stop, k + 5)])


def is_footer(line: str) -> bool:
    """A device or app footer: "Sent from my iPhone", "Von meinem Samsung Galaxy gesendet", "Get Outlook for iOS"."""
    text = line.strip()
    if not text or len(text) > _LONGEST_MARKER or ": " in text:  # "Sent from my phone: the form fails" is news
        return False
    if _FOOTER_WHOLE.match(text):
        return True
    return _FOOTER.match(text) is not None and _FOOTER_DEVICE.search(text) is not None


# --- putting it together ----------------------------------------------------------------------


def _stretches(hidden: list[bool]) -> Iterator[tuple[int, int]]:
    """(start, stop) of each run of lines that are not hidden."""
    start = None
    for k, is_hidden in enumerate([*hidden, True]):
        if not is_hidden and start is None:
            start = k
        elif is_hidden and start is not None:
            yield start, k
            start = None


def _join(lines: list[str], hidden: list[bool]) -> str:
    """The shown stretches, each without its edge blank lines, a blank line between them."""
    parts = ["\n".join(lines[start:stop]).strip("\n") for start, stop in _stretches(hidden)]
    return "\n\n".join(p for p in parts if p.strip())
