"""Refusal against plausible distractors (issue 15, item 4), through the real Assistant on
the default article: tests/data/distractors_default.jsonl holds on-topic questions about a
name or number the article does not state (a swapped person, nationality, outlet, count or
year), or about an attribute it does not state or negated ("wounded", "not paid"); the seed
set's answerable questions and the questions below are the controls."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from askfront.answering.extractive import ExtractiveAnswerer
from askfront.evaluation.runner import run_eval
from askfront.evaluation.testset import load_testset
from paths import DATA, REPO

DISTRACTORS = DATA / "distractors_default.jsonl"


def test_the_distractor_set_is_on_topic_and_unanswerable() -> None:
    items = load_testset(DISTRACTORS)
    assert len(items) >= 15
    assert all(not i.answerable and not i.answers and "distractor" in i.tags for i in items)
    assert {"name", "number", "attribute", "negation"} <= {t for i in items for t in i.tags}


def _kind(*kinds: str) -> list[Any]:
    return [i for i in load_testset(DISTRACTORS) if set(kinds) & set(i.tags)]


def test_distractors_are_refused(seed_assistant: Any) -> None:
    result = run_eval(seed_assistant, _kind("name", "number"))
    answered = [(r.question, r.answer[:120]) for r in result.records if not r.passed]
    # 15 of 18 on 2026-12-02 (12 before the claim check): the other three name what the
    # article states but ask what it does not ("How many Syrians have been killed ...?"
    # is answered with the Americans killed; "officials in Moscow" with Kathmandu's).
    assert len(answered) <= 3, answered


def test_negated_distractors_are_refused(seed_assistant: Any) -> None:
    """The negation check (predicate.py): "not paid", "never reported" are refused; the
    article negates neither. 3 of 4 on 2026-12-02 (none before): "have never been killed"
    is answered from a sentence next to "I had never touched a gun"."""
    result = run_eval(seed_assistant, _kind("negation"))
    answered = [(r.question, r.answer[:120]) for r in result.records if not r.passed]
    assert len(answered) <= 1, answered


@pytest.mark.parametrize(
    ("question", "gold"),
    [
        ("Who had never touched a gun?", "never touched a gun"),
        ("What did Ramchandra Khadka say he didn't have in Nepal?", "job opportunities"),
        ("How many Nepalis have been killed?", "14"),
        ("How much are Nepali recruits paid?", "$2,000"),
        ("How many Indians were recruited by the Russian military?", "100"),
    ],
)
def test_negated_and_plain_controls_are_answered(
    seed_assistant: Any, question: str, gold: str
) -> None:
    answer = seed_assistant.ask(question)
    assert not answer.refused and gold in answer.text, answer.text


def test_the_relation_check_refuses_unstated_attributes_when_on(seed_assistant: Any) -> None:
    """The relation-term check (off by default: calibration.PREDICATE_MISSING) on the
    passages the real Assistant retrieves, without the dense side vouching: questions
    about what the article does not say of its names ("wounded", "arrested") are refused,
    the controls above still answered."""
    on = ExtractiveAnswerer().with_thresholds(predicate_missing=0.75, predicate_relax=1.1)
    off = ExtractiveAnswerer()

    def refused(answerer: ExtractiveAnswerer, question: str) -> bool:
        passages = seed_assistant.ask(question).passages
        return answerer.answer(question, passages).refused

    attributes = [i.question for i in _kind("attribute")]
    # 4 of 7 on 2026-12-02 (2 with the check off: "buried", "resign")
    assert sum(refused(on, q) for q in attributes) >= sum(refused(off, q) for q in attributes) + 2
    for question in ("How many Nepalis have been killed?", "How old is Ramchandra Khadka?"):
        assert not refused(on, question)


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
    # name, number and negation; no attribute twin: one question gives no other predicate
    assert "3 twins of 1 questions" in out
    assert "did Rishi Sunak say would stay, 12?" in out  # the similar article's name
    assert "did Gabriel Attal say would stay, 13?" in out  # a count attal.md lacks
    assert "did Gabriel Attal say would never stay, 12?" in out


def test_the_twin_generator_swaps_a_stated_predicate(tmp_path: Path) -> None:
    """An attribute twin takes another question's predicate of the same slot and form
    ("was ... buried" for "was ... baptized") that the gold article does not state."""
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "khadka.md").write_text(
        "Ramchandra Khadka was baptized in Dhading. Khadka was baptized in 1987.\n",
        encoding="utf-8",
    )
    (corpus / "peskov.md").write_text(
        "Dmitry Peskov was buried in Moscow. Peskov was buried in May.\n", encoding="utf-8"
    )
    rows = [
        {"id": "q1", "question": "Where was Ramchandra Khadka baptized?", "answers": ["Dhading"],
         "sources": ["khadka.md"]},
        {"id": "q2", "question": "Where was Dmitry Peskov buried?", "answers": ["Moscow"],
         "sources": ["peskov.md"]},
    ]  # fmt: skip
    (tmp_path / "testset.jsonl").write_text(
        "".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8"
    )
    out = subprocess.run(
        [sys.executable, str(REPO / "benchmarks" / "distractors.py"), str(tmp_path),
         "--kind", "attribute"],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "PYTHONPATH": str(REPO / "src")},
    ).stdout  # fmt: skip
    assert "2 twins of 2 questions" in out
    assert "Where was Ramchandra Khadka buried?" in out
    assert "Where was Dmitry Peskov baptized?" in out
