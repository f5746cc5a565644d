"""Which admissible sentence answers: a linear score over the candidate's features, with
weights fitted on development data (benchmarks/fit_ranker.py) rather than set by hand.

Admissibility (answerer._admissible) decides whether to answer at all; this decides which
sentence to quote. The fit maximizes, per question, the softmax probability of the
sentences that hold a gold answer among the admissible ones (a listwise ranking loss).
"""

from __future__ import annotations

import math

from askfront.answering.extractive.analysis import Analysis
from askfront.answering.extractive.sentence import Candidate

FEATURES = (
    "score",  # the admission score (sentence.sentence_score): the hand-set ranking
    "lead",  # among the article's first sentences
    "coverage",  # IDF-weighted share of the question's terms in the sentence
    "context",  # the same over the sentence and its neighbours
    "type_score",  # holds the asked-for kind of token
    "density",  # the matched terms close together
    "rank",  # 1 / (1 + the passage's retrieval rank)
    "dense",  # the passage's cosine similarity to the query (0 if unknown)
    "relation",  # the question's relation terms in the sentence or its neighbours
    "own_relation",  # the same in the sentence itself
    "name_coverage",  # the question's names in the passage
    "offers",  # possible answers it adds (names, numbers), capped at 3, / 3
    "length",  # log of its length in words, / log 60
    "linked",  # a second-hop sentence scored with the sentence linking to it
    "salience",  # how often its new name recurs in the passages (name questions)
)

# Fitted with benchmarks/fit_ranker.py (see its docstring for the data and the command): no
# fit so far beats the admission score alone at the answer level (it costs the seed set and
# RealTimeQA accuracy; the figures are in fit_ranker's docstring), so it ranks alone.
WEIGHTS: dict[str, float] = {
    "score": 1.0,
    "lead": 0.0,
    "coverage": 0.0,
    "context": 0.0,
    "type_score": 0.0,
    "density": 0.0,
    "rank": 0.0,
    "dense": 0.0,
    "relation": 0.0,
    "own_relation": 0.0,
    "name_coverage": 0.0,
    "offers": 0.0,
    "length": 0.0,
    "linked": 0.0,
    "salience": 0.0,
}


def features(c: Candidate, analysis: Analysis) -> dict[str, float]:
    """The ranking features of one candidate (each roughly in [0, 1])."""
    return {
        "score": c.score,
        "lead": c.lead,
        "coverage": c.coverage,
        "context": c.context,
        "type_score": c.type_score,
        "density": c.density,
        "rank": 1.0 / (1 + c.passage),
        "dense": c.dense or 0.0,
        "relation": c.relation,
        "own_relation": analysis.relation_share(c.info.term_set),
        "name_coverage": c.name_coverage,
        "offers": min(len(c.offers), 3) / 3,
        "length": math.log(max(c.info.n_words, 1)) / math.log(60),
        "linked": 1.0 if c.via is not None else 0.0,
        "salience": c.salience,
    }


def rank_score(c: Candidate, analysis: Analysis, weights: dict[str, float] | None = None) -> float:
    w = WEIGHTS if weights is None else weights
    return sum(w.get(k, 0.0) * v for k, v in features(c, analysis).items())
