"""Load generator for `bench/ingest.py --lmtp-clients N`: an MTA delivering over N connections at once.

    python bench/smtp_load.py PORT MAILS_FILE CLIENTS

MAILS_FILE holds the mails as 4-byte big-endian lengths, each followed by the mail.
Each client thread keeps one LMTP connection open and delivers the next mail from a
shared queue, as Postfix's delivery agents do. Prints one JSON line: the time from
the first mail to the last 250, per-mail latencies (ms), and refusals. Runs in a
process of its own, so the bot's process measures only the bot.
"""

from __future__ import annotations

import json
import queue
import re
import smtplib
import sys
import threading
import time


def main() -> None:
    port, path, clients = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
    mails: queue.SimpleQueue[bytes] = queue.SimpleQueue()
    with open(path, "rb") as f:
        data = f.read()
    pos = 0
    while pos < len(data):
        size = int.from_bytes(data[pos:pos + 4], "big")
        mails.put(_wire_safe(data[pos + 4:pos + 4 + size]))
        pos += 4 + size
    latencies: list[float] = []
    refused: list[str] = []
    lock = threading.Lock()

    def deliver() -> None:
        with smtplib.LMTP("127.0.0.1", port, timeout=120) as client:
            client.ehlo("bench.example")  # LMTP's LHLO
            while True:
                try:
                    raw = mails.get_nowait()
                except queue.Empty:
                    return
                start = time.perf_counter()
                try:
                    client.sendmail("customer@bench.example", ["support@helpdesk.bench"], raw)
                except smtplib.SMTPException as exc:
                    with lock:
                        refused.append(str(exc)[:200])
                    continue
                with lock:
                    latencies.append((time.perf_counter() - start) * 1000)

    threads = [threading.Thread(target=deliver) for _ in range(clients)]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print(json.dumps({"seconds": time.perf_counter() - start, "latencies_ms": latencies, "refused": refused}))


def _wire_safe(raw: bytes) -> bytes:
    """What an MTA puts on the wire: CRLF line ends (smtplib sends bytes as they are), and lines over
    998 bytes broken as Postfix does (smtp_line_length_limit). A few generated 8-bit bodies have bare
    LFs or long lines, which SMTP and LMTP refuse (RFC 5321 4.5.3.1.6)."""
    out = []
    for line in re.split(rb"\r\n|\n|\r", raw):
        while len(line) > 998:
            out.append(line[:990])
            line = b" " + line[990:]
        out.append(line)
    return b"\r\n".join(out)


if __name__ == "__main__":
    main()
