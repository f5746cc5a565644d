"""The offline answerer: the best sentences of the retrieved passages, quoted verbatim.

No model runs at query time (the whole ask() has a budget of ~30 ms): sentences are scored
by IDF-weighted overlap of the question's content terms, a proximity bonus, the
passage's retrieval rank, and whether the sentence holds the kind of token the question
asks for (a number for "how many", a name for "who", ...). When no sentence supports an
answer, the answerer refuses and lists the closest passages as related reading.

Follow-ups are read with `askfront.followup`: the question's own terms count fully, the
terms carried over from the previous user turn at CARRIED_WEIGHT.
"""

from __future__ import annotations

import logging
import math
import re
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import Any

from askfront.answer import REFUSAL_TEXT, Answerer
from askfront.followup import carried_words, proper_words
from askfront.textutil import content_terms
from askfront.types import Answer, AnswerSentence, Citation, Passage, Turn

logger = logging.getLogger(__name__)

# --- Refusal thresholds ------------------------------------------------------------------
# Calibrated with benchmarks/calibrate_refusal.py: the seed test set (answerable and
# unanswerable questions about the default article) and RealTimeQA-2024 (its questions
# against its own 500 articles are answerable; against the default one-article corpus they
# are unanswerable), retrieved by the real hybrid pipeline, top_k=5. Each value is the
# middle of the plateau where refusal F1 and accuracy were both highest; see the report of
# that script for the figures.

MIN_NAME_COVERAGE = 0.6
"""Share (IDF-weighted) of the question's names and numbers the passage must contain.

Names are rarely paraphrased, so a missing one ("Chinese" in a passage about Nepalis and
Indians) means the passage is about something else."""

STRONG_COVERAGE = 0.6
"""Coverage of the question's terms (sentence plus its neighbours) that suffices alone."""

WEAK_COVERAGE = 0.3
"""Coverage that suffices when the sentence also holds the asked-for kind of token (or the
dense side finds the passage close): common words are often paraphrased ("paid" vs
"salary")."""

DENSE_SUPPORT = 0.45
"""Cosine similarity of the passage to the query that vouches for a weakly covered one."""

SECOND_SENTENCE_RATIO = 0.85
"""A second sentence is quoted only if it scores at least this share of the first."""

CARRIED_WEIGHT = 0.5  # weight of terms carried over from the previous turn
FILLER_WEIGHT = 0.3  # weight of question boilerplate ("name", "week", ...)
PREFIX_MATCH = 0.8  # credit for a prefix match of stems (Russia ~ Russian, Nepal ~ Nepali)
DUPLICATE_JACCARD = 0.6  # sentences this alike (term sets) are quoted once

# Sentence score = weighted sum of these features (each in [0, 1]).
W_COVERAGE, W_CONTEXT, W_TYPE, W_DENSITY, W_RANK = 0.55, 0.15, 0.2, 0.05, 0.05
REPEAT_PENALTY = 0.5  # factor for a sentence that adds nothing to the question
SHORT_PENALTY = 0.7  # factor for fragments under 4 words (headings, bylines)

# Words of question boilerplate that articles rarely repeat ("this week", "the name of").
_FILLER = frozenset(
    content_terms(
        "name named called week weeks recent recently new latest current currently following "
        "happen happened know known kind type exactly"
    )
)


@dataclass(frozen=True)
class Thresholds:
    """The refusal thresholds; the defaults are the calibrated module constants."""

    min_name_coverage: float = MIN_NAME_COVERAGE
    strong_coverage: float = STRONG_COVERAGE
    weak_coverage: float = WEAK_COVERAGE
    dense_support: float = DENSE_SUPPORT
    second_sentence_ratio: float = SECOND_SENTENCE_RATIO


# --- question analysis -------------------------------------------------------------------

_PERSON_NOUNS = frozenset(
    """person man woman men women people player players singer actor actress comedian
    candidate politician official leader president journalist reporter spokesman
    spokesperson minister ceo star rapper artist author coach athlete celebrity member
    founder chef director host winner pope king queen prince princess judge""".split()
)
_PLACE_NOUNS = frozenset(
    """country countries city cities state states region town nation continent province
    county island place location venue stadium capital""".split()
)
_DATE_NOUNS = frozenset("year month day date decade century time".split())
_NUMBER_NOUNS = frozenset(
    """number score amount total count age percentage percent share proportion rate size
    population margin""".split()
)
_MONEY_NOUNS = frozenset(
    "price cost salary salaries wage wages pay fee fine budget money worth value".split()
)
_MONEY_VERBS = re.compile(
    r"\b(pay|paid|cost|costs|earn|earns|earned|salar\w*|wages?|price\w*|spen[dt]\w*|worth|"
    r"money|charge\w*|fund\w*|raise\w*|owe\w*|fined?|budget\w*|dollars?|sell|sold|buy|bought)\b"
)
_WH = re.compile(r"\b(who|whom|whose|when|where|which|what|how)\b")
_SKIP = frozenset("is was are were the a an of kind type sort did does do will has had".split())


def _answer_type(question: str) -> str:
    """What an answer to `question` must hold: number, money, percent, date, person,
    place, entity, or "other" (a description)."""
    parts = re.split(r"(?<=[.!?])\s+", question.strip())
    text_cased = next((s for s in reversed(parts) if _WH.search(s.lower())), parts[-1])
    text = text_cased.lower()
    m = _WH.search(text)
    if not m:
        return "other"
    wh, rest = m.group(1), text[m.end() :].split()
    rest = [re.sub(r"\W+", "", w) for w in rest]
    nxt = next((w for w in rest if w and w not in _SKIP), "")
    if wh in ("who", "whom", "whose"):
        # "Who is Ramchandra Khadka?" asks for a description, not another name (but "Who is
        # the Kremlin spokesman?" asks for a name).
        names = {t for w in proper_words(text_cased) for t in content_terms(w)}
        described = set(content_terms(" ".join(rest)))
        if rest[:1] and rest[0] in ("is", "was", "are", "were") and names and described <= names:
            return "other"
        return "person"
    if wh == "when":
        return "date"
    if wh == "where":
        return "place"
    if wh == "how":
        if nxt == "much":
            return "money" if _MONEY_VERBS.search(text) else "number"
        if nxt in ("many", "old", "long", "far", "big", "large", "tall", "high", "often"):
            return "percent" if "percent" in text else "number"
        return "other"
    # what / which
    if nxt in _DATE_NOUNS:
        return "date"
    if nxt in ("percentage", "percent", "share", "proportion"):
        return "percent"
    if nxt in _MONEY_NOUNS:
        return "money"
    if nxt in _NUMBER_NOUNS:
        return "number"
    if nxt in _PLACE_NOUNS:
        return "place"
    if nxt in _PERSON_NOUNS:
        return "person"
    if nxt == "name" or wh == "which":
        return "entity"
    return "other"


# "Who is the president of Colombia?", "What is the population of Nepal?": the attribute
# asked about must appear next to the answer. Not so for "which state ...", whose noun is
# the answer's category ("New Hampshire"), nor for nouns answers rarely repeat.
_FOCUS = re.compile(
    r"\b(?:what|who)(?:'s|\s+(?:is|was|are|were|will be|has been))\s+(?:the|a|an)\s+"
    r"([\w\s'’-]+?)\s*(?:\b(?:of|in|for|at|on|behind|to|from|that|who|which|\w+ed|\w+ing)\b"
    r"|[?.!]|$)",
    re.IGNORECASE,
)
_NOT_FOCUS = frozenset(
    content_terms("name number score amount total count percentage share proportion year date")
)


def _focus(question: str) -> tuple[str, frozenset[str]] | None:
    """The head stem of the attribute a "what/who is the X of Y" question asks for, and the
    stems of its whole phrase ("prime minister"), if there is one."""
    m = _FOCUS.search(question)
    if not m:
        return None
    terms = content_terms(m.group(1))
    if not terms or terms[-1] in _NOT_FOCUS or terms[-1] in _FILLER:
        return None
    return terms[-1], frozenset(terms)


@dataclass
class _Question:
    weights: dict[str, float]  # stem -> role weight (before IDF)
    names: dict[str, str]  # stem -> word, for the question's names and numbers
    qtype: str
    focus: tuple[str, frozenset[str]] | None  # the attribute asked about: head, phrase


def _analyze_question(question: str, carried: Sequence[str]) -> _Question:
    weights: dict[str, float] = {}
    for t in content_terms(question):
        weights[t] = FILLER_WEIGHT if t in _FILLER else 1.0
    for w in carried:
        for t in content_terms(w):
            weights.setdefault(t, CARRIED_WEIGHT)
    names: dict[str, str] = {}
    carried_names = [w for w in carried if w[0].isupper() or any(c.isdigit() for c in w)]
    for w in [*proper_words(question), *carried_names]:
        for t in content_terms(w):
            if t in weights and weights[t] > FILLER_WEIGHT:
                names.setdefault(t, w)
    return _Question(weights, names, _answer_type(question), _focus(question))


# --- sentence analysis -------------------------------------------------------------------

_NUMBER_WORDS = frozenset(
    """two three four five six seven eight nine ten eleven twelve fifteen twenty thirty forty
    fifty hundred hundreds thousand thousands million millions billion billions trillion
    dozen dozens half""".split()
)
_MONEY = re.compile(
    r"[$€£¥₹]\s?\d|\d\s?(?:dollars?|euros?|pounds?|rupees?|yuan|yen|roubles?|rubles?)\b"
    r"|\b(?:million|billion|trillion) (?:dollars|euros|pounds)\b|\bUSD\b|\bEUR\b",
    re.IGNORECASE,
)
_PERCENT = re.compile(r"\d\s?%|\bper ?cent\b|\bpercentage points?\b", re.IGNORECASE)
_MONTHS = (
    "January|February|March|April|May|June|July|August|September|October|November|December|"
    "Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sept?|Oct|Nov|Dec"
)
_DATE = re.compile(
    rf"\b(?:1[89]\d\d|20\d\d)s?\b|\b(?:{_MONTHS})\.?\s+\d|\b(?:{_MONTHS})\b(?=\s+(?:of|in|\d))"
    r"|\b(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)\b"
    r"|\b(?:yesterday|today|tonight|ago)\b|\blast (?:week|month|year|spring|summer|fall|"
    r"winter|night)\b|\bearlier this (?:week|month|year)\b"
)
_PLACE_CUE = re.compile(r"\b(?:in|at|from|near|to|across)\s+(?:the\s+)?[A-Z]")


@dataclass(frozen=True)
class _SentenceInfo:
    terms: tuple[str, ...]
    term_set: frozenset[str]
    names: frozenset[str]  # stems of capitalized (non-initial) words
    numbers: frozenset[str]  # number tokens, lower-cased
    money: bool
    percent: bool
    date: bool
    place_cue: bool
    n_words: int


@lru_cache(maxsize=65536)
def _sentence_info(text: str) -> _SentenceInfo:
    """Features of one sentence; cached because the same chunks come back query after query."""
    terms = tuple(content_terms(text))
    names = frozenset(t for w in proper_words(text) if not w[0].isdigit() for t in content_terms(w))
    lowered = text.lower()
    numbers = frozenset(
        w
        for w in re.findall(r"[\w$€£%.,'’-]+", lowered)
        if any(c.isdigit() for c in w) or w in _NUMBER_WORDS
    )
    return _SentenceInfo(
        terms=terms,
        term_set=frozenset(terms),
        names=names,
        numbers=numbers,
        money=bool(_MONEY.search(text)),
        percent=bool(_PERCENT.search(text)),
        date=bool(_DATE.search(text)),
        place_cue=bool(_PLACE_CUE.search(text)),
        n_words=len(text.split()),
    )


def _match(term: str, terms: frozenset[str]) -> float:
    """1 for the same stem, PREFIX_MATCH for a close prefix (Russia ~ Russian), else 0.

    Snowball leaves demonyms apart from their countries; a prefix match with a short
    tail brings them together without a gazetteer.
    """
    if term in terms:
        return 1.0
    if len(term) >= 4:
        for t in terms:
            if (
                len(t) >= 4
                and abs(len(t) - len(term)) <= 3
                and (t.startswith(term) or term.startswith(t))
            ):
                return PREFIX_MATCH
    return 0.0


def _type_score(qtype: str, info: _SentenceInfo, q: _Question, question_lower: str) -> float:
    """How well the sentence holds the kind of token the question asks for, in [0, 1]."""
    new_numbers = any(n not in question_lower for n in info.numbers)
    new_names = bool(info.names - q.weights.keys())
    if qtype == "money":
        return 1.0 if info.money else 0.4 if new_numbers else 0.0
    if qtype == "percent":
        return 1.0 if info.percent else 0.4 if new_numbers else 0.0
    if qtype == "number":
        return 1.0 if new_numbers else 0.0
    if qtype == "date":
        return 1.0 if info.date else 0.3 if new_numbers else 0.0
    if qtype == "person":
        return 1.0 if new_names else 0.0
    if qtype == "place":
        return 1.0 if new_names and info.place_cue else 0.6 if new_names else 0.0
    if qtype == "entity":
        return 1.0 if new_names else 0.5 if new_numbers else 0.0
    return 0.0


# --- candidates and the decision ---------------------------------------------------------


@dataclass
class Candidate:
    """One sentence of a retrieved passage, with the features the decision reads."""

    passage: int  # index into the passages given
    start: int  # absolute offsets into the document text
    end: int
    text: str
    info: _SentenceInfo
    coverage: float = 0.0  # IDF-weighted share of question terms in the sentence
    context: float = 0.0  # the same over the sentence and its neighbours
    name_coverage: float = 1.0  # share of the question's names in the whole passage
    type_score: float = 0.0
    density: float = 0.0
    novelty: int = 0  # content terms the question does not have
    score: float = 0.0
    admissible: bool = False


@dataclass
class Analysis:
    """Everything the answerer computed for one question (for calibration and debugging)."""

    qtype: str
    weights: dict[str, float]  # stem -> final weight (role x IDF)
    names: dict[str, str]
    candidates: list[Candidate] = field(default_factory=list)
    missing_names: list[str] = field(default_factory=list)

    @property
    def best(self) -> Candidate | None:
        admissible = [c for c in self.candidates if c.admissible]
        return max(admissible, key=lambda c: c.score) if admissible else None

    def features(self) -> dict[str, Any]:
        top = max(self.candidates, key=lambda c: c.score) if self.candidates else None
        return {
            "qtype": self.qtype,
            "answerable": self.best is not None,
            "top_score": round(top.score, 3) if top else 0.0,
            "top_coverage": round(top.context, 3) if top else 0.0,
            "top_name_coverage": round(top.name_coverage, 3) if top else 0.0,
            "missing_names": self.missing_names,
        }


class ExtractiveAnswerer(Answerer):
    """Quotes the 1..max_sentences best sentences verbatim, or refuses honestly.

    Args:
        max_sentences: how many sentences an answer may quote.
        idf: optional corpus-wide IDF of a stem (askfront.textutil.content_terms form);
            without it IDF is computed over the candidate sentences of each question.
        thresholds: refusal thresholds; the calibrated defaults otherwise.
    """

    name = "extractive"

    def __init__(
        self,
        max_sentences: int = 2,
        *,
        idf: Callable[[str], float] | None = None,
        thresholds: Thresholds | None = None,
    ) -> None:
        if max_sentences < 1:
            raise ValueError("max_sentences must be at least 1")
        self.max_sentences = max_sentences
        self.idf = idf
        self.thresholds = thresholds or Thresholds()

    def with_thresholds(self, **changes: float) -> ExtractiveAnswerer:
        """A copy with some thresholds changed (for calibration sweeps)."""
        return ExtractiveAnswerer(
            self.max_sentences, idf=self.idf, thresholds=replace(self.thresholds, **changes)
        )

    def condense(self, question: str, history: Sequence[Turn]) -> str:
        from askfront.followup import resolve_query

        return resolve_query(question, history)

    # -- scoring --------------------------------------------------------------------------
    def analyze(
        self, question: str, passages: Sequence[Passage], history: Sequence[Turn] = ()
    ) -> Analysis:
        """Score every sentence of `passages` against `question` and mark the admissible ones."""
        q = _analyze_question(question, carried_words(question, history))
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
                text = chunk.text[s - chunk.start : e - chunk.start]
                group.append(Candidate(i, s, e, text, _sentence_info(text)))
            by_passage.append(group)
            candidates.extend(group)

        idf = self.idf or _local_idf([c.info.term_set for c in candidates])
        weights = {t: role * idf(t) for t, role in q.weights.items()}
        total = sum(weights.values())
        analysis = Analysis(q.qtype, weights, q.names, candidates)
        if not candidates or total <= 0:
            analysis.missing_names = list(q.names.values())
            return analysis

        name_total = sum(weights[t] for t in q.names)
        lowered = question.lower()
        question_terms = frozenset(weights)
        found: set[str] = set()
        for i, group in enumerate(by_passage):
            passage_terms = frozenset().union(*(c.info.term_set for c in group))
            matched_names = {t for t in q.names if _match(t, passage_terms)}
            found |= matched_names
            name_cov = (
                sum(weights[t] for t in matched_names) / name_total if name_total > 0 else 1.0
            )
            dense = passages[i].dense_score
            for j, c in enumerate(group):
                near = c.info.term_set.union(
                    *(n.info.term_set for n in group[max(0, j - 1) : j + 2])
                )
                match = {t: _match(t, c.info.term_set) for t in weights}
                c.coverage = sum(weights[t] * m for t, m in match.items()) / total
                c.context = max(
                    c.coverage, sum(weights[t] * _match(t, near) for t in weights) / total
                )
                c.name_coverage = name_cov
                c.type_score = _type_score(q.qtype, c.info, q, lowered)
                c.density = _density(c.info.terms, {t for t, m in match.items() if m})
                c.novelty = sum(1 for t in c.info.term_set if not _match(t, question_terms))
                c.score = (
                    W_COVERAGE * c.coverage
                    + W_CONTEXT * c.context
                    + W_TYPE * c.type_score
                    + W_DENSITY * c.density
                    + W_RANK / (1 + i)
                )
                if c.novelty == 0 and c.type_score == 0:
                    c.score *= REPEAT_PENALTY
                if c.info.n_words < 4:
                    c.score *= SHORT_PENALTY
                c.admissible = self._admissible(c, q, near, dense)
        analysis.missing_names = [w for t, w in q.names.items() if t not in found]
        return analysis

    def _admissible(
        self, c: Candidate, q: _Question, near: frozenset[str], dense: float | None
    ) -> bool:
        """Whether sentence `c` (with neighbours `near`) may be quoted as an answer."""
        th = self.thresholds
        if c.coverage <= 0 or c.novelty == 0 or c.name_coverage < th.min_name_coverage:
            return False
        if q.focus is not None:
            # The attribute asked about, next to one of the names it is asked of
            # ("president" next to "Colombia"), not just somewhere in the passage.
            head, phrase = q.focus
            others = [t for t in q.names if t not in phrase]
            if not _match(head, near) or (others and not any(_match(t, near) for t in others)):
                return False
        # A "how many" question is not answered by a sentence without a number, however
        # well it matches.
        if q.qtype != "other" and c.type_score < 0.5:
            return False
        if c.context >= th.strong_coverage:
            return True
        vouched = dense is not None and dense >= th.dense_support
        return c.context >= th.weak_coverage and (q.qtype != "other" or vouched)

    # -- answering ------------------------------------------------------------------------
    def answer(
        self, question: str, passages: Sequence[Passage], history: Sequence[Turn] = ()
    ) -> Answer:
        analysis = self.analyze(question, passages, history)
        chosen = self._select(analysis)
        logger.debug("extractive %r: %s", question, analysis.features())
        if not chosen:
            return self._refusal(analysis, passages)
        citations, sentences, parts = [], [], []
        for n, c in enumerate(chosen, start=1):
            citations.append(_cite(n, passages[c.passage], c, c.score))
            sentences.append(AnswerSentence(c.text, [n], supported=True, support_score=c.score))
            parts.append(f"{c.text} [{n}]")
        return Answer(
            text=" ".join(parts),
            citations=citations,
            sentences=sentences,
            mode="extractive",
            passages=list(passages),
        )

    def stream(
        self, question: str, passages: Sequence[Passage], history: Sequence[Turn] = ()
    ) -> Iterator[str | Answer]:
        """Yield the answer sentence by sentence, then the Answer."""
        result = self.answer(question, passages, history)
        if result.refused or not result.sentences:
            yield result.text
        else:
            for k, s in enumerate(result.sentences):
                yield f"{' ' if k else ''}{s.text} [{s.citations[0]}]"
        yield result

    def _select(self, analysis: Analysis) -> list[Candidate]:
        best = analysis.best
        if best is None:
            return []
        chosen = [best]
        floor = best.score * self.thresholds.second_sentence_ratio
        ranked = sorted(
            (c for c in analysis.candidates if c.admissible and c is not best),
            key=lambda c: -c.score,
        )
        for c in ranked:
            if len(chosen) >= self.max_sentences or c.score < floor:
                break
            if all(_jaccard(c.info.term_set, o.info.term_set) < DUPLICATE_JACCARD for o in chosen):
                chosen.append(c)
        return chosen

    def _refusal(self, analysis: Analysis, passages: Sequence[Passage]) -> Answer:
        text = REFUSAL_TEXT
        if analysis.missing_names and passages:
            listed = ", ".join(f"“{w}”" for w in analysis.missing_names[:3])
            text += f" None of the closest passages mention {listed}."
        related: list[Citation] = []
        by_passage: dict[int, Candidate] = {}
        for c in analysis.candidates:
            if c.passage not in by_passage or c.score > by_passage[c.passage].score:
                by_passage[c.passage] = c
        for i in sorted(by_passage)[:3]:
            related.append(_cite(len(related) + 1, passages[i], by_passage[i], passages[i].score))
        return Answer(
            text=text,
            refused=True,
            related=related,
            mode="extractive",
            passages=list(passages),
        )


def _cite(n: int, p: Passage, c: Candidate, score: float) -> Citation:
    # Offsets are the sentence's own, absolute in the document text: text[start:end] == quote.
    return Citation(n, p.source, p.title, p.date, c.start, c.end, c.text, score, p.chunk.page)


def _local_idf(sentences: Sequence[frozenset[str]]) -> Callable[[str], float]:
    """BM25-style IDF over the candidate sentences; unseen terms get the highest weight."""
    df: Counter[str] = Counter()
    for terms in sentences:
        df.update(terms)
    n = len(sentences)

    def idf(term: str) -> float:
        d = df.get(term, 0)
        return math.log(1.0 + (n - d + 0.5) / (d + 0.5))

    return idf


def _density(terms: Sequence[str], matched: set[str]) -> float:
    """Matched question terms per position of the smallest span holding them all (0..1)."""
    if len(matched) < 2:
        return 0.0
    found = frozenset(matched)
    positions = [k for k, t in enumerate(terms) if _match(t, found)]
    span = positions[-1] - positions[0] + 1
    return min(1.0, len(matched) / span)


def _jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    return len(a & b) / len(a | b) if a or b else 1.0
