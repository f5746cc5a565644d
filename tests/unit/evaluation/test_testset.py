"""Test-set files: problems reported by line, optional fields, the seed and shared test sets."""

from __future__ import annotations

from pathlib import Path

import pytest

from askfront.core.errors import ConfigError
from askfront.core.text import normalize_text
from askfront.evaluation.metrics import answer_accuracy
from askfront.evaluation.testset import load_testset
from evalutil import REPO, SEED

ARTICLE = REPO / "corpus" / "ukraine-foreign-fighters-washington-post-2024-02-28.md"


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
            '{"id": 7, "question": "Q?", "answers": [], "answerable": false, "asked_by": "x"}',
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
