"""Test doubles, in one module. Each implements the protocol of the real part it stands in
for: FakeAssistant the AssistantAPI, the answerers askfront.answering.base.Answerer, the
embeddings and chat models LangChain's Embeddings and BaseChatModel."""

from __future__ import annotations

import hashlib
import re
import time
import zlib
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import asdict
from typing import Any

from langchain_core.embeddings import DeterministicFakeEmbedding, Embeddings
from langchain_core.language_models.chat_models import BaseChatModel
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessageChunk, BaseMessage
from langchain_core.outputs import ChatGenerationChunk, ChatResult
from pydantic import Field

from askfront.answering.base import Answerer
from askfront.assistant import index_spec
from askfront.core.config import Settings
from askfront.core.errors import IndexNotFoundError
from askfront.core.options import AskOptions
from askfront.core.text import content_terms, split_sentences
from askfront.core.types import (
    Answer,
    AnswerSentence,
    Chunk,
    Citation,
    Document,
    DocumentRecord,
    FileReport,
    IndexReport,
    Passage,
    Progress,
    Turn,
)
from askfront.indexing.sync import remove_source
from askfront.retrieval.base import SearchResult


# -- embeddings -------------------------------------------------------------------------------
class CountingEmbeddings(Embeddings):
    """The real model, counting how many texts it embeds (to prove incremental indexing)."""

    def __init__(self, inner: Embeddings) -> None:
        self.inner = inner
        self.documents = 0

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        self.documents += len(texts)
        return self.inner.embed_documents(texts)

    def embed_query(self, text: str) -> list[float]:
        return self.inner.embed_query(text)


class BagOfWordsEmbeddings(Embeddings):
    """Deterministic embeddings whose cosine tracks shared content words (unlike
    DeterministicFakeEmbedding, whose vectors are unrelated for any two different texts)."""

    def __init__(self, size: int = 512) -> None:
        self.size = size
        self.calls = 0

    def _vector(self, text: str) -> list[float]:
        vec = [0.0] * self.size
        for term in content_terms(text):
            vec[zlib.crc32(term.encode()) % self.size] += 1.0
        return vec

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        self.calls += 1
        return [self._vector(t) for t in texts]

    def embed_query(self, text: str) -> list[float]:
        return self._vector(text)


# -- chat models ------------------------------------------------------------------------------
class RecordingChatModel(GenericFakeChatModel):
    """GenericFakeChatModel (streams word by word) that records the messages it was sent."""

    seen: list[list[BaseMessage]] = Field(default_factory=list)

    def _generate(self, messages: list[BaseMessage], *args: Any, **kwargs: Any) -> ChatResult:
        self.seen.append(list(messages))
        return super()._generate(messages, *args, **kwargs)


def recording_model(*replies: str) -> RecordingChatModel:
    return RecordingChatModel(messages=iter(replies))


class FailingChatModel(BaseChatModel):
    """Streams `before` (a list of deltas), then raises `error`."""

    error: Exception
    before: list[str] = Field(default_factory=list)

    @property
    def _llm_type(self) -> str:
        return "failing-fake"

    def _generate(self, messages: list[BaseMessage], *args: Any, **kwargs: Any) -> ChatResult:
        raise self.error

    def _stream(
        self, messages: list[BaseMessage], *args: Any, **kwargs: Any
    ) -> Iterator[ChatGenerationChunk]:
        for text in self.before:
            yield ChatGenerationChunk(message=AIMessageChunk(content=text))
        raise self.error


class SlowChatModel(GenericFakeChatModel):
    """Streams word by word, sleeping `delay` seconds before each chunk."""

    delay: float = 0.2

    def _stream(self, *args: Any, **kwargs: Any) -> Iterator[ChatGenerationChunk]:
        for chunk in super()._stream(*args, **kwargs):
            time.sleep(self.delay)
            yield chunk


# -- answerers and passages ------------------------------------------------------------------
class LeadSentenceAnswerer(Answerer):
    """A stand-in extractive answerer: quotes the first sentence of passage 1."""

    name = "extractive"

    def __init__(self) -> None:
        self.calls = 0

    def answer(
        self, question: str, passages: Sequence[Passage], history: Sequence[Turn] = ()
    ) -> Answer:
        self.calls += 1
        if not passages:
            return Answer(text="The articles don't say.", refused=True)
        p = passages[0]
        s, e = p.chunk.sentences[0]
        quote = p.chunk.text[s - p.chunk.start : e - p.chunk.start]
        cite = Citation(1, p.source, p.title, p.date, s, e, quote, 1.0)
        return Answer(text=f"{quote} [1]", citations=[cite], sentences=[AnswerSentence(quote, [1])])


def make_passage(
    text: str,
    *,
    source: str = "a.md",
    title: str | None = "Title",
    date: str | None = "2024-02-28",
    prefix: str = "",
) -> tuple[Passage, str]:
    """A Passage over `text` placed after `prefix` in a document; returns it and the document
    text (so tests can check document_text[start:end] == quote)."""
    doc = prefix + text
    start = len(prefix)
    spans = tuple(split_sentences(doc, start, len(doc)))
    chunk = Chunk(id=f"{source}:{start}", source=source, index=0, text=text, start=start,
                  end=len(doc), sentences=spans)  # fmt: skip
    return Passage(chunk=chunk, title=title, date=date), doc


# -- the assistant ---------------------------------------------------------------------------
_FAKE_SENTENCE = re.compile(r"[^.!?\n]+[.!?]?")
_FAKE_TITLE = re.compile(r"^(?:title:|#) *(.+)$", re.MULTILINE)
_FAKE_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


class FakeAssistant:
    """The Assistant's interface over plain files, for UI tests without model or index.

    "Retrieval" is overlap of 5+ letter words between the question and each sentence of the
    .md/.txt files in corpus_dir as of the last reindex(); the answer is the best sentence, cited
    as [1], streamed in two deltas. No overlap gives a refusal with related reading.
    Every ask is recorded in `calls`; set `fail` to make the next asks raise it.
    It implements askfront.core.protocols.AssistantAPI, as the real Assistant does.
    """

    refusal = "The articles don't say."

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.calls: list[dict[str, object]] = []
        self.fail: Exception | None = None
        self.indexed: dict[str, Document] = {}

    def modes(self) -> list[str]:
        return ["extractive", "fake:llm"]

    def reindex(
        self, *, full: bool = False, progress: Progress | None = None, wait: bool = False
    ) -> IndexReport:
        files = sorted(p for p in self.settings.corpus_dir.iterdir() if p.suffix in (".md", ".txt"))
        before, after = self.indexed, {}
        reports = []
        for i, path in enumerate(files, 1):
            text = path.read_text(encoding="utf-8")
            sha = hashlib.sha256(path.read_bytes()).hexdigest()
            title = _FAKE_TITLE.search(text)
            found = _FAKE_DATE.search(path.name)
            after[path.name] = Document(
                path=path.name,
                text=text,
                sha256=sha,
                title=title.group(1).strip(" \"'") if title else path.stem,
                date=found.group(0) if found else None,
            )
            old = before.get(path.name)
            status = "added" if old is None else "unchanged" if old.sha256 == sha else "updated"
            reports.append(FileReport(path.name, status, len(_FAKE_SENTENCE.findall(text))))
            if progress:
                progress("Embedding chunks", i, len(files))
        reports += [FileReport(p, "deleted") for p in before if p not in after]
        self.indexed = after
        counts = {s: sum(r.status == s for r in reports) for s in ("added", "updated", "deleted")}
        counts["unchanged"] = sum(r.status == "unchanged" for r in reports)
        counts["failed"] = 0
        return IndexReport(reports, counts, sum(r.chunks for r in reports), 0.01)

    def documents(self) -> list[DocumentRecord]:
        return [
            DocumentRecord(d.path, d.title, d.date, d.sha256, 1, "indexed")
            for d in self.indexed.values()
        ]

    def document(self, source: str) -> Document | None:
        return self.indexed.get(source)

    def search(self, query: str, options: AskOptions | None = None) -> SearchResult:
        """Every sentence sharing a word of five letters or more with `query`, as a passage."""
        asked = options or AskOptions()
        wanted = {w.lower() for w in re.findall(r"\w{5,}", query)}
        found = []
        for doc in self.indexed.values():
            if asked.sources and doc.path not in asked.sources:
                continue
            for i, m in enumerate(_FAKE_SENTENCE.finditer(doc.text)):
                if wanted & {w.lower() for w in re.findall(r"\w{5,}", m.group(0))}:
                    chunk = Chunk(f"{doc.path}:{i}", doc.path, i, m.group(0), m.start(), m.end())
                    found.append(Passage(chunk, doc.title, doc.date, rank=len(found) + 1))
        return SearchResult(found[: asked.top_k or 5])

    def retriever(self) -> object:
        if not self.indexed:
            raise IndexNotFoundError("No index yet (FakeAssistant): reindex() first.")
        return self.indexed

    def delete_document(self, source: str) -> IndexReport:
        remove_source(index_spec(self.settings), source)  # the real file deletion, under lock
        return self.reindex(wait=True)

    def ask(
        self, question: str, history: Sequence[Turn] = (), options: AskOptions | None = None
    ) -> Answer:
        *_, final = self.ask_stream(question, history, options)
        assert isinstance(final, Answer)
        return final

    def ask_stream(
        self, question: str, history: Sequence[Turn] = (), options: AskOptions | None = None
    ) -> Iterator[str | Answer]:
        asked = options or AskOptions()
        self.calls.append({"question": question, "history": list(history), **asdict(asked)})
        if self.fail is not None:
            raise self.fail
        wanted = {w.lower() for w in re.findall(r"\w{5,}", question)}
        best: tuple[int, Document, re.Match[str]] | None = None
        for doc in self.indexed.values():
            if asked.sources and doc.path not in asked.sources:
                continue
            for m in _FAKE_SENTENCE.finditer(doc.text):
                score = len(wanted & {w.lower() for w in re.findall(r"\w{5,}", m.group(0))})
                if score and (best is None or score > best[0]):
                    best = (score, doc, m)
        if best is None:
            related = []
            for doc in list(self.indexed.values())[:1]:
                m = next(_FAKE_SENTENCE.finditer(doc.text))
                related.append(self._cite(1, doc, m))
            yield self.refusal
            yield Answer(text=self.refusal, refused=True, related=related)
            return
        _, doc, m = best
        cited = self._cite(1, doc, m)
        text = f"{cited.quote} [1]"
        yield text[: len(text) // 2]
        yield text[len(text) // 2 :]
        yield Answer(
            text=text,
            citations=[cited],
            sentences=[AnswerSentence(cited.quote, [1])],
            mode=asked.mode or "extractive",
        )

    @staticmethod
    def _cite(n: int, doc: Document, m: re.Match[str]) -> Citation:
        start = m.start() + len(m.group(0)) - len(m.group(0).lstrip())
        quote = doc.text[start : m.end()]
        return Citation(n, doc.path, doc.title, doc.date, start, m.end(), quote, 0.5)


class CannedAssistant:
    """For the evaluation runner: returns the Answer prepared for each question and records
    the history it got. Has what run_eval uses of an Assistant: settings, embeddings, ask."""

    def __init__(self, answers: Mapping[str, Answer]) -> None:
        self.settings = Settings()
        self.embeddings: Embeddings = DeterministicFakeEmbedding(size=64)
        self.answers = dict(answers)
        self.calls: list[tuple[str, list[Turn]]] = []

    def ask(
        self, question: str, history: Sequence[Turn] = (), options: AskOptions | None = None
    ) -> Answer:
        self.calls.append((question, list(history)))
        return self.answers[question]


def passage_of(
    *sentences: str, source: str = "news.md", title: str = "News", rank: int = 1, dense: float = 0.6
) -> Passage:
    """One chunk holding `sentences` (separated by single spaces), as retrieval returns it."""
    text = " ".join(sentences)
    spans, start = [], 0
    for s in sentences:
        spans.append((start, start + len(s)))
        start += len(s) + 1
    chunk = Chunk(f"{source}#0", source, 0, text, 0, len(text), sentences=tuple(spans))
    return Passage(chunk, title, "2024-01-10", 1.0 / (60 + rank), dense, None, rank)
