"""Full-text search and its filters, on SQLite (FTS5) and PostgreSQL (tsvector + GIN), as people would notice:
which tickets are found, in which order, on which page, and who may find internal notes."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.adapters.toolkit import search as toolkit_search
from bot.app import Core, build_core
from bot.domain.errors import UserFacingError
from bot.domain.search_query import QueryError, SearchFilter, Term, parse_query
from bot.domain.status import Status
from bot.handlers import classify, merge, replies, search, tickets
from bot.handlers.context import Actor
from bot.handlers.permissions import Denied
from tests.conftest import make_settings
from tests.support.db import Database
from tests.support.mails import deliver, raw_mail
from tests.support.people import OPERATOR
from tests.support.store_state import refusals

WORKFLOW = """
default_team = "billing"
categories = ["billing", "technical", "other"]

[[teams]]
name = "billing"
members = ["U0ANA", "U0BEN"]
statuses = [{ name = "on hold at bank", category = "waiting on third party" }]

[[teams]]
name = "vault"
private = true
members = ["U0VIC"]

[roles]
managers = ["U0MGR"]
light = ["U0LIT"]

[[rules]]
to = ["vault@helpdesk.test"]
team = "vault"
"""

ANA = Actor("U0ANA", "Ana Agent", email="ana@helpdesk.test")
BEN = Actor("U0BEN", "Ben Builder")
VIC = Actor("U0VIC", "Vic Vault")
MANAGER = Actor("U0MGR", "Mo Manager")
LIGHT = Actor("U0LIT", "Lee Light")
STRANGER = Actor("U0XXX", "Sam Stranger")
DAY = datetime(2026, 4, 1, 9, 0, tzinfo=UTC)


class Clock:
    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
async def desk(database: Database, tmp_path: Path) -> AsyncIterator[Core]:
    path = tmp_path / "workflow.toml"
    path.write_text(WORKFLOW)
    core = await build_core(make_settings(database, tmp_path, workflow_file=path), engine=database.engine())
    core.ctx.clock = Clock(DAY)
    yield core
    await core.close()


async def mail(core: Core, subject: str, body: str, *, frm: str = "Mia Customer <mia@customer.example>",
               to: str = "support@helpdesk.test", on: datetime | None = None) -> int:
    if on is not None:
        core.ctx.clock.now = on  # type: ignore[attr-defined]
    outcome = await deliver(core, raw_mail(subject=subject, body=body, frm=frm, to=to))
    assert outcome.ticket_number is not None
    return outcome.ticket_number


async def found(core: Core, actor: Actor, text: str) -> list[int]:
    return [t.number for t in (await search.search(core.ctx, actor, text)).tickets]


# --- words ---------------------------------------------------------------------------------------


async def test_words_are_found_in_subjects_mails_replies_and_notes(desk: Core) -> None:
    by_subject = await mail(desk, "Printer on fire", "It smokes a little.")
    by_mail = await mail(desk, "Help please", "Our laskutus account shows a double charge.")
    by_reply = await mail(desk, "Question", "Where is my parcel?")
    await replies.reply(desk.ctx, ANA, by_reply, "The courier Posti has it; tracking tomorrow.")
    by_note = await mail(desk, "Another question", "Where is my order?")
    await tickets.add_note(desk.ctx, ANA, by_note, "Warehouse says pallet zebra is stuck.")

    assert await found(desk, ANA, "printer") == [by_subject]
    assert await found(desk, ANA, "laskutus") == [by_mail]
    assert await found(desk, ANA, "courier") == [by_reply]  # the reply was written a moment ago: indexed with it
    assert await found(desk, ANA, "zebra") == [by_note]
    assert await found(desk, ANA, "PRINTER Smokes") == [by_subject]  # any case; subject and mail together
    assert await found(desk, ANA, "printer parcel") == []  # every word must be in the ticket


async def test_phrases_prefixes_and_syntax_typed_by_a_person(desk: Core) -> None:
    fire = await mail(desk, "The printer-on-fire again", "Printer room 2, on fire since noon.")
    other = await mail(desk, "Fire drill", "The printer in room 3 is fine, no fire.")
    bill = await mail(desk, "Laskun summa", "Laskussa on virhe.")

    assert await found(desk, ANA, '"printer-on-fire" OR (') == [fire]  # FTS syntax is just words here
    assert await found(desk, ANA, '"on fire"') == [fire]
    assert set(await found(desk, ANA, "printer fire")) == {fire, other}
    assert await found(desk, ANA, "lask*") == [bill]  # a word's beginning: Finnish inflections
    assert await found(desk, ANA, "lasku") == []  # whole words otherwise
    for odd in ('"', "(", "*", "-", 'NEAR(a b)', "a AND", "^x", "{subject}:x", "'; drop table tickets; --"):
        await search.search(desk.ctx, ANA, odd)  # never an error
    many = " ".join(["printer", "noon"] * 8)  # the most words a search takes, each a join in the store's query
    assert await found(desk, ANA, many) == [fire]


async def test_best_first_with_words_newest_first_without_or_when_asked(desk: Core) -> None:
    weak = await mail(desk, "Question about my account", "One thing: the invoice.", on=DAY)
    strong = await mail(desk, "Invoice invoice", "The invoice is wrong, the invoice total too.", on=DAY + timedelta(days=1))
    newest = await mail(desk, "Something else", "A long text that mentions an invoice once, at the end of "
                        "many other words about parcels, printers and passwords.", on=DAY + timedelta(days=2))

    best = await found(desk, ANA, "invoice")
    assert best[0] == strong and set(best) == {weak, strong, newest}
    assert await found(desk, ANA, "invoice sort:newest") == [newest, strong, weak]
    assert await found(desk, ANA, "status:open") == [newest, strong, weak]


# --- who finds what -------------------------------------------------------------------------------


async def test_notes_are_never_found_by_a_light_agent_and_strangers_are_refused(desk: Core) -> None:
    n = await mail(desk, "Card trouble", "My card was charged twice.")
    await tickets.add_note(desk.ctx, ANA, n, "SECRET-NOTE pallet zebra")
    await tickets.add_collaborator(desk.ctx, ANA, n, LIGHT)
    other = await mail(desk, "Card trouble too", "Charged twice as well.")

    assert await found(desk, ANA, "zebra") == [n]
    assert await found(desk, LIGHT, "zebra") == []  # pulled into the ticket, and still not through its note
    assert await found(desk, LIGHT, "charged") == [n]  # only the ticket they were pulled into, not `other`
    assert other in await found(desk, ANA, "charged")
    with pytest.raises(Denied, match="only the helpdesk's agents can search tickets"):
        await search.search(desk.ctx, STRANGER, "zebra")
    assert [what for what, _ in await refusals(desk, STRANGER)] == ["search"]


async def test_a_light_agents_words_never_meet_in_a_note(desk: Core) -> None:
    """A ticket is one search document; a light agent's words are looked for outside its notes only, every
    one of them: a word of the mail and a word of the note together do not find it either."""
    n = await mail(desk, "Lost parcel", "The parcel never came.")
    await tickets.add_note(desk.ctx, ANA, n, "Courier blamed the depot in Vantaa.")
    await tickets.add_collaborator(desk.ctx, ANA, n, LIGHT)

    assert await found(desk, ANA, "parcel vantaa") == [n]
    assert await found(desk, ANA, '"the depot"') == [n]
    for words in ("parcel vantaa", "vant*", '"the depot"', "lost courier", "vantaa sort:newest"):
        assert await found(desk, LIGHT, words) == [], words
    assert await found(desk, LIGHT, "lost parcel") == [n]  # the subject and the mail: theirs to read


async def test_private_teams_are_found_only_by_their_members_and_managers(desk: Core) -> None:
    vault = await mail(desk, "Vault key lost", "The vault key is gone.", to="vault@helpdesk.test")
    billing = await mail(desk, "Key for the office", "Need a key.")
    assert await found(desk, ANA, "key") == [billing]
    assert set(await found(desk, VIC, "key")) == {vault, billing}
    assert set(await found(desk, MANAGER, "key")) == {vault, billing}
    assert await found(desk, ANA, "team:vault") == []
    await tickets.add_collaborator(desk.ctx, VIC, vault, ANA)  # pulled in: now hers to read
    assert set(await found(desk, ANA, "key")) == {vault, billing}


# --- filters --------------------------------------------------------------------------------------


async def test_every_filter(desk: Core) -> None:
    a = await mail(desk, "Invoice A", "Text about the invoice.", frm="Mia <mia@customer.example>", on=DAY)
    b = await mail(desk, "Invoice B", "Text about the invoice.", frm="Olli <olli@sub.customer.example>",
                   on=DAY + timedelta(days=10))
    c = await mail(desk, "Invoice C", "Text about the invoice.", frm="Pia <pia@elsewhere.example>",
                   on=DAY + timedelta(days=20))
    vault = await mail(desk, "Invoice V", "Text about the invoice.", frm="Vera <vera@vault.example>",
                       to="vault@helpdesk.test", on=DAY + timedelta(days=5))
    await tickets.claim(desk.ctx, ANA, a)
    await tickets.claim(desk.ctx, BEN, b)
    await tickets.set_status_named(desk.ctx, ANA, a, "on hold at bank")
    await tickets.close(desk.ctx, BEN, b)
    await classify.tag(desk.ctx, ANA, c, ["vip"], [])
    await classify.set_category(desk.ctx, ANA, c, "technical")
    await tickets.set_priority(desk.ctx, ANA, c, parse_query("priority:high").priority)  # type: ignore[arg-type]

    async def check(query: str, expected: set[int]) -> None:
        assert set(await found(desk, MANAGER, f"invoice {query}")) == expected, query
        assert set(await found(desk, MANAGER, query)) == expected, f"{query} without words"

    await check("status:open", {a, c, vault})
    await check("status:solved", {b})
    await check("status:new", {c, vault})
    await check('status:"on hold at bank"', {a})
    await check("status:hold", {a})  # the team's word counts as its category
    await check("team:billing", {a, b, c})
    await check("team:VAULT", {vault})
    await check("tag:vip", {c})
    await check("from:mia@customer.example", {a})
    await check("from:customer.example", {a, b})  # the domain and its subdomains
    await check("from:elsewhere.example", {c})
    await check("assignee:none", {c, vault})
    await check("assignee:@ana", {a})
    await check("assignee:U0BEN", {b})
    await check("assignee:<@U0BEN>", {b})
    await check("assignee:ana@helpdesk.test", {a})
    await check("category:technical", {c})
    await check("priority:high", {c})
    await check("after:2026-04-11", {b, c})
    await check("before:2026-04-11", {a, vault})
    await check("after:2026-04-06 before:2026-04-12", {b, vault})  # after: that day on; before: up to that day
    await check("team:billing status:open tag:vip", {c})
    assert set(await found(desk, ANA, "assignee:me")) == {a}


async def test_bad_filters_say_what_they_take(desk: Core) -> None:
    cases: dict[str, str] = {
        "after:yesterday": "after:2026-04-01",
        "before:2026-13-01": "year-month-day",
        "priority:hi": "unknown priority",
        "status:sleeping": "unknown status 'sleeping'",
        "team:nobody": "no team called 'nobody'",
        "category:food": "unknown category 'food'",
        "assignee:@nobody": "names no agent",
        "page:0": "page:0 is not a page",
        "sort:random": "sort:best or sort:newest",
        "tag:": "tag: needs a value",
    }
    for text, message in cases.items():
        with pytest.raises(UserFacingError, match=message):
            await search.search(desk.ctx, ANA, text)
    with pytest.raises(QueryError):
        parse_query("after:2026-02-30")


async def test_pages_of_twenty_with_the_total(desk: Core) -> None:
    numbers = [await mail(desk, f"Parcel {i}", "Where is my parcel?", on=DAY + timedelta(minutes=i)) for i in range(45)]
    first = await search.search(desk.ctx, ANA, "parcel sort:newest")
    assert (first.total, first.page, first.pages, first.next_page) == (45, 1, 3, 2)
    assert [t.number for t in first.tickets] == numbers[::-1][:20]
    third = await search.search(desk.ctx, ANA, "parcel sort:newest", page=3)
    assert [t.number for t in third.tickets] == numbers[::-1][40:] and third.next_page is None
    assert [t.number for t in (await search.search(desk.ctx, ANA, "parcel page:2 sort:newest")).tickets] == \
        numbers[::-1][20:40]
    beyond = await search.search(desk.ctx, ANA, "parcel", page=9)
    assert (beyond.tickets, beyond.total) == ((), 45)
    empty = await search.search(desk.ctx, ANA, "nothing-like-this")
    assert (empty.total, empty.pages) == (0, 1)


# --- the index kept current -----------------------------------------------------------------------


async def test_an_edited_note_is_found_by_its_new_words_only(desk: Core) -> None:
    n = await mail(desk, "Order", "Where is my order?")
    await tickets.add_note(desk.ctx, ANA, n, "first thought: giraffe", chat_ref="chat-1")
    assert await found(desk, ANA, "giraffe") == [n]
    assert await tickets.edit_note(desk.ctx, ANA, "chat-1", "second thought: elephant")
    assert await found(desk, ANA, "giraffe") == []
    assert await found(desk, ANA, "elephant") == [n]


async def test_a_merge_moves_the_words_to_the_ticket_that_now_has_the_messages(desk: Core) -> None:
    source = await mail(desk, "Order one", "My kangaroo costume is missing.", frm="Mia Customer <mia@customer.example>")
    target = await mail(desk, "Order two", "Where is my order?", frm="Mia Customer <mia@customer.example>")
    await tickets.add_note(desk.ctx, ANA, source, "Warehouse: wombat shelf empty.")
    assert await found(desk, ANA, "kangaroo wombat") == [source]
    await merge.merge(desk.ctx, ANA, source, target)
    assert await found(desk, ANA, "kangaroo wombat") == [target]
    assert await found(desk, ANA, "kangaroo where") == [target]  # words of both tickets' messages now meet


async def test_a_changed_subject_is_found_by_its_new_words(desk: Core) -> None:
    n = await mail(desk, "Printer jammed", "Paper everywhere.")
    async with desk.ctx.uow() as uow:
        ticket = await uow.tickets.get(n)
        assert ticket is not None
        ticket.subject = "Scanner jammed"
        await uow.commit()
    assert await found(desk, ANA, "printer") == []
    assert await found(desk, ANA, "scanner paper") == [n]


async def test_a_count_past_the_cap_says_more(desk: Core, monkeypatch: pytest.MonkeyPatch) -> None:
    """Matches are counted up to a cap: past it the answer says "N+" and offers the next page all the same;
    best first then ranks the newest that many, and says so."""
    monkeypatch.setattr(search, "COUNT_CAP", 2)
    monkeypatch.setattr(search, "PAGE_SIZE", 2)
    monkeypatch.setattr(search, "RANK_CAP", 2)
    await mail(desk, "Parcel parcel", "Parcel! Where is my parcel, the parcel?", on=DAY)
    numbers = [await mail(desk, f"Parcel {i}", "Where is my parcel?", on=DAY + timedelta(minutes=i + 1)) for i in range(4)]
    first = await search.search(desk.ctx, ANA, "parcel")
    assert (first.total, first.more, first.pages, first.next_page) == (2, True, 1, 2)
    assert {t.number for t in first.tickets} == set(numbers[2:])  # not the oldest, though it ranks best of all
    assert toolkit_search.title(first).startswith(
        "2+ tickets, page 1 of 1+, best first of the newest 2 (add page:2 for more)")
    second = await search.search(desk.ctx, ANA, "parcel", page=2)  # counted as far as the page asked, and one more
    assert (second.total, second.more, len(second.tickets)) == (4, True, 2)
    last = await search.search(desk.ctx, ANA, "parcel", page=3)
    assert (last.total, last.more, last.next_page) == (5, False, None)
    assert [t.number for t in last.tickets] == [numbers[0]]  # all five ranked now: equal ranks go newest first, so the oldest of them comes last
    assert toolkit_search.title(last).startswith("5 tickets, page 3 of 3, best first")


async def test_a_search_does_not_wait_for_a_writer(desk: Core) -> None:
    """SQLite has one writer at a time: a search's query (a read-only unit of work) must neither take that
    lock nor wait for it, or a slow search would hold up mail intake. (The permission check before it
    still makes sure of the agent's record in a short write of its own.) PostgreSQL readers never wait for
    writers; the test holds it to the same."""
    n = await mail(desk, "Printer jammed", "Paper everywhere.")

    async def read() -> list[int]:
        async with desk.ctx.uow(read_only=True) as reader:
            tickets_found, _ = await reader.search.page(SearchFilter(terms=(Term("printer"),)), limit=20, offset=0,
                                                        count_up_to=100, rank_up_to=100)
            return [t.number for t in tickets_found]

    async with desk.ctx.uow() as writer:  # begins IMMEDIATE: holds the write lock until it ends
        await writer.tickets.get(n)
        assert await asyncio.wait_for(read(), timeout=20) == [n]  # a writer would wait 30 s (busy_timeout)


async def test_results_are_views_with_customer_and_assignee(desk: Core) -> None:
    n = await mail(desk, "Broken screen", "The screen is broken.")
    await tickets.claim(desk.ctx, ANA, n)
    page = await search.search(desk.ctx, OPERATOR, "screen")
    (view,) = page.tickets
    assert (view.number, view.subject, view.status, view.requester, view.assignee) == (
        n, "Broken screen", Status.OPEN, "Mia Customer <mia@customer.example>", "Ana Agent")


def test_the_grammar_reads_words_phrases_and_filters() -> None:
    q = parse_query('Printer "on  fire" lasku* re:invoice OR status:"on hold at bank" team:#billing tag:VIP '
                    "from:Mia@Example.com assignee:none sort:newest page:3 ( -")
    assert q.words == ("printer", '"on fire"', "lasku*", "re:invoice")  # OR and lone punctuation left out
    assert (q.status_name, q.team, q.tags, q.sender, q.assignee, q.order, q.page) == (
        "on hold at bank", "billing", ("vip",), "mia@example.com", "none", "newest", 3)
    assert not q.ranked and parse_query("printer").ranked and not parse_query("status:open").ranked
    assert parse_query("status:open").statuses == parse_query("status:active").statuses
    assert Status.SOLVED not in parse_query("status:open").statuses
    assert parse_query("status:solved,closed").statuses == (Status.SOLVED, Status.CLOSED)
    with pytest.raises(QueryError, match="at most 16"):
        parse_query(" ".join(f"word{i}" for i in range(17)))
    assert len(parse_query('"' + " ".join(f"word{i}" for i in range(40)) + '"').terms) == 1
