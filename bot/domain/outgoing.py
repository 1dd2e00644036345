"""A mail we are about to send, described completely before it is rendered to bytes."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class OutgoingMail:
    template: str  # "reply" | "ack": names the Jinja templates in bot/mail/templates
    to_addr: str
    to_name: str
    subject: str
    message_id: str
    thread_index: str
    thread_topic: str
    in_reply_to: str | None = None
    references: tuple[str, ...] = ()
    automatic: bool = False  # adds Auto-Submitted: auto-generated and our loop header
    context: dict[str, Any] = field(default_factory=dict)
