"""Comparison questions: "Which is older, X or Y?", "Are A and B both magazines?".

`parse_comparison` finds the two compared names and what is compared; the answerer then
searches for each name (a second hop), and `best_evidence` picks, for each, the sentence
about it that best states the compared attribute. `verdict` decides when the quotes allow
it: two dates or numbers that can be ordered, the attribute found for one name and not
the other, or for both. The answer leads with a short sentence that cites both quotes,
and then quotes them; without a verdict it quotes them only.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from askfront.answering.extractive.calibration import (
    ABOUT_SHARE,
    ATTRIBUTE_HELD,
    W_EVIDENCE_LEAD,
    W_EVIDENCE_NAMED,
    W_EVIDENCE_TITLE,
    W_EVIDENCE_VALUE,
)
from askfront.answering.extractive.clause import clip
from askfront.answering.extractive.compose import quoted_answer, same_sentence
from askfront.answering.extractive.names import describes, name_spans
from askfront.answering.extractive.sentence import Candidate
from askfront.answering.extractive.terms import match_stem, stems
from askfront.core.text import NUMBER_WORDS, content_terms
from askfront.core.types import Answer, Passage

if TYPE_CHECKING:
    from askfront.answering.extractive.analysis import Analysis

_AUX = frozenset("is are was were do does did have has had can could will would".split())
_EARLIER = "older oldest first earlier earliest before longer-established".split()
_LATER = "younger youngest later latest newer newest recent recently last".split()
_MORE = "more most larger largest bigger biggest longer longest taller tallest higher".split()
_FEWER = "fewer fewest less least smaller smallest shorter shortest lower lowest".split()
# What a comparison asks about, not what is compared: left out of the attribute's terms.
_CUE_WORDS = frozenset(
    content_terms(" ".join([*_EARLIER, *_LATER, *_MORE, *_FEWER, "both same common between"]))
)
_YEAR = re.compile(r"\b(1[0-9]{3}|20[0-9]{2})\b")
_NUMBER = re.compile(r"\b\d[\d,]*(?:\.\d+)?\b")


@dataclass(frozen=True)
class Comparison:
    """What a comparison question compares.

    kind: "order" (older, first, more, ...: two values to order), "choice" (which of the
    two has the attribute), "both" (yes/no: do both have it), "common" (what they share).
    """

    first: str
    second: str
    kind: str
    value: str | None = None  # "date" or "number" for kind "order"
    lowest_wins: bool = True  # for "order": the earlier date / smaller number answers

    def names(self) -> tuple[str, str]:
        return self.first, self.second


def parse_comparison(question: str) -> Comparison | None:
    """The comparison `question` asks for, or None if it is not one."""
    text = question.strip()
    low = text.lower()
    words = re.findall(r"[a-z]+", low)
    order = _order(words)
    pair = _or_pair(text) or _and_pair(text, low, ordered=order is not None)
    if pair is None:
        return None
    a, b, joined_by_or = pair
    if order is not None:
        value, lowest = order
        return Comparison(a, b, "order", value, lowest)
    if joined_by_or:
        return Comparison(a, b, "choice")
    yes_no = bool(words) and words[0] in _AUX
    return Comparison(a, b, "both" if yes_no else "common")


def _order(words: Sequence[str]) -> tuple[str, bool] | None:
    """("date" | "number", whether the lowest value wins) for an ordering question."""
    for w in words:
        if w in _EARLIER:
            return "date", True
        if w in _LATER:
            return "date", False
    for w in words:
        if w in _MORE:
            return "number", False
        if w in _FEWER:
            return "number", True
    return None


def _or_pair(text: str) -> tuple[str, str, bool] | None:
    """The names either side of an "or": "..., Wavves or Social Code?"."""
    spans = name_spans(text)
    for m in re.finditer(r"\s+or\s+", text):
        left = [s for s in spans if 0 <= m.start() - s[1] <= 2]
        right = [s for s in spans if 0 <= s[0] - m.end() <= 5]
        if left and right:
            return left[-1][2], right[0][2], True
    return None


def _and_pair(text: str, low: str, ordered: bool) -> tuple[str, str, bool] | None:
    """The names either side of an "and" in "both A and B", "A and B ... both/in common/the
    same", or, in a question that orders ("older", "first"), "between A and B" and "of A
    and B"."""
    shared = re.search(r"\b(?:both|in common|same)\b", low)
    if not shared and not ordered:
        return None
    spans = name_spans(text, join_and=False)
    for m in re.finditer(r"\s+and\s+", text):
        left = [s for s in spans if 0 <= m.start() - s[1] <= 1]
        right = [s for s in spans if 0 <= s[0] - m.end() <= 5]
        if not (left and right):
            continue
        before = low[: left[-1][0]].split()[-3:]
        if shared or "between" in before or before[-1:] == ["of"]:
            return left[-1][2], _trim_predicate(right[0][2]), False
    return None


def _trim_predicate(name: str) -> str:
    """ "Are both Deerhunter and Nine Lashes American Christian rock bands?": capitalized
    words that end the second name's run but describe it belong to the predicate."""
    words = name.split()
    while len(words) > 2 and describes(words[-1]):
        words.pop()
    return " ".join(words)


def comparison_queries(comparison: Comparison, question: str) -> list[str]:
    """One search per compared name, with what is compared ("Wavves band formed")."""
    rest = question
    for name in comparison.names():
        rest = rest.replace(name, " ")
    attribute = " ".join(w for w in re.findall(r"[\w'’-]+", rest) if content_terms(w))
    return [f"{name} {attribute}".strip() for name in comparison.names()]


@dataclass
class Evidence:
    name: str
    candidate: Candidate
    attribute: float  # weighted share of the compared attribute's terms it matches
    value: float | None  # its date or number, for "order" comparisons


def attribute_weights(comparison: Comparison, analysis: Analysis) -> dict[str, float]:
    """The question's term weights without the compared names, the comparison's words and
    other names ("Avalon Hill"); describing words stay ("both English?")."""
    named = {t for n in comparison.names() for t in stems(n)}
    question = analysis.question
    if question is not None:
        named |= {t for t, w in question.names.items() if not describes(w)}
    return {t: w for t, w in analysis.weights.items() if t not in named | _CUE_WORDS}


def best_evidence(
    name: str, comparison: Comparison, analysis: Analysis, passages: Sequence[Passage]
) -> Evidence | None:
    """The sentence about `name` that best states the compared attribute, if any."""
    terms = frozenset(stems(name))
    weights = attribute_weights(comparison, analysis)
    total = sum(weights.values())
    best: Evidence | None = None
    best_score = 0.0
    for c in analysis.candidates:
        title = frozenset(stems(passages[c.passage].title or ""))
        if not terms or _share(terms, c.near | title) < ABOUT_SHARE:
            continue
        attribute = (
            sum(w * match_stem(t, c.near) for t, w in weights.items()) / total if total else 0.0
        )
        value = _value(c.text, comparison, weights) if comparison.kind == "order" else None
        titled = _share(terms, title) >= ABOUT_SHARE
        named = _share(terms, c.info.term_set)
        # Evidence comes from the name's own article, or names it and states what is
        # asked: a passing mention elsewhere ("... a species of the genus Othonna") is not
        # evidence about the name.
        if not titled and not (
            named >= ABOUT_SHARE and (attribute >= ATTRIBUTE_HELD or value is not None)
        ):
            continue
        lead = passages[c.passage].chunk.index == 0 and c.start == passages[c.passage].chunk.start
        score = (
            attribute
            + W_EVIDENCE_VALUE * (value is not None)
            + W_EVIDENCE_LEAD * lead
            + W_EVIDENCE_TITLE * titled
            + W_EVIDENCE_NAMED * named
        )
        if score > best_score:
            best, best_score = Evidence(name, c, attribute, value), score
    return best


def evidence_span(e: Evidence, comparison: Comparison) -> tuple[int, int] | None:
    """What a quote of `e` must show: its mention of the compared name through the value
    compared (an "order" comparison's year or number), as offsets into its text; None
    when the sentence does not name it (its article's title does)."""
    text, wanted = e.candidate.text, frozenset(stems(e.name))
    named = [(s, t) for s, t, phrase in name_spans(text) if wanted & frozenset(stems(phrase))]
    if not named:
        return None
    start, end = named[0]
    if e.value is not None:
        shown = _show(e.value, comparison.value)
        at = text.find(shown) if shown else -1
        if at >= 0:
            start, end = min(start, at), max(end, at + len(shown))
    return (start, end)


def _share(terms: frozenset[str], pool: frozenset[str]) -> float:
    return sum(match_stem(t, pool) > 0 for t in terms) / len(terms)


def _value(text: str, comparison: Comparison, weights: dict[str, float]) -> float | None:
    """The sentence's date (its first year), or its number of what is compared (the
    number just before a word of the attribute: "about 120 species")."""
    if comparison.value == "date":
        m = _YEAR.search(text)
        return float(m.group(1)) if m else None
    tokens = re.findall(r"[\w.,]+", text.lower())
    for k, tok in enumerate(tokens):
        tok = tok.strip(".,")
        if tok in NUMBER_WORDS:
            number = float(NUMBER_WORDS[tok])
        elif _NUMBER.fullmatch(tok) and not _YEAR.fullmatch(tok):
            number = float(tok.replace(",", ""))
        else:
            continue
        after = {t for w in tokens[k + 1 : k + 4] for t in stems(w)}
        if after & weights.keys():
            return number
    return None


@dataclass
class Verdict:
    """The direct answer the evidence allows: the text leads the answer."""

    text: str
    first: Evidence  # quoted first, as [1]
    second: Evidence


def verdict(comparison: Comparison, a: Evidence, b: Evidence) -> Verdict | None:
    """The answer the two quotes allow, if they allow one; [1] and [2] cite them in the
    returned order."""
    if comparison.kind == "order":
        if a.value is None or b.value is None or a.value == b.value:
            return None
        first_wins = (a.value < b.value) == comparison.lowest_wins
        win, lose = (a, b) if first_wins else (b, a)
        what = "dates" if comparison.value == "date" else "figures"
        return Verdict(
            f"{win.name}, by the {what} quoted: {_show(win.value, comparison.value)} [1] "
            f"against {_show(lose.value, comparison.value)} for {lose.name} [2].",
            win,
            lose,
        )
    held_a, held_b = a.attribute >= ATTRIBUTE_HELD, b.attribute >= ATTRIBUTE_HELD
    if comparison.kind == "both":
        if held_a and held_b:
            return Verdict(
                f"Yes: the articles say so of both, {a.name} [1] and {b.name} [2].", a, b
            )
        if held_a != held_b:
            has, lacks = (a, b) if held_a else (b, a)
            return Verdict(
                f"No: the articles say so of {has.name} [1], not of {lacks.name} [2].", has, lacks
            )
        return None
    if comparison.kind == "choice" and held_a != held_b:
        win, lose = (a, b) if held_a else (b, a)
        return Verdict(f"{win.name} [1], rather than {lose.name} [2].", win, lose)
    return None


def _show(value: float | None, kind: str | None) -> str:
    if value is None:
        return ""
    if kind == "date":
        return f"{value:.0f}"
    return f"{value:,.0f}" if value == int(value) else f"{value:,}"


def comparison_answer(
    comparison: Comparison,
    a: Evidence,
    b: Evidence,
    passages: Sequence[Passage],
    weigh: Callable[[frozenset[str]], float] | None = None,
) -> Answer:
    """The verdict (if the quotes allow one) citing both quotes, then the quotes; with
    `weigh` (the question-term weight of a term set), each quote cut to the clause naming
    its name and value (clause.py)."""
    if weigh is not None:
        for e in (a, b):
            marked = replace(e.candidate, answer_span=evidence_span(e, comparison))
            e.candidate = clip(marked, weigh)
    found = verdict(comparison, a, b)
    if found is None:
        return quoted_answer([a.candidate, b.candidate], passages)
    lead = found.text
    if same_sentence(found.first.candidate, found.second.candidate):
        lead = lead.replace("[2]", "[1]")  # one sentence speaks of both
    return quoted_answer([found.first.candidate, found.second.candidate], passages, lead)
