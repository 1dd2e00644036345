"""The ticket lifecycle: which status changes agents may make, and what they see when they may not."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.app import Core
from bot.domain.model import Ticket
from bot.domain.status import InvalidTransition, Status
from bot.handlers import queries, tickets
from bot.handlers.context import Actor
from bot.handlers.errors import Refused
from tests.support.mails import deliver, raw_mail, ticket
from tests.support.people import OPERATOR

S = Status
# Written out by hand (not derived from status.ALLOWED) so a change to the rules shows up here.
EXPECTED: dict[Status, set[Status]] = {
    S.NEW: {S.OPEN, S.WAITING_ON_CUSTOMER, S.WAITING_ON_THIRD_PARTY, S.SOLVED, S.CLOSED},
    S.OPEN: {S.WAITING_ON_CUSTOMER, S.WAITING_ON_THIRD_PARTY, S.SOLVED, S.CLOSED},
    S.WAITING_ON_CUSTOMER: {S.OPEN, S.CUSTOMER_REPLIED, S.WAITING_ON_THIRD_PARTY, S.SOLVED, S.CLOSED},
    S.CUSTOMER_REPLIED: {S.OPEN, S.WAITING_ON_CUSTOMER, S.WAITING_ON_THIRD_PARTY, S.SOLVED, S.CLOSED},
    S.WAITING_ON_THIRD_PARTY: {S.OPEN, S.WAITING_ON_CUSTOMER, S.CUSTOMER_REPLIED, S.SOLVED, S.CLOSED},
    S.SOLVED: {S.OPEN, S.CUSTOMER_REPLIED, S.CLOSED},
    S.CLOSED: set(),
}
PAIRS = [(a, b) for a in Status for b in Status]
T0 = datetime(2025, 3, 3, 8, 0, tzinfo=UTC)
LATER = T0 + timedelta(hours=2)
AGENT = Actor("U1", "Ana Agent", in_tickets_channel=True)


def make_ticket(status: Status) -> Ticket:
    t = Ticket(subject="Printer", requester_id=1, created_at=T0, updated_at=T0, status=status, id=7)
    if status in (S.SOLVED, S.CLOSED):
        t.solved_at = T0
    if status == S.CLOSED:
        t.closed_at = T0
    return t


def test_every_status_has_a_row_in_the_table() -> None:
    assert set(EXPECTED) == set(Status)


@pytest.mark.parametrize(("current", "target"), PAIRS, ids=[f"{a}->{b}" for a, b in PAIRS])
def test_transition(current: Status, target: Status) -> None:
    t = make_ticket(current)
    if target in EXPECTED[current]:
        assert t.move_to(target, LATER) == current
        assert (t.status, t.updated_at) == (target, LATER)
        if target == S.SOLVED:
            assert t.solved_at == LATER
        elif target == S.CLOSED:
            assert t.closed_at == LATER and t.solved_at is not None
        else:
            assert t.solved_at is None, "leaving solved clears the solved time"
        return
    with pytest.raises(InvalidTransition) as err:
        t.move_to(target, LATER)
    message = str(err.value)
    if current == target:
        assert message == f"the ticket is already {current.label}"
    elif current == S.CLOSED:
        assert "closed for good" in message and "follow-up" in message
    else:
        assert message.endswith(f"{current.label} ticket cannot become {target.label}")
        assert not message.startswith("a o"), "article agrees with the status ('an open ticket')"
    assert (t.status, t.updated_at) == (current, T0), "a refused change leaves the ticket as it was"


def test_closed_is_final() -> None:
    assert all(target not in EXPECTED[S.CLOSED] for target in Status)
    t = make_ticket(S.CLOSED)
    for target in Status:
        with pytest.raises(InvalidTransition):
            t.move_to(target, LATER)
    assert t.status == S.CLOSED


def test_refusal_reads_well() -> None:
    with pytest.raises(InvalidTransition, match="^an open ticket cannot become customer replied$"):
        make_ticket(S.OPEN).move_to(S.CUSTOMER_REPLIED, LATER)
    with pytest.raises(InvalidTransition, match="^a solved ticket cannot become waiting on customer$"):
        make_ticket(S.SOLVED).move_to(S.WAITING_ON_CUSTOMER, LATER)


@pytest.mark.parametrize(
    ("typed", "status"),
    [
        ("open", S.OPEN),
        ("  Solved ", S.SOLVED),
        ("waiting on customer", S.WAITING_ON_CUSTOMER),
        ("Waiting-On-Customer", S.WAITING_ON_CUSTOMER),
        ("waiting", S.WAITING_ON_CUSTOMER),
        ("pending", S.WAITING_ON_CUSTOMER),
        ("on hold", S.WAITING_ON_THIRD_PARTY),
        ("hold", S.WAITING_ON_THIRD_PARTY),
        ("replied", S.CUSTOMER_REPLIED),
        ("resolved", S.SOLVED),
        ("CLOSED", S.CLOSED),
    ],
)
def test_parse_accepts_what_people_type(typed: str, status: Status) -> None:
    assert Status.parse(typed) == status


def test_parse_unknown_status_lists_the_valid_ones() -> None:
    with pytest.raises(InvalidTransition) as err:
        Status.parse("frobnicated")
    message = str(err.value)
    assert "unknown status 'frobnicated'" in message
    assert all(s.label in message for s in Status)


# --- through the handlers, on both databases ---------------------------------------------


async def new_ticket(core: Core) -> int:
    outcome = await deliver(core, raw_mail())
    assert outcome.action == "created" and outcome.ticket_number is not None
    return outcome.ticket_number


async def test_refused_status_change_explains_and_changes_nothing(core: Core) -> None:
    n = await new_ticket(core)
    await tickets.set_status(core.ctx, AGENT, n, S.OPEN)
    before = await ticket(core, n)
    history_before = await queries.history(core.ctx, OPERATOR, n)
    with pytest.raises(Refused, match=f"^#{n}: an open ticket cannot become customer replied$"):
        await tickets.set_status(core.ctx, AGENT, n, S.CUSTOMER_REPLIED)
    after = await ticket(core, n)
    assert before is not None and after is not None
    assert (after.status, after.updated_at) == (S.OPEN, before.updated_at)
    assert await queries.history(core.ctx, OPERATOR, n) == history_before


async def test_set_status_is_recorded(core: Core) -> None:
    n = await new_ticket(core)
    result = await tickets.set_status(core.ctx, AGENT, n, S.WAITING_ON_THIRD_PARTY)
    assert result.ticket.status == S.WAITING_ON_THIRD_PARTY
    assert result.summary == f"#{n} status: new → waiting on third party"
    line = [h for h in await queries.history(core.ctx, OPERATOR, n) if h.action == "status"][-1]
    assert (line.actor, line.before, line.after) == ("agent:U1", "new", "waiting_on_third_party")


async def test_close_solves_and_reopen_clears_solved_at(core: Core) -> None:
    n = await new_ticket(core)
    closed = await tickets.close(core.ctx, AGENT, n)
    assert closed.ticket.status == S.SOLVED and closed.ticket.solved_at is not None
    stored = await ticket(core, n)
    assert stored is not None and stored.status == S.SOLVED and stored.solved_at is not None

    reopened = await tickets.reopen(core.ctx, AGENT, n)
    assert reopened.ticket.status == S.OPEN and reopened.ticket.solved_at is None
    stored = await ticket(core, n)
    assert stored is not None and stored.status == S.OPEN and stored.solved_at is None


async def test_closed_ticket_cannot_be_reopened(core: Core) -> None:
    n = await new_ticket(core)
    await tickets.set_status(core.ctx, AGENT, n, S.CLOSED)
    with pytest.raises(Refused, match="closed for good"):
        await tickets.reopen(core.ctx, AGENT, n)
    stored = await ticket(core, n)
    assert stored is not None and stored.status == S.CLOSED and stored.closed_at is not None
