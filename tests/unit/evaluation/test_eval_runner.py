"""The evaluation runner: scoring answers, aggregating metrics, baselines and JSON, end to end."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from askfront.assistant import Assistant
from askfront.core.errors import ConfigError
from askfront.core.types import Answer
from askfront.evaluation.metrics import JUDGE_METRICS, METRICS
from askfront.evaluation.runner import EvalResult, QuestionRecord, compare, run_eval, score_answer
from askfront.evaluation.testset import EvalItem, load_testset
from evalutil import INV_LOG2_3, SEED, canned_case


# --------------------------------------------------------------------------------------
# score_answer, run_eval, aggregate
# --------------------------------------------------------------------------------------
def test_empty_answer_scores_zero_and_fails() -> None:
    item = EvalItem(id="e", question="q?", answers=["14"], sources=["a.md"])
    record = score_answer(item, Answer(text=""))
    assert record.scores["accuracy"] == 0.0 and record.scores["f1"] == 0.0
    assert record.scores["groundedness"] is None  # no sentences to judge
    assert record.scores["mrr"] == 0.0  # gold source given, nothing retrieved
    assert record.scores["citation_precision"] is None
    assert not record.passed


def test_refused_answer_text_is_not_scored() -> None:
    # The refusal text mentions the gold word; a refusal still answers nothing.
    item = EvalItem(id="r", question="q?", answers=["Nepal"])
    record = score_answer(item, Answer(text="Nepal is not in the articles.", refused=True))
    assert record.scores["accuracy"] == 0.0 and not record.passed


def test_run_eval_aggregates_hand_computed_metrics() -> None:
    items, assistant = canned_case()
    seen: list[tuple[str, int, int]] = []
    result = run_eval(assistant, items, progress=lambda *a: seen.append(a))

    assert [q for q, _ in assistant.calls] == [i.question for i in items]
    assert assistant.calls[1][1] == [
        {"role": "user", "content": "Who spoke in Paris?"},
        {"role": "assistant", "content": "Emmanuel Macron. [1]"},
    ]
    assert seen[0] == ("Evaluating", 0, 4) and seen[-1] == ("Evaluating", 4, 4)
    assert [r.passed for r in result.records] == [True, False, True, False]
    m = result.metrics
    assert m["accuracy"] == 0.5  # q1 1, q2 0 (q3, q4 unanswerable: excluded)
    # q1: "At least 14 have been killed" (marker stripped) = 6 tokens vs "14": P 1/6, R 1
    #     F1 = 2*(1/6)/(7/6) = 2/7; q2: 0 -> mean = 1/7
    assert m["f1"] == pytest.approx(1 / 7)
    assert m["pass_rate"] == 0.5  # q1, q3 of 4
    # q1: gold a.md at rank 2; q2: evidence in chunk 1; q3, q4: no gold -> excluded
    assert m["hit_at_1"] == 0.5  # (0 + 1) / 2
    assert m["hit_at_5"] == 1.0
    assert m["recall_at_5"] == 1.0
    assert m["mrr"] == 0.75  # (1/2 + 1) / 2
    assert m["ndcg_at_10"] == pytest.approx((INV_LOG2_3 + 1) / 2)  # 0.81546
    # passage level: q1's evidence is in no chunk (0), q2's is in chunk 1 (1)
    assert m["evidence_hit_at_5"] == 0.5  # (0 + 1) / 2
    assert m["evidence_mrr"] == 0.5  # (0 + 1/1) / 2
    # q1 quote holds "14" -> 1/1; q2 quote "Emmanuel Macron said so." shares no content
    # word with the evidence -> 0/1; q3 cites nothing, q4 has no gold -> excluded
    assert m["citation_precision"] == 0.5
    # q1 1/1, q2 1/2, q3 refused (excluded), q4 1/1 -> (1 + 0.5 + 1) / 3
    assert m["groundedness"] == pytest.approx(2.5 / 3)
    # TP q3, FN q4, FP none, TN q1 q2
    assert m["refusal_precision"] == 1.0  # 1 / 1
    assert m["refusal_recall"] == 0.5  # 1 / 2
    assert m["refusal_f1"] == pytest.approx(2 / 3)  # 2 / (2 + 0 + 1)
    assert m["false_refusal_rate"] == 0.0  # 0 / 2
    assert m["latency_retrieve_p50_ms"] == 20.0  # q1 10, q2 30
    assert m["latency_retrieve_p95_ms"] == pytest.approx(29.0)
    assert m["latency_wall_p50_ms"] is not None and m["latency_wall_p95_ms"] is not None
    assert result.counts == {
        "questions": 4,
        "answerable": 2,
        "unanswerable": 2,
        "passed": 2,
        "failed": 2,
        "refused": 1,
        "retrieval_scored": 2,
        "refusal_tp": 1,
        "refusal_fp": 0,
        "refusal_fn": 1,
        "refusal_tn": 2,
    }
    q1 = result.records[0]
    assert q1.first_relevant_rank == 2
    assert q1.retrieved == ["b.md", "a.md"]
    assert q1.citations[0]["quote"] == "at least 14 have been killed"
    assert result.records[1].history[1]["content"] == "Emmanuel Macron. [1]"
    assert not any(name in m for name in JUDGE_METRICS)  # no judge, no judge metrics
    assert [r.id for r in result.failures] == ["q2", "q4"]


def test_run_eval_on_an_empty_testset() -> None:
    _, assistant = canned_case()
    result = run_eval(assistant, [])
    assert set(METRICS) <= set(result.metrics)
    assert all(result.metrics[name] is None for name in METRICS)
    assert result.counts["questions"] == 0 and result.records == []


def test_all_unanswerable_testset() -> None:
    items, assistant = canned_case()
    result = run_eval(assistant, items[2:])
    m = result.metrics
    assert m["accuracy"] is None and m["f1"] is None  # no answerable questions
    assert m["false_refusal_rate"] is None
    assert m["mrr"] is None  # nothing has gold sources or evidence
    assert m["refusal_recall"] == 0.5 and m["refusal_precision"] == 1.0
    assert m["pass_rate"] == 0.5


def test_by_tag_breakdown() -> None:
    items, assistant = canned_case()
    tagged = [
        item.model_copy(update={"tags": ["x"] if i % 2 else ["y"]}) for i, item in enumerate(items)
    ]
    result = run_eval(assistant, tagged)
    # y: q1 (pass), q3 (pass); x: q2 (fail), q4 (fail)
    assert result.by_tag["y"] == {"questions": 2, "pass_rate": 1.0, "accuracy": 1.0}
    assert result.by_tag["x"] == {"questions": 2, "pass_rate": 0.0, "accuracy": 0.0}


# --------------------------------------------------------------------------------------
# Baselines and JSON
# --------------------------------------------------------------------------------------
def record(qid: str, passed: bool, f1: float | None) -> QuestionRecord:
    return QuestionRecord(
        id=qid, question=f"{qid}?", answerable=True, golds=["g"], answer="a", refused=False,
        passed=passed, scores={"f1": f1},
    )  # fmt: skip


def test_compare_by_pass_fail_and_f1() -> None:
    baseline = EvalResult.from_records(
        [record("a", True, 0.5), record("b", False, 0.0), record("c", True, None),
         record("d", True, 0.9), record("e", True, 0.9), record("only-old", True, 1.0)]
    )  # fmt: skip
    current = EvalResult.from_records(
        [record("a", False, 0.5), record("b", True, 0.0), record("c", True, None),
         record("d", True, 0.7), record("e", True, 0.95), record("only-new", False, 0.0)]
    )  # fmt: skip
    regressed, improved = compare(current, baseline)
    # a: pass -> fail; d: F1 0.9 -> 0.7 (drop 0.2 >= 0.1); e: +0.05 is within tolerance
    assert regressed == ["a", "d"]
    assert improved == ["b"]  # fail -> pass
    assert compare(baseline, baseline) == ([], [])


def test_result_json_round_trip(tmp_path: Path) -> None:
    items, assistant = canned_case()
    result = run_eval(assistant, items, meta={"testset": "canned"})
    again = EvalResult.from_json(json.loads(json.dumps(result.to_json())))
    assert again == result
    path = tmp_path / "baseline.json"
    result.save(path)
    assert EvalResult.load(path) == result
    assert compare(EvalResult.load(path), result) == ([], [])


def test_result_load_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        EvalResult.load(tmp_path / "missing.json")
    bad = tmp_path / "bad.json"
    bad.write_text('{"answer": "not a result"}')
    with pytest.raises(ConfigError, match="askfront eval --json"):
        EvalResult.load(bad)
    bad.write_text("{not json")
    with pytest.raises(ConfigError, match="not a readable"):
        EvalResult.load(bad)


# --------------------------------------------------------------------------------------
# End to end: the real Assistant (bundled model, Chroma) over the default article
# --------------------------------------------------------------------------------------
@pytest.mark.e2e
@pytest.mark.slow
def test_run_eval_on_the_seed_testset_with_the_real_assistant(seed_assistant: Assistant) -> None:
    items = load_testset(SEED)
    result = run_eval(seed_assistant, items)
    assert result.counts["questions"] == len(items)
    answerable = [r for r in result.records if r.answerable]
    # Every answerable question names the article as its source and retrieval returns chunks.
    assert result.counts["retrieval_scored"] == len(answerable)
    assert all(r.retrieved for r in answerable)
    for name in METRICS:
        value = result.metrics[name]
        if name == "median_answer_words":  # a length, not a rate
            assert value is not None and 1 <= value <= 120, value
            continue
        assert value is not None and 0.0 <= value <= 1.0, name
    # A one-article corpus: the article is always the first chunk's source.
    assert result.metrics["hit_at_1"] == 1.0
    # The assistant must get most seed questions right; a floor, not a measured value.
    assert result.metrics["accuracy"] is not None and result.metrics["accuracy"] >= 0.5
    assert EvalResult.from_json(json.loads(json.dumps(result.to_json()))) == result
