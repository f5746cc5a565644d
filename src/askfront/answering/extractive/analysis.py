"""What the extractive answerer computed for one question: the question's weighted terms,
every candidate sentence scored, the links between articles (hops.py) and a comparison
(compare.py), if the question is one. Kept whole for calibration sweeps and debugging."""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from askfront.answering.extractive.compare import Comparison
from askfront.answering.extractive.hops import Link
from askfront.answering.extractive.question import Question
from askfront.answering.extractive.sentence import Candidate
from askfront.answering.extractive.terms import Matcher
from askfront.core.types import Passage


@dataclass
class Analysis:
    """Everything the answerer computed for one question (for calibration and debugging)."""

    qtype: str
    weights: dict[str, float]  # stem -> final weight (role x IDF x rarity)
    names: dict[str, str]
    candidates: list[Candidate] = field(default_factory=list)
    informative: int = 0  # question terms that are not boilerplate
    missing_names: list[str] = field(default_factory=list)
    question: Question | None = None
    match: Matcher | None = None  # question terms against the candidates' vocabulary
    informative_terms: frozenset[str] = frozenset()
    passage_terms: list[frozenset[str]] = field(default_factory=list)  # per passage
    name_share: Callable[[frozenset[str]], float] = lambda terms: 1.0
    links: dict[int, Link] = field(default_factory=dict)  # id(candidate) -> hops.links
    # The candidates as decided: each one, or its linked version when that scores higher.
    pool: list[Candidate] = field(default_factory=list)
    comparison: Comparison | None = None
    question_text: str = ""  # as asked
    followup: bool = False  # it carries words over from an earlier turn
    passages: list[Passage] = field(default_factory=list)  # as given

    @functools.cached_property
    def relation(self) -> dict[str, float]:
        """The question's relation terms and weights: informative, neither names nor the
        answer's type ("shot", "directed", "premiered"; not "old" in "How old")."""
        q = self.question
        other = self.names.keys() | (q.type_terms | q.proper_terms if q else frozenset())
        relation = {t: w for t, w in self.weights.items() if t in self.informative_terms - other}
        # A follow-up's own words say what it asks ("killed" in "How many of them were
        # killed?"); the carried ones only say about what.
        own = {t: w for t, w in relation.items() if q is None or q.weights.get(t, 0.0) >= 1.0}
        return own or relation

    def relation_share(self, terms: frozenset[str]) -> float:
        """Weighted share of the relation terms in `terms`; 1.0 when the question has none."""
        total = sum(self.relation.values())
        if total <= 0 or self.match is None:
            return 1.0
        return sum(w * self.match(t, terms) for t, w in self.relation.items()) / total

    @property
    def best(self) -> Candidate | None:
        admissible = [c for c in self.pool or self.candidates if c.admissible]
        return max(admissible, key=lambda c: c.score) if admissible else None

    def term_weight(self, terms: frozenset[str]) -> float:
        """Weight of the question's terms that `terms` holds (IDF-weighted, 0 without any)."""
        if self.match is None:
            return 0.0
        return sum(w * self.match(t, terms) for t, w in self.weights.items())

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
