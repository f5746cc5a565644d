"""Shared fixtures. Sections are owned by the module they serve; keep each one self-contained."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

# --- core fixtures ---
from langchain_core.embeddings import Embeddings

from askfront.assistant import embedding_spec, index_spec
from askfront.core.config import Settings

REPO = Path(__file__).resolve().parent.parent
DEFAULT_ARTICLE = REPO / "corpus" / "ukraine-foreign-fighters-washington-post-2024-02-28.md"
# The shared data sets (never committed). .ci/run points ASKFRONT_DATASETS at them, since
# its clean clones do not sit beside ../shared.
DATASETS = Path(os.environ.get("ASKFRONT_DATASETS") or REPO.parent / "shared" / "datasets")


@pytest.fixture(scope="session")
def realtimeqa() -> Path:
    """The RealTimeQA 2024 folder (corpus/, testset.jsonl); skips the test when absent."""
    folder = DATASETS / "realtimeqa-2024"
    if not (folder / "testset.jsonl").is_file():
        pytest.skip(f"{folder} is not present on this machine")
    return folder


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


@pytest.fixture(scope="session")
def real_embeddings() -> Embeddings:
    """The bundled all-MiniLM-L6-v2, loaded once per test session."""
    from askfront.indexing.embeddings import get_embeddings

    return get_embeddings(embedding_spec(Settings()))


@pytest.fixture
def counting_embeddings(real_embeddings: Embeddings) -> CountingEmbeddings:
    return CountingEmbeddings(real_embeddings)


@pytest.fixture
def corpus_dir(tmp_path: Path) -> Path:
    """A temporary copy of the default corpus."""
    folder = tmp_path / "corpus"
    folder.mkdir()
    shutil.copy(DEFAULT_ARTICLE, folder / DEFAULT_ARTICLE.name)
    return folder


@pytest.fixture
def settings(tmp_path: Path, corpus_dir: Path) -> Settings:
    return Settings(corpus_dir=corpus_dir, index_dir=tmp_path / "index")


@pytest.fixture(scope="session")
def seed_index(tmp_path_factory: pytest.TempPathFactory, real_embeddings: Embeddings) -> Settings:
    """The default corpus indexed once per session with the real model and Chroma (read-only)."""
    from askfront.indexing.sync import sync

    root = tmp_path_factory.mktemp("seed")
    (root / "corpus").mkdir()
    shutil.copy(DEFAULT_ARTICLE, root / "corpus" / DEFAULT_ARTICLE.name)
    s = Settings(corpus_dir=root / "corpus", index_dir=root / "index")
    sync(index_spec(s), embeddings=real_embeddings)
    return s


@pytest.fixture(scope="session")
def seed_assistant(seed_index: Settings, real_embeddings: Embeddings):  # type: ignore[no-untyped-def]
    from askfront.assistant import Assistant

    return Assistant(seed_index, embeddings=real_embeddings)


# --- UI fixtures ---
import hashlib  # noqa: E402
import re  # noqa: E402
from collections.abc import Iterator, Sequence  # noqa: E402

from askfront.assistant import Assistant  # noqa: E402
from askfront.core.types import (  # noqa: E402
    Answer,
    AnswerSentence,
    Citation,
    Document,
    DocumentRecord,
    FileReport,
    IndexReport,
    Progress,
    Turn,
)
from attack_server import attack_server  # noqa: E402, F401 (issue 13's attack server)

_FAKE_SENTENCE = re.compile(r"[^.!?\n]+[.!?]?")
_FAKE_TITLE = re.compile(r"^(?:title:|#) *(.+)$", re.MULTILINE)
_FAKE_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


class FakeAssistant(Assistant):
    """The Assistant's interface over plain files, for UI tests without model or index.

    "Retrieval" is overlap of 5+ letter words between the question and each sentence of the
    .md/.txt files in corpus_dir as of the last reindex(); the answer is the best sentence, cited
    as [1], streamed in two deltas. No overlap gives a refusal with related reading.
    Every ask is recorded in `calls`; set `fail` to make the next asks raise it.
    """

    refusal = "The articles don't say."

    def __init__(self, settings: Settings) -> None:
        super().__init__(settings)
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

    def ask_stream(  # type: ignore[override]
        self, question: str, history: Sequence[Turn] = (), **options: object
    ) -> Iterator[str | Answer]:
        self.calls.append({"question": question, "history": list(history), **options})
        if self.fail is not None:
            raise self.fail
        wanted = {w.lower() for w in re.findall(r"\w{5,}", question)}
        allowed = options.get("sources")
        best: tuple[int, Document, re.Match[str]] | None = None
        for doc in self.indexed.values():
            if allowed and doc.path not in allowed:  # type: ignore[operator]
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
            mode=str(options.get("mode") or "extractive"),
        )

    @staticmethod
    def _cite(n: int, doc: Document, m: re.Match[str]) -> Citation:
        start = m.start() + len(m.group(0)) - len(m.group(0).lstrip())
        quote = doc.text[start : m.end()]
        return Citation(n, doc.path, doc.title, doc.date, start, m.end(), quote, 0.5)


@pytest.fixture
def fake_assistant(settings: Settings) -> FakeAssistant:
    """A FakeAssistant over a temporary copy of the default corpus, already 'indexed'."""
    assistant = FakeAssistant(settings)
    assistant.reindex()
    return assistant


CHROMIUM = Path("/usr/bin/chromium")  # Debian's; Playwright never downloads a browser here
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="module")
def chromium() -> Iterator[object]:
    """Headless Chromium driven by Playwright (a playwright Browser), one per test module.

    Skips when /usr/bin/chromium or Playwright is missing.
    """
    if not CHROMIUM.exists():
        pytest.skip("needs Debian's /usr/bin/chromium (apt install chromium)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="needs playwright for Python")
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


# --- LLM fakes ---
import time  # noqa: E402
import zlib  # noqa: E402
from typing import Any  # noqa: E402

from langchain_core.language_models.chat_models import BaseChatModel  # noqa: E402
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel  # noqa: E402
from langchain_core.messages import BaseMessage  # noqa: E402
from langchain_core.outputs import ChatGenerationChunk, ChatResult  # noqa: E402
from pydantic import Field  # noqa: E402

from askfront.answering.base import Answerer  # noqa: E402
from askfront.core.text import content_terms, split_sentences  # noqa: E402
from askfront.core.types import Chunk, Passage  # noqa: E402


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
        from langchain_core.messages import AIMessageChunk

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


@pytest.fixture
def bow_embeddings() -> BagOfWordsEmbeddings:
    return BagOfWordsEmbeddings()


@pytest.fixture
def lead_answerer() -> LeadSentenceAnswerer:
    return LeadSentenceAnswerer()
