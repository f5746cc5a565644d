"""Refusal against "different attribute" and negated distractors: what the question asks
about its names (its predicate: "buried", "killed", "founded") must be stated where the
answer is quoted from.

support.py checks the names and numbers of a question. A question that names what the
article names but asks for something the article does not say ("When was X buried?" of a
passage giving X's birth; "How many Syrians were killed?" where the article names the
Syrians but not their deaths) passes it, and the relation check of the answerer (the
question's relation terms near the sentence, MIN_RELATION) lets a passage through when the
dense side finds it close, as on-topic distractors are by construction.

Here the question's relation terms (Analysis.relation: informative words that are neither
names nor the answer's type), weighted as the answerer weighs them (local BM25-style IDF
x general-English rarity), must be stated in the candidate's scope: its sentence and its
neighbours (PREDICATE_SCOPE 0) or its article's retrieved passages (1), with the first
hop's for a linked sentence. The candidate is refused when the missing share of that
weight reaches PREDICATE_MISSING, unless its dense score reaches PREDICATE_RELAX. Words
too rare for general English to know (typos: "televsion") cannot be judged and are left
out. This relation-term check is OFF by default (calibration.py: it lost answerable
paraphrases as fast as it caught attribute twins). With PREDICATE_NEGATION (on) a question
negating its predicate ("never", "not") needs a negation in the quoted sentence or a
neighbour ("I had never touched a gun" next to the sentence telling what happened).
"""

from __future__ import annotations

import re

from askfront.answering.extractive.analysis import Analysis
from askfront.answering.extractive.calibration import RARITY_MAX, Thresholds
from askfront.answering.extractive.sentence import Candidate
from askfront.answering.extractive.terms import rarity

# A negation word, not part of a compound ("not-for-profit", "no-fly").
NEGATION = re.compile(
    r"(?<!-)\b(?:not|never|no|none|neither|nor|without)\b(?!-)|n[’']t\b", re.IGNORECASE
)


class Predicate:
    """Whether each candidate sentence states what the question asks (module doc)."""

    def __init__(self, analysis: Analysis, thresholds: Thresholds) -> None:
        self.analysis = analysis
        self.th = thresholds
        relation = analysis.relation if thresholds.predicate_missing <= 1 else {}
        forms = analysis.question.forms if analysis.question else {}
        self.total = sum(relation.values())
        # Judged: words general English knows (a typo is stated nowhere, and says nothing).
        self.terms = {t: w for t, w in relation.items() if rarity(forms.get(t, t)) < RARITY_MAX}
        self.negated = thresholds.predicate_negation > 0 and bool(
            NEGATION.search(analysis.question_text)
        )
        # (passage, start) of the sentences with a negation in them or a neighbour.
        self.negating = _negating(analysis.candidates) if self.negated else set()
        self.articles: dict[str, frozenset[str]] = {}
        if self.terms and thresholds.predicate_scope >= 1:
            held: dict[str, set[str]] = {}
            for i, p in enumerate(analysis.passages[: len(analysis.passage_terms)]):
                held.setdefault(p.source, set()).update(analysis.passage_terms[i])
            self.articles = {k: frozenset(v) for k, v in held.items()}

    def _scope(self, c: Candidate) -> frozenset[str]:
        passages = self.analysis.passages
        if self.th.predicate_scope < 1 or c.passage >= len(passages):
            return c.near
        return self.articles.get(passages[c.passage].source, c.near)

    def missing(self, c: Candidate) -> float:
        """The share of the relation weight that `c`'s scope does not state."""
        match = self.analysis.match
        if self.total <= 0 or not self.terms or match is None:
            return 0.0
        scope = self._scope(c).union(*([self._scope(c.via)] if c.via is not None else []))
        lost = sum(w for t, w in self.terms.items() if match(t, scope) <= 0)
        return lost / self.total

    def __call__(self, c: Candidate) -> bool:
        parts = (c, *([c.via] if c.via is not None else []))
        if self.negated and not any((p.passage, p.start) in self.negating for p in parts):
            return False
        if c.dense is not None and c.dense >= self.th.predicate_relax:
            return True  # the dense side vouches for a paraphrase
        return self.missing(c) < self.th.predicate_missing - 1e-9


def _negating(candidates: list[Candidate]) -> set[tuple[int, int]]:
    """(passage, start) of the candidates with a negation in them or a neighbour of the
    same passage (candidates come in passage and reading order)."""
    out: set[tuple[int, int]] = set()
    for k, c in enumerate(candidates):
        if NEGATION.search(c.text):
            out.update((n.passage, n.start) for n in candidates[max(0, k - 1) : k + 2]
                       if n.passage == c.passage)  # fmt: skip
    return out
