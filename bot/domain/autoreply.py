"""Whether a mail may get an automatic answer (RFC 3834 and what Zammad/FreeScout learned).

Returns the reason to stay quiet, or None. Rate limits per sender need the store,
so they are checked by the intake handler on top of this.
"""

from __future__ import annotations

from bot.domain.inbound import InboundMail

_BOUNCE_LOCALPARTS = ("mailer-daemon", "postmaster", "noreply", "no-reply", "do-not-reply", "donotreply")


def is_our_loop(mail: InboundMail, own_addresses: set[str]) -> bool:
    """Our loop header naming one of our addresses: our mail came back. Another Tiketti's header is a person's mail."""
    loop = mail.tiketti_loop
    return loop is not None and loop.strip().lower() in own_addresses


def suppress_reason(mail: InboundMail, own_addresses: set[str]) -> str | None:
    if mail.tiketti_loop:
        if is_our_loop(mail, own_addresses):
            return "our own mail came back"
        return f"sent by another helpdesk (X-Tiketti-Loop: {mail.tiketti_loop})"
    if mail.from_addr in own_addresses:
        return "sent from one of our own addresses"
    if mail.auto_submitted and mail.auto_submitted.strip().lower() != "no":
        return f"Auto-Submitted: {mail.auto_submitted}"
    if mail.precedence and mail.precedence.strip().lower() in ("bulk", "list", "junk", "auto_reply"):
        return f"Precedence: {mail.precedence}"
    if mail.x_loop:
        return "X-Loop present"
    if mail.x_auto_response_suppress and mail.x_auto_response_suppress.strip().lower() not in ("", "none"):
        return f"X-Auto-Response-Suppress: {mail.x_auto_response_suppress}"
    if mail.is_list_mail:
        return "mailing-list mail"
    if mail.return_path == "":
        return "bounce (empty Return-Path)"
    if mail.is_delivery_report:
        return "delivery status report"
    local = mail.from_addr.split("@", 1)[0]
    if local.startswith(_BOUNCE_LOCALPARTS):
        return f"automatic sender {mail.from_addr}"
    return None
