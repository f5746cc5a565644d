"""Answers about the collection itself: which articles there are (about a topic, from some
dates), how many, and the latest or oldest one.

The answers come from the index's document records (titles, dates), not from quoting
passages: retrieval only says which articles hold the topic. Every article an answer names
is cited by its opening line (its title line, or its first full sentence), so a click on
the citation opens the article. Long lists are cut at LIST_LIMIT, saying how many more.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import replace

from askfront.answering.articles import (
    Article,
    KindAnswerer,
    by_date,
    describe,
    in_title,
    mention_search,
    none_found,
    relation,
    subject,
)
from askfront.answering.kinds import COLLECTION, LATEST, Intent, classify
from askfront.answering.mention_answers import mention_answer
from askfront.core.types import Answer, AnswerSentence, Citation, Passage, Turn
from askfront.grounding.citations import cite, span_text

logger = logging.getLogger(__name__)

LIST_LIMIT = 10  # articles named in one answer; the rest are counted
DATED_LIST_LIMIT = 100  # ... when the question asks for the articles of some dates


class CollectionAnswerer(KindAnswerer):
    """Lists, counts and orders the articles of the collection, citing each one named."""

    name = "collection"
    kind = COLLECTION

    def answer(
        self, question: str, passages: Sequence[Passage], history: Sequence[Turn] = ()
    ) -> Answer:
        intent = self.resolved(classify(question, history))
        if mention_search(intent):  # every article that mentions it, not top-k
            dates = intent.dates
            found = self.library.mentions(
                intent.phrase, dates.start if dates else None, dates.end if dates else None
            )
            if dates is not None and dates.months:  # "from February": of any year
                searched = sum(dates.holds(r.date) for r in self.library.documents() if r.chunks)
                kept = [m for m in found.mentions if dates.holds(m.date)]
                found = replace(found, mentions=kept, searched=searched)
            return mention_answer(intent, found, self.name)
        about, mentioning = self.find(intent, passages)
        if not about and not mentioning:
            if intent.count:  # "How many ...?": none is an answer
                return Answer(f"{none_found(intent)[:-1]} (0 articles).", mode=self.name)
            return self.refusal(none_found(intent), passages)
        if intent.order:
            return self._ordered(intent, about or mentioning)
        if not intent.topic:
            return self._collection(intent, about)
        # Retrieval returned as many passages as asked, all from matching articles: there
        # may be more beyond them.
        matched = len(about) + len(mentioning)
        capped = len(passages) >= self.search_k and matched >= len({p.source for p in passages})
        return self._topic_list(intent, about, mentioning, capped)

    def _collection(self, intent: Intent, found: list[Article]) -> Answer:
        n = len(found)
        dated, _ = by_date(found, LATEST)
        # A date range asks for all its articles (a week's are often more than LIST_LIMIT).
        limit = DATED_LIST_LIMIT if intent.dates is not None else LIST_LIMIT
        shown = (dated + [a for a in found if not a.date])[:limit]
        order = " (newest first)" if n > 1 else ""
        head = f"The collection holds {_articles(n)}{describe(intent)}{_span(found)}{order}:"
        return self._list_answer(head, shown, n)

    def _topic_list(
        self, intent: Intent, about: list[Article], mentioning: list[Article], capped: bool
    ) -> Answer:
        if not about:  # honest about the difference, but still useful
            n = len(mentioning)
            head = f"{none_found(intent)[:-1]}, but {_mention(n, '')}"
            about, mentioning = mentioning, []
        else:
            n = len(about)
            head = f"{'At least ' if capped else ''}{subject(n, intent)} {relation(n, intent)}"
        order = " (closest match first)" if len(about) > 1 else ""
        answer = self._list_answer(f"{head}{order}:", about[:LIST_LIMIT], len(about))
        if mentioning:
            answer.text += f"\n{_mention(len(mentioning), ' more')}."
        return answer

    def _ordered(self, intent: Intent, found: list[Article]) -> Answer:
        dated, undated = by_date(found, intent.order)
        what = describe(intent)
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
                text = span_text(p, s, e)
                if s <= opening.start or in_title(text, article.title):
                    continue
                if len(text.split()) >= 8 and not text.endswith(":"):
                    return cite(2, p, s, e, 1.0, text)
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
            lines.append(f"- {art.label} [{cite.n}]")
            sentences.append(AnswerSentence(art.label, [cite.n]))
        if total > len(citations):
            lines.append(f"…and {total - len(citations)} more.")
        return Answer("\n".join(lines), citations, sentences=sentences, mode=self.name)


def _articles(n: int) -> str:
    return f"{n} article" if n == 1 else f"{n} articles"


def _mention(n: int, more: str) -> str:
    """'1 more article mentions it', '3 articles mention it'."""
    return f"{n}{more} article mentions it" if n == 1 else f"{n}{more} articles mention it"


def _span(articles: Sequence[Article]) -> str:
    days = sorted(a.date for a in articles if a.date)
    if not days or len(articles) < 2:
        return ""
    return f", dated {days[0]} to {days[-1]}" if days[0] != days[-1] else f", dated {days[0]}"
