"""Pure domain types: tickets, messages, people and the rules that bind them.

Nothing here imports a database driver, a chat SDK or a mail library, so the
rules can be unit-tested in microseconds and reused by every door.
"""
