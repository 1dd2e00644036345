"""The reply corpus (tests/fixtures/replies): chat shows exactly the customer's new words, for every
client and language in it, and never a word the customer wrote changed."""

from __future__ import annotations

import pytest

from bot.mail.text import strip_quotes, visible_html
from tests.support.replies import Case, load_cases, score

CASES = load_cases()


def shown(case: Case) -> str:
    return visible_html(case.body) if case.is_html else strip_quotes(case.body)


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_reply_shows_the_customers_new_words(case: Case) -> None:
    result = score(shown(case), case.expected)
    assert not result.leaked, f"history or footer shown: {result.leaked}"
    assert not result.lost, f"the customer's words hidden: {result.lost}"
    assert result.exact


@pytest.mark.parametrize("case", [c for c in CASES if not c.is_html], ids=lambda c: c.name)
def test_shown_lines_are_the_customers_lines_unedited(case: Case) -> None:
    """Lines are hidden or shown, never edited (a blank line may separate answers written between quotes)."""
    written = {line.rstrip() for line in case.body.splitlines()}
    assert [line for line in shown(case).splitlines() if line and line not in written] == []


def test_the_corpus_covers_the_clients_and_languages() -> None:
    """A corpus that silently shrank would make the test above prove little."""
    assert len(CASES) >= 80 and sum(c.is_html for c in CASES) >= 20
    clients = {c.client for c in CASES}
    assert {"gmail", "outlook", "apple", "ios", "thunderbird", "yahoo", "zoho", "samsung"} <= clients
    languages = {"fi", "sv", "de", "da", "no", "nl", "fr", "es", "it", "pl", "pt", "ru", "ja"}
    assert languages <= {part for c in CASES for part in c.name.split("-")}


def test_a_line_of_dashes_and_the_blank_line_after_it_stay() -> None:
    body = "Step 1: open the tray\n----------\n\nStep 2: close it again"
    assert strip_quotes(body) == body


def test_whole_text_when_everything_would_be_hidden() -> None:
    """An all-quote mail (or one we misread) still shows something rather than an empty message."""
    body = "On Mon, Mar 3, 2025 at 10:15 AM Helpdesk <support@helpdesk.test> wrote:\n> Did you restart it?"
    assert strip_quotes(body) == body
    html = '<div class="gmail_quote"><blockquote class="gmail_quote">Did you restart it?</blockquote></div>'
    assert visible_html(html) == "> Did you restart it?"


def test_forward_by_subject_is_shown_whole() -> None:
    """Outlook's forward has the same header block as a reply; only the subject (FW:) tells them apart."""
    body = ("FYI\n\nFrom: Mia Customer <mia@customer.example>\nSent: Monday, March 3, 2025 10:15 AM\n"
            "To: Sales <sales@helpdesk.test>\nSubject: Invoice is wrong\n\nThe invoice total is wrong.")
    assert strip_quotes(body) == "FYI"
    assert "The invoice total is wrong." in strip_quotes(body, forwarded=True)


def test_pasted_python_session_is_not_taken_for_quotes() -> None:
    body = "This fails:\n\n>>> import tiketti_client\n>>> tiketti_client.connect()\nTimeoutError: 30 s"
    assert strip_quotes(body) == body


def test_html_links_survive_and_scripts_do_not() -> None:
    html = ('<p onclick="steal()">See <a href="https://status.example.fi/incident/42">the status page</a>.</p>'
            '<script>alert("x")</script><div class="gmail_quote">On Mon, Helpdesk wrote:<blockquote>old</blockquote></div>')
    assert visible_html(html) == "See [the status page](https://status.example.fi/incident/42)."
