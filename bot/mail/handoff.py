"""`tiketti ingest` handing its mail to a running instance's inbound listener (LMTP or SMTP on this host).

An MTA that pipes each mail into a new `tiketti ingest` process pays for Python's start and for
importing SQLAlchemy, pydantic and the handlers on every mail. A `tiketti run` nearby has paid for
all of that once: when its inbound listener is configured (TIKETTI_INBOUND_SMTP_PORT, and
TIKETTI_INBOUND_LMTP for LMTP), the pipe process only passes the bytes on and reports what the
listener answered. The listener answers 250 only after the commit, so the mail is stored exactly as
if the pipe had stored it itself.

Only the standard library is imported here, and the settings are read from the environment
directly rather than through bot.settings (pydantic alone costs more than the whole hand-off).
When nothing listens, or the listener does not say 250, the caller stores the mail itself.
"""

from __future__ import annotations

import os
import smtplib
from dataclasses import dataclass

CONNECT_TIMEOUT_SECONDS = 2.0  # a listener on this host answers at once; a dead one refuses at once
REPLY_TIMEOUT_SECONDS = 120.0  # storing a large mail may take a while; the MTA's own timeout is longer
_ANY_ADDRESS = {"", "0.0.0.0", "::", "*"}
_TRUE = {"1", "true", "yes", "on"}


@dataclass(frozen=True)
class Listener:
    host: str
    port: int
    lmtp: bool


def configured_listener(env: dict[str, str] | os._Environ[str] = os.environ) -> Listener | None:
    """The running instance's listener as the settings describe it (same variables, same defaults)."""
    if env.get("TIKETTI_INGEST_HANDOFF", "1").strip().lower() not in _TRUE:
        return None
    port = env.get("TIKETTI_INBOUND_SMTP_PORT", "").strip()
    if not port.isdigit():
        return None
    host = env.get("TIKETTI_INBOUND_SMTP_HOST", "127.0.0.1").strip()
    if host in _ANY_ADDRESS:
        host = "127.0.0.1"  # bound to every address: this host's loopback reaches it too
    if not _is_local(host):
        return None  # only on this host: elsewhere the pipe process could not know it is ours
    return Listener(host, int(port), env.get("TIKETTI_INBOUND_LMTP", "").strip().lower() in _TRUE)


def _is_local(host: str) -> bool:
    return host in {"localhost", "::1"} or host.startswith("127.")


def hand_off(raw: bytes, listener: Listener, recipient: str) -> str | None:
    """Deliver `raw` to the listener; its 250 reply when stored, None when the caller must store it."""
    client: smtplib.SMTP | None = None
    try:
        client = (smtplib.LMTP if listener.lmtp else smtplib.SMTP)(timeout=CONNECT_TIMEOUT_SECONDS)
        client.connect(listener.host, listener.port)
        client.sock.settimeout(REPLY_TIMEOUT_SECONDS)  # type: ignore[union-attr]
        code, reply = _send(client, raw, recipient)
    except (OSError, smtplib.SMTPException):
        return None  # nothing listening, a refusal or a broken connection: store it ourselves
    finally:
        if client is not None:
            try:
                client.quit()
            except (OSError, smtplib.SMTPException):
                client.close()
    return reply if code == 250 else None


def _send(client: smtplib.SMTP, raw: bytes, recipient: str) -> tuple[int, str]:
    code, _ = client.ehlo()  # LHLO on LMTP
    if code != 250:
        return code, ""
    code, _ = client.mail("<>")  # the pipe knows no envelope sender; the listener stores the headers
    if code != 250:
        return code, ""
    code, _ = client.rcpt(recipient)
    if code not in (250, 251):
        return code, ""
    code, reply = client.data(raw)  # LMTP answers once per recipient: one recipient, one answer
    return code, reply.decode("utf-8", "replace")

