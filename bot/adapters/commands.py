"""The `/ticket` grammar every chat adapter shares: one vocabulary in Slack, Discord and the console.

Parsing is strict and reports problems as UsageError, whose message each adapter
shows as is. What a parsed command then does is the adapter's business (each
renders answers its own way), but the words are the same everywhere.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from bot.domain.errors import UserFacingError
from bot.domain.priority import Priority
from bot.domain.status import Status


class UsageError(UserFacingError, ValueError):
    """The line does not say what to do; the message (shown as is) says how to say it."""


@dataclass(frozen=True)
class Spec:
    usage: str
    does: str
    number: bool = True  # takes a ticket number first
    rest: str = "none"  # what follows: "none" | "text" | "any" (optional text) | "user" | "priority" | "status" | "merge"


SPECS: dict[str, Spec] = {
    "help": Spec("/ticket help", "this list", number=False),
    "claim": Spec("/ticket claim N", "take ticket N yourself"),
    "assign": Spec("/ticket assign N @user [Name]", "give ticket N to a chat user (@U2, @ana)", rest="user"),
    "reply": Spec("/ticket reply N text…", "MAIL the text to the customer (held if a colleague answers too; then "
                  "/ticket reply N --anyway text…)", rest="text"),
    "note": Spec("/ticket note N text…", "internal note, never mailed", rest="text"),
    "close": Spec("/ticket close N", "mark ticket N solved"),
    "reopen": Spec("/ticket reopen N", "open a solved ticket again"),
    "priority": Spec("/ticket priority N low|normal|high|urgent", "set the priority", rest="priority"),
    "status": Spec("/ticket status N <status>", "e.g. waiting on customer, on hold, solved", rest="status"),
    "show": Spec("/ticket show N [--original]", "the whole thread and details (--original: mails as received, "
                 "quoted history and signatures included)"),
    "mine": Spec("/ticket mine", "your active tickets", number=False),
    "queue": Spec("/ticket queue [view]", "active tickets nobody has taken, or a saved view (billing-open)",
                  number=False, rest="any"),
    "history": Spec("/ticket history N", "who changed what, and when"),
    "category": Spec("/ticket category N <category>", "e.g. billing, complaint, technical", rest="text"),
    "tag": Spec("/ticket tag N +tag -tag…", "add (+) or remove (-) free tags", rest="text"),
    "move": Spec("/ticket move N <team>", "hand the ticket (and its thread) to another team", rest="text"),
    "next": Spec("/ticket next", "take the most urgent unassigned ticket of your teams", number=False),
    "merge": Spec("/ticket merge N into M [--different-customer]",
                  "N's conversation continues in M; N closes (two customers' tickets: add the flag)", rest="merge"),
    "child": Spec("/ticket child N [team] subject… [| to name@example.com]",
                  "split off an internal child ticket (with `| to`: an outbound one, replies go to that address)",
                  rest="text"),
    "task": Spec("/ticket task N [in 2h|in 30m|in 1d] text…", "a to-do on N, with a reminder when due", rest="text"),
    "tasks": Spec("/ticket tasks", "your open tasks", number=False),
    "done": Spec("/ticket done T", "mark task T done"),
    "new": Spec("/ticket new", "open a ticket by hand, or mail a supplier as a ticket", number=False, rest="any"),
    "report": Spec("/ticket report [today|week|month|YYYY-MM-DD..YYYY-MM-DD] [team]", "how the team is doing",
                   number=False, rest="any"),
    # The agent's toolkit (bot.adapters.toolkit): finding, answering faster, counting time, asking outside.
    "search": Spec("/ticket search words… [status:open] [team:billing] [tag:vip] [from:mia@…|domain] "
                   "[assignee:@ana|none|me] [category:…] [priority:high] [after:YYYY-MM-DD] [before:…] [page:2] "
                   "[sort:newest]",
                   "find tickets by words in subjects and messages", number=False, rest="text"),
    "kb": Spec("/ticket kb words…", "search the knowledge base (in a reply, :kb:slug puts in an article's link, "
               ":kb-text:slug its text)", number=False, rest="text"),
    "replies": Spec("/ticket replies [words] | /ticket replies save NAME [team|<team>|personal] [from N]",
                    "canned replies (send one with /ticket reply N :name); save your last reply as one",
                    number=False, rest="any"),
    "macros": Spec("/ticket macros", "the macros you may apply", number=False),
    "macro": Spec("/ticket macro N name", "apply a macro: several changes (and a reply) in one step", rest="text"),
    "time": Spec("/ticket time N 25m [what was done]",
                 "log time spent on ticket N (25m, 1h30m, 1.5h; -15m takes back time you logged)", rest="text"),
    "ask": Spec("/ticket ask N expert@example.com [--with-message] | question…",
                "MAIL an outside expert (--with-message: quoting the customer's last message); their answer "
                "lands in the thread as an internal note", rest="text"),
    "undo": Spec("/ticket undo N", "take back your reply to N while it is held, before it is mailed"),
}


@dataclass(frozen=True)
class TicketCommand:
    verb: str
    number: int | None = None
    text: str = ""
    priority: Priority | None = None
    status: Status | None = None
    assignee: str | None = None  # chat user id, without the @
    assignee_name: str = ""
    other: int | None = None  # the second ticket (merge target)
    confirmed: bool = False  # merge: two customers' tickets (--different-customer); reply: send anyway (--anyway);
    # show: the mails as received (--original)


def split_slash(line: str) -> tuple[str, str]:
    """'/Ticket  claim 3' -> ('ticket', 'claim 3')."""
    name, _, rest = line.strip()[1:].partition(" ")
    return name.strip().lower(), rest.strip()


def parse_number(token: str, usage: str) -> int:
    digits = token.removeprefix("#")
    if not digits.isdecimal() or int(digits) <= 0:
        raise UsageError(f"{token!r} is not a ticket number; usage: {usage}" if token else f"usage: {usage}")
    return int(digits)


_MENTION = re.compile(r"^<?@([A-Za-z0-9._-]+)(?:\|[^>]*)?>?$")


def parse_user(token: str, usage: str) -> str:
    """Accept '@U2', '<@U2>', '<@U2|ana>' (Slack's mention syntax) and a bare 'U2'."""
    match = _MENTION.match(token) or re.match(r"^([A-Za-z0-9._-]+)$", token)
    if match is None:
        raise UsageError(f"{token!r} is not a chat user; usage: {usage}")
    return match.group(1)


@dataclass(frozen=True)
class Dialect:
    """How a platform writes what a person typed: its user mentions and its markup.

    The console and Discord hand over text as typed (`PLAIN`). Slack escapes a slash command's text
    (`&amp; &lt; &gt;`, `<@U…|name>`, `<#C…|name>`: bot.adapters.slack.escaping), so there a user is
    only ever a mention Slack resolved, and free text is turned back into what was typed before it is
    stored or mailed.
    """

    user: Callable[[str, str], str]  # (token, usage) -> chat user id; UsageError when it names nobody
    text: Callable[[str], str]  # the platform's markup -> the text as typed
    # A search's filters (`assignee:<@U1|ana>`, `from:<mailto:…>`): people stay ids, links their text. None: `text`
    query: Callable[[str], str] | None = None


def _as_typed(text: str) -> str:
    return text


PLAIN = Dialect(user=parse_user, text=_as_typed)


QUERY_VERBS = frozenset({"search", "queue"})  # their text is the search grammar (bot.domain.search_query)


def parse_ticket(args: str, dialect: Dialect = PLAIN) -> TicketCommand:
    """Parse what follows '/ticket'. Priority and status words are checked here, before any handler runs."""
    cmd = _parse(args, dialect)
    if dialect is PLAIN or not cmd.text:
        return cmd
    as_typed = dialect.query if dialect.query is not None and cmd.verb in QUERY_VERBS else dialect.text
    return _with_text(cmd, as_typed(cmd.text))


def _with_text(cmd: TicketCommand, text: str) -> TicketCommand:
    if not text.strip():
        raise UsageError(f"usage: {SPECS[cmd.verb].usage}")
    return TicketCommand(cmd.verb, cmd.number, text, cmd.priority, cmd.status, cmd.assignee, cmd.assignee_name,
                         cmd.other, cmd.confirmed)


def _parse(args: str, dialect: Dialect) -> TicketCommand:
    verb, _, rest = args.strip().partition(" ")
    verb = verb.lower() or "help"
    spec = SPECS.get(verb)
    if spec is None:
        raise UsageError(f"unknown command '/ticket {verb}'; try /ticket help")
    rest = rest.strip()
    number = None
    if spec.number:
        token, _, rest = rest.partition(" ")
        number = parse_number(token, spec.usage)
        rest = rest.strip()
    if verb == "show" and _ORIGINAL.fullmatch(rest):
        return TicketCommand(verb, number, confirmed=True)
    if spec.rest == "none":
        if rest:
            raise UsageError(f"unexpected {rest!r}; usage: {spec.usage}")
        return TicketCommand(verb, number)
    if spec.rest == "any":
        return TicketCommand(verb, number, text=rest)
    if not rest:
        raise UsageError(f"usage: {spec.usage}")
    if spec.rest == "text" and verb == "reply":
        anyway = _ANYWAY.match(rest)
        text = rest[anyway.end():].strip() if anyway else rest
        if not text:
            raise UsageError(f"usage: {spec.usage}")
        return TicketCommand(verb, number, text=text, confirmed=anyway is not None)
    if spec.rest == "text":
        return TicketCommand(verb, number, text=rest)
    if spec.rest == "priority":
        return TicketCommand(verb, number, priority=Priority.parse(rest))  # ValueError names the choices
    if spec.rest == "status":
        try:
            return TicketCommand(verb, number, status=Status.parse(rest), text=rest)
        except ValueError:  # perhaps a team's own status name; the handler knows the teams
            return TicketCommand(verb, number, text=rest)
    if spec.rest == "merge":
        words = rest.split()
        flags = [w for w in words if w.lstrip("-–—") != w]
        if any(_CONFIRM.fullmatch(f) is None for f in flags):
            raise UsageError(f"unknown option {next(f for f in flags if not _CONFIRM.fullmatch(f))!r}; "
                             f"usage: {spec.usage}")
        target = " ".join(w for w in words if w not in flags).removeprefix("into").strip()
        return TicketCommand(verb, number, other=parse_number(target, spec.usage), confirmed=bool(flags))
    user, _, name = rest.partition(" ")
    return TicketCommand(verb, number, assignee=dialect.user(user, spec.usage), assignee_name=dialect.text(name.strip()))


# Chat clients turn "--" into a dash as you type (macOS, Slack): each spelling means the same.
_CONFIRM = re.compile(r"(?:--|[–—])different-customers?", re.IGNORECASE)
_ORIGINAL = re.compile(r"(?:--|[–—])?(?:original|full)", re.IGNORECASE)  # show: mails as received
_ANYWAY = re.compile(r"(?:--|[–—])anyway(?:\s+|$)", re.IGNORECASE)  # reply: send though a colleague answers too
_OUTBOUND = re.compile(r"^(?P<text>.*?)\s*\|\s*to\s+(?P<to>\S+)\s*$", re.IGNORECASE | re.DOTALL)


def split_outbound(text: str) -> tuple[str, str | None]:
    """'Order parts | to sales@supplier.example' -> ('Order parts', 'sales@supplier.example'); no '| to': (text, None)."""
    match = _OUTBOUND.match(text.strip())
    if match is None:
        return text.strip(), None
    return match.group("text").strip(), match.group("to")


_DUE = re.compile(r"^in\s+(\d+)\s*(m|min|minutes?|h|hours?|d|days?)\b\s*", re.IGNORECASE)


def split_due(text: str) -> tuple[timedelta | None, str]:
    """'in 2h call back' -> (2 hours, 'call back'); no 'in …' prefix -> (None, text)."""
    match = _DUE.match(text.strip())
    if match is None:
        return None, text.strip()
    amount, unit = int(match.group(1)), match.group(2).lower()[0]
    delta = {"m": timedelta(minutes=amount), "h": timedelta(hours=amount), "d": timedelta(days=amount)}[unit]
    return delta, text.strip()[match.end():].strip()
