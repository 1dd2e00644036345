"""A real IMAP server for tests: pymap's in-memory backend in a subprocess on a free loopback port.

`python -m tests.support.imap_server [--no-idle] PYMAP-ARGS...` runs pymap itself,
with a cleartext password store (fast logins); --no-idle hides the IDLE capability
so the fetcher's polling path meets a real server too. Outside CI a server that will not start skips the test; under
CI=true it fails it.
"""

from __future__ import annotations

import itertools
import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from imap_tools import BaseMailBox, MailBoxUnencrypted

USER, PASSWORD = "demouser", "demopass"
_ROOT = Path(__file__).resolve().parents[2]
_folders = itertools.count(1)


@dataclass
class ImapServer:
    host: str
    port: int
    idle: bool
    user: str = USER
    password: str = PASSWORD

    def client(self) -> BaseMailBox:
        return MailBoxUnencrypted(self.host, self.port, timeout=10).login(self.user, self.password, initial_folder=None)

    def new_folder(self) -> str:
        """A folder of its own per test: the server is shared, the mail a test sees is not."""
        name = f"Test{os.getpid()}x{next(_folders)}"
        with self.client() as box:
            box.folder.create(name)
        return name

    def uids(self, folder: str) -> list[int]:
        with self.client() as box:
            box.folder.set(folder)
            return [int(u) for u in box.uids()]

    def append(self, folder: str, *raws: bytes) -> None:
        with self.client() as box:
            for raw in raws:
                box.append(raw, folder)


def start_imap_server(*, idle: bool = True) -> Iterator[ImapServer]:
    from tests.support.net import free_port, wait_for_port

    port = free_port()
    log = tempfile.TemporaryFile()
    cmd = [sys.executable, "-m", "tests.support.imap_server", *([] if idle else ["--no-idle"]),
           "--host", "127.0.0.1", "--port", str(port), "--no-tls", "dict", "--demo-user", USER, "--demo-password", PASSWORD]
    try:
        proc = subprocess.Popen(cmd, cwd=_ROOT, stdout=log, stderr=subprocess.STDOUT)
    except OSError as exc:
        _unavailable(f"cannot start pymap: {exc}")
    try:
        try:
            wait_for_port(port, timeout=20)
        except TimeoutError:
            log.seek(0)
            _unavailable(f"pymap did not listen on {port}: {log.read().decode(errors='replace')[-2000:]}")
        yield ImapServer("127.0.0.1", port, idle)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


def _unavailable(message: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(message + " (CI=true: a missing server is a failure, not a skip)")
    pytest.skip(message)


def _serve(argv: list[str]) -> None:
    from pymap.config import IMAPConfig
    from pysasl.hashing import Cleartext

    # pymap hashes the demo password with 500,000 PBKDF2 rounds: 0.3 s per login, too slow for tests.
    IMAPConfig._get_hash_context = classmethod(lambda cls, _cfg: Cleartext())  # type: ignore[method-assign,assignment]
    if "--no-idle" in argv:
        argv.remove("--no-idle")
        from pymap.backend.dict import Config
        from pymap.config import BackendCapability

        Config.backend_capability = property(  # type: ignore[method-assign,assignment]
            lambda self: BackendCapability(idle=False, object_id=True, multi_append=True)
        )
    from pymap.main import main

    sys.argv = ["pymap", *argv]
    main()


if __name__ == "__main__":
    _serve(sys.argv[1:])
