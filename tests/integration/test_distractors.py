"""Refusal against plausible distractors (issue 15, item 4), through the real Assistant on
the default article: tests/data/distractors_default.jsonl holds on-topic questions about a
name or number the article does not state (a swapped person, nationality, outlet, count or
year); the seed set's answerable questions are the controls."""

from __future__ import annotations

from typing import Any

from askfront.evaluation.runner import run_eval
from askfront.evaluation.testset import load_testset
from paths import DATA

DISTRACTORS = DATA / "distractors_default.jsonl"


def test_the_distractor_set_is_on_topic_and_unanswerable() -> None:
    items = load_testset(DISTRACTORS)
    assert len(items) >= 15
    assert all(not i.answerable and not i.answers and "distractor" in i.tags for i in items)
    assert {"name", "number"} <= {t for i in items for t in i.tags}


def test_distractors_are_refused(seed_assistant: Any) -> None:
    result = run_eval(seed_assistant, load_testset(DISTRACTORS))
    answered = [(r.question, r.answer[:120]) for r in result.records if not r.passed]
    # 15 of 18 on 2026-12-02 (12 before the claim check): the other three name what the
    # article states but ask what it does not ("How many Syrians have been killed ...?"
    # is answered with the Americans killed; "officials in Moscow" with Kathmandu's).
    assert len(answered) <= 3, answered


def test_a_refusal_names_the_unstated_name(seed_assistant: Any) -> None:
    answer = seed_assistant.ask("What did German Chancellor Olaf Scholz say about troops?")
    assert answer.refused and not answer.citations
    assert "Scholz" in answer.text
