"""Customer mail as raw RFC 5322 bytes, delivered through the real pipeline, and what came out.

The core tests talk to Tiketti the way a mail server does (raw bytes in) and look
at what a customer or an agent would see (outbox mail, ticket state, history).
"""

from __future__ import annotations

import itertools
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser

from bot.app import Core
from bot.domain.model import Message, OutboundMail, Ticket
from bot.handlers.intake import IntakeOutcome
from bot.mail.pipeline import MailPipeline

SUPPORT = "support@helpdesk.test"
_ids = itertools.count(1)


def new_message_id() -> str:
    return f"<m{next(_ids)}.test@customer.example>"


def raw_mail(
    *,
    frm: str = "Mia Customer <mia@customer.example>",
    subject: str = "Printer is broken",
    message_id: str | None = None,
    in_reply_to: str | None = None,
    references: tuple[str, ...] = (),
    to: str = f"Helpdesk <{SUPPORT}>",
    body: str = "Hello, the printer on floor 2 prints only blank pages.",
    headers: dict[str, str] | None = None,
) -> bytes:
    """A plain text mail; `headers` adds or overrides any header (None-valued ones are left out)."""
    values: dict[str, str | None] = {
        "From": frm,
        "To": to,
        "Subject": subject,
        "Date": "Mon, 03 Mar 2025 10:15:00 +0200",
        "Message-ID": message_id or new_message_id(),
        "In-Reply-To": in_reply_to,
        "References": " ".join(references) or None,
        "MIME-Version": "1.0",
        "Content-Type": "text/plain; charset=utf-8",
        "Content-Transfer-Encoding": "8bit",
    }
    values.update(headers or {})
    head = "".join(f"{name}: {value}\r\n" for name, value in values.items() if value is not None)
    return head.encode("utf-8") + b"\r\n" + body.replace("\n", "\r\n").encode("utf-8") + b"\r\n"


async def deliver(core: Core, raw: bytes) -> IntakeOutcome:
    """Hand one mail to the pipeline, as IMAP, the pipe and the SMTP listener do."""
    processed = await MailPipeline(core.ctx).process(raw, source="test")
    assert processed.ok and processed.outcome is not None, f"mail was quarantined as #{processed.quarantine_id}"
    return processed.outcome


async def ticket(core: Core, number: int) -> Ticket | None:
    async with core.ctx.uow() as uow:
        return await uow.tickets.get(number)


async def messages(core: Core, number: int) -> list[Message]:
    async with core.ctx.uow() as uow:
        return list(await uow.messages.for_ticket(number))


async def outbox(core: Core, number: int) -> list[OutboundMail]:
    async with core.ctx.uow() as uow:
        return list(await uow.outbox.for_ticket(number))


async def ticket_count(core: Core) -> int:
    """Tickets are numbered 1, 2, 3...: the count is the first number that does not exist, minus one."""
    async with core.ctx.uow() as uow:
        n = 0
        while await uow.tickets.get(n + 1) is not None:
            n += 1
        return n


def parse_sent(raw: bytes) -> EmailMessage:
    msg = BytesParser(policy=policy.default).parsebytes(raw)
    assert isinstance(msg, EmailMessage)
    return msg


def text_body(msg: EmailMessage) -> str:
    part = msg.get_body(preferencelist=("plain",))
    assert part is not None
    return part.get_content()  # type: ignore[no-any-return]


def header_names(raw: bytes) -> list[str]:
    """Every header name in the mail and in each of its parts, lower-cased."""
    names: list[str] = []
    for part in parse_sent(raw).walk():
        names.extend(k.lower() for k in part.keys())
    return names
