"""Knowledge-base benchmark: indexing a folder of articles, looking at it again, and searching it.

    .venv/bin/python bench/kb.py --n 1000

Writes n generated articles (English and Finnish, 150-600 words each, front matter with tags and a link)
into a temporary folder, then times, through the code the bot runs (bot.handlers.kb_library.Library):
- the first index of the whole folder (every file read and parsed),
- a look that finds nothing changed (the stat of every file: what each use costs every rescan period),
- a look after 10 files were changed, 5 added and 5 removed,
- `/ticket kb` searches of one to three words, and new-ticket suggestions (subject and a first message).
Prints figures; never fails on timing.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bot.domain.kb_index import guess_language  # noqa: E402
from bot.handlers.kb_library import Library  # noqa: E402

TOPICS = {
    "en": ["printer", "password", "vpn", "invoice", "refund", "laptop", "email", "calendar", "wifi", "monitor",
           "account", "license", "backup", "phone", "badge", "payroll", "travel", "expense", "shipping", "order"],
    "fi": ["tulostin", "salasana", "lasku", "hyvitys", "kannettava", "sähköposti", "kalenteri", "verkko", "näyttö",
           "tunnus", "lisenssi", "varmuuskopio", "puhelin", "kulkukortti", "palkka", "matka", "kulut", "toimitus"],
}
FILLER = {
    "en": ("the a to and you your it is for on with this that when if click open check settings page menu button "
           "select choose new old install update restart wait minutes again help team office home network device "
           "screen file folder system error message name address number problem works working does not still").split(),
    "fi": ("ja on ei se että kun jos avaa valitse asetukset sivu valikko painike uusi vanha asenna päivitä "
           "käynnistä odota minuuttia uudelleen apua tiimi toimisto koti laite ruutu tiedosto kansio järjestelmä "
           "virhe viesti nimi osoite numero ongelma toimii vielä").split(),
}


def article(rng: random.Random, i: int) -> tuple[str, str]:
    lang = "fi" if i % 3 == 0 else "en"
    topics = rng.sample(TOPICS[lang], 3)
    title = f"{topics[0].capitalize()} {rng.choice(FILLER[lang])} {topics[1]} ({i})"
    paragraphs = []
    for _ in range(rng.randint(3, 8)):
        words = [rng.choice(FILLER[lang]) if rng.random() < 0.8 else rng.choice(topics) for _ in range(rng.randint(40, 80))]
        paragraphs.append(" ".join(words).capitalize() + ".")
    text = (f"---\ntitle: {title}\ntags: [{', '.join(topics)}]\nlanguage: {lang}\n"
            f"url: https://help.example.com/kb/article-{i}\n---\n# {title}\n\n" + "\n\n".join(paragraphs) + "\n")
    return f"article-{i}.md", text


def percentiles(samples: list[float]) -> str:
    ordered = sorted(samples)
    p50 = statistics.median(ordered)
    p95 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))]
    return f"p50 {p50 * 1000:.2f} ms, p95 {p95 * 1000:.2f} ms"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=1000, help="articles to generate")
    parser.add_argument("--queries", type=int, default=500)
    args = parser.parse_args()
    rng = random.Random(14)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "kb"
        for i in range(args.n):
            name, text = article(rng, i)
            sub = folder / ("it" if i % 2 else "billing")
            sub.mkdir(parents=True, exist_ok=True)
            (sub / name).write_text(text, encoding="utf-8")
        size = sum(p.stat().st_size for p in folder.rglob("*.md"))
        library = Library(folder, rescan_seconds=0)
        started, cpu = time.perf_counter(), time.process_time()
        index = library.rescan(force=True)
        first, first_cpu = time.perf_counter() - started, time.process_time() - cpu
        print(f"{len(index)} articles ({size / 1e6:.1f} MB): first index {first:.2f} s "
              f"({first_cpu:.2f} s of CPU: the wall time on a busy machine is mostly waiting for it)")

        looks, cpu = [], time.process_time()
        for _ in range(20):
            started = time.perf_counter()
            library.rescan(force=True)
            looks.append(time.perf_counter() - started)
        print(f"a look that finds nothing changed: {percentiles(looks)} "
              f"({(time.process_time() - cpu) / 20 * 1000:.1f} ms of CPU each)")

        paths = sorted(folder.rglob("*.md"))
        for path in paths[:10]:
            path.write_text(path.read_text(encoding="utf-8") + "\nUpdated.\n", encoding="utf-8")
            os.utime(path, ns=(time.time_ns(), time.time_ns()))
        for path in paths[10:15]:
            path.unlink()
        for i in range(args.n, args.n + 5):
            name, text = article(rng, i)
            (folder / name).write_text(text, encoding="utf-8")
        started = time.perf_counter()
        index = library.rescan(force=True)
        print(f"a look after 10 changed, 5 added, 5 removed: {time.perf_counter() - started:.3f} s "
              f"({len(index)} articles)")

        searches = []
        words = [w for lang in TOPICS for w in TOPICS[lang]] + FILLER["en"][:20]
        for _ in range(args.queries):
            query = " ".join(rng.sample(words, rng.randint(1, 3)))
            started = time.perf_counter()
            index.search(query, limit=5)
            searches.append(time.perf_counter() - started)
        print(f"/ticket kb search ({args.queries} queries of 1-3 words): {percentiles(searches)}")

        suggestions = []
        for i in range(args.queries):
            lang = "fi" if i % 3 == 0 else "en"
            mail = " ".join(rng.choice(FILLER[lang] + TOPICS[lang]) for _ in range(rng.randint(30, 200)))
            text = f"{rng.choice(TOPICS[lang])} {rng.choice(FILLER[lang])}\n{mail}"
            started = time.perf_counter()
            index.suggest(text, limit=3, language=guess_language(text))
            suggestions.append(time.perf_counter() - started)
        print(f"new-ticket suggestion (subject + 30-200 words): {percentiles(suggestions)}")


if __name__ == "__main__":
    main()
