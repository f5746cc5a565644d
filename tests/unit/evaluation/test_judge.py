"""The LLM judge (RAGAS-style faithfulness, answer relevancy) with LangChain's fake chat model."""

from __future__ import annotations

from typing import Any

import pytest
from langchain_core.embeddings import DeterministicFakeEmbedding
from langchain_core.language_models.fake_chat_models import FakeListChatModel

from askfront.core.errors import LLMUnavailableError
from askfront.evaluation.judge import judge_answer_relevancy, judge_faithfulness
from askfront.evaluation.runner import run_eval
from evalutil import canned_case


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
