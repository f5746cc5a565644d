"""Refusal against plausible distractors: the names and numbers a question states must be
stated where its answer is quoted from.

A question about a name or number the passage does not state ("How many Cubans were
killed?" of a passage counting Nepali deaths; "... in 2019?" of one about 2022) is on topic,
so term coverage and the dense score pass it. The check here works on claims, not pooled
coverage: each name phrase of the question ("Emmanuel Macron") and each number ("2,000")
must be stated in the candidate sentence's article (its retrieved passages, title and
date year), CLAIM_SHARE of them by weight. For a two-hop answer the first hop's article
counts, and so does a retrieved article that names this one (CLAIM_BRIDGE). CLAIM_NEAR
can also ask for them next to the sentence (off: it cost seed and RealTimeQA answers).

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
from askfront.answering.extractive.names import describes, name_spans
from askfront.answering.extractive.sentence import Candidate
from askfront.answering.extractive.terms import stems

# A number as written: digits with thousands commas or a decimal point, not glued to
# letters ("Clade 1b", "49ers" are names) except as an ordinal or a decade ("15th",
# "1990s"); "16-year-old" holds 16.
_NUMBER = re.compile(
    r"(?<![\d.,])(\d{1,3}(?:,\d{3})+|\d+(?:\.\d+)?)(?:st|nd|rd|th|s)?(?![\w]|[.,]\d)"
)
_MONTH = re.compile(
    r"\b(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?\s+$", re.IGNORECASE
)
_YEAR = re.compile(r"^(?:1[5-9]|20)\d\d$")
_CALENDAR = frozenset(
    """january february march april may june july august september october november december
    jan feb mar apr jun jul aug sep sept oct nov dec monday tuesday wednesday thursday friday
    saturday sunday""".split()
)


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


def claims(analysis: Analysis, describing: float = 1.0) -> list[Claim]:
    """The name phrases and numbers of the question as asked (carried words are the
    follow-up's topic, checked by coverage): each name phrase once, with the weights the
    answerer gave its words; lone capitalized words the phrases miss count on their own.
    Weekdays, months and a date's day ("Jan. 7") are when, not what: news seldom repeats
    them. A lone demonym ("Nepali", often "Nepalis" or "Nepal" in the text) weighs
    `describing` x its words' weight."""
    text = analysis.question_text
    asked = analysis.names
    names = {t for t in asked if not t[0].isdigit() and asked[t].lower() not in _CALENDAR}
    out: list[Claim] = []
    covered: set[str] = set()

    def add(phrase: str, terms: frozenset[str]) -> None:
        weight = sum(analysis.weights.get(t, 0.0) for t in terms)
        if " " not in phrase and describes(phrase.removesuffix("'s").removesuffix("’s")):
            weight *= describing
        if weight > 0:
            out.append(Claim(phrase, terms, weight))

    for _, _, phrase in name_spans(text, join_and=False):
        terms = frozenset(stems(phrase)) & names
        if terms and not terms <= covered:
            covered |= terms
            add(phrase, terms)
    for t in sorted(names - covered):
        if analysis.names[t].lower() in text.lower():
            add(analysis.names[t], frozenset([t]))
    for m in _NUMBER.finditer(text):
        value = m.group(1).replace(",", "")
        if _MONTH.search(text[: m.start()]) or any(c.number == value for c in out):
            continue
        out.append(Claim(value, frozenset(), max(analysis.weights.get(value, 0.0), 1.0), value))
    return out


class Support:
    """Whether each candidate sentence states the question's claims (see the module doc).

    Args:
        analysis: the analyzed question, its passages and candidates.
        thresholds: `claim_support` (share of a phrase's weight that states it; 0 turns
            the check off), `claim_share` (weighted share of the claims the article must
            state), `claim_near` (share the sentence and its neighbours must state),
            `claim_relax` (cosine from which the dense side may vouch for an article
            stating only `min_name_coverage` x that share), `claim_describing` (a lone
            demonym's weight) and `claim_bridge` (1: another article naming this one may
            state the rest).
    """

    def __init__(self, analysis: Analysis, thresholds: Thresholds) -> None:
        self.analysis = analysis
        self.th = thresholds
        on = thresholds.claim_support > 0
        self.claims = claims(analysis, thresholds.claim_describing) if on else []
        self.total = sum(c.weight for c in self.claims)
        self.terms: dict[str, frozenset[str]] = {}
        self.numbers: dict[str, frozenset[str]] = {}
        self.titles: dict[str, frozenset[str]] = {}
        self._missing: dict[str, list[Claim]] = {}  # per article, computed once
        if not self.claims:
            return
        # What an article states: its retrieved passages (a chunk may name what the
        # answering chunk calls "he"), its title, and its date's year ("in 2024").
        passages = analysis.passages
        terms: dict[str, set[str]] = {}
        numbers: dict[str, set[str]] = {}
        for i, p in enumerate(passages):
            held = terms.setdefault(p.source, set())
            if i < len(analysis.passage_terms):
                held.update(analysis.passage_terms[i])
            if p.title:
                self.titles[p.source] = frozenset(stems(p.title))
                held.update(self.titles[p.source])
        if any(c.number is not None for c in self.claims):
            for p in passages:
                found = numbers.setdefault(p.source, set())
                found.update(numbers_in(p.title or ""))
                if p.date and _YEAR.match(p.date[:4]):
                    found.add(p.date[:4])
            for c in analysis.candidates:
                if c.passage < len(passages):
                    numbers[passages[c.passage].source].update(numbers_in(c.text))
        self.terms = {k: frozenset(v) for k, v in terms.items()}
        self.numbers = {k: frozenset(v) for k, v in numbers.items()}

    def stated(self, claim: Claim, terms: frozenset[str], numbers: frozenset[str]) -> bool:
        """Whether `claim` is stated in a text of these stems and numbers."""
        if claim.number is not None:
            return claim.number in numbers
        match: Callable[[str, frozenset[str]], float] | None = self.analysis.match
        weights = {t: self.analysis.weights.get(t, 0.0) for t in claim.terms}
        total = sum(weights.values())
        if match is None or total <= 0:
            return claim.terms <= terms
        held = sum(w * match(t, terms) for t, w in weights.items())
        return held >= self.th.claim_support * total - 1e-9

    def _source(self, c: Candidate) -> str:
        passages = self.analysis.passages
        return passages[c.passage].source if c.passage < len(passages) else ""

    def missing_in(self, source: str) -> list[Claim]:
        """The claims an article does not state (once per article)."""
        if source not in self._missing:
            terms = self.terms.get(source, frozenset())
            numbers = self.numbers.get(source, frozenset())
            self._missing[source] = [k for k in self.claims if not self.stated(k, terms, numbers)]
        return self._missing[source]

    def share(self, c: Candidate, near: bool) -> float:
        """Weighted share of the claims stated around `c`: its sentence and neighbours
        (`near`), else its article and, for a linked sentence, the first hop's too."""
        if self.total <= 0:
            return 1.0
        parts = [c, *([c.via] if c.via is not None else [])]
        if near:
            missing = self.claims
        else:  # missing from every part's article (each is usually stated by one)
            missing = self.missing_in(self._source(c))
            for p in parts[1:]:
                missing = [k for k in missing if k in self.missing_in(self._source(p))]
        if missing:  # the sentences themselves (a chunk's edge, a number in the text)
            terms = frozenset().union(*(p.near for p in parts))
            numbers = frozenset().union(*(numbers_in(p.text) for p in parts))
            missing = [k for k in missing if not self.stated(k, terms, numbers)]
        if missing and not near and self.th.claim_bridge > 0:
            missing = self._bridged(missing, self._source(c))
        return 1.0 - sum(k.weight for k in missing) / self.total

    def _bridged(self, missing: list[Claim], source: str) -> list[Claim]:
        """The claims still missing when another retrieved article that names this one
        (its title: "Alfred Molina" in the article on "The Lodger") states the rest: a
        two-hop question names what each of its articles says."""
        title = self.titles.get(source, frozenset())
        for other, terms in self.terms.items() if title else ():
            if other == source or not title <= terms:
                continue
            numbers = self.numbers.get(other, frozenset())
            if all(self.stated(k, terms, numbers) for k in missing):
                return []
        return missing

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
