"""Evaluation metrics, the runner and baselines, checked against hand-computed values."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest
from langchain_core.embeddings import DeterministicFakeEmbedding
from langchain_core.language_models.fake_chat_models import FakeListChatModel

from askfront.assistant import Assistant
from askfront.core.config import Settings
from askfront.core.errors import ConfigError, LLMUnavailableError
from askfront.core.text import normalize_text
from askfront.core.types import Answer, AnswerSentence, Chunk, Citation, Passage, Turn
from askfront.evaluation.judge import judge_answer_relevancy, judge_faithfulness
from askfront.evaluation.metrics import (
    JUDGE_METRICS,
    METRICS,
    answer_accuracy,
    check_thresholds,
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
from askfront.evaluation.runner import EvalResult, QuestionRecord, compare, run_eval, score_answer
from askfront.evaluation.testset import EvalItem, load_testset

REPO = Path(__file__).resolve().parent.parent
SEED = REPO / "tests" / "data" / "seed_testset.jsonl"
ARTICLE = REPO / "corpus" / "ukraine-foreign-fighters-washington-post-2024-02-28.md"

INV_LOG2_3 = 1 / math.log2(3)  # DCG gain at position 2 = 0.63093
INV_LOG2_5 = 1 / math.log2(5)  # position 4 = 0.43068


# --------------------------------------------------------------------------------------
# A canned Assistant: a real subclass whose ask() returns prepared Answers
# --------------------------------------------------------------------------------------
class CannedAssistant(Assistant):
    """Returns the Answer prepared for each question and records the history it got."""

    def __init__(self, answers: Mapping[str, Answer]) -> None:
        super().__init__(Settings(), embeddings=DeterministicFakeEmbedding(size=64))
        self.answers = dict(answers)
        self.calls: list[tuple[str, list[Turn]]] = []

    def ask(self, question: str, history: Sequence[Turn] = (), **options: Any) -> Answer:  # type: ignore[override]
        self.calls.append((question, list(history)))
        return self.answers[question]


def passage(source: str, text: str, rank: int = 1) -> Passage:
    chunk = Chunk(
        id=f"{source}#{rank}", source=source, index=rank, text=text, start=0, end=len(text)
    )
    return Passage(chunk=chunk, rank=rank)


def citation(n: int, source: str, quote: str) -> Citation:
    return Citation(n, source, None, None, 0, len(quote), quote, 0.5)


FICO_EVIDENCE = (
    "Slovak Prime Minister Robert Fico suggested European countries were prepared to send troops."
)


def canned_case() -> tuple[list[EvalItem], CannedAssistant]:
    """Four questions whose metrics are worked out by hand in the tests below.

    q1 answerable, correct, gold source found at rank 2, evidence passage not retrieved.
    q2 answerable follow-up, wrong answer, no sources: evidence found at rank 1.
    q3 unanswerable, refused (passes).
    q4 unanswerable, answered anyway (fails).
    """
    items = [
        EvalItem(
            id="q1",
            question="How many Nepalis died?",
            answers=["14"],
            sources=["a.md"],
            evidence="At least 14 have been killed, say officials in Kathmandu.",
        ),
        EvalItem(
            id="q2",
            question="And who suggested sending troops?",
            answers=["Robert Fico"],
            evidence=FICO_EVIDENCE,
            history=[
                {"role": "user", "content": "Who spoke in Paris?"},
                {"role": "assistant", "content": "Emmanuel Macron. [1]"},
            ],  # type: ignore[list-item]
        ),
        EvalItem(
            id="q3", question="What is the capital of Australia?", answers=[], answerable=False
        ),
        EvalItem(id="q4", question="Where is Canberra?", answers=[], answerable=False),
    ]
    answers = {
        "How many Nepalis died?": Answer(
            text="At least 14 have been killed. [1]",
            citations=[citation(1, "a.md", "at least 14 have been killed")],
            sentences=[AnswerSentence("At least 14 have been killed.", [1], supported=True)],
            passages=[passage("b.md", "Unrelated.", 1), passage("a.md", "Casualty figures.", 2)],
            timings={"retrieve_ms": 10.0, "answer_ms": 5.0},
        ),
        "And who suggested sending troops?": Answer(
            text="Emmanuel Macron said so. [1] He spoke in Paris. [1]",
            citations=[citation(1, "a.md", "Emmanuel Macron said so.")],
            sentences=[
                AnswerSentence("Emmanuel Macron said so.", [1], supported=True),
                AnswerSentence("He spoke in Paris.", [1], supported=False),
            ],
            passages=[passage("a.md", f"Earlier, {FICO_EVIDENCE} Then more.", 1)],
            timings={"retrieve_ms": 30.0},
        ),
        "What is the capital of Australia?": Answer(
            text="The articles don't say.", refused=True, passages=[passage("a.md", "x", 1)]
        ),
        "Where is Canberra?": Answer(
            text="Canberra is in Australia. [1]",
            citations=[citation(1, "a.md", "Canberra")],
            sentences=[AnswerSentence("Canberra is in Australia.", [1], supported=True)],
        ),
    }
    return items, CannedAssistant(answers)


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
# LLM judge (RAGAS-style) with LangChain's fake chat model
# --------------------------------------------------------------------------------------
def test_judge_faithfulness_counts_verdict_lines() -> None:
    model = FakeListChatModel(
        responses=["SUPPORTED: 14 were killed\n- UNSUPPORTED: 300 went\n2. Supported: pay $2,000"]
    )
    # 2 supported of 3 statements
    assert judge_faithfulness(model, "q?", "answer", ["ctx"]) == pytest.approx(2 / 3)
    assert judge_faithfulness(FakeListChatModel(responses=["no idea"]), "q", "a", []) is None


def test_judge_answer_relevancy() -> None:
    emb = DeterministicFakeEmbedding(size=32)
    question = "How many Nepalis were killed?"
    same = FakeListChatModel(
        responses=[f"QUESTION: {question}\nQUESTION: {question}\nNONCOMMITTAL: no"]
    )
    # generated questions identical to the question -> cosine 1 each -> mean 1
    assert judge_answer_relevancy(same, question, "14.", emb) == pytest.approx(1.0)
    evasive = FakeListChatModel(responses=[f"QUESTION: {question}\nNONCOMMITTAL: yes"])
    assert judge_answer_relevancy(evasive, question, "I don't know.", emb) == 0.0
    empty = FakeListChatModel(responses=["nothing useful"])
    assert judge_answer_relevancy(empty, question, "x", emb) is None


class BrokenChatModel(FakeListChatModel):
    def _call(self, *args: Any, **kwargs: Any) -> str:
        raise RuntimeError("connection refused")


def test_judge_failure_is_an_askfront_error() -> None:
    with pytest.raises(LLMUnavailableError, match="connection refused"):
        judge_faithfulness(BrokenChatModel(responses=["x"]), "q", "a", ["c"])


def test_run_eval_with_judge_labels_llm_judge_metrics() -> None:
    items, assistant = canned_case()
    # Calls in order: q1 faithfulness, q1 relevancy, q2 ..., q4 ... (q3 refused: not judged)
    responses = [
        "SUPPORTED: a",
        f"QUESTION: {items[0].question}\nNONCOMMITTAL: no",
        "SUPPORTED: a\nUNSUPPORTED: b",
        "QUESTION: x\nNONCOMMITTAL: yes",
        "UNSUPPORTED: a",
        f"QUESTION: {items[3].question}\nNONCOMMITTAL: no",
    ]
    result = run_eval(assistant, items, judge=FakeListChatModel(responses=responses))
    # faithfulness: q1 1, q2 1/2, q4 0 -> mean 0.5
    assert result.metrics["llm_judge_faithfulness"] == pytest.approx(0.5)
    # relevancy: q1 1 (same question), q2 0 (noncommittal), q4 1 -> mean 2/3
    assert result.metrics["llm_judge_answer_relevancy"] == pytest.approx(2 / 3)
    assert result.records[2].scores["llm_judge_faithfulness"] is None  # refused
    assert result.meta["judge_failures"] == 0

    broken = run_eval(assistant, items, judge=BrokenChatModel(responses=["x"]))
    assert broken.metrics["llm_judge_faithfulness"] is None
    assert broken.meta["judge_failures"] == 3  # q1, q2, q4; the run itself completes
    assert broken.metrics["accuracy"] == 0.5


# --------------------------------------------------------------------------------------
# Baselines, JSON, thresholds
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


# --------------------------------------------------------------------------------------
# Test-set files
# --------------------------------------------------------------------------------------
def write_lines(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


GOOD = '{"id": "1", "question": "Q?", "answers": ["Yes"], "answerable": true}'


def test_load_testset_reports_problems_by_line(tmp_path: Path) -> None:
    path = write_lines(
        tmp_path / "t.jsonl",
        [
            GOOD,
            "{not json",
            '{"id": "2", "answers": ["Yes"]}',
            '{"id": "3", "question": "Q?", "answers": [], "answerable": true}',
            '{"id": "1", "question": "Q again?", "answers": ["Yes"]}',
            '{"id": "5", "question": "Q?", "answers": ["Yes"], "answerable": false}',
            '["a list"]',
        ],
    )
    with pytest.raises(ConfigError) as info:
        load_testset(path)
    message = str(info.value)
    assert "line 2: not valid JSON" in message
    assert "line 3: question: Field required" in message
    assert "line 4" in message and "needs at least one non-empty gold answer" in message
    assert "line 5: id '1' is already used on line 1" in message
    assert "line 6" in message and "answers: []" in message
    assert "line 7: expected a JSON object" in message


def test_load_testset_accepts_optional_and_unknown_fields(tmp_path: Path) -> None:
    path = write_lines(
        tmp_path / "t.jsonl",
        [
            GOOD,
            "",
            '{"id": 7, "question": "Q?", "answers": [], "answerable": false, "asked_on": "x"}',
        ],
    )
    items = load_testset(path)
    assert [i.id for i in items] == ["1", "7"]
    assert items[0].sources == [] and items[0].evidence is None and items[0].history == []


def test_load_testset_missing_or_empty(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        load_testset(tmp_path / "nope.jsonl")
    with pytest.raises(ConfigError, match="no questions"):
        load_testset(write_lines(tmp_path / "empty.jsonl", [""]))


def test_seed_testset_is_complete_and_verbatim() -> None:
    items = load_testset(SEED)
    tags = [set(i.tags) for i in items]
    assert len(items) >= 45
    assert sum("factual" in t for t in tags) >= 27
    assert sum("paraphrase" in t for t in tags) >= 6
    assert sum(not i.answerable for i in items) >= 8
    assert sum(bool(i.history) for i in items) >= 4
    article = normalize_text(ARTICLE.read_text(encoding="utf-8"))
    for item in items:
        if not item.answerable:
            continue
        assert item.sources == [ARTICLE.name], item.id
        assert item.evidence and item.evidence in article, f"{item.id}: evidence not verbatim"
        for gold in item.answers:
            assert gold in article, f"{item.id}: {gold!r} not in the article"
            assert answer_accuracy(item.evidence, [gold]) == 1.0, f"{item.id}: {gold!r}"


@pytest.mark.dataset
def test_shared_dataset_testset_loads(realtimeqa: Path) -> None:
    testset = realtimeqa / "testset.jsonl"
    items = load_testset(testset)
    assert len(items) == len(testset.read_text(encoding="utf-8").splitlines())
    assert all(i.sources for i in items)


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
        assert value is not None and 0.0 <= value <= 1.0, name
    # A one-article corpus: the article is always the first chunk's source.
    assert result.metrics["hit_at_1"] == 1.0
    # The assistant must get most seed questions right; a floor, not a measured value.
    assert result.metrics["accuracy"] is not None and result.metrics["accuracy"] >= 0.5
    assert EvalResult.from_json(json.loads(json.dumps(result.to_json()))) == result
