"""Finding the articles a question is about, for the answerers of collection questions
and overviews: the index's document records, the articles retrieval found holding the
topic (those about it, and those only mentioning it), and their openings to cite.
"""

from __future__ import annotations

import copy
import logging
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from typing import TYPE_CHECKING, Protocol

from askfront.answering.base import Answerer
from askfront.answering.dates import resolve
from askfront.answering.extractive.terms import Matcher, rarity, stems
from askfront.answering.followup import proper_words
from askfront.answering.kinds import COLLECTION, LATEST, Intent
from askfront.core.types import Answer, Citation, DocumentRecord, Passage
from askfront.grounding.citations import cite, span_text

if TYPE_CHECKING:
    from askfront.retrieval.base import SearchOptions
    from askfront.retrieval.mentions import MentionResult

logger = logging.getLogger(__name__)

SEARCH_K = 60  # passages retrieved to find the articles about a topic
# An article mentions the topic when its retrieved passages hold this share of the topic's
# weight (or a smaller one, when a passage is this close to the topic in meaning) ...
MENTION_SHARE = 0.75
DENSE_MENTION, DENSE_SHARE = 0.5, 0.5
# ... and is about it when its title names it, or this share of its chunks hold it.
TITLE_ABOUT = 0.6
CHUNKS_ABOUT = 0.4
RELATED = 3  # related passages shown with a refusal
TITLE_SHARE = 0.8  # a sentence whose words are this much the title's is the title line
_MIN_OPENING_WORDS = 6  # shorter first lines are bylines and datelines ("Feb 28, 2024")
_ENDS = re.compile(r"[.!?…][\"'”’)]*$")


class Library(Protocol):
    """The read-only view of the index the collection answers need (the Assistant)."""

    def documents(self) -> list[DocumentRecord]: ...

    def article_passages(self, source: str) -> list[Passage]: ...

    def mentions(
        self, phrase: str, date_from: str | None = None, date_to: str | None = None
    ) -> MentionResult: ...


@dataclass
class Article:
    """One article of the collection, with the retrieved passages of it (best first)."""

    source: str
    title: str | None
    date: str | None
    passages: list[Passage] = field(default_factory=list)
    about: bool = True  # about the topic asked for, not just mentioning it

    @property
    def label(self) -> str:
        return f"“{self.title or self.source}” ({self.date or 'undated'})"


class KindAnswerer(Answerer):
    """Base of the answerers for one question kind (see askfront.answering.kinds)."""

    kind: str = ""
    search_k: int = SEARCH_K  # how many passages retrieval should return for it
    # Capability: a generative backend, when configured, answers this kind itself.
    defers_to_generative: bool = False

    def __init__(self, library: Library) -> None:
        self.library = library
        self.as_of: date | None = None  # what relative dates are read against (at())

    def at(self, as_of: str | date | None) -> KindAnswerer:
        """This answerer reading relative dates ("last week") as of `as_of` (an ISO day);
        None: the newest article's date. A copy, so concurrent questions do not mix."""
        twin = copy.copy(self)
        twin.as_of = date.fromisoformat(as_of) if isinstance(as_of, str) else as_of
        return twin

    def as_of_day(self) -> date:
        """The as-of date: the one given, else the newest article's date, else today (a
        collection without dates has nothing else to read "last week" against)."""
        if self.as_of is not None:
            return self.as_of
        days = [r.date[:10] for r in self.library.documents() if r.date and r.chunks > 0]
        try:
            return date.fromisoformat(max(days)) if days else date.today()
        except ValueError:
            return date.today()

    def resolved(self, intent: Intent) -> Intent:
        """`intent` with a relative date range ("last week") turned into dates."""
        if intent.dates is None or not intent.dates.relative:
            return intent
        return replace(intent, dates=resolve(intent.dates, self.as_of_day()))

    def search_plan(self, intent: Intent, options: SearchOptions) -> tuple[str, SearchOptions]:
        """What retrieval should run for this question: its topic ("" = no search), with
        more passages than a fact question needs, within the dates asked for. Mention
        questions search the whole index themselves (askfront.retrieval.mentions)."""
        intent = self.resolved(intent)
        if not intent.topic or mention_search(intent):
            return "", options
        dates = intent.dates
        return intent.topic, replace(
            options,
            top_k=max(options.top_k, self.search_k),
            date_from=dates.start if dates and dates.start else options.date_from,
            date_to=dates.end if dates and dates.end else options.date_to,
        )

    def find(
        self, intent: Intent, passages: Sequence[Passage]
    ) -> tuple[list[Article], list[Article]]:
        """(about, mentioning): the articles about the question's topic and those that only
        mention it; without a topic, every article. Both within the dates asked for."""
        intent = self.resolved(intent)
        if not intent.topic:
            return in_dates(self.articles(), intent), []
        sizes = {r.path: r.chunks for r in self.library.documents()}
        found = in_dates(articles_about(intent.topic, passages, sizes), intent)
        if intent.mentions:
            return found, []
        return [a for a in found if a.about], [a for a in found if not a.about]

    def articles(self) -> list[Article]:
        """Every readable article of the collection."""
        return [
            Article(r.path, r.title, r.date)
            for r in self.library.documents()
            if r.chunks > 0  # a failed file keeps a previously indexed version, if any
        ]

    def opening(self, article: Article) -> tuple[Passage, int, int] | None:
        """The article's opening: its title line, else its first full sentence."""
        passages = self.library.article_passages(article.source)
        if not passages or not passages[0].chunk.sentences:
            return None
        first = passages[0]
        spans = [(s, e, span_text(first, s, e)) for s, e in first.chunk.sentences]
        for s, e, text in spans[:3]:  # after a byline or dateline, at most
            if in_title(text, article.title):
                return first, s, e
        # A full sentence ends like one; bylines ("Jane Roe and John Doe") do not.
        for s, e, text in spans:
            if len(text.split()) >= _MIN_OPENING_WORDS and _ENDS.search(text):
                return first, s, e
        for s, e, text in spans:
            if len(text.split()) >= _MIN_OPENING_WORDS:
                return first, s, e
        s, e, _ = spans[0]
        return first, s, e

    def cite_opening(self, n: int, article: Article) -> Citation | None:
        found = self.opening(article)
        if found is None:
            return None
        p, s, e = found
        return cite(n, p, s, e, 1.0)

    def refusal(self, text: str, related: Sequence[Passage]) -> Answer:
        """An honest refusal, with the closest passages (one per article) as reading."""
        cited: list[Citation] = []
        seen: set[str] = set()
        for p in related:
            if p.source in seen or not p.chunk.sentences:
                continue
            seen.add(p.source)
            s, e = p.chunk.sentences[0]
            cited.append(cite(len(cited) + 1, p, s, e, p.score))
            if len(cited) >= RELATED:
                break
        return Answer(text=text, refused=True, related=cited, mode=self.name)


def articles_about(
    topic: str, passages: Sequence[Passage], sizes: Mapping[str, int]
) -> list[Article]:
    """The distinct articles among `passages` that mention `topic`: those about it first
    (`Article.about`), and among them those whose title names it, else in retrieval order.
    `sizes` gives each article's number of chunks. The topic's words weigh by rarity
    ("Nepal" more than "war"); its names must all be there; related forms count (Nepal ~
    Nepali)."""
    weights = topic_weights(topic)
    names = {t for w in proper_words(f"X {topic}") for t in stems(w)}
    by_source: dict[str, Article] = {}
    for p in passages:
        art = by_source.setdefault(p.source, Article(p.source, p.title, p.date))
        art.passages.append(p)
    if not weights:
        return []
    chunk_terms = {p.chunk.id: frozenset(stems(p.chunk.text)) for p in passages}
    title_terms = {a.source: frozenset(stems(a.title or "")) for a in by_source.values()}
    match = Matcher(weights, frozenset().union(*chunk_terms.values(), *title_terms.values()))
    out, titled = [], {}
    for art in by_source.values():
        terms = title_terms[art.source].union(*(chunk_terms[p.chunk.id] for p in art.passages))
        if any(not match(t, terms) for t in names):
            continue
        share = _share(weights, terms, match)
        dense = max((p.dense_score or 0.0) for p in art.passages)
        if share < MENTION_SHARE and (dense < DENSE_MENTION or share < DENSE_SHARE):
            continue
        holding = sum(
            _share(weights, chunk_terms[p.chunk.id], match) >= MENTION_SHARE for p in art.passages
        )
        titled[art.source] = _share(weights, title_terms[art.source], match) >= TITLE_ABOUT
        art.about = titled[art.source] or holding >= CHUNKS_ABOUT * max(1, sizes.get(art.source, 1))
        out.append(art)
    return sorted(out, key=lambda a: (not a.about, not titled[a.source]))


def mention_search(intent: Intent) -> bool:
    """Whether the question asks for every article mentioning a phrase (no top-k)."""
    return intent.kind == COLLECTION and intent.mentions and bool(intent.phrase)


def topic_weights(topic: str) -> dict[str, float]:
    """Stem -> weight of the topic's words: rarer words say more ("Nepal" > "war")."""
    weights: dict[str, float] = {}
    for word in topic.split():
        for t in stems(word):
            weights[t] = max(weights.get(t, 0.0), rarity(word.lower()))
    return weights


def in_dates(articles: Sequence[Article], intent: Intent) -> list[Article]:
    if intent.dates is None:
        return list(articles)
    return [a for a in articles if intent.dates.holds(a.date)]


def by_date(articles: Sequence[Article], order: str | None) -> tuple[list[Article], int]:
    """Dated articles, newest (LATEST) or oldest first, and how many had no date."""
    dated = [a for a in articles if a.date]
    dated.sort(key=lambda a: a.date or "", reverse=order == LATEST)
    return dated, len(articles) - len(dated)


def describe(intent: Intent) -> str:
    """What the question selects, for answer texts: ' about “Nepal” published in 2024'."""
    parts = []
    if intent.topic:
        parts.append(f" {'mentioning' if intent.mentions else 'about'} “{intent.topic}”")
    if intent.dates is not None:
        parts.append(f" published {intent.dates.label}")
    return "".join(parts)


def subject(n: int, intent: Intent) -> str:
    """'3 articles in the collection', '1 article published in March 2024'."""
    where = f" published {intent.dates.label}" if intent.dates else " in the collection"
    return f"{'No' if n == 0 else n} article{'' if n in (0, 1) else 's'}{where}"


def relation(n: int, intent: Intent) -> str:
    """'are about “Nepal”', 'mentions “Nepal”'."""
    if intent.mentions:
        return f"mention{'s' if n in (0, 1) else ''} “{intent.topic}”"
    return f"{'is' if n in (0, 1) else 'are'} about “{intent.topic}”"


def none_found(intent: Intent) -> str:
    """The refusal when no article fits: "No article in the collection is about “X”."."""
    if intent.topic:
        return f"{subject(0, intent)} {relation(0, intent)}."
    if intent.dates is not None:
        return f"No article in the collection was published {intent.dates.label}."
    return "The collection holds no articles yet."


def in_title(sentence: str, title: str | None) -> bool:
    """Whether `sentence` is (a piece of) the title line: its words are the title's."""
    terms = set(stems(sentence))
    return bool(terms) and len(terms & set(stems(title or ""))) >= TITLE_SHARE * len(terms)


def _share(weights: dict[str, float], terms: Iterable[str], match: Matcher) -> float:
    """The share of the topic's weight that `terms` hold."""
    found = frozenset(terms)
    total = sum(weights.values()) or 1.0
    return sum(w * match(t, found) for t, w in weights.items()) / total
