"""The canned replies' folder (TIKETTI_REPLIES_DIR): read on use when a file changed, written atomically.

Operators edit the files by hand while the bot runs, so the folder is looked at (names, sizes and mtimes,
one stat per file) each time a reply is asked for and read again only when that changed. A file that
cannot be used is skipped with a log line naming the file and why, and listed as broken in
`/ticket replies`; it never stops the others from working.
"""

from __future__ import annotations

import logging
import os
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path

from bot.domain.canned import BrokenReply, CannedError, CannedReply, parse_reply

log = logging.getLogger(__name__)

MAX_FILE_BYTES = 64_000  # a reply is a few paragraphs; a larger file is a mistake, not a reply


@dataclass(frozen=True)
class Library:
    replies: tuple[CannedReply, ...] = ()
    broken: tuple[BrokenReply, ...] = ()


_Signature = tuple[tuple[str, int, int], ...]
_cache: dict[Path, tuple[_Signature, Library]] = {}
_lock = threading.Lock()


def _files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*.md") if p.is_file() and not p.name.startswith("."))


def _signature(files: list[Path]) -> _Signature:
    out = []
    for path in files:
        try:
            st = path.stat()
        except OSError:
            continue
        out.append((str(path), st.st_mtime_ns, st.st_size))
    return tuple(out)


def load(folder: Path) -> Library:
    """The folder's replies, re-read only when a file was added, removed or changed since last time."""
    folder = folder.resolve()
    try:
        files = _files(folder) if folder.is_dir() else []
    except OSError as exc:  # unreadable: say so once per use, keep answering
        log.warning("canned replies: cannot read the folder %s (%s)", folder, type(exc).__name__)
        return Library(broken=(BrokenReply(str(folder), f"the folder cannot be read ({type(exc).__name__})"),))
    if not files:
        return Library()
    signature = _signature(files)
    with _lock:
        cached = _cache.get(folder)
        if cached is not None and cached[0] == signature:
            return cached[1]
    library = _read(folder, files)
    with _lock:
        _cache[folder] = (signature, library)
    return library


def _read(folder: Path, files: list[Path]) -> Library:
    replies: list[CannedReply] = []
    broken: list[BrokenReply] = []
    seen: dict[tuple[str, str, str | None], str] = {}
    for path in files:
        relative = path.relative_to(folder).as_posix()
        try:
            if path.stat().st_size > MAX_FILE_BYTES:
                raise CannedError(f"larger than {MAX_FILE_BYTES:,} bytes")
            reply = parse_reply(relative, path.read_text(encoding="utf-8"))
            key = (reply.name, reply.language, reply.owner.lower() if reply.owner else None)
            if key in seen:
                raise CannedError(f":{reply.name} ({reply.language}) is already defined in {seen[key]}")
            seen[key] = relative
            replies.append(reply)
        except (CannedError, OSError, UnicodeDecodeError) as exc:
            reason = str(exc) if isinstance(exc, CannedError) else f"cannot be read ({type(exc).__name__})"
            log.warning("canned replies: skipped %s: %s", relative, reason)
            broken.append(BrokenReply(relative, reason))
    return Library(tuple(replies), tuple(broken))


def write(folder: Path, relative: str, text: str) -> Path:
    """Write one reply file atomically (a temporary file renamed over it): a reader never sees half a file."""
    target = (folder / relative).resolve()
    if folder.resolve() not in target.parents:
        raise CannedError(f"{relative} is outside the replies folder")
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(dir=target.parent, prefix=".", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return target
