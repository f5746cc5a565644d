"""The offline answerer: the best sentences of the retrieved passages, quoted verbatim.

No model runs at query time (the whole ask() has a budget of ~30 ms): sentences are scored
by IDF-weighted overlap of the question's content terms, a proximity bonus, the
passage's retrieval rank, and whether the sentence holds the kind of token the question
asks for (a number for "how many", a name for "who", ...). Further sentences are quoted
only if they offer another possible answer (a name or number the quoted ones lack), so a
wrong first pick can be made up for rather than repeated. When no sentence supports an
answer, the answerer refuses and lists the closest passages as related reading.

Follow-ups are read with `askfront.followup`: the question's own terms count fully, the
terms carried over from the previous user turn at CARRIED_WEIGHT.
"""

from __future__ import annotations

import logging
import math
import re
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import Any

from askfront.answer import REFUSAL_TEXT, Answerer
from askfront.followup import carried_words, proper_words
from askfront.textutil import STOPWORDS, content_terms, words
from askfront.types import Answer, AnswerSentence, Citation, Passage, Turn

logger = logging.getLogger(__name__)

# --- Refusal thresholds ------------------------------------------------------------------
# Calibrated with benchmarks/calibrate_refusal.py --sweep on 551 questions retrieved by the
# real hybrid pipeline (top_k=5): the seed set (57 questions about the default article, 11
# unanswerable), RealTimeQA-2024 against the default one-article corpus (247, all
# unanswerable there) and against its own 500 articles (247, all answerable). The grid
# maximized pooled refusal F1 + mean per-set accuracy; STRONG, DENSE_SUPPORT and
# SECOND_SENTENCE_RATIO sit on plateaus, MIN_NAME_COVERAGE on a 0.6-0.7 plateau (0.7 kept:
# it refuses one more off-topic question). WEAK_COVERAGE is the sharpest, and fitted to a
# small set: 0.20 gives one more seed miss, 0.25 one more seed miss and 1.6 points less
# RealTimeQA accuracy, 0.30 five points less.

MIN_NAME_COVERAGE = 0.7
"""Share (IDF-weighted) of the question's names and numbers the passage must contain.

Names are rarely paraphrased, so a missing one ("Chinese" in a passage about Nepalis and
Indians) means the passage is about something else."""

STRONG_COVERAGE = 0.6
"""Coverage of the question's terms (sentence plus its neighbours) that suffices alone."""

WEAK_COVERAGE = 0.22
"""Coverage that suffices when the sentence also holds the asked-for kind of token (or the
dense side finds the passage close): common words are often paraphrased ("paid" vs
"salary")."""

DENSE_NAME_RELAX = 0.6
"""Cosine similarity from which the dense side may vouch for a passage that misses some
of the question's names (long questions name more context than an article repeats); the
name threshold is then halved. Off-topic and near-miss questions stay below it."""

DENSE_FLOOR = 0.2
"""Below this cosine similarity the passage is off-topic for the dense side, and only
STRONG_COVERAGE answers (a rare name matched in full still does: "Who is Ramchandra
Khadka?" scores low on the dense side)."""

DENSE_SUPPORT = 0.45
"""Cosine similarity of the passage to the query that vouches for a weakly covered one."""

SECOND_SENTENCE_RATIO = 0.7
"""A second sentence is quoted only if it scores at least this share of the first."""

RARITY_PIVOT, RARITY_SCALE, RARITY_MIN, RARITY_MAX = 7.5, 4.0, 0.2, 1.5  # see _rarity
NUMBER_NAME_WEIGHT = 0.5  # a number's share in name coverage, relative to a name's
CARRIED_WEIGHT = 0.5  # weight of terms carried over from the previous turn
FILLER_WEIGHT = 0.3  # weight of question boilerplate ("name", "week", ...)
PREFIX_MATCH = 0.8  # credit for a prefix match of stems (Russia ~ Russian, Nepal ~ Nepali)
DUPLICATE_JACCARD = 0.6  # sentences this alike (term sets) are quoted once

# Sentence score = weighted sum of these features (each in [0, 1]).
W_COVERAGE, W_CONTEXT, W_TYPE, W_DENSITY, W_RANK = 0.55, 0.15, 0.3, 0.05, 0.05
# For who/which/where questions: how often the sentence's new names recur in the passages.
# An article about the answer names it again and again (redundancy, as in AskMSR).
W_SALIENCE = 0.3
# News puts the main fact first: the first sentences of an article get a small bonus.
W_LEAD, LEAD_SENTENCES = 0.1, 4
REPEAT_PENALTY = 0.5  # factor for a sentence that adds nothing to the question
SHORT_PENALTY = 0.7  # factor for fragments under 4 words (headings, bylines)

# Snowball leaves irregular verb forms apart ("chose" vs "choose"); these are mapped to the
# base form's stem. A short list of the common ones rather than a lemmatizer: lemmatizers
# need downloaded data (nltk) or a heavy model (spaCy), and this runs per sentence.
_IRREGULAR = {
    form: base
    for base, forms in {
        "begin": "began begun", "break": "broke broken", "bring": "brought",
        "build": "built", "buy": "bought", "catch": "caught", "choose": "chose chosen",
        "come": "came", "drive": "drove driven", "eat": "ate eaten",
        "fall": "fell fallen", "feel": "felt", "fight": "fought", "find": "found",
        "fly": "flew flown", "forget": "forgot forgotten", "get": "got gotten",
        "give": "gave given", "go": "went gone", "grow": "grew grown", "hold": "held",
        "keep": "kept", "know": "knew known", "lead": "led", "leave": "left", "lose": "lost",
        "make": "made", "meet": "met", "pay": "paid", "ride": "rode ridden", "rise": "rose risen",
        "run": "ran", "see": "saw seen", "sell": "sold", "send": "sent", "shoot": "shot",
        "sing": "sang sung", "sit": "sat", "speak": "spoke spoken", "spend": "spent",
        "stand": "stood", "steal": "stole stolen", "strike": "struck", "take": "took taken",
        "teach": "taught", "tell": "told", "think": "thought", "throw": "threw thrown",
        "win": "won", "write": "wrote written",
    }.items()
    for form in forms.split()
}  # fmt: skip
# News writes one fact many ways; these few equivalences are the commonest in questions.
_SYNONYMS = {
    "kill": "die", "dead": "die", "death": "die", "salari": "pay", "wage": "pay", "soldier": "troop"
}  # fmt: skip
_IRREGULAR_STEMS = {
    content_terms(f)[0]: content_terms(b)[0]
    for f, b in _IRREGULAR.items()
    if content_terms(f) and content_terms(b)  # some forms are stop words ("told")
}
_CANONICAL = _IRREGULAR_STEMS | _SYNONYMS


_ORDINAL = re.compile(r"^(\d+)(?:st|nd|rd|th)$")


# The United States goes by many names; "US" would otherwise be the stop word "us".
_USA = re.compile(r"\bU\.S\.(?:A\.)?|\bUSA?\b|\bUnited States\b")


def _terms(text: str) -> list[str]:
    """Content-term stems for matching: hyphenated words split ("37-year-old" -> 37, year,
    old), irregular verb forms and a few synonyms mapped to one stem ("chose" -> choos,
    "killed" -> die), ordinals to numbers ("13th" -> 13),
    "U.S."/"US"/"United States" to "America" (which also prefix-matches "American")."""
    out = []
    for t in content_terms(_USA.sub("America", text).replace("-", " ")):
        m = _ORDINAL.match(t)
        out.append(m.group(1) if m else _CANONICAL.get(t, t))
    return out


@lru_cache(maxsize=65536)
def _word_terms(word: str) -> tuple[str, ...]:
    """`_terms` of one word, cached: names recur across sentences."""
    return tuple(_terms(word))


# Words of question boilerplate that articles rarely repeat ("this week", "the name of").
_FILLER = frozenset(
    content_terms(
        "name named called week weeks recent recently new latest current currently following "
        "happen happened know known kind type exactly"
    )
)
# Function words textutil's stop list keeps (it is shared with BM25): no weight at all.
_FUNCTION = frozenset(
    content_terms(
        "among amid within toward towards across via around whether either despite without "
        "upon onto per roughly approximately mentioned article "
        # Speech verbs: articles write "said" and "told", which are stop words already.
        "talk talked speak spoke spoken"
    )
)

# "Which news network did he talk to?": the noun phrase after "which" names the answer's
# category, which the article replaces by the answer ("CNN"); it counts as filler.


def _category(question: str) -> set[str]:
    """Stems of the noun phrase after "which" ("news network", "American restaurant
    chain"): a category, which the article replaces by the answer. Lower-case words count
    as filler; names in it ("Kremlin mouthpiece") keep their weight but need not match."""
    m = re.search(r"\bwhich\s+([\w\s'’-]+)", question, re.IGNORECASE)
    if not m:
        return set()
    out: set[str] = set()
    for k, w in enumerate(m.group(1).split()[:4]):
        low = w.lower().replace("’", "'").removesuffix("'s")
        stem = content_terms(low)
        if not stem or (k and (low.endswith(("ed", "ly")) or stem[0] in _IRREGULAR_STEMS)):
            break
        out.add(stem[0])
    return out


@dataclass(frozen=True)
class Thresholds:
    """The refusal thresholds; the defaults are the calibrated module constants."""

    min_name_coverage: float = MIN_NAME_COVERAGE
    strong_coverage: float = STRONG_COVERAGE
    weak_coverage: float = WEAK_COVERAGE
    dense_floor: float = DENSE_FLOOR
    dense_support: float = DENSE_SUPPORT
    dense_name_relax: float = DENSE_NAME_RELAX
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
    "number score amount total count age rate size population margin toll".split()
)
_PERCENT_NOUNS = frozenset("percentage percent share proportion".split())
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
        names = {t for w in proper_words(text_cased) for t in _terms(w)}
        described = set(_terms(" ".join(rest)))
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
    # what / which: the noun phrase after it says the type ("what monthly salary").
    head = [w for w in rest if w and w not in _SKIP][:3]
    for nouns, kind in (
        (_DATE_NOUNS, "date"),
        (_PERCENT_NOUNS, "percent"),
        (_MONEY_NOUNS, "money"),
        (_NUMBER_NOUNS, "number"),
        (_PLACE_NOUNS, "place"),
        (_PERSON_NOUNS, "person"),
    ):
        if any(w in nouns for w in head):
            return kind
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
    content_terms(
        "name number score amount total count percentage share proportion year date size "
        "length height width weight age distance duration toll value rate level"
    )
)


def _focus(question: str) -> tuple[str, frozenset[str]] | None:
    """The head stem of the attribute a "what/who is the X of Y" question asks for, and the
    stems of its whole phrase ("prime minister"), if there is one."""
    m = _FOCUS.search(question)
    if not m:
        return None
    terms = _terms(m.group(1))
    if not terms or terms[-1] in _NOT_FOCUS or terms[-1] in _FILLER:
        return None
    return terms[-1], frozenset(terms)


@dataclass
class _Question:
    weights: dict[str, float]  # stem -> role weight (before IDF and rarity)
    forms: dict[str, str]  # stem -> a lower-case word form, for word-frequency look-ups
    names: dict[str, str]  # stem -> word, for the question's names and numbers
    qtype: str
    focus: tuple[str, frozenset[str]] | None  # the attribute asked about: head, phrase


def _analyze_question(question: str, carried: Sequence[str]) -> _Question:
    weights: dict[str, float] = {}
    category = _category(question)
    cased = {t for w in proper_words(question) for t in _terms(w)}
    for t in _terms(question):
        if t not in _FUNCTION:
            filler = t in _FILLER or (t in category and t not in cased)
            weights[t] = FILLER_WEIGHT if filler else 1.0
    for w in carried:
        for t in _terms(w):
            weights.setdefault(t, CARRIED_WEIGHT)
    names: dict[str, str] = {}
    carried_names = [w for w in carried if w[0].isupper() or any(c.isdigit() for c in w)]
    for w in [*proper_words(question), *carried_names]:
        numeric = any(c.isdigit() for c in w)
        for t in _terms(w):
            if numeric and not any(c.isdigit() for c in t):
                continue  # "37-year-old": the number is the name-like part
            if t in weights and weights[t] > FILLER_WEIGHT and t not in category:
                names.setdefault(t, t if numeric else w)
    forms: dict[str, str] = {}
    for w in words(" ".join([question, *carried]).replace("-", " ")):
        for t in _terms(w):
            forms.setdefault(t, w)
    return _Question(weights, forms, names, _answer_type(question), _focus(question))


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
# Capitalized, but dates, not names: "Monday" does not answer "which airline".
_CALENDAR = frozenset(
    _terms(
        "Monday Tuesday Wednesday Thursday Friday Saturday Sunday January February March "
        "April June July August September October November December Jan Feb Aug Sept Oct "
        "Nov Dec today tonight"
    )
)
_PLACE_CUE = re.compile(r"\b(?:in|at|from|near|to|across)\s+(?:the\s+)?[A-Z]")


@dataclass(frozen=True)
class _SentenceInfo:
    terms: tuple[str, ...]
    term_set: frozenset[str]
    names: frozenset[str]  # stems of capitalized (non-initial) words
    initial: frozenset[str]  # stems of a capitalized first word (a name, or just a capital)
    numbers: frozenset[str]  # number tokens, lower-cased
    money: bool
    percent: bool
    date: bool
    place_cue: bool
    n_words: int


_FIRST_WORD = re.compile(r"[\W\d_]*([A-Z][\w'’-]*)")


@lru_cache(maxsize=65536)
def _sentence_info(text: str) -> _SentenceInfo:
    """Features of one sentence; cached because the same chunks come back query after query."""
    terms = tuple(_terms(text))
    names = (
        frozenset(t for w in proper_words(text) if not w[0].isdigit() for t in _word_terms(w))
        - _CALENDAR
    )
    first = _FIRST_WORD.match(text)
    initial = frozenset(
        _word_terms(first.group(1)) if first and first.group(1).lower() not in STOPWORDS else ()
    )
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
        initial=initial,
        numbers=numbers,
        money=bool(_MONEY.search(text)),
        percent=bool(_PERCENT.search(text)),
        date=bool(_DATE.search(text)),
        place_cue=bool(_PLACE_CUE.search(text)),
        n_words=len(text.split()),
    )


def _focused(q: _Question, near: frozenset[str], match: _Matcher) -> bool:
    """The attribute asked about, next to one of the names it is asked of ("president"
    next to "Colombia"), not just somewhere in the passage. True if there is none."""
    if q.focus is None:
        return True
    head, phrase = q.focus
    others = [t for t in q.names if t not in phrase]
    return bool(match(head, near)) and (not others or any(match(t, near) for t in others))


def _new_names(c: Candidate, q: _Question, known: frozenset[str]) -> frozenset[str]:
    return (c.info.names | (c.info.initial & known)) - q.weights.keys()


def _offers(
    q: _Question, c: Candidate, question_lower: str, known: frozenset[str]
) -> frozenset[str]:
    """The possible answers a sentence offers: the names it adds to a who/which/where
    question, the numbers it adds to a how-many/how-much/when one (dates carry a day or
    a year). Nothing for descriptions ("other"): any sentence may describe."""
    if q.qtype in ("person", "place", "entity"):
        return _new_names(c, q, known)
    if q.qtype == "other":
        return frozenset()
    return frozenset(n for n in c.info.numbers if n not in question_lower)


def _salience(
    q: _Question, candidates: Sequence[Candidate], known: frozenset[str]
) -> dict[int, float]:
    """id(candidate) -> how often its most frequent new name occurs across the candidates,
    relative to the most frequent new name of all (0..1); only for name questions."""
    if q.qtype not in ("person", "place", "entity"):
        return {}
    new = {id(c): _new_names(c, q, known) for c in candidates}
    df: Counter[str] = Counter()
    for names in new.values():
        df.update(names)
    top = max(df.values(), default=0)
    if top <= 1:
        return {}
    return {k: max((df[n] for n in names), default=0) / top for k, names in new.items()}


def _related(a: str, b: str) -> bool:
    """Stems with a close common prefix (Russia ~ Russian, Nepal ~ Nepali).

    Snowball leaves demonyms apart from their countries; a prefix match with a short
    tail brings them together without a gazetteer.
    """
    return (
        len(a) >= 4
        and len(b) >= 4
        and abs(len(a) - len(b)) <= 3
        and (a.startswith(b) or b.startswith(a))
    )


def _match(term: str, terms: frozenset[str]) -> float:
    """1 for the same stem, PREFIX_MATCH for a related one, else 0."""
    if term in terms:
        return 1.0
    return PREFIX_MATCH if any(_related(term, t) for t in terms) else 0.0


class _Matcher:
    """`_match` for a fixed set of question terms against sentences drawn from `vocab`:
    each term's related stems are found once, then a match is a set intersection (this
    is the answerer's inner loop)."""

    def __init__(self, terms: Iterable[str], vocab: frozenset[str]) -> None:
        self.near = {q: frozenset(t for t in vocab if t != q and _related(q, t)) for q in terms}
        self.related = frozenset(self.near).union(*self.near.values())

    def __call__(self, term: str, terms: frozenset[str]) -> float:
        if term in terms:
            return 1.0
        near = self.near.get(term)
        if near is None:
            return _match(term, terms)
        return PREFIX_MATCH if not near.isdisjoint(terms) else 0.0


def _type_score(
    qtype: str, info: _SentenceInfo, q: _Question, question_lower: str, known: frozenset[str]
) -> float:
    """How well the sentence holds the kind of token the question asks for, in [0, 1].

    `known` holds the names seen mid-sentence anywhere in the passages: a capitalized first
    word is a name only if it is among them ("Tetris is ...", but not "Officials said").
    """
    new = [n for n in info.numbers if n not in question_lower]
    new_numbers = bool(new)
    # "20,000" answers "how many" better than "thousands".
    exact = any(any(ch.isdigit() for ch in n) for n in new)
    new_names = bool((info.names | (info.initial & known)) - q.weights.keys())  # cf. _new_names
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
    matched: int = 0  # question terms (not boilerplate) found in the sentence or neighbours
    focused: bool = True  # the attribute asked about (if any) is next to a name asked of
    dense: float | None = None  # the passage's cosine similarity to the query
    offers: frozenset[str] = frozenset()  # possible answers it holds: new names, numbers
    score: float = 0.0
    admissible: bool = False


@dataclass
class Analysis:
    """Everything the answerer computed for one question (for calibration and debugging)."""

    qtype: str
    weights: dict[str, float]  # stem -> final weight (role x IDF x rarity)
    names: dict[str, str]
    candidates: list[Candidate] = field(default_factory=list)
    informative: int = 0  # question terms that are not boilerplate
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
        """Score every sentence of `passages` against `question`. Thresholds play no part
        here (see `decide`), so a calibration sweep analyzes each question once."""
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
                group.append(Candidate(i, s, e, text, _sentence_info(text), dense=p.dense_score))
            by_passage.append(group)
            candidates.extend(group)

        idf = self.idf or _local_idf([c.info.term_set for c in candidates])
        weights = {t: role * idf(t) * _rarity(q.forms.get(t, t)) for t, role in q.weights.items()}
        total = sum(weights.values())
        informative = {t for t, role in q.weights.items() if role > FILLER_WEIGHT}
        analysis = Analysis(q.qtype, weights, q.names, candidates, informative=len(informative))
        if not candidates or total <= 0:
            analysis.missing_names = list(q.names.values())
            return analysis

        # Numbers count half: articles write them in many ways ("Aug. 15-18", "15th").
        name_weight = {t: weights[t] * (NUMBER_NAME_WEIGHT if t[0].isdigit() else 1.0)
                       for t in q.names}  # fmt: skip
        name_total = sum(name_weight.values())
        match = _Matcher(weights, frozenset().union(*(c.info.term_set for c in candidates)))

        def name_share(terms: frozenset[str]) -> float:
            if name_total <= 0:
                return 1.0
            return sum(w for t, w in name_weight.items() if match(t, terms)) / name_total

        lowered = question.lower()
        known = frozenset().union(*(c.info.names for c in candidates))
        salience = _salience(q, candidates, known)
        found: set[str] = set()
        for i, group in enumerate(by_passage):
            passage_terms = frozenset().union(*(c.info.term_set for c in group))
            found |= {t for t in q.names if match(t, passage_terms)}
            name_cov = name_share(passage_terms)
            for j, c in enumerate(group):
                near = c.info.term_set.union(
                    *(n.info.term_set for n in group[max(0, j - 1) : j + 2])
                )
                own = {t: match(t, c.info.term_set) for t in weights}
                near_match = {t: match(t, near) for t in weights}
                c.coverage = sum(weights[t] * m for t, m in own.items()) / total
                c.context = max(
                    c.coverage, sum(weights[t] * m for t, m in near_match.items()) / total
                )
                c.matched = sum(1 for t, m in near_match.items() if m and t in informative)
                c.name_coverage = name_cov
                c.focused = _focused(q, near, match)
                c.type_score = _type_score(q.qtype, c.info, q, lowered, known)
                c.offers = _offers(q, c, lowered, known)
                c.density = _density(c.info.terms, {t for t, m in own.items() if m})
                c.novelty = sum(1 for t in c.info.term_set if t not in match.related)
                c.score = (
                    W_COVERAGE * c.coverage
                    + W_CONTEXT * c.context
                    + W_TYPE * c.type_score
                    + W_DENSITY * c.density
                    + W_RANK / (1 + i)
                    + (W_LEAD if passages[i].chunk.index == 0 and j < LEAD_SENTENCES else 0.0)
                    + W_SALIENCE * salience.get(id(c), 0.0)
                )
                if c.novelty == 0 and c.type_score == 0:
                    c.score *= REPEAT_PENALTY
                if c.info.n_words < 4:
                    c.score *= SHORT_PENALTY
        analysis.missing_names = [w for t, w in q.names.items() if t not in found]
        return analysis

    def decide(self, analysis: Analysis) -> list[Candidate]:
        """Mark the admissible sentences under these thresholds; return those to quote
        (best first). Empty means refuse."""
        for c in analysis.candidates:
            c.admissible = self._admissible(c, analysis)
        return self._select(analysis)

    def _admissible(self, c: Candidate, a: Analysis) -> bool:
        """Whether sentence `c` may be quoted as an answer to the analyzed question."""
        th = self.thresholds
        if c.coverage <= 0 or c.novelty == 0 or not c.focused:
            return False
        relaxed = c.dense is not None and c.dense >= th.dense_name_relax
        if c.name_coverage < th.min_name_coverage * (0.5 if relaxed else 1.0):
            return False
        # One shared word is chance when the question has three or more ("Which city was
        # rocked by a bridge collapse?" vs "raids ... in various cities").
        if c.matched < 2 and a.informative >= 3:
            return False
        # A "how many" question is not answered by a sentence without a number, however
        # well it matches.
        if a.qtype != "other" and c.type_score < 0.5:
            return False
        if c.context >= th.strong_coverage:
            return True
        if c.dense is not None and c.dense < th.dense_floor:
            return False
        vouched = c.dense is not None and c.dense >= th.dense_support
        return c.context >= th.weak_coverage and (a.qtype != "other" or vouched)

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
        chosen = self.decide(analysis)
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
        offered = set(best.offers)
        for c in ranked:
            if len(chosen) >= self.max_sentences or c.score < floor:
                break
            if any(_jaccard(c.info.term_set, o.info.term_set) >= DUPLICATE_JACCARD for o in chosen):
                continue
            # For a question asking for a name or a number, a further sentence must offer
            # another possible answer: if the best sentence's answer is wrong, a sentence
            # repeating it does not help, one naming a rival might.
            if analysis.qtype != "other" and c.offers <= offered:
                continue
            offered |= c.offers
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


@lru_cache(maxsize=1)
def _zipf() -> Callable[[str], float] | None:
    try:
        from wordfreq import zipf_frequency
    except ImportError:  # optional: without it every word counts as equally rare
        return None
    return lambda word: float(zipf_frequency(word, "en"))


@lru_cache(maxsize=65536)
def _rarity(word: str) -> float:
    """How much a question word says, from its frequency in general English (wordfreq's
    Zipf scale: "people" 6.3, "Kremlin" 3.4, "listeria" 2.6): 0.2 .. 1.5.

    IDF over a handful of retrieved passages cannot tell "people" from "listeria" (both
    may occur once or never), so off-topic questions matched on common words looked
    answered; general rarity weighs each question word before local IDF does."""
    zipf = _zipf()
    if zipf is None:
        return 1.0
    return min(RARITY_MAX, max(RARITY_MIN, (RARITY_PIVOT - zipf(word)) / RARITY_SCALE))


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
