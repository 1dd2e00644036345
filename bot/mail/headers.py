"""A faster header factory for the stdlib email policy we parse with.

The stdlib's HeaderRegistry builds a brand-new class for every header it touches
(`type(...)` in `__getitem__`), then parses the value again on every access. Both
are pure functions of their input and header objects are immutable, so caching
them changes no result; it is about a third of the cost of parsing a mail (bench/ingest.py).
"""

from __future__ import annotations

import functools
from email.headerregistry import BaseHeader, HeaderRegistry


class CachedHeaders(HeaderRegistry):
    """One class per header name; with `values` > 0 also the last `values`
    distinct short string values (other values are not cached).

    Only short values are kept, so a cache full of them stays small (a few MB at most).
    """

    def __init__(self, values: int = 0) -> None:
        super().__init__()
        self._classes: dict[str, type[BaseHeader]] = {}
        self._parsed = functools.lru_cache(maxsize=values)(super().__call__) if values else None

    def map_to_type(self, name: str, cls: type) -> None:
        super().map_to_type(name, cls)
        self._classes.clear()

    def __getitem__(self, name: str) -> type[BaseHeader]:
        key = name.lower()
        cls = self._classes.get(key)
        if cls is None:
            cls = self._classes[key] = super().__getitem__(name)
        return cls

    def __call__(self, name: str, value: object) -> BaseHeader:
        if self._parsed is not None and type(value) is str and len(value) <= 1000:
            return self._parsed(name, value)  # type: ignore[no-any-return]
        return self[name](name, value)
