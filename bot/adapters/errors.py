"""What a door answers when an action fails: the person's own mistake as is, anything else by reference.

A UserFacingError (bot.domain.errors) was written for the person and is shown to them. Any other
exception is ours, a bug or an outage: its message may name internals, and reads as if the person
had done something wrong, so it stays in the log. The person gets a short reference that is also in
that log line, which is all the team needs to find it.
"""

from __future__ import annotations

import logging
import secrets


def something_went_wrong(log: logging.Logger, what: str, *args: object) -> str:
    """Log the exception being handled, with a fresh reference, and return the words for the person.

    Call it in an `except` block: the traceback goes to `log` as "<what> failed (reference X)".
    """
    reference = secrets.token_hex(4)
    log.exception(f"{what} failed (reference %s)", *args, reference)
    return f"something went wrong (reference {reference})"
