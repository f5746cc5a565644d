"""The small typed vocabulary every other module speaks.

Dependencies point here, never out of here: this module imports nothing from askfront.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any, Literal, TypedDict

# Progress callback of long work (indexing, evaluation): (stage description, done, total).
Progress = Callable[[str, int, int], None]


class Turn(TypedDict):
    """One conversation turn, as in `--history` files and the web chat."""

    role: Literal["user", "assistant"]
    content: str


@dataclass(frozen=True)
class PageSpan:
    """Where one PDF page lies in the document text: text[start:end]."""

    page: int
    start: int
    end: int


@dataclass(frozen=True)
class Document:
    """One article, loaded and normalized (NFC, no non-breaking spaces)."""

    path: str  # relative to the corpus root, POSIX separators
    text: str
    sha256: str  # of the file's bytes
    title: str | None = None
    date: str | None = None  # ISO YYYY-MM-DD where known
    author: str | None = None
    url: str | None = None
    pages: tuple[PageSpan, ...] = ()
    metadata: dict[str, Any] = field(default_factory=dict)

    def page_at(self, offset: int) -> int | None:
        """The PDF page that holds character `offset`, or None for non-PDFs."""
        for span in self.pages:
            if span.start <= offset < span.end:
                return span.page
        return self.pages[-1].page if self.pages else None


@dataclass(frozen=True)
class Chunk:
    """A piece of a document: document.text[start:end] == text.

    `sentences` holds absolute (start, end) offsets of the sentences inside the chunk,
    computed once at index time so the answerer never re-splits text at query time.
    """

    id: str
    source: str
    index: int
    text: str
    start: int
    end: int
    page: int | None = None
    sentences: tuple[tuple[int, int], ...] = ()
    n_tokens: int = 0


@dataclass
class Passage:
    """A retrieved chunk with the metadata of its document and its scores."""

    chunk: Chunk
    title: str | None = None
    date: str | None = None
    score: float = 0.0  # fused score used for ranking
    dense_score: float | None = None  # cosine similarity, if the dense side found it
    bm25_score: float | None = None  # raw BM25 score, if the keyword side found it
    rank: int = 0

    @property
    def source(self) -> str:
        return self.chunk.source


@dataclass
class Citation:
    """A quoted span of a document: document_text[start:end] == quote."""

    n: int
    source: str
    title: str | None
    date: str | None
    start: int
    end: int
    quote: str
    score: float
    page: int | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "n": self.n,
            "source": self.source,
            "title": self.title,
            "date": self.date,
            "start": self.start,
            "end": self.end,
            "quote": self.quote,
            "score": round(float(self.score), 4),
        }


@dataclass
class AnswerSentence:
    """One sentence of an answer, with the citations it carries and whether they support it."""

    text: str
    citations: list[int] = field(default_factory=list)
    supported: bool = True
    support_score: float = 1.0
    # The answering phrase, as offsets into `text` (shown in bold); None when unmarked.
    answer_span: tuple[int, int] | None = None
    # Whether the sentence goes on before / after `text`, a verbatim clause of it: the
    # answer shows "…" there, outside the quote.
    elided: tuple[bool, bool] = (False, False)


@dataclass
class Answer:
    """What `Assistant.ask` returns; `to_json` gives the documented CLI/API structure."""

    text: str
    citations: list[Citation] = field(default_factory=list)
    refused: bool = False
    timings: dict[str, float] = field(default_factory=dict)  # milliseconds per stage
    sentences: list[AnswerSentence] = field(default_factory=list)
    related: list[Citation] = field(default_factory=list)  # closest passages, on refusal
    notice: str | None = None  # a fault the user should know about (e.g. LLM fell back)
    mode: str = "extractive"
    query: str | None = None  # the standalone query used for retrieval
    passages: list[Passage] = field(default_factory=list)  # what retrieval returned
    # The articles a collection answer lists (date, title, source, first_mention): every
    # one, also those beyond the ones the text names (the web chat's list view).
    articles: list[dict[str, Any]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "answer": self.text,
            "refused": self.refused,
            "citations": [c.to_json() for c in self.citations],
            "timings_ms": {k: round(v, 2) for k, v in self.timings.items()},
            # JSON has no tuples: answer_span goes out as the list a client reads back.
            "sentences": [
                {
                    **asdict(s),
                    "answer_span": list(s.answer_span) if s.answer_span else None,
                    "elided": list(s.elided),
                }
                for s in self.sentences
            ],
            "related": [c.to_json() for c in self.related],
            "notice": self.notice,
            "mode": self.mode,
            "articles": self.articles,
        }


@dataclass
class DocumentRecord:
    """One corpus file as the index knows it (for listings in the CLI and UI)."""

    path: str
    title: str | None
    date: str | None
    sha256: str
    chunks: int
    status: str  # "indexed" or "failed"
    error: str | None = None


@dataclass
class FileReport:
    path: str
    status: str  # added | updated | deleted | unchanged | failed
    chunks: int = 0
    reason: str | None = None


@dataclass
class IndexReport:
    files: list[FileReport]
    counts: dict[str, int]  # added, updated, deleted, unchanged, failed
    chunks_embedded: int
    seconds: float
    full_rebuild: bool = False
    rebuild_reason: str | None = None
    repaired: str | None = None  # what a sync fixed where the stores disagreed (a killed sync)
