"""Chat shows a reply's new words; `/ticket show N --original` shows the mail as received, history
included, so nothing the customer sent is ever out of an agent's reach."""

from __future__ import annotations

import io

import pytest

from bot.adapters.actions import answer_question
from bot.adapters.commands import UsageError, parse_ticket
from bot.adapters.console import ConsoleAdapter
from bot.app import Core
from bot.handlers.context import Actor
from bot.handlers.snapshots import TicketDetails
from tests.support.mails import deliver, raw_mail

ANA = Actor("U1", "Ana", in_tickets_channel=True)
REPLY = ("Still broken after the restart.\n\n"
         "On Mon, Mar 3, 2025 at 10:15 AM Helpdesk <support@helpdesk.test> wrote:\n"
         "> Did you try restarting the printer?\n\n-- \nMia Customer, ACME Oy")


def test_show_takes_original_and_nothing_else() -> None:
    assert parse_ticket("show 3").confirmed is False
    for spelling in ("show 3 --original", "show #3 —original", "show 3 original", "show 3 --full"):
        cmd = parse_ticket(spelling)
        assert (cmd.verb, cmd.number, cmd.confirmed) == ("show", 3, True), spelling
    with pytest.raises(UsageError, match="--original"):
        parse_ticket("show 3 everything")


async def test_console_show_hides_history_and_original_shows_it(core: Core) -> None:
    outcome = await deliver(core, raw_mail(body=REPLY))
    n = outcome.ticket_number
    out = io.StringIO()
    adapter = ConsoleAdapter(core.ctx, out, actor=ANA)
    await adapter.run_lines([f"/ticket show {n}"])
    shown = out.getvalue()
    assert "Still broken after the restart." in shown
    assert "Did you try restarting" not in shown and "ACME Oy" not in shown
    assert f"/ticket show {n} --original" in shown, "the view says how to see the rest"

    out.seek(0), out.truncate()
    await adapter.run_lines([f"/ticket show {n} --original"])
    original = out.getvalue()
    assert "Still broken after the restart." in original
    assert "> Did you try restarting the printer?" in original and "Mia Customer, ACME Oy" in original


async def test_chat_platforms_get_the_original_through_the_shared_question(core: Core) -> None:
    """Slack and Discord answer `/ticket show` through answer_question: the flag reaches the query."""
    outcome = await deliver(core, raw_mail(body=REPLY))
    n = outcome.ticket_number
    seen: list[TicketDetails] = []

    class Render:
        def details(self, d: TicketDetails, link: str | None) -> str:
            seen.append(d)
            return ""

    async def no_link(number: int) -> str | None:
        return None

    for flag in ("", " --original"):
        await answer_question(core.ctx, ANA, parse_ticket(f"show {n}{flag}"), Render(), no_link)  # type: ignore[arg-type]
    assert [m.text for m in seen[0].messages] == ["Still broken after the restart."]
    assert "> Did you try restarting the printer?" in seen[1].messages[0].text
