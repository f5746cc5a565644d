"""The question-kind development set on RealTimeQA articles (tests/data/kinds_realtimeqa.jsonl:
overviews, why/how, who/where and follow-ups written for three of its news articles, each
with gold answers and the evidence sentence), asked through the real Assistant over those
articles and on-topic neighbours (another article on the same flight, the first few of
the data set). Skipped when the data set is not on the machine."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from askfront.assistant import Assistant
from askfront.core.config import Settings
from askfront.evaluation.runner import run_eval
from askfront.evaluation.testset import load_testset
from paths import DATA

DEVSET = DATA / "kinds_realtimeqa.jsonl"
# Distractors: an article on the same Alaska Airlines flight, and the data set's first few.
NEIGHBOURS = ["teen-on-alaska-airlines-flight-left-topless-after-eccf3b4d.md"]
FIRST_FEW = 5


@pytest.fixture(scope="module")
def rtqa_assistant(
    realtimeqa: Path, tmp_path_factory: pytest.TempPathFactory, real_embeddings: Any
) -> Assistant:
    root = tmp_path_factory.mktemp("kinds-rtqa")
    corpus = root / "corpus"
    corpus.mkdir()
    articles = sorted((realtimeqa / "corpus").glob("*.md"))[:FIRST_FEW]
    wanted = {s for item in load_testset(DEVSET) for s in item.sources} | set(NEIGHBOURS)
    for f in [*articles, *(realtimeqa / "corpus" / name for name in sorted(wanted))]:
        shutil.copy(f, corpus / f.name)
    assistant = Assistant(
        Settings(corpus_dir=corpus, index_dir=root / "index"), embeddings=real_embeddings
    )
    assistant.reindex()
    return assistant


def test_the_devset_covers_the_kinds_on_several_articles(realtimeqa: Path) -> None:
    items = load_testset(DEVSET)
    assert len(items) >= 12
    assert {"overview", "why", "how", "where", "who", "followup"} <= {
        t for i in items for t in i.tags
    }
    assert len({s for i in items for s in i.sources}) >= 3
    for item in items:
        text = (realtimeqa / "corpus" / item.sources[0]).read_text(encoding="utf-8")
        assert item.evidence and item.evidence in text, item.id
        assert item.answers and all(a in item.evidence for a in item.answers), item.id
    assert all(i.history for i in items if "followup" in i.tags)


def test_kinds_realtimeqa_quality_gate(rtqa_assistant: Assistant) -> None:
    # A ratchet at today's level (2026-12-02: 10 of 18, citation precision 0.42, 20 words;
    # 9 before the title-topic overview): "who"/"how many"/follow-up questions quote the
    # lede or a sentence of the other Alaska Airlines article. Raise the floor as the
    # answerer (issue 15 items 1-3) improves.
    result = run_eval(rtqa_assistant, load_testset(DEVSET))
    m = result.metrics
    misses = [(r.question, r.answer[:120]) for r in result.records if not r.passed]
    assert m["accuracy"] is not None and m["accuracy"] >= 0.5, misses
    assert m["citation_precision"] is not None and m["citation_precision"] >= 0.35
    assert m["median_answer_words"] is not None and m["median_answer_words"] <= 35
