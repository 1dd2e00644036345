"""People the tests act as. The operator reads what a test checks, with every right (the console's own user)."""

from __future__ import annotations

from bot.handlers.context import Actor

OPERATOR = Actor("operator", "Operator", operator=True)
