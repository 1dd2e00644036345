"""The one kind of error whose message is meant for the person who acted.

Every door (Slack, Discord, the console, the command line) shows a UserFacingError's
message to that person as it is: "ticket #12 does not exist", "unknown priority 'hi'".
Any other exception is a bug or an outage, whatever its type: doors log it and tell the
person only that something went wrong, with a reference to find it in the log. So a
message belongs here only if it was written for a reader who did nothing wrong but ask.
"""

from __future__ import annotations


class UserFacingError(Exception):
    """Shown as is to whoever asked; subclasses say why (not found, refused, bad input)."""


class InvalidInput(UserFacingError, ValueError):
    """What someone typed names none of the allowed values; the message lists them.

    Also a ValueError, as parsing errors always were, so callers that try one reading
    and then another (`except ValueError`) keep working.
    """
