"""Mail in over SMTP or LMTP: an MTA (Postfix, an LMTP transport) hands us each mail directly.

The server runs inside the bot's own event loop (no aiosmtpd Controller thread),
so the pipeline and the store are used exactly as the other doors use them.
We answer 250 only once the mail is stored (as a ticket message or in
quarantine) and 451 when the store is unreachable, so the sender keeps the mail
and tries again: nothing accepted is ever lost. Mails delivered at the same moment
over several connections are stored together (`bot.mail.together`).
"""

from __future__ import annotations

import asyncio
import logging
import weakref

from aiosmtpd.lmtp import LMTP
from aiosmtpd.smtp import SMTP, Envelope, Session

from bot.handlers.context import Context
from bot.handlers.delivery import mask
from bot.mail.pipeline import MailPipeline
from bot.mail.together import Together
from bot.store import failures

log = logging.getLogger(__name__)

MAX_MESSAGE_BYTES = 50 * 1024 * 1024  # above this the client gets 552 before we store anything
OK = "250 2.0.0 OK: stored"
TRY_LATER = "451 4.3.0 Temporary failure storing the mail, try again later"


class _Handler:
    def __init__(self, together: Together, lmtp: bool) -> None:
        self.together, self.lmtp = together, lmtp

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content or b""
        try:
            result = await self.together.store(raw)
        except Exception as exc:
            log.warning("inbound mail from %s (%d bytes) not stored, sender will retry: %s",
                        mask(envelope.mail_from or "<>"), len(raw), failures.describe(exc))
            status = TRY_LATER
        else:
            o = result.outcome
            what = f"{o.action} #{o.ticket_number}" if o else f"quarantine #{result.quarantine_id}"
            log.info("inbound mail from %s (%d bytes) stored: %s", mask(envelope.mail_from or "<>"), len(raw), what)
            status = OK
        if self.lmtp:
            # LMTP answers DATA once per accepted recipient; we store the mail once for all of them.
            return "\r\n".join([status] * max(1, len(envelope.rcpt_tos)))
        return status


class InboundListener:
    def __init__(self, ctx: Context, pipeline: MailPipeline, host: str, port: int, lmtp: bool = False, *,
                 max_message_bytes: int = MAX_MESSAGE_BYTES) -> None:
        self.ctx, self.pipeline, self.host, self.port, self.lmtp = ctx, pipeline, host, port, lmtp
        self.max_message_bytes = max_message_bytes
        self._server: asyncio.Server | None = None
        self._sessions: weakref.WeakSet[SMTP] = weakref.WeakSet()
        self._together = Together(pipeline, source="smtp")  # concurrent deliveries stored as one group

    async def start(self) -> None:
        """Listen; afterwards `.port` is the real port (useful when 0 asked for a free one)."""
        loop = asyncio.get_running_loop()
        protocol = LMTP if self.lmtp else SMTP
        handler = _Handler(self._together, self.lmtp)
        hostname = self.ctx.config.mail_domain  # given, so aiosmtpd does not block on an FQDN lookup

        def factory() -> SMTP:
            session = protocol(handler, data_size_limit=self.max_message_bytes, enable_SMTPUTF8=True,
                               decode_data=False, hostname=hostname, ident="Tiketti", loop=loop)
            self._sessions.add(session)
            return session

        self._server = await loop.create_server(factory, host=self.host, port=self.port)
        self.port = int(self._server.sockets[0].getsockname()[1])

    async def stop(self) -> None:
        if self._server is None:
            return
        self._server.close()
        # Open sessions end too: a mail not yet answered 250 stays with the sender, who retries.
        for session in list(self._sessions):
            if session.transport is not None and not session.transport.is_closing():
                session.transport.close()
        try:
            await asyncio.wait_for(self._server.wait_closed(), timeout=5)
        except TimeoutError:
            log.warning("inbound listener: connections still open at shutdown")
        await self._together.close()
        self._server = None
