"""Overviews: "What is this article about?", "Summarize the latest news on Nepal", "Key
facts about Macron". An extractive summary, quoted verbatim with citations.

Which articles: those about the topic (retrieval finds them, as for collection answers),
the latest or oldest of them when asked, else the closest match (one article) or the
closest few (OVERVIEW_ARTICLES, when the question says "articles" or "news").

Which sentences of an article: a centroid summary (Radev et al.'s MEAD idea, no model):
each sentence's TF-IDF cosine to the article's centroid, plus a bonus for the lead
sentences (news writes the gist first), plus, when a topic is asked about, the share of
the topic's words the sentence holds. Near-duplicates are skipped; the chosen sentences
are quoted in the article's order.
"""

from __future__ import annotations

import logging
import math
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from askfront.answering.articles import (
    Article,
    KindAnswerer,
    Library,
    by_date,
    describe,
    in_title,
    none_found,
    topic_weights,
)
from askfront.answering.extractive.terms import Matcher, jaccard, stems
from askfront.answering.kinds import OVERVIEW, Intent, classify
from askfront.core.types import Answer, AnswerSentence, Citation, Passage, Turn
from askfront.grounding.citations import cite, span_text

logger = logging.getLogger(__name__)

OVERVIEW_ARTICLES = 3  # articles one overview of "the articles about X" covers
PER_ARTICLE = 2  # sentences per article when several are covered
SEARCH_K = 30
W_CENTRAL = 1.0
W_LEAD = 0.6  # the first eligible sentence; the bonus falls off as 1/position
W_TOPIC = 1.5
DUPLICATE_JACCARD = 0.5
MIN_WORDS, MAX_WORDS = 8, 80  # shorter: headings and bylines; longer: run-on lists
# A sentence that leans on the one before ("But he said ...") reads badly on its own.
DANGLING_PENALTY = 0.3
_DANGLING = re.compile(
    r"^[\"“‘']?(?:but|and|or|so|yet|also|however|still|then|he|she|it|they|this|that|these|"
    r"those|his|her|its|their|there)\b",
    re.I,
)


@dataclass
class _Sentence:
    passage: Passage
    start: int
    end: int
    text: str
    terms: frozenset[str]
    counts: Counter[str]
    score: float = 0.0


class OverviewAnswerer(KindAnswerer):
    """Summarizes the article(s) a question is about with their most central sentences.

    Args:
        library: the index's documents and article texts.
        max_sentences: sentences quoted for a single article.
    """

    name = "overview"
    kind = OVERVIEW
    search_k = SEARCH_K
    defers_to_generative = True  # an LLM writes better overviews than quotes do

    def __init__(self, library: Library, max_sentences: int = 3) -> None:
        super().__init__(library)
        self.max_sentences = max_sentences

    def answer(
        self, question: str, passages: Sequence[Passage], history: Sequence[Turn] = ()
    ) -> Answer:
        intent = classify(question, history)
        about, mentioning = self.find(intent, passages)
        found = about or mentioning
        if not found:
            return self.refusal(none_found(intent), passages)
        if not intent.topic and len(found) > 1 and not intent.plural and not intent.order:
            return self._which(found)
        chosen = self._choose(intent, found)
        return self._summary(intent, chosen)

    def _choose(self, intent: Intent, found: list[Article]) -> list[Article]:
        many = OVERVIEW_ARTICLES if intent.plural else 1
        if intent.order:
            dated, _ = by_date(found, intent.order)
            if dated:
                return dated[:many]
        if not intent.topic:  # the whole collection: its newest articles
            dated, _ = by_date(found, "latest")
            return (dated + [a for a in found if not a.date])[:many]
        return found[:many]  # closest match first

    def _which(self, found: list[Article]) -> Answer:
        """ "What is the article about?" over many articles: ask which, listing a few."""
        dated, _ = by_date(found, "latest")
        shown = (dated + [a for a in found if not a.date])[:OVERVIEW_ARTICLES]
        lines = [
            f"The collection holds {len(found)} articles; ask about one by its topic. The newest:"
        ]
        citations: list[Citation] = []
        sentences: list[AnswerSentence] = []
        for art in shown:
            cite = self.cite_opening(len(citations) + 1, art)
            if cite is not None:
                citations.append(cite)
                lines.append(f"- {art.label} [{cite.n}]")
                sentences.append(AnswerSentence(art.label, [cite.n]))
        return Answer("\n".join(lines), citations, sentences=sentences, mode=self.name)

    def _summary(self, intent: Intent, chosen: list[Article]) -> Answer:
        per_article = self.max_sentences if len(chosen) == 1 else PER_ARTICLE
        # A topic recalled from the previous turn picks the article; the overview is of
        # the whole article ("What is this article about?").
        topic = {} if intent.recalled else topic_weights(intent.topic)
        citations: list[Citation] = []
        sentences: list[AnswerSentence] = []
        blocks: list[tuple[Article, str]] = []
        if len(chosen) == 1 and in_title(intent.topic or "", chosen[0].title):
            # The topic only names the article ("What is the article about Luke Littler
            # about?"): an overview of all of it, lede first, as for "this article".
            topic = {}
        for art in chosen:
            picked = summarize(self.library.article_passages(art.source), art.title, topic,
                               per_article)  # fmt: skip
            quoted = []
            for s in picked:
                n = len(citations) + 1
                citations.append(cite(n, s.passage, s.start, s.end, s.score, s.text))
                sentences.append(AnswerSentence(s.text, [n]))
                quoted.append(f"{s.text} [{n}]")
            if quoted:
                blocks.append((art, " ".join(quoted)))
        if not blocks:
            return self.refusal("The articles don't say.", [p for a in chosen for p in a.passages])
        if len(blocks) == 1:
            art, quotes = blocks[0]
            head = (
                f"What {art.label} says about “{intent.topic}”"
                if topic
                else (f"Overview of {art.label}")
            )
            text = f"{head}: {quotes}"
        else:
            lines = [f"From {len(blocks)} articles{describe(intent)}:"]
            text = "\n".join(lines + [f"- {art.label}: {quotes}" for art, quotes in blocks])
        return Answer(text, citations, sentences=sentences, mode=self.name)


def summarize(
    passages: Sequence[Passage], title: str | None, topic: dict[str, float], k: int
) -> list[_Sentence]:
    """The k best sentences of one article (its passages in order), in document order."""
    sentences = _eligible(passages, title)
    if not sentences:
        return []
    central = _centrality(sentences)
    top = max(central) or 1.0
    total = sum(topic.values())
    match = Matcher(topic, frozenset().union(*(s.terms for s in sentences))) if topic else None
    for pos, s in enumerate(sentences):
        s.score = W_CENTRAL * central[pos] / top + W_LEAD / (1 + pos)
        if _DANGLING.match(s.text):
            s.score -= DANGLING_PENALTY
        if match is not None and total > 0:
            s.score += W_TOPIC * sum(w * match(t, s.terms) for t, w in topic.items()) / total
    chosen: list[_Sentence] = []
    for s in sorted(sentences, key=lambda s: -s.score):
        if len(chosen) >= k:
            break
        if any(jaccard(s.terms, c.terms) >= DUPLICATE_JACCARD for c in chosen):
            continue
        chosen.append(s)
    return sorted(chosen, key=lambda s: s.start)


def _eligible(passages: Sequence[Passage], title: str | None) -> list[_Sentence]:
    """Full sentences of the article: not its title line, headings, bylines or run-ons."""
    out: list[_Sentence] = []
    seen: set[tuple[int, int]] = set()
    for p in passages:
        for s, e in p.chunk.sentences:
            if (s, e) in seen:  # overlapping chunks repeat sentences
                continue
            seen.add((s, e))
            text = span_text(p, s, e)
            n = len(text.split())
            if n < MIN_WORDS or n > MAX_WORDS or text.rstrip().endswith(":"):
                continue
            if in_title(text, title):
                continue
            terms = stems(text)
            out.append(_Sentence(p, s, e, text, frozenset(terms), Counter(terms)))
    return out


def _centrality(sentences: Sequence[_Sentence]) -> list[float]:
    """Each sentence's TF-IDF cosine to the article's centroid (IDF over its sentences)."""
    n = len(sentences)
    df: Counter[str] = Counter()
    for s in sentences:
        df.update(s.terms)
    idf = {t: math.log(1.0 + n / d) for t, d in df.items()}
    vectors = [{t: c * idf[t] for t, c in s.counts.items()} for s in sentences]
    centroid: dict[str, float] = {}
    for v in vectors:
        for t, x in v.items():
            centroid[t] = centroid.get(t, 0.0) + x / n
    c_norm = math.sqrt(sum(x * x for x in centroid.values())) or 1.0
    out = []
    for v in vectors:
        norm = math.sqrt(sum(x * x for x in v.values())) or 1.0
        out.append(sum(x * centroid[t] for t, x in v.items()) / (norm * c_norm))
    return out
