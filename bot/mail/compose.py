"""Render an OutgoingMail into RFC 5322 bytes with Jinja2 templates (text and HTML)."""

from __future__ import annotations

import re
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from bot.domain.outgoing import OutgoingMail
from bot.handlers.context import Clock, utcnow
from bot.mail.headers import CachedHeaders

LOOP_HEADER = "X-Tiketti-Loop"

# Same output as email.policy.SMTP, without building a header class per header (bot.mail.headers).
_POLICY = SMTP.clone(header_factory=CachedHeaders(values=256))

_CTRL = re.compile(r"[\r\n\x00-\x08\x0b\x0c\x0e-\x1f\x7f]+")


def one_line(value: str) -> str:
    """Header values built from chat or mail input: CR/LF and control characters out, always."""
    return _CTRL.sub(" ", value).strip()


class MailComposer:
    def __init__(self, support_address: str, support_name: str, clock: Clock = utcnow) -> None:
        self.support_address = support_address
        self.support_name = support_name
        self.clock = clock
        self.env = Environment(
            loader=PackageLoader("bot.mail", "templates"),
            autoescape=select_autoescape(["html.j2"]),
            undefined=StrictUndefined,
            keep_trailing_newline=True,
            auto_reload=False,  # packaged templates: compiled once, not stat()ed on every mail
        )

    def compose(self, mail: OutgoingMail) -> bytes:
        msg = EmailMessage(policy=_POLICY)
        msg["From"] = Address(one_line(self.support_name), addr_spec=self.support_address)
        msg["To"] = Address(one_line(mail.to_name), addr_spec=one_line(mail.to_addr))
        msg["Subject"] = one_line(mail.subject)
        msg["Date"] = format_datetime(self.clock())
        msg["Message-ID"] = mail.message_id
        if mail.in_reply_to:
            msg["In-Reply-To"] = one_line(mail.in_reply_to)
        if mail.references:
            msg["References"] = " ".join(one_line(r) for r in mail.references)
        msg["Thread-Topic"] = one_line(mail.thread_topic)
        msg["Thread-Index"] = mail.thread_index
        msg[LOOP_HEADER] = self.support_address
        if mail.automatic:
            msg["Auto-Submitted"] = "auto-generated"
            msg["X-Auto-Response-Suppress"] = "All"
            msg["Precedence"] = "auto_reply"
        ctx = dict(mail.context)
        msg.set_content(self.env.get_template(f"{mail.template}.txt.j2").render(**ctx))
        msg.add_alternative(self.env.get_template(f"{mail.template}.html.j2").render(**ctx), subtype="html")
        return msg.as_bytes()
