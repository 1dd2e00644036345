"""The reply corpus in tests/fixtures/replies: mail bodies in the shapes of real clients and languages,
each beside the text a person should see in chat (NAME.txt or NAME.html, and NAME.expected).

Scored by what a reader notices: the words shown, not the blank lines and spaces between them.
Shared by tests/test_quotes.py and bench/quotes.py, so the test and the figures agree.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

CORPUS = Path(__file__).resolve().parent.parent / "fixtures" / "replies"


@dataclass(frozen=True)
class Case:
    name: str  # the file stem, "<client>-<language or what>-…"; "any-…" and "list-…" are no one client's
    body: str
    is_html: bool
    expected: str

    @property
    def client(self) -> str:
        return self.name.split("-", 1)[0]


@dataclass(frozen=True)
class Score:
    exact: bool
    leaked: tuple[str, ...]  # lines shown that should have been hidden (quoted history, footers)
    lost: tuple[str, ...]  # the customer's own lines that were hidden


def load_cases(folder: Path = CORPUS) -> list[Case]:
    cases = []
    for path in sorted(folder.iterdir()):
        if path.suffix not in (".txt", ".html"):
            continue
        expected = path.with_suffix(".expected").read_text(encoding="utf-8")
        cases.append(Case(path.stem, path.read_text(encoding="utf-8"), path.suffix == ".html", expected))
    return cases


def words_by_line(text: str) -> list[str]:
    """Each non-blank line with its spacing collapsed: blank lines and indentation are not what is compared."""
    return [" ".join(line.split()) for line in text.splitlines() if line.strip()]


def score(shown: str, expected: str) -> Score:
    got, want = words_by_line(shown), words_by_line(expected)
    return Score(exact=got == want,
                 leaked=tuple(line for line in got if line not in want),
                 lost=tuple(line for line in want if line not in got))


def run(cases: list[Case], visible_text: Callable[[str], str], visible_html: Callable[[str], str]) -> dict[str, Score]:
    return {c.name: score((visible_html if c.is_html else visible_text)(c.body), c.expected) for c in cases}
