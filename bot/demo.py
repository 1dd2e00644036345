"""`tiketti demo`: the whole product in one terminal, with no Slack account and no mail server.

SQLite store, an inbound SMTP listener on localhost, outgoing mail written to a
folder, and the console adapter standing in for the tickets channel. Customer
mail really travels over SMTP into the listener, so the demo exercises the same
pipeline production does.
"""

from __future__ import annotations

import asyncio
import os
import smtplib
import sys
from collections.abc import AsyncIterator
from email.message import EmailMessage
from email.parser import BytesParser
from email.policy import default as default_policy
from email.utils import make_msgid
from pathlib import Path

from bot.adapters.console import ConsoleAdapter
from bot.app import build_core
from bot.handlers.context import Actor
from bot.runtime import Runtime
from bot.settings import Settings

DEMO_DB = Path("tiketti-demo.db")

BANNER = """\
Tiketti demo — the tickets channel is this terminal.
  Customer mail: send to {host}:{port} over SMTP, or type
    /mail-from ADDRESS | SUBJECT | BODY       a customer writes in
    /customer-reply N | BODY                  the customer answers our last mail on ticket N
  Agents: /ticket help; /open N then plain text = internal note; /outbound shows sent mail; /quit.
  Sent mail goes to {outbound}/ (no mail leaves this machine).
"""


async def run_demo(settings: Settings, *, script: str | None, smtp_port: int | None) -> int:
    settings = _demo_settings(settings, smtp_port, scripted=script is not None)
    core = await build_core(settings)
    runtime = Runtime(core, web=False)
    out = sys.stdout
    console = ConsoleAdapter(core.ctx, out, actor=Actor("console", os.environ.get("USER", "Agent").title(), operator=True))
    console.subscribe()
    await runtime.start()
    assert runtime.listener is not None
    host, port = settings.inbound_smtp_host, runtime.listener.port
    outbound = Path(settings.outbound_dir)
    demo = _DemoCommands(host, port, outbound, settings.support_address, out)
    console.register("mail-from", demo.mail_from, "/mail-from ADDRESS | SUBJECT | BODY — a customer writes in")
    console.register("customer-reply", demo.customer_reply, "/customer-reply N | BODY — the customer answers our last mail")
    console.register("outbound", demo.show_outbound, "/outbound — list mail the helpdesk sent (the outbound folder)")

    async def flush(_: str) -> None:
        await runtime.drain_outbox()

    console.register("send-now", flush, "/send-now — deliver queued mail at once")
    out.write(BANNER.format(host=host, port=port, outbound=outbound))
    try:
        if script:
            await console.run_lines(_draining(_script_lines(script), runtime))
            await runtime.drain_outbox()
            await demo.show_outbound("")
        if not script or sys.stdin.isatty():
            # After the guided tour, a person at a terminal carries on by hand.
            out.write("\nYour turn: type /ticket help, or /quit to stop.\n")
            await console.run_lines(_draining(_stdin_lines(), runtime), echo=False)
            await runtime.drain_outbox()
    finally:
        await runtime.stop()
        await core.close()
    return 0


def _demo_settings(settings: Settings, smtp_port: int | None, *, scripted: bool = False) -> Settings:
    update: dict[str, object] = {}
    if scripted and "TIKETTI_UNDO_SECONDS" not in os.environ:
        update["undo_seconds"] = 0  # a script has nobody to click Undo: its replies go out before it ends
    if "TIKETTI_DATABASE_URL" not in os.environ:
        # A demo starts clean, in a file of its own; real data lives elsewhere.
        for suffix in ("", "-wal", "-shm"):
            Path(f"{DEMO_DB}{suffix}").unlink(missing_ok=True)
        update["database_url"] = f"sqlite+aiosqlite:///{DEMO_DB}"
    if smtp_port is not None or settings.inbound_smtp_port is None:
        update["inbound_smtp_port"] = smtp_port if smtp_port is not None else 2525
    if settings.smtp_host is None:
        update["outbox_backoff_seconds"] = 1.0
    return settings.model_copy(update=update)


async def _draining(lines: AsyncIterator[str], runtime: Runtime) -> AsyncIterator[str]:
    """Between commands, let queued mail go out, so the transcript shows it in order."""
    async for line in lines:
        yield line
        await runtime.drain_outbox()


async def _script_lines(path: str) -> AsyncIterator[str]:
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        yield line


async def _stdin_lines() -> AsyncIterator[str]:
    while True:
        line = await asyncio.to_thread(sys.stdin.readline)
        if not line:
            return
        yield line.rstrip("\n")


class _DemoCommands:
    def __init__(self, host: str, port: int, outbound: Path, support: str, out: object) -> None:
        self.host, self.port, self.outbound, self.support, self.out = host, port, outbound, support, out

    def _say(self, text: str) -> None:
        self.out.write(text + "\n")  # type: ignore[attr-defined]

    async def _send(self, msg: EmailMessage) -> None:
        def send() -> None:
            with smtplib.SMTP(self.host, self.port, timeout=30) as smtp:
                smtp.send_message(msg)

        await asyncio.to_thread(send)

    async def mail_from(self, arg: str) -> None:
        parts = [p.strip() for p in arg.split("|", 2)]
        if len(parts) != 3 or "@" not in parts[0]:
            self._say("usage: /mail-from ADDRESS | SUBJECT | BODY")
            return
        msg = EmailMessage()
        msg["From"], msg["To"], msg["Subject"] = parts[0], self.support, parts[1]
        msg["Message-ID"] = make_msgid(domain=parts[0].rsplit("@", 1)[1])
        msg.set_content(parts[2].replace("\\n", "\n"))
        self._say(f"(customer {parts[0]} sends a mail over SMTP to {self.host}:{self.port})")
        await self._send(msg)

    async def customer_reply(self, arg: str) -> None:
        number, _, body = arg.partition("|")
        last = self._last_outbound(number.strip())
        if last is None:
            self._say(f"no mail was sent on ticket #{number.strip()} yet")
            return
        msg = EmailMessage()
        msg["From"], msg["To"] = last["To"], self.support
        msg["Subject"] = "Re: " + str(last["Subject"]).removeprefix("Re: ")
        msg["Message-ID"] = make_msgid(domain=str(last["To"].addresses[0].domain))
        msg["In-Reply-To"] = last["Message-ID"]
        msg["References"] = f"{last.get('References', '')} {last['Message-ID']}".strip()
        quoted = "\n".join("> " + line for line in last.get_body(("plain",)).get_content().splitlines())  # type: ignore[union-attr]
        msg.set_content(f"{body.strip()}\n\nOn an earlier day, {self.support} wrote:\n{quoted}\n")
        self._say(f"(the customer replies to {last['Message-ID']} over SMTP)")
        await self._send(msg)

    def _last_outbound(self, number: str) -> EmailMessage | None:
        tag = f"#{number}]"
        for path in sorted(self.outbound.glob("*.eml"), reverse=True):
            msg = BytesParser(policy=default_policy).parsebytes(path.read_bytes())
            if tag in str(msg["Subject"]):
                return msg  # type: ignore[return-value]
        return None

    async def show_outbound(self, _arg: str) -> None:
        files = sorted(self.outbound.glob("*.eml")) if self.outbound.exists() else []
        self._say(f"── outbound mail in {self.outbound}/: {len(files)} message(s)")
        for path in files:
            msg = BytesParser(policy=default_policy).parsebytes(path.read_bytes())
            auto = " (automatic)" if msg["Auto-Submitted"] else ""
            self._say(f"  {path.name}: to {msg['To']} — {msg['Subject']}{auto}")
            body = msg.get_body(("plain",))
            if body is not None and not auto:
                for line in body.get_content().strip().splitlines()[:6]:  # type: ignore[union-attr]
                    self._say(f"      {line}")
