"""The offline answerer: the best sentence of the retrieved passages, quoted verbatim.

No model runs at query time (ask() has a budget of ~30 ms): sentences are scored by
IDF-weighted overlap with the question's terms, proximity, the passage's rank, and whether
the sentence holds the kind of token asked for (ranking.py). One sentence is quoted, with
its answering phrase marked (span.py); a second only for a second question or a close
rival answer (SECOND_MARGIN). Headlines and fragments are never quoted. With no supported
sentence it refuses and lists the closest passages as related reading. Follow-ups arrive
resolved once (followup.resolve). `wants_second_hop`: the Assistant runs the searches
`hop_queries` asks for (hops.py); comparisons quote each name and a verdict (compare.py).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Sequence
from dataclasses import replace

from askfront.answering.base import REFUSAL_TEXT, Answerer
from askfront.answering.extractive import compare
from askfront.answering.extractive.analysis import Analysis
from askfront.answering.extractive.calibration import (
    DUPLICATE_JACCARD,
    FILLER_WEIGHT,
    LEAD_SENTENCES,
    NUMBER_NAME_WEIGHT,
    SECOND_MARGIN,
    W_LEAD,
    W_RANK,
    W_SALIENCE,
    Thresholds,
)
from askfront.answering.extractive.clause import clip_quotes
from askfront.answering.extractive.compose import cite, quoted_answer, render, same_sentence
from askfront.answering.extractive.hops import bridge_query, links
from askfront.answering.extractive.predicate import Predicate
from askfront.answering.extractive.question import UNTYPED, analyze_question
from askfront.answering.extractive.ranking import rank_score
from askfront.answering.extractive.sentence import (
    Candidate,
    is_focused,
    is_fragment,
    name_salience,
    offered_answers,
    sentence_info,
    sentence_score,
    type_score_of,
)
from askfront.answering.extractive.span import answer_span
from askfront.answering.extractive.support import Support
from askfront.answering.extractive.terms import Matcher, jaccard, local_idf, rarity, span_density
from askfront.answering.followup import resolve
from askfront.core.types import Answer, Citation, Passage, Turn
from askfront.grounding.citations import span_text

logger = logging.getLogger(__name__)


class ExtractiveAnswerer(Answerer):
    """Quotes the 1..max_sentences best sentences verbatim, or refuses honestly.

    Args:
        max_sentences: how many sentences an answer may quote.
        idf: optional corpus-wide IDF of a stem (askfront.core.text.content_terms form);
            without it IDF is computed over the candidate sentences of each question.
        thresholds: refusal thresholds; the calibrated defaults otherwise.
    """

    name = "extractive"
    # Capability: reads the first hop's passages and asks for more searches (hops.py).
    wants_second_hop = True

    def __init__(
        self,
        max_sentences: int = 2,
        *,
        idf: Callable[[str], float] | None = None,
        thresholds: Thresholds | None = None,
        rank_weights: dict[str, float] | None = None,
    ) -> None:
        if max_sentences < 1:
            raise ValueError("max_sentences must be at least 1")
        self.max_sentences = max_sentences
        self.idf = idf
        self.thresholds = thresholds or Thresholds()
        self.rank_weights = rank_weights  # None: the fitted ranking.WEIGHTS

    def with_thresholds(self, **changes: float) -> ExtractiveAnswerer:
        """A copy with some thresholds changed (for calibration sweeps)."""
        return ExtractiveAnswerer(
            self.max_sentences,
            idf=self.idf,
            thresholds=replace(self.thresholds, **changes),
            rank_weights=self.rank_weights,
        )

    def hop_queries(
        self, question: str, passages: Sequence[Passage], history: Sequence[Turn] = ()
    ) -> list[str]:
        """The second hop's searches: one per compared name for a comparison, else the
        names the best first-hop sentences add."""
        comparison = compare.parse_comparison(question)
        if comparison is not None:
            return compare.comparison_queries(comparison, question)
        query = bridge_query(self.analyze(question, passages, history, link=False))
        return [query] if query else []

    # -- scoring --------------------------------------------------------------------------
    def analyze(
        self,
        question: str,
        passages: Sequence[Passage],
        history: Sequence[Turn] = (),
        *,
        link: bool = True,
    ) -> Analysis:
        """Score every sentence of `passages` against `question`; with `link`, also the
        sentences linked across articles (hops.links). Thresholds play no part here (see
        `decide`), so a calibration sweep analyzes each question once."""
        # The Assistant hands over a Resolved question; direct callers give the history.
        q = analyze_question(question, resolve(question, history).carried)
        candidates: list[Candidate] = []
        by_passage: list[list[Candidate]] = []
        seen: set[tuple[str, int, int]] = set()
        for i, p in enumerate(passages):
            chunk, group = p.chunk, []
            for s, e in chunk.sentences:
                key = (chunk.source, s, e)
                if key in seen:  # overlapping chunks repeat sentences
                    continue
                seen.add(key)
                text = span_text(p, s, e)
                c = Candidate(i, s, e, text, sentence_info(text), dense=p.dense_score)
                c.fragment = is_fragment(text, p.title)
                group.append(c)
            by_passage.append(group)
            candidates.extend(group)

        idf = self.idf or local_idf([c.info.term_set for c in candidates])
        weights = {t: role * idf(t) * rarity(q.forms.get(t, t)) for t, role in q.weights.items()}
        total = sum(weights.values())
        informative = {t for t, role in q.weights.items() if role > FILLER_WEIGHT}
        analysis = Analysis(
            q.qtype, weights, q.names, candidates, informative=len(informative), question=q
        )
        analysis.comparison = compare.parse_comparison(question)
        analysis.question_text = str(question)
        analysis.passages = list(passages)  # titles, dates (support.py)
        if not candidates or total <= 0:
            analysis.missing_names = [w for w in q.names.values() if w.lower() in question.lower()]
            return analysis

        # Numbers count half: articles write them in many ways ("Aug. 15-18", "15th").
        name_weight = {t: weights[t] * (NUMBER_NAME_WEIGHT if t[0].isdigit() else 1.0)
                       for t in q.names}  # fmt: skip
        name_total = sum(name_weight.values())
        match = Matcher(weights, frozenset().union(*(c.info.term_set for c in candidates)))
        analysis.match = match

        def name_share(terms: frozenset[str]) -> float:
            if name_total <= 0:
                return 1.0
            return sum(w for t, w in name_weight.items() if match(t, terms)) / name_total

        lowered = question.lower()
        analysis.followup = bool(resolve(question, history).carried)
        known = frozenset().union(*(c.info.names for c in candidates))
        salience = name_salience(q, candidates, known)
        found: set[str] = set()
        analysis.name_share = name_share
        analysis.informative_terms = frozenset(informative)
        for i, group in enumerate(by_passage):
            passage_terms = frozenset().union(*(c.info.term_set for c in group))
            analysis.passage_terms.append(passage_terms)
            found |= {t for t in q.names if match(t, passage_terms)}
            name_cov = name_share(passage_terms)
            for j, c in enumerate(group):
                near = c.info.term_set.union(
                    *(n.info.term_set for n in group[max(0, j - 1) : j + 2])
                )
                c.near = near
                own = {t: match(t, c.info.term_set) for t in weights}
                near_match = {t: match(t, near) for t in weights}
                c.coverage = sum(weights[t] * m for t, m in own.items()) / total
                c.context = max(
                    c.coverage, sum(weights[t] * m for t, m in near_match.items()) / total
                )
                c.matched = sum(1 for t, m in near_match.items() if m and t in informative)
                c.relation = analysis.relation_share(near)
                c.name_coverage = name_cov
                c.focused = is_focused(q, near, match)
                c.type_score = type_score_of(q.qtype, c.info, q, lowered, known)
                c.offers = offered_answers(q, c, lowered, known)
                c.density = span_density(c.info.terms, {t for t, m in own.items() if m})
                c.novelty = sum(1 for t in c.info.term_set if t not in match.related)
                c.salience = salience.get(id(c), 0.0)
                c.lead = float(passages[i].chunk.index == 0 and j < LEAD_SENTENCES)
                c.prior = W_RANK / (1 + i) + W_LEAD * c.lead + W_SALIENCE * c.salience
                c.score = sentence_score(c)
        # A refusal names only what was asked, never a word carried from an earlier turn.
        asked = question.lower()
        analysis.missing_names = [
            w for t, w in q.names.items() if t not in found and w.lower() in asked
        ]
        if link:
            analysis.links = links(analysis, passages)
        return analysis

    def decide(self, analysis: Analysis) -> list[Candidate]:
        """Mark the admissible sentences under these thresholds; return those to quote
        (best first; a linked sentence is quoted after the sentence it is linked by).
        Empty means refuse."""
        analysis.pool = [self._linked(c, analysis) for c in analysis.candidates]
        states = Support(analysis, self.thresholds)  # its names and numbers (support.py)
        asks = Predicate(analysis, self.thresholds)  # what it asks of them (predicate.py)
        for c in analysis.pool:
            c.admissible = self._admissible(c, analysis) and states(c) and asks(c)
        return self._select(analysis)

    def _linked(self, c: Candidate, analysis: Analysis) -> Candidate:
        """`c` scored with what it matches together with the first-hop sentence linking
        to it (hops.links), discounted, if that beats `c` alone; else `c`."""
        link = analysis.links.get(id(c))
        if link is None:
            return c
        linked = replace(
            c,
            coverage=max(c.coverage, link.coverage),
            context=max(c.context, link.coverage),
            name_coverage=max(c.name_coverage, link.name_coverage),
            matched=max(c.matched, link.matched),
            relation=max(c.relation, link.relation),
            focused=c.focused or link.focused,
            via=link.first,
        )
        linked.score = self.thresholds.chain_discount * sentence_score(linked)
        return linked if linked.score > c.score else c

    def _admissible(self, c: Candidate, a: Analysis) -> bool:
        """Whether sentence `c` may be quoted as an answer to the analyzed question."""
        th = self.thresholds
        if c.coverage <= 0 or c.novelty == 0 or not c.focused or c.fragment:
            return False
        relaxed = c.dense is not None and c.dense >= th.dense_name_relax
        if c.name_coverage < th.min_name_coverage * (0.5 if relaxed else 1.0):
            return False
        # One shared word is chance when the question has three or more ("Which city was
        # rocked by a bridge collapse?" vs "raids ... in various cities").
        if c.matched < 2 and a.informative >= 3:
            return False
        # On topic is not enough: the sentence must say what the question asks about it
        # ("died", "directed"), not only name what it names, unless the dense side finds
        # the passage close (a paraphrase: "dispatch soldiers" for "send troops").
        close = c.dense is not None and c.dense >= th.relation_relax
        if c.relation < th.min_relation and not close:
            return False
        # A "how many" question is not answered by a sentence without a number, however
        # well it matches.
        if a.qtype not in UNTYPED and c.type_score < 0.5:
            return False
        if c.context >= th.strong_coverage:
            return True
        if c.dense is not None and c.dense < th.dense_floor:
            return False
        vouched = c.dense is not None and c.dense >= th.dense_support
        # A cause stated where the question's terms are is as good as a typed token.
        return c.context >= th.weak_coverage and (c.type_score >= 0.5 or vouched)

    # -- answering ------------------------------------------------------------------------
    def answer(
        self, question: str, passages: Sequence[Passage], history: Sequence[Turn] = ()
    ) -> Answer:
        analysis = self.analyze(question, passages, history)
        result = self.compose(analysis, passages)
        logger.debug("extractive %r: %s", question, analysis.features())
        return result

    def compose(self, analysis: Analysis, passages: Sequence[Passage]) -> Answer:
        """The Answer for an analysis of `passages`: quotes, or an honest refusal."""
        if analysis.comparison is not None:
            return self._compare(analysis.comparison, analysis, passages)
        chosen = self.decide(analysis)
        if not chosen:
            return self._refusal(analysis, passages)
        if analysis.question is not None:
            q, lowered = analysis.question, analysis.question_text.lower()
            for c in chosen:
                c.answer_span = answer_span(q, c.text, lowered)
            chosen = clip_quotes(chosen, q, lowered, analysis.term_weight)
        return quoted_answer(chosen, passages)

    def _compare(
        self, comparison: compare.Comparison, analysis: Analysis, passages: Sequence[Passage]
    ) -> Answer:
        """Quote the best sentence about each compared name; refuse if one has none."""
        a, b = (
            compare.best_evidence(n, comparison, analysis, passages) for n in comparison.names()
        )
        if a is None or b is None:
            missing = [n for n, e in zip(comparison.names(), (a, b), strict=True) if e is None]
            return self._refusal(analysis, passages, missing)
        return compare.comparison_answer(comparison, a, b, passages, analysis.term_weight)

    def stream(
        self, question: str, passages: Sequence[Passage], history: Sequence[Turn] = ()
    ) -> Iterator[str | Answer]:
        """Yield the answer sentence by sentence, then the Answer."""
        result = self.answer(question, passages, history)
        if result.refused or not result.sentences:
            yield result.text
        else:
            for k, s in enumerate(result.sentences):
                yield f"{' ' if k else ''}{render(s)}"
        yield result

    def _select(self, analysis: Analysis) -> list[Candidate]:
        """The best admissible sentence (with the sentence linking to it, if any); a
        further one only for a second thing the question asks ("who ... and why"): the
        shortest cited answer that holds the fact, not every sentence that might."""
        admissible = [c for c in analysis.pool if c.admissible]
        if not admissible:
            return []
        # A follow-up's own words ("killed" in "How many of them were killed?") must be in
        # the sentence itself when any sentence has them: its neighbours hold the carried
        # topic ("the legion"), not what is asked of it.
        if analysis.followup:
            own = [c for c in admissible if analysis.relation_share(c.info.term_set) > 0]
            admissible = own or admissible
        # Which one: the fitted ranking (ranking.py), not the admission score.
        ranks = {id(c): rank_score(c, analysis, self.rank_weights) for c in admissible}
        admissible.sort(key=lambda c: -ranks[id(c)])
        best = admissible[0]
        chosen = [best]
        # A rival answer the ranking cannot tell from the best (a name or number the best
        # lacks, within SECOND_MARGIN of its rank): quoted second, as the user should see both.
        # For a description ("What did Macron say ...?") any close sentence is a rival.
        if self.max_sentences >= 2:
            for c in admissible[1:]:
                if ranks[id(c)] < ranks[id(best)] - SECOND_MARGIN:
                    break
                typed = analysis.qtype not in UNTYPED
                if not _repeats(c, best) and not (typed and c.offers <= best.offers):
                    return [best, c]
        q = analysis.question
        if q is None or q.second_qtype is None or self.max_sentences < 2:
            return chosen
        second = q.second_qtype
        floor = best.score * self.thresholds.second_sentence_ratio * 0.5
        ranked = sorted(
            (c for c in analysis.pool if c.admissible and c is not best),
            key=lambda c: -c.score,
        )
        for c in ranked:
            if c.score < floor:
                break
            if any(_repeats(c, o) for o in chosen):
                continue
            if type_score_of(second, c.info, q, "", frozenset()) >= 0.5:
                chosen.append(c)
                break
        return chosen

    def _refusal(
        self, analysis: Analysis, passages: Sequence[Passage], missing: Sequence[str] = ()
    ) -> Answer:
        text = REFUSAL_TEXT
        missing = missing or analysis.missing_names
        if missing and passages:
            listed = ", ".join(f"“{w}”" for w in missing[:3])
            text += f" None of the closest passages mention {listed}."
        related: list[Citation] = []
        by_passage: dict[int, Candidate] = {}
        for c in analysis.candidates:
            if c.passage not in by_passage or c.score > by_passage[c.passage].score:
                by_passage[c.passage] = c
        sources: set[str] = set()
        for i in sorted(by_passage):
            if passages[i].source in sources:  # one passage per article, not its title thrice
                continue
            sources.add(passages[i].source)
            related.append(cite(len(related) + 1, passages[i], by_passage[i], passages[i].score))
            if len(related) >= 3:
                break
        return Answer(
            text=text,
            refused=True,
            related=related,
            mode="extractive",
            passages=list(passages),
        )


def _repeats(c: Candidate, other: Candidate) -> bool:
    """The same sentence, or one saying nearly the same (term sets this alike)."""
    return same_sentence(c, other) or (
        jaccard(c.info.term_set, other.info.term_set) >= DUPLICATE_JACCARD
    )
