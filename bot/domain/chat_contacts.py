"""Customers who reach us through a chat platform's direct messages rather than by mail.

Such a customer is an ordinary Contact whose address is `<user id>@<platform>.invalid`.
RFC 2606 reserves the `.invalid` top-level domain, so the address can never be mailed
by accident, and everything that already works for contacts (their tickets, history,
`/ticket show`) works for chat customers unchanged, on both channels at once.
"""

from __future__ import annotations

SUFFIX = ".invalid"


def chat_address(platform: str, user_id: str) -> str:
    """The contact address standing for a chat user: '123@discord.invalid'."""
    return f"{user_id}@{platform}{SUFFIX}".lower()


def chat_user(address: str) -> tuple[str, str] | None:
    """(platform, user id) if `address` stands for a chat user; None for a real mail address."""
    local, _, domain = address.lower().rpartition("@")
    if not local or not domain.endswith(SUFFIX) or local.startswith(MAIL_PREFIX):
        return None
    return domain.removesuffix(SUFFIX), local


def is_reserved(address: str) -> bool:
    """Whether `address` is in the reserved `.invalid` domain our chat customers' addresses live in.

    No real mail comes from there, so mail that says it does is forged (or broken): it must never be
    taken for the chat customer whose stand-in address it names."""
    domain = address.lower().rpartition("@")[2]
    return domain == SUFFIX[1:] or domain.endswith(SUFFIX)


MAIL_PREFIX = "mail."  # no chat user id starts so: Discord's are digits, Slack's U…/W…


def mail_contact_address(address: str) -> str:
    """The contact address a mail sender is known by. Mail claiming to come from a reserved `.invalid`
    address is forged or broken, and its sender is someone else than the chat customer whose stand-in
    address it names: prefixed, it becomes a contact of its own that no chat address can ever be."""
    return MAIL_PREFIX + address.lower() if is_reserved(address) else address


def dm_platform(platform: str) -> str:
    """The chat_threads platform key under which a ticket is shown in its customer's DM."""
    return f"{platform}-dm"
