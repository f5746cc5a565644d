"""The question-kind development set (tests/data/kinds_devset.jsonl: overviews, why/how,
where/who and follow-ups on the default article, each with gold answers and evidence),
asked through the real Assistant: a gate on accuracy, citation precision and length."""

from __future__ import annotations

from typing import Any

from askfront.evaluation.runner import run_eval
from askfront.evaluation.testset import load_testset
from paths import DATA

DEVSET = DATA / "kinds_devset.jsonl"


def test_the_devset_covers_the_kinds() -> None:
    items = load_testset(DEVSET)
    assert len(items) >= 40
    tags = {t for i in items for t in i.tags}
    assert {"overview", "why", "how", "where", "who", "followup"} <= tags
    assert all(i.answers and i.evidence for i in items)


def test_kinds_devset_quality_gate(seed_assistant: Any) -> None:
    result = run_eval(seed_assistant, load_testset(DEVSET))
    m = result.metrics
    misses = [(r.question, r.answer[:120]) for r in result.records if not r.passed]
    assert m["accuracy"] is not None and m["accuracy"] >= 0.9, misses
    assert m["citation_precision"] is not None and m["citation_precision"] >= 0.75
    assert m["median_answer_words"] is not None and m["median_answer_words"] <= 35
