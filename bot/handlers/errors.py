"""What the handlers refuse with: errors whose message is written for the person who acted.

Both are UserFacingErrors (bot.domain.errors), which every door shows as is; they keep the
builtin bases they always had (LookupError, ValueError) so code that catches those still does.
`Denied` (a refusal by role) lives with the permission check, `NeedsConfirmation` with merging.
"""

from __future__ import annotations

from bot.domain.errors import UserFacingError


class NotFound(UserFacingError, LookupError):
    """Shown to the user as is: 'ticket #12 does not exist'."""


class Refused(UserFacingError, ValueError):
    """An action the rules do not allow; the message explains why, for the agent."""
