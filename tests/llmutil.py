"""Shared by the LLM answerer tests: two passages, a fake-model LLMAnswerer, run()."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from askfront.answering.base import Answerer
from askfront.answering.llm import LLMAnswerer
from askfront.core.types import Answer, Passage
from fakes import BagOfWordsEmbeddings, make_passage

LEGION = (
    "Some 20,000 foreigners from over 50 nationalities make up Ukraine's international legion. "
    "At least 50 American citizens have been killed in Ukraine."
)
NEPAL = (
    "The Nepali government has asked Russia to send back hundreds of Nepali nationals. "
    "More than 200 Nepalis have gone to Ukraine's battlefields and at least 14 have been killed."
)


@pytest.fixture(name="passages")
def passages_fixture() -> list[Passage]:
    """The fixture `passages` (import passages_fixture to use it)."""
    p1, _ = make_passage(LEGION, source="legion.md", title="Legion report")
    p2, _ = make_passage(NEPAL, source="nepal.md", title=None, date=None)
    return [p1, p2]


def answerer(model: Any, extractive: Answerer, **kw: Any) -> LLMAnswerer:
    return LLMAnswerer(
        model, embeddings=BagOfWordsEmbeddings(), extractive=extractive, spec="fake:model", **kw
    )


def run(gen: Iterator[str | Answer]) -> tuple[list[str], Answer]:
    items = list(gen)
    assert isinstance(items[-1], Answer)
    assert all(isinstance(i, str) for i in items[:-1])
    return [str(i) for i in items[:-1]], items[-1]
