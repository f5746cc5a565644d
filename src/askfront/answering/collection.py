"""Answers about the collection itself: which articles there are (about a topic, from some
dates), how many, and the latest or oldest one.

The answers come from the index's document records (titles, dates), not from quoting
passages: retrieval only says which articles hold the topic. Every article an answer names
is cited by its opening line (its title line, or its first full sentence), so a click on
the citation opens the article. Long lists are cut at LIST_LIMIT, saying how many more.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Protocol

from askfront.answering.base import Answerer
from askfront.answering.extractive.terms import Matcher, rarity, stems
from askfront.answering.followup import proper_words
from askfront.answering.kinds import COLLECTION, LATEST, Intent, classify
from askfront.types import Answer, AnswerSentence, Citation, DocumentRecord, Passage, Turn

if TYPE_CHECKING:
    from askfront.retrieval import SearchOptions

logger = logging.getLogger(__name__)

LIST_LIMIT = 10  # articles named in one answer; the rest are counted
SEARCH_K = 60  # passages retrieved to find the articles about a topic
ABOUT_SHARE = 0.75  # share of the topic's weight an article's passages must hold
DENSE_ABOUT = 0.5  # ... or a smaller share, when a passage is this close to the topic
DENSE_SHARE = 0.5
RELATED = 3  # related passages shown with a refusal
TITLE_SHARE = 0.8  # a sentence whose words are this much the title's is the title line
_MIN_OPENING_WORDS = 6  # shorter first lines are bylines and datelines ("Feb 28, 2024")


class Library(Protocol):
    """The read-only view of the index the collection answers need (the Assistant)."""

    def documents(self) -> list[DocumentRecord]: ...

    def article_passages(self, source: str) -> list[Passage]: ...


@dataclass
class Article:
    """One article of the collection, with the retrieved passages of it (best first)."""

    source: str
    title: str | None
    date: str | None
    passages: list[Passage] = field(default_factory=list)

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

    def search_plan(self, intent: Intent, options: SearchOptions) -> tuple[str, SearchOptions]:
        """What retrieval should run for this question: its topic ("" = no search), with
        more passages than a fact question needs, within the dates asked for."""
        if not intent.topic:
            return "", options
        dates = intent.dates
        return intent.topic, replace(
            options,
            top_k=max(options.top_k, self.search_k),
            date_from=dates.start if dates and dates.start else options.date_from,
            date_to=dates.end if dates and dates.end else options.date_to,
        )

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
        spans = [(s, e, _text(first, s, e)) for s, e in first.chunk.sentences]
        for s, e, text in spans:
            if in_title(text, article.title):
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
        return Citation(n, p.source, p.title, p.date, s, e, _text(p, s, e), 1.0, p.chunk.page)

    def refusal(self, text: str, related: Sequence[Passage]) -> Answer:
        """An honest refusal, with the closest passages (one per article) as reading."""
        cited: list[Citation] = []
        seen: set[str] = set()
        for p in related:
            if p.source in seen or not p.chunk.sentences:
                continue
            seen.add(p.source)
            s, e = p.chunk.sentences[0]
            cited.append(
                Citation(len(cited) + 1, p.source, p.title, p.date, s, e, _text(p, s, e),
                         p.score, p.chunk.page)
            )  # fmt: skip
            if len(cited) >= RELATED:
                break
        return Answer(text=text, refused=True, related=cited, mode=self.name)


def articles_about(topic: str, passages: Sequence[Passage]) -> list[Article]:
    """The distinct articles among `passages` whose retrieved text holds `topic`, in
    retrieval order. The topic's words weigh by rarity ("Nepal" more than "war"); its
    names must all be there; related forms count (Nepal ~ Nepali)."""
    weights = topic_weights(topic)
    names = {t for w in proper_words(f"X {topic}") for t in stems(w)}
    total = sum(weights.values())
    by_source: dict[str, Article] = {}
    for p in passages:
        art = by_source.setdefault(p.source, Article(p.source, p.title, p.date))
        art.passages.append(p)
    if total <= 0:
        return []
    vocab = {a.source: _vocab(a) for a in by_source.values()}
    match = Matcher(weights, frozenset().union(*vocab.values()))
    out = []
    for art in by_source.values():
        terms = vocab[art.source]
        if any(not match(t, terms) for t in names):
            continue
        share = _share(weights, terms, match)
        dense = max((p.dense_score or 0.0) for p in art.passages)
        if share >= ABOUT_SHARE or (dense >= DENSE_ABOUT and share >= DENSE_SHARE):
            out.append(art)
    # Articles whose title names the topic are about it more than those that mention it.
    titled = {a.source: _share(weights, stems(a.title or ""), match) for a in out}
    return sorted(out, key=lambda a: -titled[a.source])


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
    """What the question selects, for answer texts: ' about “Nepal” in February 2024'."""
    parts = []
    if intent.topic:
        parts.append(f" about “{intent.topic}”")
    if intent.dates is not None:
        parts.append(f" published {intent.dates.label}")
    return "".join(parts)


def none_found(intent: Intent) -> str:
    """The refusal when no article fits: "No article in the collection is about “X”."."""
    if intent.topic:
        return f"No article in the collection is{describe(intent)}."
    if intent.dates is not None:
        return f"No article in the collection was published {intent.dates.label}."
    return "The collection holds no articles yet."


class CollectionAnswerer(KindAnswerer):
    """Lists, counts and orders the articles of the collection, citing each one named."""

    name = "collection"
    kind = COLLECTION

    def answer(
        self, question: str, passages: Sequence[Passage], history: Sequence[Turn] = ()
    ) -> Answer:
        intent = classify(question, history)
        if intent.topic:
            found = in_dates(articles_about(intent.topic, passages), intent)
            capped = len(passages) >= self.search_k and len(found) >= len(
                {p.source for p in passages}
            )
        else:
            found, capped = in_dates(self.articles(), intent), False
        what = describe(intent)
        if not found:
            return self.refusal(none_found(intent), passages)
        if intent.order:
            return self._ordered(intent, found, what)
        return self._listed(intent, found, what, capped)

    def _listed(self, intent: Intent, found: list[Article], what: str, capped: bool) -> Answer:
        n = len(found)
        many = "at least " if capped else ""
        noun = "article" if n == 1 else "articles"
        if intent.topic:
            head = f"{many}{n} {noun} in the collection {'is' if n == 1 else 'are'}{what}"
            shown = found[:LIST_LIMIT]  # closest match first
            order = " (closest match first)" if n > 1 else ""
        else:
            dated, _ = by_date(found, LATEST)
            shown = (dated + [a for a in found if not a.date])[:LIST_LIMIT]
            head = f"The collection holds {n} {noun}{what}{_span(found)}"
            order = " (newest first)" if n > 1 else ""
        return self._list_answer(f"{head[0].upper()}{head[1:]}{order}:", shown, n)

    def _ordered(self, intent: Intent, found: list[Article], what: str) -> Answer:
        dated, undated = by_date(found, intent.order)
        word = "latest" if intent.order == LATEST else "oldest"
        if not dated:
            return self.refusal(
                f"None of the {len(found)} articles{what} has a date, so I can't tell "
                f"which is the {word}.",
                [p for a in found for p in a.passages[:1]],
            )
        if intent.plural:
            first = "newest" if intent.order == LATEST else "oldest"
            head = f"The {word} articles{what} ({first} first):"
            answer = self._list_answer(head, dated[:LIST_LIMIT], len(dated))
        else:
            top = [a for a in dated if a.date == dated[0].date]
            if len(top) > 1:
                head = f"{len(top)} articles{what} share the {word} date, {top[0].date}:"
                answer = self._list_answer(head, top[:LIST_LIMIT], len(top))
            else:
                answer = self._single(f"The {word} article{what} is", dated[0])
        if undated:  # say what the order could not take into account
            answer.text += f"\n({undated} undated article{'s' if undated > 1 else ''} left out.)"
        return answer

    def _single(self, head: str, article: Article) -> Answer:
        """One article, named and cited by its opening; when that is the title line, its
        first full sentence follows (what the article reports)."""
        cite = self.cite_opening(1, article)
        if cite is None:
            return self.refusal("The articles don't say.", article.passages)
        citations = [cite]
        if in_title(cite.quote, article.title):
            sentences = [AnswerSentence(f"{head} {article.label}.", [1])]
            lead = self._lead_after(article, cite)
            if lead is not None:
                citations.append(lead)
                sentences.append(AnswerSentence(lead.quote, [2]))
        else:  # the opening is the lead itself
            sentences = [AnswerSentence(f"{head} {article.label}: {cite.quote}", [1])]
        text = " ".join(f"{s.text} [{s.citations[0]}]" for s in sentences)
        return Answer(text, citations, sentences=sentences, mode=self.name)

    def _lead_after(self, article: Article, opening: Citation) -> Citation | None:
        """The article's first full sentence after its title line."""
        for p in self.library.article_passages(article.source)[:2]:
            for s, e in p.chunk.sentences:
                text = _text(p, s, e)
                if s <= opening.start or in_title(text, article.title):
                    continue
                if len(text.split()) >= 8 and not text.endswith(":"):
                    return Citation(2, p.source, p.title, p.date, s, e, text, 1.0, p.chunk.page)
        return None

    def _list_answer(self, head: str, shown: Sequence[Article], total: int) -> Answer:
        lines = [head]
        citations: list[Citation] = []
        sentences: list[AnswerSentence] = []
        for art in shown:
            cite = self.cite_opening(len(citations) + 1, art)
            if cite is None:
                continue
            citations.append(cite)
            line = f"{art.label} [{cite.n}]"
            lines.append(f"- {line}")
            sentences.append(AnswerSentence(line, [cite.n]))
        if total > len(citations):
            lines.append(f"…and {total - len(citations)} more.")
        return Answer("\n".join(lines), citations, sentences=sentences, mode=self.name)


def in_title(sentence: str, title: str | None) -> bool:
    """Whether `sentence` is (a piece of) the title line: its words are the title's."""
    terms = set(stems(sentence))
    return bool(terms) and len(terms & set(stems(title or ""))) >= TITLE_SHARE * len(terms)


def _span(articles: Sequence[Article]) -> str:
    days = sorted(a.date for a in articles if a.date)
    if not days or len(articles) < 2:
        return ""
    return f", dated {days[0]} to {days[-1]}" if days[0] != days[-1] else f", dated {days[0]}"


def _share(weights: dict[str, float], terms: Iterable[str], match: Matcher) -> float:
    """The share of the topic's weight that `terms` hold."""
    found = frozenset(terms)
    total = sum(weights.values()) or 1.0
    return sum(w * match(t, found) for t, w in weights.items()) / total


def _vocab(article: Article) -> frozenset[str]:
    words = [article.title or "", *(p.chunk.text for p in article.passages)]
    return frozenset(stems(" ".join(words)))


def _text(p: Passage, start: int, end: int) -> str:
    return p.chunk.text[start - p.chunk.start : end - p.chunk.start]
