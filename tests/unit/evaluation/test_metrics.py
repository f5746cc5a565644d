"""The evaluation metric functions and the threshold checks, against hand-computed values."""

from __future__ import annotations

import pytest

from askfront.core.errors import ConfigError
from askfront.core.types import AnswerSentence
from askfront.evaluation.metrics import (
    METRICS,
    answer_accuracy,
    citation_precision,
    groundedness,
    holds_evidence,
    latency_metrics,
    normalize_answer,
    percentile,
    refusal_metrics,
    retrieval_metrics,
    token_f1,
)
from askfront.evaluation.thresholds import check_thresholds
from evalutil import INV_LOG2_3, INV_LOG2_5


# --------------------------------------------------------------------------------------
# Normalization, accuracy, F1
# --------------------------------------------------------------------------------------
def test_normalize_answer_follows_squad_and_folds_possessives() -> None:
    # lower -> "the  hindu’s report!" ; 's dropped -> "the  hindu report!" ; punctuation
    # dropped ; article dropped -> "  hindu report" ; whitespace folded.
    assert normalize_answer("The  Hindu’s report!") == "hindu report"
    assert normalize_answer("$2,000") == "2000"
    assert normalize_answer("some\u00a020,000 in the U.S.") == "some 20000 in us"
    assert normalize_answer("An apple, a day") == "apple day"
    assert normalize_answer("") == ""


def test_answer_accuracy_is_whole_word_containment() -> None:
    assert answer_accuracy("About $2,000 a month.", ["$2,000"]) == 1.0
    assert answer_accuracy("It was 140 people.", ["14"]) == 0.0  # "14" is not the word "140"
    assert answer_accuracy("Nothing here.", ["Fico", "Robert Fico"]) == 0.0
    assert answer_accuracy("robert fico did.", ["Fico", "Robert Fico"]) == 1.0
    assert answer_accuracy("", ["14"]) == 0.0  # an empty answer is simply wrong
    assert answer_accuracy("anything", []) is None  # no golds: undefined, not 0
    assert answer_accuracy("anything", ["the", "!"]) is None  # golds that normalize to nothing


def test_token_f1_hand_computed() -> None:
    # "some 20000 foreigners" vs "20000": common 1, P = 1/3, R = 1 -> F1 = 2*(1/3)/(4/3) = 0.5
    assert token_f1("some 20,000 foreigners", ["20,000"]) == pytest.approx(0.5)
    # vs "some 20000": common 2, P = 2/3, R = 1 -> F1 = (4/3)/(5/3) = 0.8; max(0.5, 0.8) = 0.8
    assert token_f1("some 20,000 foreigners", ["20,000", "some 20,000"]) == pytest.approx(0.8)
    # multiset overlap: war x2 vs x1 -> 1, peace x1 vs x2 -> 1; P = R = 2/3 -> F1 = 2/3
    assert token_f1("war war peace", ["war peace peace"]) == pytest.approx(2 / 3)
    assert token_f1("", ["14"]) == 0.0
    assert token_f1("Macron", ["Robert Fico"]) == 0.0
    assert token_f1("x", []) is None


# --------------------------------------------------------------------------------------
# Retrieval
# --------------------------------------------------------------------------------------
def ranked(*sources: str) -> list[tuple[str, str]]:
    return [(s, f"text of {s}") for s in sources]


def test_retrieval_metrics_with_two_gold_sources_and_a_repeated_chunk() -> None:
    # Chunks: b, a, a, c, d; gold {a, c}. First gold chunk at rank 2.
    scores = retrieval_metrics(ranked("b.md", "a.md", "a.md", "c.md", "d.md"), ["a.md", "c.md"])
    assert scores is not None
    assert scores.first_relevant_rank == 2
    assert scores.hit_at_1 == 0.0
    assert scores.hit_at_5 == 1.0
    assert scores.recall_at_5 == 1.0  # both gold sources within the top 5: 2/2
    assert scores.mrr == 0.5  # 1/2
    # DCG = 1/log2(3) [a at 2] + 0 [a again at 3] + 1/log2(5) [c at 4] = 0.63093 + 0.43068
    # IDCG = 1/log2(2) + 1/log2(3) = 1.63093 -> nDCG = 1.06161 / 1.63093 = 0.65092
    assert scores.ndcg_at_10 == pytest.approx((INV_LOG2_3 + INV_LOG2_5) / (1 + INV_LOG2_3))
    assert scores.ndcg_at_10 == pytest.approx(0.65092, abs=1e-5)


def test_retrieval_metrics_partial_recall_and_late_hit() -> None:
    # Gold {a, z}; z never retrieved; a at rank 7.
    scores = retrieval_metrics(ranked(*"bcdefg", "a.md"), ["a.md", "z.md"])
    assert scores is not None
    assert scores.first_relevant_rank == 7
    assert (scores.hit_at_1, scores.hit_at_5, scores.recall_at_5) == (0.0, 0.0, 0.0)
    assert scores.mrr == pytest.approx(1 / 7)
    # DCG = 1/log2(8) = 1/3; IDCG = 1 + 1/log2(3) (two gold items) -> 0.33333 / 1.63093
    assert scores.ndcg_at_10 == pytest.approx((1 / 3) / (1 + INV_LOG2_3))
    # recall@5 counts gold sources: with a at rank 2 instead, 1 of 2 found -> 0.5
    early = retrieval_metrics(ranked("b", "a.md", "c"), ["a.md", "z.md"])
    assert early is not None and early.recall_at_5 == 0.5


def test_duplicate_gold_sources_count_once() -> None:
    # "a.md", "a.md" and "./a.md" are one gold source: G = 1, so IDCG = 1.
    scores = retrieval_metrics(ranked("a.md", "a.md"), ["a.md", "a.md", "./a.md"])
    assert scores is not None
    assert (scores.hit_at_1, scores.recall_at_5, scores.mrr, scores.ndcg_at_10) == (1, 1, 1, 1)


def test_retrieval_metrics_gold_never_retrieved_and_empty_ranking_are_zero() -> None:
    for ranking in (ranked("x.md", "y.md"), []):
        scores = retrieval_metrics(ranking, ["a.md"])
        assert scores is not None
        assert scores.first_relevant_rank is None
        assert (scores.hit_at_1, scores.hit_at_5, scores.recall_at_5) == (0, 0, 0)
        assert (scores.mrr, scores.ndcg_at_10) == (0, 0)


def test_retrieval_without_sources_falls_back_to_evidence() -> None:
    evidence = "more than 200 Nepalis have gone to Ukraine’s battlefields"
    chunks = [
        ("a.md", "Macron spoke in Paris."),
        ("a.md", "Officials say More than 200 Nepalis have gone to Ukraine's battlefields."),
    ]
    scores = retrieval_metrics(chunks, [], evidence)
    assert scores is not None
    assert scores.first_relevant_rank == 2  # normalized containment in chunk 2
    assert scores.mrr == 0.5 and scores.ndcg_at_10 == pytest.approx(INV_LOG2_3)
    # Overlap: evidence terms [200, nepali, gone, ukrain, battlefield]; "went" replaces "gone"
    # -> 4 of 5 = 0.8 >= 0.8 holds; 2 of 5 = 0.4 does not.
    assert holds_evidence("200 Nepalis went to Ukraine's battlefields", evidence)
    assert not holds_evidence("Nepalis went to battlefields", evidence)


def test_retrieval_without_sources_or_evidence_is_excluded() -> None:
    assert retrieval_metrics(ranked("a.md"), [], None) is None
    assert retrieval_metrics(ranked("a.md"), ["  "], "") is None


# --------------------------------------------------------------------------------------
# Citations, groundedness, refusal, latency
# --------------------------------------------------------------------------------------
def test_citation_precision_hand_computed() -> None:
    evidence = "For poor Nepalis, the prospect of a salary at $2,000 a month is a strong sell."
    quotes = [
        "a salary at $2,000 a month",  # holds the gold "$2,000"
        "Nepal is far away.",  # neither
        "For poor Nepalis the prospect of a salary is a strong sell",  # overlaps the evidence
    ]
    # 2 of 3 quotes relevant
    assert citation_precision(quotes, ["$2,000"], evidence) == pytest.approx(2 / 3)
    assert citation_precision(quotes[:2], ["$2,000"]) == 0.5  # no evidence: 1 of 2
    assert citation_precision([], ["$2,000"], evidence) is None  # nothing cited
    assert citation_precision(quotes, [], None) is None  # nothing to judge against


def test_groundedness() -> None:
    s = [AnswerSentence("a", supported=v) for v in (True, False, True, True)]
    assert groundedness(s) == 0.75  # 3 of 4
    assert groundedness([]) is None


def test_refusal_metrics_hand_computed() -> None:
    # (answerable, refused): TP = 2 (unanswerable+refused), FN = 1, FP = 1, TN = 3
    outcomes = [(False, True), (False, True), (False, False), (True, True)] + [(True, False)] * 3
    r = refusal_metrics(outcomes)
    assert (r.tp, r.fn, r.fp, r.tn) == (2, 1, 1, 3)
    assert r.precision == pytest.approx(2 / 3)  # 2 / (2 + 1)
    assert r.recall == pytest.approx(2 / 3)  # 2 / (2 + 1)
    assert r.f1 == pytest.approx(2 / 3)  # 2*2 / (2*2 + 1 + 1)
    assert r.false_refusal_rate == pytest.approx(1 / 4)  # 1 / (1 + 3)


def test_refusal_metrics_edge_cases() -> None:
    # All unanswerable, all refused: perfect, false-refusal rate undefined.
    r = refusal_metrics([(False, True), (False, True)])
    assert (r.precision, r.recall, r.f1, r.false_refusal_rate) == (1.0, 1.0, 1.0, None)
    # All unanswerable, none refused: precision undefined (no refusals), recall 0, F1 0.
    r = refusal_metrics([(False, False)])
    assert (r.precision, r.recall, r.f1, r.false_refusal_rate) == (None, 0.0, 0.0, None)
    # All answerable, none refused: nothing to refuse and nothing refused.
    r = refusal_metrics([(True, False), (True, False)])
    assert (r.precision, r.recall, r.f1, r.false_refusal_rate) == (None, None, None, 0.0)
    # All answerable, one refused: precision 0/1, recall undefined, F1 = 0/(0+1+0) = 0.
    r = refusal_metrics([(True, True), (True, False)])
    assert (r.precision, r.recall, r.f1, r.false_refusal_rate) == (0.0, None, 0.0, 0.5)
    r = refusal_metrics([])
    assert (r.precision, r.recall, r.f1, r.false_refusal_rate) == (None, None, None, None)


def test_percentiles_interpolate_linearly() -> None:
    values = [40.0, 10.0, 30.0, 100.0, 20.0]
    assert percentile(values, 50) == 30.0  # sorted 10 20 30 40 100, middle
    # p95: position 0.95 * (5 - 1) = 3.8 -> 40 + 0.8 * (100 - 40) = 88
    assert percentile(values, 95) == pytest.approx(88.0)
    assert percentile([7.0], 95) == 7.0
    assert percentile([], 50) is None


def test_latency_metrics_per_stage() -> None:
    timings = [{"retrieve_ms": 10.0, "answer_ms": 4.0}, {"retrieve_ms": 30.0}]
    out = latency_metrics(timings)
    assert out["latency_retrieve_p50_ms"] == 20.0  # (10 + 30) / 2
    assert out["latency_retrieve_p95_ms"] == pytest.approx(29.0)  # 10 + 0.95 * 20
    assert out["latency_answer_p50_ms"] == 4.0  # only the answers that report the stage
    assert latency_metrics([]) == {}


# --------------------------------------------------------------------------------------
# Thresholds
# --------------------------------------------------------------------------------------
def test_check_thresholds() -> None:
    metrics: dict[str, float | None] = dict.fromkeys(METRICS)
    metrics.update(
        accuracy=0.85, refusal_f1=0.9, false_refusal_rate=0.2, latency_wall_p95_ms=1500.0
    )
    assert check_thresholds(metrics, ["accuracy=0.8", "refusal_f1=0.9", "accuracy>=0.85"]) == []
    failures = check_thresholds(metrics, ["accuracy=0.9", "refusal_f1=0.8"])
    assert len(failures) == 1 and "accuracy" in failures[0] and "0.9" in failures[0]
    # lower-is-better metrics: "=" is a maximum
    assert len(check_thresholds(metrics, ["false_refusal_rate=0.1"])) == 1
    assert check_thresholds(metrics, ["false_refusal_rate=0.25", "latency_wall_p95_ms=2000"]) == []
    assert len(check_thresholds(metrics, ["latency_wall_p95_ms<=1000"])) == 1
    # an undefined metric cannot meet a threshold
    assert "undefined" in check_thresholds(metrics, ["mrr=0.5"])[0]
    assert "undefined" in check_thresholds(metrics, ["llm_judge_faithfulness=0.5"])[0]


def test_check_thresholds_errors_name_valid_metrics() -> None:
    metrics: dict[str, float | None] = {"accuracy": 1.0}
    with pytest.raises(ConfigError) as info:
        check_thresholds(metrics, ["acuracy=0.9"])
    assert "accuracy" in str(info.value) and "refusal_f1" in str(info.value)
    with pytest.raises(ConfigError, match="METRIC=VALUE"):
        check_thresholds(metrics, ["accuracy"])
    with pytest.raises(ConfigError, match="METRIC=VALUE"):
        check_thresholds(metrics, ["accuracy=high"])
