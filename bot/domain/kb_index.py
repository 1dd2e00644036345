"""Full-text search over the knowledge base's articles: BM25 with the title weighted above tags and body.

Articles are a few hundred to a few thousand files, so the index is plain Python in memory: built in a
fraction of a second per thousand articles (bench/kb.py), searched in well under a millisecond, and with
no database in the way (the articles are files, not rows). It is built whole from prepared articles and
never changed afterwards (`KbIndex.build`), so a search never sees one half-updated; bot.handlers.kb_library
keeps the prepared articles and builds a new index when files change.

Words match exactly or, for words of five letters or more, by their stem-ish prefix (all but the last three
letters, at least five): "printers" finds "printer" and "printing", "salasanan" finds "salasana". That is
crude, but it serves English and Finnish alike where a real stemmer would need one per language.
"""

from __future__ import annotations

import bisect
import math
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from bot.domain.kb_article import Article, plain_text

TITLE_WEIGHT, TAG_WEIGHT, BODY_WEIGHT = 3.0, 2.0, 1.0
PREFIX_FACTOR = 0.6  # a word found by its prefix counts for less than the word itself
OTHER_LANGUAGE_FACTOR = 0.5  # an article in another language than the one asked for ranks lower
_K1, _B = 1.2, 0.75
_CANDIDATES = 50  # articles a suggestion scores at most (those whose titles and tags the ticket fits best)

_WORD = re.compile(r"[^\W_]+")

# Words that say nothing about what an article is about, in the languages the examples are in. Kept short:
# a word missing here costs little (BM25 weighs common words down), a word wrongly here is never found.
STOP_WORDS = {
    "en": frozenset("""a about after again all also am an and any are as at be because been before but by can
        could did do does doesn don for from get got had has have hello hi how i if in into is it its just me my
        no not of on or our please so some than thank thanks that the their them then there these they this to
        up us was we were what when where which who why will with would you your yours""".split()),
    "fi": frozenset("""ei en et ette emme eivät he hei hän ja jo joka jos kanssa kiitos kuin kun me mikä minä
        minun minulla minulle mitä miten mutta myös ne niin nyt olen olet on ole oli olla ovat se sen siitä
        sinä te tai tämä tässä että vai voi voisitte voitteko vielä""".split()),
}
_ALL_STOP = frozenset().union(*STOP_WORDS.values())


def words(text: str) -> list[str]:
    """The words of `text` that search by: folded case, two letters or more, no stop words."""
    return [w for w in _WORD.findall(text.casefold()) if len(w) > 1 and w not in _ALL_STOP]


def guess_language(text: str) -> str | None:
    """"fi" or "en" when the text's stop words say so clearly (twice as many of one), else None."""
    counts = Counter(w for w in _WORD.findall(text.casefold()[:4000]))
    found = {lang: sum(counts[w] for w in stops) for lang, stops in STOP_WORDS.items()}
    [(best, most), (_, second)] = sorted(found.items(), key=lambda kv: -kv[1])[:2]
    return best if most >= 3 and most >= 2 * second else None


@dataclass(frozen=True)
class Prepared:
    """An article with its words counted: what building an index needs, kept so a rebuild reparses nothing."""

    article: Article
    weights: dict[str, float]  # word -> weighted count (title, tags and body)
    key_words: frozenset[str]  # the words of its title and tags
    title_words: frozenset[str]
    length: float

    @classmethod
    def of(cls, article: Article) -> Prepared:
        title, tags, body = words(article.title), words(" ".join(article.tags)), words(article.body)
        weights: Counter[str] = Counter()
        for group, weight in ((title, TITLE_WEIGHT), (tags, TAG_WEIGHT), (body, BODY_WEIGHT)):
            for word in group:
                weights[word] += weight
        length = TITLE_WEIGHT * len(title) + TAG_WEIGHT * len(tags) + BODY_WEIGHT * len(body)
        return cls(article, dict(weights), frozenset(title) | frozenset(tags), frozenset(title), length)


@dataclass(frozen=True)
class Hit:
    article: Article
    score: float
    key_hits: int  # how many of the article's title and tag words the query found
    title_share: float  # the share of its title's words the query found

    def snippet(self, query: str, width: int = 140) -> str:
        """The article's sentence with most of the query's words, cut to `width`: why it was found."""
        wanted = set(words(query))
        sentences = [s.strip() for s in re.split(r"(?<=[.!?])\s+|\n+", plain_text(self.article.body))
                     if s.strip() and s.strip() != self.article.title]  # the heading that repeats the title
        if not sentences:
            return ""
        best = max(sentences, key=lambda s: (sum(_matches(w, wanted) for w in set(words(s))), -sentences.index(s)))
        best = " ".join(best.split())
        return best if len(best) <= width else best[: width - 1].rstrip() + "…"


def _matches(word: str, wanted: set[str]) -> bool:
    return word in wanted or any(len(q) >= 5 and word.startswith(_prefix(q)) for q in wanted)


def _prefix(word: str) -> str:
    return word[: max(5, len(word) - 3)]


@dataclass
class KbIndex:
    docs: dict[str, Prepared] = field(default_factory=dict)
    postings: dict[str, dict[str, float]] = field(default_factory=dict)  # word -> slug -> weighted count
    key_postings: dict[str, set[str]] = field(default_factory=dict)  # word -> articles with it in title or tags
    vocabulary: list[str] = field(default_factory=list)  # sorted, for prefix lookups
    average_length: float = 1.0

    @classmethod
    def build(cls, prepared: Iterable[Prepared]) -> KbIndex:
        index = cls()
        for doc in prepared:
            slug = doc.article.slug
            index.docs[slug] = doc
            for word, weight in doc.weights.items():
                index.postings.setdefault(word, {})[slug] = weight
            for word in doc.key_words:
                index.key_postings.setdefault(word, set()).add(slug)
        index.vocabulary = sorted(index.postings)
        if index.docs:
            index.average_length = sum(d.length for d in index.docs.values()) / len(index.docs) or 1.0
        return index

    def __len__(self) -> int:
        return len(self.docs)

    def get(self, slug: str) -> Article | None:
        doc = self.docs.get(slug.lower())
        return doc.article if doc is not None else None

    def search(self, query: str, *, limit: int = 10, language: str | None = None) -> list[Hit]:
        """The best articles for `query`, best first."""
        return self._rank(set(words(query)), language)[:limit]

    def suggest(self, text: str, *, limit: int = 3, language: str | None = None) -> list[Hit]:
        """Articles that fit a ticket's subject and text well: two of an article's title or tag words found
        (or half its title), and not far behind the best one. None rather than noise."""
        fitting = self._rank(set(words(text)), language, fitting_only=True)
        if not fitting:
            return []
        floor = fitting[0].score * 0.4
        return [h for h in fitting if h.score >= floor][:limit]

    def _expand(self, word: str) -> list[tuple[str, float]]:
        """The indexed words `word` stands for, with how much each counts."""
        found = [(word, 1.0)] if word in self.postings else []
        if len(word) >= 5:
            stem = _prefix(word)
            at = bisect.bisect_left(self.vocabulary, stem)
            while at < len(self.vocabulary) and self.vocabulary[at].startswith(stem):
                if self.vocabulary[at] != word:
                    found.append((self.vocabulary[at], PREFIX_FACTOR))
                at += 1
        return found

    def _fits(self, slug: str, found: set[str]) -> bool:
        return len(found) >= 2 or self._title_share(slug, found) >= 0.5

    def _title_share(self, slug: str, found: set[str]) -> float:
        title = self.docs[slug].title_words
        return len(found & title) / len(title) if title else 0.0

    def _rank(self, query: set[str], language: str | None, *, fitting_only: bool = False) -> list[Hit]:
        """BM25 over the weighted counts. `fitting_only` scores only the articles whose title or tags the
        query fits (`_fits`): a first message of 200 words then costs a few lookups per word, not a walk
        through every article that shares a common word with it."""
        expanded = {word: self._expand(word) for word in query}
        keys: dict[str, set[str]] = {}
        for terms in expanded.values():
            for term, _ in terms:
                for slug in self.key_postings.get(term, ()):
                    keys.setdefault(slug, set()).add(term)
        candidates = None
        if fitting_only:  # the fitting articles with most title and tag words found: the rest would not be shown
            fitting = sorted((slug for slug, found in keys.items() if self._fits(slug, found)),
                             key=lambda slug: (-len(keys[slug]), slug))
            candidates = set(fitting[:_CANDIDATES])
        if candidates is not None and not candidates:
            return []
        total = len(self.docs)
        scores: dict[str, float] = {}
        for terms in expanded.values():
            counts: dict[str, float] = {}
            df = 0
            for term, factor in terms:
                posting = self.postings[term]
                df += len(posting)  # an upper bound of the word's document frequency: exact enough for idf
                for slug in (candidates if candidates is not None else posting):
                    weight = posting.get(slug)
                    if weight:
                        counts[slug] = counts.get(slug, 0.0) + factor * weight
            if not counts:
                continue
            idf = math.log(1 + (total - min(df, total) + 0.5) / (min(df, total) + 0.5))
            for slug, tf in counts.items():
                norm = _K1 * (1 - _B + _B * self.docs[slug].length / self.average_length)
                scores[slug] = scores.get(slug, 0.0) + idf * tf * (_K1 + 1) / (tf + norm)
        hits = []
        for slug, score in scores.items():
            doc = self.docs[slug]
            if language and doc.article.language and doc.article.language != language:
                score *= OTHER_LANGUAGE_FACTOR
            found = keys.get(slug, set())
            hits.append(Hit(doc.article, score, len(found), self._title_share(slug, found)))
        hits.sort(key=lambda h: (-h.score, h.article.slug))
        return hits
