"""The extractive answerer's sentence ranking (ranking.py, fitted by benchmarks/fit_ranker.py)
and how a quoted sentence is shown (compose.py): split quotes keep their opening mark."""

from __future__ import annotations

import importlib
from types import ModuleType

import numpy as np
import pytest

from askfront.answering.extractive import ExtractiveAnswerer
from askfront.answering.extractive.compose import opening_mark
from askfront.answering.extractive.ranking import FEATURES, WEIGHTS
from fakes import passage_of
from paths import REPO

# --- split quotes ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "mark"),
    [
        ("We are ready,” she said.", "“"),
        ('We are ready," she said.', '"'),
        ("“We will win,” she said.", ""),
        ('"We will win," she said.', ""),
        ('She called it "a disaster" on Monday.', ""),
        ("No quotation here.", ""),
        ("It is over.”", "“"),
    ],
)
def test_opening_mark_is_the_one_a_sentence_closes_without_opening(text: str, mark: str) -> None:
    assert opening_mark(text) == mark


def test_a_split_quote_is_shown_with_its_opening_mark_and_cited_verbatim() -> None:
    first = "“This was our year."
    second = "Anna Richardson led Smyrna to the state volleyball title,” coach Jones said."
    passage = passage_of("The season is over.", first, second)
    answer = ExtractiveAnswerer(max_sentences=1).answer(
        "Who led Smyrna to the state volleyball title?", [passage]
    )
    assert not answer.refused
    assert answer.text.startswith("“Anna Richardson led"), answer.text
    quote = answer.citations[0]
    assert quote.quote == second  # the citation stays verbatim
    assert passage.chunk.text[quote.start : quote.end] == second


# --- the fitted ranking ------------------------------------------------------------------


def test_weights_name_every_feature_and_keep_the_admission_score_scale() -> None:
    assert set(WEIGHTS) == set(FEATURES)
    assert WEIGHTS["score"] == 1.0  # SECOND_MARGIN is set in the admission score's units


def fit_ranker(monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    monkeypatch.syspath_prepend(str(REPO / "benchmarks"))
    return importlib.import_module("fit_ranker")


def test_the_fit_learns_a_feature_that_marks_the_gold_sentence(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    fr = fit_ranker(monkeypatch)
    monkeypatch.setattr(fr, "STEPS", 300)
    rng = np.random.default_rng(0)
    lead = FEATURES.index("lead")
    groups = []
    for _ in range(40):
        x = rng.uniform(0, 1, size=(5, len(FEATURES)))
        y = np.zeros(5)
        gold = int(rng.integers(5))
        y[gold] = 1.0
        x[:, lead] = 0.0
        x[gold, lead] = 1.0  # only the gold sentence is a lead sentence
        x[:, 0] = rng.uniform(0, 1, size=5)
        x[gold, 0] += 0.2  # the admission score leans to the gold sentence, weakly
        groups.append(("A", x, y, x[:, 0]))
    w = fr.fit(groups)
    assert w[0] == pytest.approx(1.0)  # scaled to the admission score's weight
    assert w[lead] > 1.0
    assert fr.top1(groups, w) > fr.top1(groups, None)
    unfitted = [k for k, f in enumerate(FEATURES) if f not in fr.FITTED]
    assert all(w[k] == 0.0 for k in unfitted)


def test_the_error_analysis_classes_a_ranking_miss_and_a_hit(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.syspath_prepend(str(REPO / "benchmarks"))
    errors = importlib.import_module("rank_errors")
    from askfront.evaluation.testset import EvalItem

    passage = passage_of(
        "Federal officials grounded the planes with loose bolts on Monday.",
        "Later, United Airlines grounded its planes after finding loose bolts.",
    )
    question = "Which airline grounded its planes over loose bolts?"
    hit = errors.Item("t", EvalItem(id="1", question=question, answers=["United Airlines"]))
    miss = errors.Item("t", EvalItem(id="2", question=question, answers=["Delta"]))
    hit.passages = miss.passages = [passage]
    counts = errors.classify([hit, miss], show=5)
    assert counts == {"top-1 holds gold": 1, errors.NOT_RETRIEVED: 1}
    assert "gold ['Delta']" in capsys.readouterr().out
