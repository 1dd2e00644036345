"""The knowledge-base folder, kept indexed: only files added, changed or removed since the last look are read.

A look is a walk of the folder comparing each file's modification time and size with what was read
(1,000 files: a few milliseconds); it happens on use, at most every `rescan_seconds`, off the event loop
(`asyncio.to_thread`), and so does reading and indexing what changed. No file watcher: one more
dependency and one more thread for what a stat per file already tells.

One Library per folder for the whole process (`library_for`): every handler, door and instance of the
context shares it. A file that cannot be read as an article is left out and logged once per version.
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
import threading
import time
from collections.abc import Callable
from pathlib import Path

from bot.domain.kb_article import ArticleError, parse_article
from bot.domain.kb_index import KbIndex, Prepared
from bot.handlers.config import HelpdeskConfig

log = logging.getLogger(__name__)

_SLUG = re.compile(r"[a-z0-9][a-z0-9_-]*")  # what a reply's :kb:slug token can name (bot.handlers.reply_text)
MAX_ARTICLE_BYTES = 1_000_000  # an article is a page, not a manual: larger files are left out (and logged)


class Library:
    def __init__(self, folder: Path, rescan_seconds: float = 10.0, monotonic: Callable[[], float] = time.monotonic) -> None:
        self.folder = folder
        self.rescan_seconds = rescan_seconds
        self._monotonic = monotonic
        self._index = KbIndex()
        self._stamps: dict[str, tuple[int, int]] = {}  # file's path -> (mtime_ns, size) when read
        self._prepared: dict[str, Prepared] = {}
        self._scanned_at: float | None = None
        self._lock = threading.Lock()  # one scan at a time; taken in the worker thread, never on the loop
        self.scans = 0  # how many looks found something to read (for tests and the bench)

    async def index(self) -> KbIndex:
        """The index as the folder stands (looked at again when `rescan_seconds` have passed)."""
        if self._due():
            await asyncio.to_thread(self.rescan)
        return self._index

    def _due(self) -> bool:
        return self._scanned_at is None or self._monotonic() - self._scanned_at >= self.rescan_seconds

    def rescan(self, *, force: bool = False) -> KbIndex:
        """Look at the folder now (blocking: run it off the loop) and index what changed."""
        with self._lock:
            if not force and not self._due():  # another caller looked while this one waited
                return self._index
            found = self._walk()
            changed = [p for p, stamp in found.items() if self._stamps.get(p) != stamp]
            gone = [p for p in self._stamps if p not in found]
            for path in gone:
                self._stamps.pop(path, None)
                self._prepared.pop(path, None)
            for path in changed:
                self._stamps[path] = found[path]
                prepared = self._read(path, found[path][1])
                if prepared is None:
                    self._prepared.pop(path, None)
                else:
                    self._prepared[path] = prepared
            if changed or gone or self._scanned_at is None:
                self._index = KbIndex.build(self._unique())
                self.scans += 1
                log.info("knowledge base %s: %d articles (%d read, %d gone)", self.folder, len(self._index),
                         len(changed), len(gone))
            self._scanned_at = self._monotonic()
            return self._index

    def _walk(self) -> dict[str, tuple[int, int]]:
        """Every article file under the folder with its (mtime_ns, size); hidden files and folders (an
        editor's swap files, .git) are skipped. os.scandir, not Path.rglob: a third of the time per file."""
        found: dict[str, tuple[int, int]] = {}
        pending = [str(self.folder)]
        while pending:
            try:
                entries = list(os.scandir(pending.pop()))
            except OSError:  # not there (yet), or removed while we looked
                continue
            for entry in entries:
                if entry.name.startswith("."):
                    continue
                try:
                    if entry.is_dir():
                        pending.append(entry.path)
                    elif entry.name.endswith(".md"):
                        st = entry.stat()
                        found[entry.path] = (st.st_mtime_ns, st.st_size)
                except OSError:
                    continue
        return found

    def _read(self, name: str, size: int) -> Prepared | None:
        path = Path(name)
        if size > MAX_ARTICLE_BYTES:
            log.warning("knowledge base: %s left out: larger than %d bytes", path, MAX_ARTICLE_BYTES)
            return None
        try:
            article = parse_article(path.stem.lower(), path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, ArticleError) as exc:
            log.warning("knowledge base: %s left out: %s", path, exc)
            return None
        if not _SLUG.fullmatch(article.slug):
            log.warning("knowledge base: %s can be found but not inserted into replies (:kb:%s): name article files "
                        "with a-z, 0-9, - and _ only", path, article.slug)
        return Prepared.of(article)

    def _unique(self) -> list[Prepared]:
        """One article per slug: the slug is the file's name, so two files of one name in different subfolders
        clash; the first by path wins and the other is logged."""
        seen: dict[str, str] = {}
        kept = []
        for path in sorted(self._prepared):
            slug = self._prepared[path].article.slug
            if slug in seen:
                log.warning("knowledge base: %s left out: %s has the same name", path, seen[slug])
                continue
            seen[slug] = path
            kept.append(self._prepared[path])
        return kept


_LIBRARIES: dict[tuple[Path, float], Library] = {}
_GUARD = threading.Lock()


def library_for(config: HelpdeskConfig) -> Library | None:
    """The process's library of the configured folder; None when no folder is configured."""
    if config.kb_dir is None:
        return None
    key = (Path(config.kb_dir).resolve(), config.kb_rescan_seconds)
    with _GUARD:
        if key not in _LIBRARIES:
            _LIBRARIES[key] = Library(key[0], config.kb_rescan_seconds)
        return _LIBRARIES[key]
