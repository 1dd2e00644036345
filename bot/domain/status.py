"""Ticket statuses and which moves between them are allowed."""

from __future__ import annotations

from enum import StrEnum

from bot.domain.errors import UserFacingError


class Status(StrEnum):
    NEW = "new"
    OPEN = "open"
    WAITING_ON_CUSTOMER = "waiting_on_customer"
    CUSTOMER_REPLIED = "customer_replied"
    WAITING_ON_THIRD_PARTY = "waiting_on_third_party"
    SOLVED = "solved"
    CLOSED = "closed"

    @property
    def label(self) -> str:
        return self.value.replace("_", " ")

    @property
    def is_active(self) -> bool:
        """Active tickets count towards backlog and an agent's load."""
        return self not in (Status.SOLVED, Status.CLOSED)

    @classmethod
    def parse(cls, text: str) -> Status:
        """Accept what people type: 'waiting on customer', 'Waiting-On-Customer', 'pending'."""
        key = text.strip().lower().replace("-", "_").replace(" ", "_")
        key = _ALIASES.get(key, key)
        try:
            return cls(key)
        except ValueError:
            names = ", ".join(s.label for s in cls)
            raise InvalidTransition(f"unknown status {text!r}; use one of: {names}") from None


_ALIASES = {
    "waiting": "waiting_on_customer",
    "pending": "waiting_on_customer",
    "on_hold": "waiting_on_third_party",
    "hold": "waiting_on_third_party",
    "replied": "customer_replied",
    "resolved": "solved",
}


class InvalidTransition(UserFacingError, ValueError):
    """A status change the lifecycle does not allow; the message is shown to the agent."""


_WORKING = {Status.OPEN, Status.WAITING_ON_CUSTOMER, Status.CUSTOMER_REPLIED, Status.WAITING_ON_THIRD_PARTY}

# Closed is final: once a ticket is closed, later mail opens a linked follow-up instead.
ALLOWED: dict[Status, frozenset[Status]] = {
    Status.NEW: frozenset(_WORKING - {Status.CUSTOMER_REPLIED} | {Status.SOLVED, Status.CLOSED}),
    Status.OPEN: frozenset(_WORKING - {Status.OPEN, Status.CUSTOMER_REPLIED} | {Status.SOLVED, Status.CLOSED}),
    Status.WAITING_ON_CUSTOMER: frozenset(_WORKING - {Status.WAITING_ON_CUSTOMER} | {Status.SOLVED, Status.CLOSED}),
    Status.CUSTOMER_REPLIED: frozenset(_WORKING - {Status.CUSTOMER_REPLIED} | {Status.SOLVED, Status.CLOSED}),
    Status.WAITING_ON_THIRD_PARTY: frozenset(_WORKING - {Status.WAITING_ON_THIRD_PARTY} | {Status.SOLVED, Status.CLOSED}),
    Status.SOLVED: frozenset({Status.OPEN, Status.CUSTOMER_REPLIED, Status.CLOSED}),
    Status.CLOSED: frozenset(),
}


def check_transition(current: Status, target: Status) -> None:
    if target == current:
        raise InvalidTransition(f"the ticket is already {current.label}")
    if target not in ALLOWED[current]:
        if current == Status.CLOSED:
            raise InvalidTransition("the ticket is closed for good; a new message from the customer opens a follow-up ticket")
        article = "an" if current.label[0] in "aeiou" else "a"
        raise InvalidTransition(f"{article} {current.label} ticket cannot become {target.label}")
