"""Sentence analysis: the features of one candidate sentence (names, numbers, dates,
money) and how well they fit the question's answer type."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from askfront.answering.extractive.calibration import (
    REPEAT_PENALTY,
    SHORT_PENALTY,
    W_CONTEXT,
    W_COVERAGE,
    W_DENSITY,
    W_TYPE,
)
from askfront.answering.extractive.question import UNTYPED, Question
from askfront.answering.extractive.terms import Matcher, stems, word_stems
from askfront.answering.followup import proper_words
from askfront.core.text import STOPWORDS

# Words that make a sentence hold a quantity (a feature for "how many" questions): not the
# number table of core.text, as "one" and "zero" say little and "millions" a lot.
_QUANTITY_WORDS = frozenset(
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
# Capitalized, but dates, not names: "Monday" does not answer "which airline".
_CALENDAR = frozenset(
    stems(
        "Monday Tuesday Wednesday Thursday Friday Saturday Sunday January February March "
        "April June July August September October November December Jan Feb Aug Sept Oct "
        "Nov Dec today tonight"
    )
)
_PLACE_CUE = re.compile(r"\b(?:in|at|from|near|to|across)\s+(?:the\s+)?[A-Z]")
# Words that state a cause or a motive: what answers "why" and "what led to".
_CAUSE = re.compile(
    r"\b(?:because|due to|owing to|thanks to|as a result|result(?:ed|s|ing)? (?:in|from)|"
    r"(?:led|leads?|leading) to|in order to|so that|so as to|motivat\w*|prospects? of|"
    r"lure[sd]? (?:of|by)|lured|attract(?:ed|s|ive|ion)|driven by|dr(?:ove|ives?) |"
    r"caused by|causes?|causing|reasons?|motives?|in response to|in protest|in search of|"
    r"in hopes? of|hoping to|promise[sd]? of|offer(?:ed|s)? of|incentives?|sparked|"
    r"triggered|prompted|blamed on|amid|for fear of|fear(?:ed|ing)? (?:of|that)|"
    r"to escape|desperat\w*|poverty|strong sell|appeal of|aimed at)\b",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class SentenceInfo:
    terms: tuple[str, ...]
    term_set: frozenset[str]
    names: frozenset[str]  # stems of capitalized (non-initial) words
    initial: frozenset[str]  # stems of a capitalized first word (a name, or just a capital)
    numbers: frozenset[str]  # number tokens, lower-cased
    money: bool
    percent: bool
    date: bool
    place_cue: bool
    cause: bool  # states a cause or motive ("because", "the prospect of", "led to")
    n_words: int


_FIRST_WORD = re.compile(r"[\W\d_]*([A-Z][\w'’-]*)")


@lru_cache(maxsize=65536)
def sentence_info(text: str) -> SentenceInfo:
    """Features of one sentence; cached because the same chunks come back query after query."""
    terms = tuple(stems(text))
    names = (
        frozenset(t for w in proper_words(text) if not w[0].isdigit() for t in word_stems(w))
        - _CALENDAR
    )
    first = _FIRST_WORD.match(text)
    initial = frozenset(
        word_stems(first.group(1)) if first and first.group(1).lower() not in STOPWORDS else ()
    )
    lowered = text.lower()
    numbers = frozenset(
        w
        for w in re.findall(r"[\w$€£%.,'’-]+", lowered)
        if any(c.isdigit() for c in w) or w in _QUANTITY_WORDS
    )
    return SentenceInfo(
        terms=terms,
        term_set=frozenset(terms),
        names=names,
        initial=initial,
        numbers=numbers,
        money=bool(_MONEY.search(text)),
        percent=bool(_PERCENT.search(text)),
        date=bool(_DATE.search(text)),
        place_cue=bool(_PLACE_CUE.search(text)),
        cause=bool(_CAUSE.search(text)),
        n_words=len(text.split()),
    )


def is_focused(q: Question, near: frozenset[str], match: Matcher) -> bool:
    """The attribute asked about, next to one of the names it is asked of ("president"
    next to "Colombia"), not just somewhere in the passage. True if there is none."""
    if q.focus is None:
        return True
    head, phrase = q.focus
    others = [t for t in q.names if t not in phrase]
    return bool(match(head, near)) and (not others or any(match(t, near) for t in others))


def new_names(c: Candidate, q: Question, known: frozenset[str]) -> frozenset[str]:
    return (c.info.names | (c.info.initial & known)) - q.weights.keys()


def offered_answers(
    q: Question, c: Candidate, question_lower: str, known: frozenset[str]
) -> frozenset[str]:
    """The possible answers a sentence offers: the names it adds to a who/which/where
    question, the numbers it adds to a how-many/how-much/when one (dates carry a day or
    a year). Nothing for descriptions ("other"): any sentence may describe."""
    if q.qtype in ("person", "place", "entity"):
        return new_names(c, q, known)
    if q.qtype in UNTYPED:
        return frozenset()
    return frozenset(n for n in c.info.numbers if n not in question_lower)


def name_salience(
    q: Question, candidates: Sequence[Candidate], known: frozenset[str]
) -> dict[int, float]:
    """id(candidate) -> how often its most frequent new name occurs across the candidates,
    relative to the most frequent new name of all (0..1); only for name questions."""
    if q.qtype not in ("person", "place", "entity"):
        return {}
    new = {id(c): new_names(c, q, known) for c in candidates}
    df: Counter[str] = Counter()
    for names in new.values():
        df.update(names)
    top = max(df.values(), default=0)
    if top <= 1:
        return {}
    return {k: max((df[n] for n in names), default=0) / top for k, names in new.items()}


def type_score_of(
    qtype: str, info: SentenceInfo, q: Question, question_lower: str, known: frozenset[str]
) -> float:
    """How well the sentence holds the kind of token the question asks for, in [0, 1].

    `known` holds the names seen mid-sentence anywhere in the passages: a capitalized first
    word is a name only if it is among them ("Tetris is ...", but not "Officials said").
    """
    new = [n for n in info.numbers if n not in question_lower]
    new_numbers = bool(new)
    # "20,000" answers "how many" better than "thousands".
    exact = any(any(ch.isdigit() for ch in n) for n in new)
    new_names = bool((info.names | (info.initial & known)) - q.weights.keys())  # cf. new_names
    if qtype == "money":
        return 1.0 if info.money else 0.4 if new_numbers else 0.0
    if qtype == "percent":
        return 1.0 if info.percent else 0.4 if new_numbers else 0.0
    if qtype == "number":
        return 1.0 if exact else 0.7 if new_numbers else 0.0
    if qtype == "date":
        return 1.0 if info.date else 0.3 if new_numbers else 0.0
    if qtype == "person":
        return 1.0 if new_names else 0.0
    if qtype == "place":
        return 1.0 if new_names and info.place_cue else 0.6 if new_names else 0.0
    if qtype == "entity":
        return 1.0 if new_names else 0.5 if new_numbers else 0.0
    if qtype == "reason":
        return 1.0 if info.cause else 0.0
    return 0.0


# --- candidates and the decision ---------------------------------------------------------


@dataclass(eq=False)
class Candidate:
    """One sentence of a retrieved passage, with the features the decision reads."""

    passage: int  # index into the passages given
    start: int  # absolute offsets into the document text
    end: int
    text: str
    info: SentenceInfo
    coverage: float = 0.0  # IDF-weighted share of question terms in the sentence
    context: float = 0.0  # the same over the sentence and its neighbours
    name_coverage: float = 1.0  # share of the question's names in the whole passage
    type_score: float = 0.0
    density: float = 0.0
    novelty: int = 0  # content terms the question does not have
    matched: int = 0  # question terms (not boilerplate) found in the sentence or neighbours
    relation: float = 1.0  # share of the question's relation terms there (not its names)
    focused: bool = True  # the attribute asked about (if any) is next to a name asked of
    dense: float | None = None  # the passage's cosine similarity to the query
    offers: frozenset[str] = frozenset()  # possible answers it holds: new names, numbers
    near: frozenset[str] = frozenset()  # its terms and its neighbours' in the passage
    prior: float = 0.0  # the score's parts that do not depend on the question's terms
    via: Candidate | None = None  # the first-hop sentence a linked copy is scored with
    fragment: bool = False  # a headline, byline or dateline: never quoted as an answer
    lead: float = 0.0  # 1 among its article's first LEAD_SENTENCES sentences
    salience: float = 0.0  # how often its new name recurs in the passages (name questions)
    answer_span: tuple[int, int] | None = None  # the answering phrase (span.py), if quoted
    elided: tuple[bool, bool] = (False, False)  # text cut before / after it (clause.py)
    score: float = 0.0
    admissible: bool = False


_ENDS_SENTENCE = re.compile(r"[.!?…][\"'”’)\]]*\s*$|[\"”]\s*$")


def is_fragment(text: str, title: str | None) -> bool:
    """A headline, byline or dateline rather than a sentence of the article: the title
    repeated (or part of it), or a line without a sentence's end ("With U.S. aid in doubt,
    Europe struggles to rearm Ukraine", "A Blog by Jonathan Low"). A line introducing a
    quote ("Ishaan Tharoor reports in the Washington Post:") stays: it says who reported."""
    flat = " ".join(text.split())
    if not flat:
        return True
    if title and len(flat) >= 12 and flat.rstrip(".!?").lower() in " ".join(title.split()).lower():
        return True
    return not _ENDS_SENTENCE.search(flat)


def sentence_score(c: Candidate) -> float:
    """A sentence's score: a weighted sum of its features, with penalties for repeats and
    fragments."""
    score = (
        W_COVERAGE * c.coverage
        + W_CONTEXT * c.context
        + W_TYPE * c.type_score
        + W_DENSITY * c.density
        + c.prior
    )
    if c.novelty == 0 and c.type_score == 0:
        score *= REPEAT_PENALTY
    if c.info.n_words < 4:
        score *= SHORT_PENALTY
    return score
