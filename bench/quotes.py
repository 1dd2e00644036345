"""Quote and signature stripping over the reply corpus: how often chat shows exactly the customer's words.

    .venv/bin/python bench/quotes.py            # exact / leaked / lost, overall and per client
    .venv/bin/python bench/quotes.py -v         # and every case that is not exact, with what differed

A case is *exact* when the lines shown are the expected ones (spacing aside); *leaked* when something
that should be hidden (quoted history, a device footer) is shown; *lost* when a line the customer wrote
is hidden. A case can be both leaked and lost. Prints figures; never fails.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script: make `bot` and `tests` importable
    sys.path.insert(0, str(ROOT))

from bot.mail.text import strip_quotes, visible_html  # noqa: E402
from tests.support.replies import load_cases, run  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-v", "--verbose", action="store_true", help="show each case that is not exact")
    args = parser.parse_args()
    cases = load_cases()
    started = time.perf_counter()
    scores = run(cases, strip_quotes, visible_html)
    elapsed = time.perf_counter() - started
    for label, subset in (("plain text", [c for c in cases if not c.is_html]), ("HTML", [c for c in cases if c.is_html]),
                          ("all", cases)):
        exact = sum(scores[c.name].exact for c in subset)
        leaked = sum(bool(scores[c.name].leaked) for c in subset)
        lost = sum(bool(scores[c.name].lost) for c in subset)
        print(f"{label:<10} {len(subset):>4} cases   exact {exact:>4}   leaked {leaked:>4}   lost {lost:>4}")
    by_client: Counter[str] = Counter(c.client for c in cases)
    exact_by_client: Counter[str] = Counter(c.client for c in cases if scores[c.name].exact)
    print("per client: " + ", ".join(f"{k} {exact_by_client[k]}/{n}" for k, n in sorted(by_client.items())))
    print(f"{len(cases)} cases in {elapsed * 1000:.0f} ms ({elapsed / len(cases) * 1e6:.0f} µs a case)")
    if args.verbose:
        for case in cases:
            s = scores[case.name]
            if not s.exact:
                print(f"\n--- {case.name}")
                for line in s.leaked:
                    print(f"  leaked: {line[:100]}")
                for line in s.lost:
                    print(f"  lost:   {line[:100]}")


if __name__ == "__main__":
    main()
