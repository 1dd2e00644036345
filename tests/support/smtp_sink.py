"""A real SMTP server for tests: aiosmtpd in the test's event loop, on a free loopback port.

It keeps every mail it accepted (envelope and raw bytes), can be stopped and
started again on the same port (a relay going down and coming back), can refuse
chosen recipients (550 unknown user, or 4xx for 'try later'), and can stall in
DATA so a test can stop the sender mid-send.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.parser import BytesParser
from email.policy import default as default_policy

from aiosmtpd.smtp import SMTP, Envelope, Session

from tests.support.net import free_port


@dataclass(frozen=True)
class Received:
    mail_from: str
    rcpt_tos: tuple[str, ...]
    raw: bytes

    @property
    def message(self) -> EmailMessage:
        return BytesParser(policy=default_policy).parsebytes(self.raw)  # type: ignore[return-value]


@dataclass
class SmtpSink:
    host: str = "127.0.0.1"
    port: int = field(default_factory=free_port)
    received: list[Received] = field(default_factory=list)
    refused: dict[str, str] = field(default_factory=dict)  # address -> full SMTP reply
    stalling: bool = False
    stalled: asyncio.Event = field(default_factory=asyncio.Event)  # set when a DATA is being held
    _server: asyncio.Server | None = None
    _sessions: list[SMTP] = field(default_factory=list)
    _release: asyncio.Event = field(default_factory=asyncio.Event)

    def refuse(self, address: str, code: int = 550, text: str = "5.1.1 User unknown") -> None:
        self.refused[address.lower()] = f"{code} {text}"

    def stall(self) -> None:
        """Hold the next DATA unanswered, as a relay hanging mid-transfer would."""
        self.stalling = True
        self.stalled.clear()
        self._release.clear()

    def unstall(self) -> None:
        """Let a held DATA end with a 4xx: the mail was not taken."""
        self.stalling = False
        self._release.set()

    @property
    def running(self) -> bool:
        return self._server is not None

    async def start(self) -> None:
        loop = asyncio.get_running_loop()

        def factory() -> SMTP:
            session = SMTP(self, hostname="sink.test", decode_data=False, loop=loop)
            self._sessions.append(session)
            return session

        self._server = await loop.create_server(factory, self.host, self.port)

    async def stop(self) -> None:
        if self._server is None:
            return
        self._server.close()
        self._release.set()
        for session in self._sessions:
            if session.transport is not None and not session.transport.is_closing():
                session.transport.close()
        self._sessions.clear()
        await self._server.wait_closed()
        self._server = None

    # aiosmtpd handler hooks

    async def handle_RCPT(self, server: SMTP, session: Session, envelope: Envelope, address: str,
                          rcpt_options: list[str]) -> str:
        if (reply := self.refused.get(address.lower())) is not None:
            return reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        if self.stalling:
            self.stalled.set()
            await self._release.wait()
            return "451 4.3.0 not taken"
        self.received.append(Received(envelope.mail_from or "", tuple(envelope.rcpt_tos), envelope.original_content or b""))
        return "250 OK queued"

    def with_message_id(self, message_id: str) -> list[Received]:
        return [r for r in self.received if r.message["Message-ID"] == message_id]
