"""The contract every answerer keeps, run on each one: the extractive answerer, the LLM
answerer over LangChain's fake chat model, and the test doubles in fakes.py.

An answer either cites (every [n] marker names one of its citations, numbered 1..N, each
quoting its document exactly) or is a refusal (the shared refusal text first, no markers,
no citations, related reading quoted exactly); streams end with the one Answer.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest

from askfront.answering.base import REFUSAL_TEXT, Answerer
from askfront.answering.extractive import ExtractiveAnswerer
from askfront.answering.llm import LLMAnswerer
from askfront.assistant import Assistant
from askfront.core.protocols import AssistantAPI
from askfront.core.types import Answer, Citation, Passage
from askfront.grounding.markers import parse_markers
from fakes import (
    BagOfWordsEmbeddings,
    FakeAssistant,
    LeadSentenceAnswerer,
    make_passage,
    recording_model,
)
from llmutil import LEGION, NEPAL

ANSWERABLE = "How many foreigners make up Ukraine's international legion?"
UNANSWERABLE = "Which team won the 1998 Tour de France?"


@dataclass
class Case:
    """One answerer under contract: how to build it for a given model reply, and whether it
    can tell that passages do not hold the answer (the lead-sentence fake always quotes)."""

    name: str
    build: Callable[[str], Answerer]
    refuses_off_topic: bool


def _llm(reply: str) -> Answerer:
    return LLMAnswerer(
        recording_model(reply),
        embeddings=BagOfWordsEmbeddings(),
        extractive=ExtractiveAnswerer(),
        spec="fake:model",
    )


CASES = [
    Case("extractive", lambda reply: ExtractiveAnswerer(), refuses_off_topic=True),
    Case("llm", _llm, refuses_off_topic=True),
    Case("lead-sentence fake", lambda reply: LeadSentenceAnswerer(), refuses_off_topic=False),
]
# What the fake chat model replies to each question: a cited answer (with a marker out of
# range, which verification must drop) and the refusal the prompt asks for.
REPLIES = {
    ANSWERABLE: "Some 20,000 foreigners make up Ukraine's international legion [1][7].",
    UNANSWERABLE: REFUSAL_TEXT,
}


@pytest.fixture
def corpus() -> tuple[list[Passage], dict[str, str]]:
    """Two passages placed after other text in their documents (absolute offsets), and the
    documents' text by source."""
    p1, d1 = make_passage(LEGION, source="legion.md", prefix="Kyiv, Ukraine. A report.\n\n")
    p2, d2 = make_passage(NEPAL, source="nepal.md", title=None, date=None, prefix="Nepal.\n\n")
    return [p1, p2], {"legion.md": d1, "nepal.md": d2}


def _stream(gen: Iterator[str | Answer]) -> Answer:
    items = list(gen)
    assert items and isinstance(items[-1], Answer), "a stream ends with the Answer"
    assert all(isinstance(i, str) for i in items[:-1]), "before it, only text deltas"
    return items[-1]


def _quotes_exactly(citations: list[Citation], docs: dict[str, str]) -> None:
    for c in citations:
        assert docs[c.source][c.start : c.end] == c.quote, c


def check_contract(answer: Answer, docs: dict[str, str]) -> None:
    """What holds for every answer of every answerer."""
    if answer.refused:
        assert answer.text.startswith(REFUSAL_TEXT), answer.text
        assert parse_markers(answer.text) == [] and answer.citations == []
        _quotes_exactly(answer.related, docs)
        return
    assert answer.citations, "an answer that does not refuse cites"
    numbers = [c.n for c in answer.citations]
    assert numbers == list(range(1, len(numbers) + 1)), numbers
    assert set(parse_markers(answer.text)) <= set(numbers), answer.text
    for sentence in answer.sentences:
        assert set(sentence.citations) <= set(numbers), sentence
    _quotes_exactly(answer.citations, docs)


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_an_answerable_question_gets_a_cited_answer(
    case: Case, corpus: tuple[list[Passage], dict[str, str]]
) -> None:
    passages, docs = corpus
    answer = _stream(case.build(REPLIES[ANSWERABLE]).stream(ANSWERABLE, passages))
    check_contract(answer, docs)
    assert not answer.refused
    assert answer.citations[0].source == "legion.md" and "20,000" in answer.text


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_an_off_topic_question_is_refused_or_cited(
    case: Case, corpus: tuple[list[Passage], dict[str, str]]
) -> None:
    passages, docs = corpus
    answer = _stream(case.build(REPLIES[UNANSWERABLE]).stream(UNANSWERABLE, passages))
    check_contract(answer, docs)
    assert answer.refused is case.refuses_off_topic


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_no_passages_is_a_refusal(case: Case) -> None:
    answer = _stream(case.build(REPLIES[ANSWERABLE]).stream(ANSWERABLE, []))
    check_contract(answer, {})
    assert answer.refused


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_answer_is_the_streams_final_answer(
    case: Case, corpus: tuple[list[Passage], dict[str, str]]
) -> None:
    passages, _ = corpus
    streamed = _stream(case.build(REPLIES[ANSWERABLE]).stream(ANSWERABLE, passages))
    answered = case.build(REPLIES[ANSWERABLE]).answer(ANSWERABLE, passages)
    assert (answered.text, answered.citations) == (streamed.text, streamed.citations)


# -- the assistant's double keeps the real one's interface ------------------------------------
@pytest.mark.parametrize(
    "method",
    [m for m in vars(AssistantAPI) if not m.startswith("_") and callable(vars(AssistantAPI)[m])],
)
def test_fake_assistant_has_the_real_assistants_signatures(method: str) -> None:
    def params(cls: type) -> list[tuple[str, object, object]]:
        sig = inspect.signature(getattr(cls, method))
        return [(p.name, p.kind, p.default) for p in sig.parameters.values()]

    assert params(FakeAssistant) == params(Assistant) == params(AssistantAPI)
