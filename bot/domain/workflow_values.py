"""What every part of the workflow file is checked with: its error type and the readers of its values."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bot.domain.errors import UserFacingError


class WorkflowError(UserFacingError, ValueError):
    """The workflow file says something we cannot follow, or an agent names a team or category it does
    not have; the message names the place, or the choices."""


def required(d: Mapping[str, Any], key: str, where: str) -> str:
    value = d.get(key)
    if not isinstance(value, str) or not value.strip():
        raise WorkflowError(f"{where}.{key} is required")
    return value.strip()


def strings(d: Mapping[str, Any], key: str) -> tuple[str, ...]:
    value = d.get(key, ())
    return (value,) if isinstance(value, str) else tuple(str(v) for v in value)
