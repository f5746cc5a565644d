"""Matching words: stems with irregular forms and synonyms folded, prefix matches
(Russia ~ Russian), general-English rarity and local IDF."""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from functools import lru_cache

from askfront.answering.extractive.calibration import (
    PREFIX_MATCH,
    RARITY_MAX,
    RARITY_MIN,
    RARITY_PIVOT,
    RARITY_SCALE,
)
from askfront.core.text import content_terms

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
IRREGULAR_STEMS = {
    content_terms(f)[0]: content_terms(b)[0]
    for f, b in _IRREGULAR.items()
    if content_terms(f) and content_terms(b)  # some forms are stop words ("told")
}
_CANONICAL = IRREGULAR_STEMS | _SYNONYMS


_ORDINAL = re.compile(r"^(\d+)(?:st|nd|rd|th)$")


# The United States goes by many names; "US" would otherwise be the stop word "us".
_USA = re.compile(r"\bU\.S\.(?:A\.)?|\bUSA?\b|\bUnited States\b")


def stems(text: str) -> list[str]:
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
def word_stems(word: str) -> tuple[str, ...]:
    """`stems` of one word, cached: names recur across sentences."""
    return tuple(stems(word))


# Words of question boilerplate that articles rarely repeat ("this week", "the name of").
FILLER = frozenset(
    content_terms(
        "name named called week weeks recent recently new latest current currently following "
        "happen happened know known kind type exactly"
    )
)
# Function words textutil's stop list keeps (it is shared with BM25): no weight at all.
FUNCTION_WORDS = frozenset(
    content_terms(
        "among amid within toward towards across via around whether either despite without "
        "upon onto per roughly approximately mentioned article "
        # Speech verbs: articles write "said" and "told", which are stop words already.
        "talk talked speak spoke spoken"
    )
)

# "Which news network did he talk to?": the noun phrase after "which" names the answer's
# category, which the article replaces by the answer ("CNN"); it counts as filler.


RELATED_PREFIX = 4  # related stems are at least this long and share this prefix


def related_stems(a: str, b: str) -> bool:
    """Stems with a close common prefix (Russia ~ Russian, Nepal ~ Nepali).

    Snowball leaves demonyms apart from their countries; a prefix match with a short
    tail brings them together without a gazetteer.
    """
    return (
        len(a) >= RELATED_PREFIX
        and len(b) >= RELATED_PREFIX
        and abs(len(a) - len(b)) <= 3
        and (a.startswith(b) or b.startswith(a))
    )


def match_stem(term: str, terms: frozenset[str]) -> float:
    """1 for the same stem, PREFIX_MATCH for a related one, else 0."""
    if term in terms:
        return 1.0
    return PREFIX_MATCH if any(related_stems(term, t) for t in terms) else 0.0


class Matcher:
    """`match_stem` for a fixed set of question terms against sentences drawn from `vocab`:
    each term's related stems are found once, then a match is a set intersection (this
    is the answerer's inner loop)."""

    def __init__(self, terms: Iterable[str], vocab: frozenset[str]) -> None:
        # Related stems share their first RELATED_PREFIX letters: only those are compared
        # (comparing every term with every stem of the passages was ~3 ms a question).
        by_prefix: dict[str, list[str]] = {}
        for t in vocab:
            if len(t) >= RELATED_PREFIX:
                by_prefix.setdefault(t[:RELATED_PREFIX], []).append(t)
        self.near = {
            q: frozenset(
                t for t in by_prefix.get(q[:RELATED_PREFIX], ()) if t != q and related_stems(q, t)
            )
            for q in terms
        }
        self.related = frozenset(self.near).union(*self.near.values())

    def __call__(self, term: str, terms: frozenset[str]) -> float:
        if term in terms:
            return 1.0
        near = self.near.get(term)
        if near is None:
            return match_stem(term, terms)
        return PREFIX_MATCH if not near.isdisjoint(terms) else 0.0


@lru_cache(maxsize=1)
def _zipf() -> Callable[[str], float] | None:
    try:
        from wordfreq import zipf_frequency
    except ImportError:  # optional: without it every word counts as equally rare
        return None
    return lambda word: float(zipf_frequency(word, "en"))


@lru_cache(maxsize=65536)
def rarity(word: str) -> float:
    """How much a question word says, from its frequency in general English (wordfreq's
    Zipf scale: "people" 6.3, "Kremlin" 3.4, "listeria" 2.6): 0.2 .. 1.5.

    IDF over a handful of retrieved passages cannot tell "people" from "listeria" (both
    may occur once or never), so off-topic questions matched on common words looked
    answered; general rarity weighs each question word before local IDF does."""
    zipf = _zipf()
    if zipf is None:
        return 1.0
    return min(RARITY_MAX, max(RARITY_MIN, (RARITY_PIVOT - zipf(word)) / RARITY_SCALE))


def local_idf(sentences: Sequence[frozenset[str]]) -> Callable[[str], float]:
    """BM25-style IDF over the candidate sentences; unseen terms get the highest weight."""
    df: Counter[str] = Counter()
    for terms in sentences:
        df.update(terms)
    n = len(sentences)

    def idf(term: str) -> float:
        d = df.get(term, 0)
        return math.log(1.0 + (n - d + 0.5) / (d + 0.5))

    return idf


def span_density(terms: Sequence[str], matched: set[str]) -> float:
    """Matched question terms per position of the smallest span holding them all (0..1)."""
    if len(matched) < 2:
        return 0.0
    found = frozenset(matched)
    positions = [k for k, t in enumerate(terms) if match_stem(t, found)]
    span = positions[-1] - positions[0] + 1
    return min(1.0, len(matched) / span)


def jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    return len(a & b) / len(a | b) if a or b else 1.0
