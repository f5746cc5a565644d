"""Refusal against plausible distractors: the names and numbers a question states must be
stated where its answer is quoted from.

A question about a name or number the passage does not state ("How many Cubans were
killed?" of a passage counting Nepali deaths; "... in 2019?" of one about 2022) is on topic,
so term coverage and the dense score pass it. The check here works on claims, not pooled
coverage: each name phrase of the question ("Emmanuel Macron") and each number ("2,000")
must be stated in the candidate sentence's passage (the linked first-hop passage counts
for a two-hop answer), and a share of them next to the sentence itself.

Normalisations: numbers by value ("2,000" is "2000", "16-year-old" holds "16"); names by
stem, with the answerer's own matcher (case, possessives, Russia ~ Russian); a phrase is
stated when CLAIM_SUPPORT of its weight is (name parts: "Macron" for "Emmanuel Macron").
The thresholds are calibrated by benchmarks/calibrate_refusal.py (calibration.py).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from askfront.answering.extractive.analysis import Analysis
from askfront.answering.extractive.calibration import Thresholds
from askfront.answering.extractive.names import name_spans
from askfront.answering.extractive.sentence import Candidate
from askfront.answering.extractive.terms import stems

# A number as written: digits with thousands commas or a decimal point, ending at a
# non-digit ("16-year-old", "1990s", "$2,000").
_NUMBER = re.compile(r"(?<![\d.,])(\d{1,3}(?:,\d{3})+|\d+(?:\.\d+)?)(?![\d])")


def numbers_in(text: str) -> frozenset[str]:
    """The numbers of `text` by value: "2,000" and "2000" are one."""
    return frozenset(m.group(1).replace(",", "") for m in _NUMBER.finditer(text))


@dataclass(frozen=True)
class Claim:
    """A name or number the question states."""

    text: str  # as asked
    terms: frozenset[str]  # its stems among the question's names (empty for a number)
    weight: float
    number: str | None = None  # its value, for a number


def claims(analysis: Analysis) -> list[Claim]:
    """The name phrases and numbers of the question as asked (carried words are the
    follow-up's topic, checked by coverage): each name phrase once, with the weights the
    answerer gave its words; lone capitalized words the phrases miss count on their own."""
    text = analysis.question_text
    names = {t for t in analysis.names if not t[0].isdigit()}
    out: list[Claim] = []
    covered: set[str] = set()
    for _, _, phrase in name_spans(text):
        terms = frozenset(stems(phrase)) & names
        if terms and not terms <= covered:
            covered |= terms
            out.append(Claim(phrase, terms, sum(analysis.weights.get(t, 0.0) for t in terms)))
    for t in sorted(names - covered):
        if analysis.names[t].lower() in text.lower():
            out.append(Claim(analysis.names[t], frozenset([t]), analysis.weights.get(t, 0.0)))
    for value in sorted(numbers_in(text)):
        weight = max(analysis.weights.get(value, 0.0), 1.0)
        out.append(Claim(value, frozenset(), weight, number=value))
    return out


class Support:
    """Whether each candidate sentence states the question's claims (see the module doc).

    Args:
        analysis: the analyzed question and its candidates.
        thresholds: `claim_support` (share of a phrase's weight that states it; 0 turns
            the check off), `claim_share` (weighted share of the claims the passage must
            state), `claim_near` (share the sentence and its neighbours must state) and
            `claim_relax` (cosine from which the dense side may vouch for a passage
            stating only `min_name_coverage` x that share).
    """

    def __init__(self, analysis: Analysis, thresholds: Thresholds) -> None:
        self.analysis = analysis
        self.th = thresholds
        self.claims = claims(analysis) if thresholds.claim_support > 0 else []
        self.total = sum(c.weight for c in self.claims)
        numbers: dict[int, set[str]] = {}
        for c in analysis.candidates:
            numbers.setdefault(c.passage, set()).update(numbers_in(c.text))
        self.numbers = {i: frozenset(n) for i, n in numbers.items()}

    def stated(self, claim: Claim, terms: frozenset[str], numbers: frozenset[str]) -> bool:
        """Whether `claim` is stated in a text of these stems and numbers."""
        if claim.number is not None:
            return claim.number in numbers
        match: Callable[[str, frozenset[str]], float] | None = self.analysis.match
        if match is None or claim.weight <= 0:
            return all(t in terms for t in claim.terms)
        weights = self.analysis.weights
        held = sum(weights.get(t, 0.0) * match(t, terms) for t in claim.terms)
        return held >= self.th.claim_support * claim.weight

    def share(self, c: Candidate, near: bool) -> float:
        """Weighted share of the claims stated around `c`: its sentence and neighbours
        (`near`), else its passage and, for a linked sentence, the first hop's."""
        if self.total <= 0:
            return 1.0
        a = self.analysis
        parts = [c, *([c.via] if c.via is not None else [])]
        if near:
            terms = frozenset().union(*(p.near for p in parts))
            numbers = frozenset().union(*(numbers_in(p.text) for p in parts))
        else:
            terms = frozenset().union(
                *(a.passage_terms[p.passage] for p in parts if p.passage < len(a.passage_terms))
            )
            numbers = frozenset().union(*(self.numbers.get(p.passage, frozenset()) for p in parts))
        held = sum(k.weight for k in self.claims if self.stated(k, terms, numbers))
        return held / self.total

    def __call__(self, c: Candidate) -> bool:
        if not self.claims:
            return True
        th = self.th
        needed = th.claim_share
        if c.dense is not None and c.dense >= th.claim_relax:
            needed *= th.min_name_coverage
        if self.share(c, near=False) < needed - 1e-9:
            return False
        return th.claim_near <= 0 or self.share(c, near=True) >= th.claim_near - 1e-9
