"""Ticket priorities, ordered so queues can sort most urgent first."""

from __future__ import annotations

from enum import StrEnum

from bot.domain.errors import InvalidInput


class Priority(StrEnum):
    LOW = "low"
    NORMAL = "normal"
    HIGH = "high"
    URGENT = "urgent"

    @property
    def rank(self) -> int:
        """Higher is more urgent."""
        return _RANK[self]

    @classmethod
    def parse(cls, text: str) -> Priority:
        try:
            return cls(text.strip().lower())
        except ValueError:
            raise InvalidInput(f"unknown priority {text!r}; use low, normal, high or urgent") from None


_RANK = {Priority.LOW: 0, Priority.NORMAL: 1, Priority.HIGH: 2, Priority.URGENT: 3}
