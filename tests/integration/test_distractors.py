"""Refusal against plausible distractors (issue 15, item 4), through the real Assistant on
the default article: tests/data/distractors_default.jsonl holds on-topic questions about a
name or number the article does not state (a swapped person, nationality, outlet, count or
year); the seed set's answerable questions are the controls."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from askfront.evaluation.runner import run_eval
from askfront.evaluation.testset import load_testset
from paths import DATA, REPO

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


def test_the_twin_generator_swaps_a_stated_name_and_number(tmp_path: Path) -> None:
    """benchmarks/distractors.py on a three-article data set: the twin of a question names
    a person from the most similar other article and a count its gold article lacks."""
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "attal.md").write_text(
        "Gabriel Attal became prime minister on Tuesday. Attal, 34, replaced Elisabeth "
        "Borne. Gabriel Attal said 12 ministers would stay.\n",
        encoding="utf-8",
    )
    (corpus / "borne.md").write_text(
        "Rishi Sunak met the prime minister. Rishi Sunak spoke for 20 minutes.\n",
        encoding="utf-8",
    )
    (corpus / "darts.md").write_text("Luke Littler won. Luke Littler is 16.\n", encoding="utf-8")
    row = {
        "id": "q1",
        "question": "How many ministers did Gabriel Attal say would stay, 12?",
        "answers": ["12"],
        "sources": ["attal.md"],
    }
    (tmp_path / "testset.jsonl").write_text(json.dumps(row) + "\n", encoding="utf-8")
    out = subprocess.run(
        [sys.executable, str(REPO / "benchmarks" / "distractors.py"), str(tmp_path)],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "PYTHONPATH": str(REPO / "src")},
    ).stdout
    assert "2 twins of 1 questions" in out
    assert "did Rishi Sunak say would stay, 12?" in out  # the similar article's name
    assert "did Gabriel Attal say would stay, 13?" in out  # a count attal.md lacks
