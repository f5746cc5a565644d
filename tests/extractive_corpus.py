"""The extractive tests' corpus: the default article, chunked, with BM25 standing in for search."""

from __future__ import annotations

import bm25s
import frontmatter
import numpy as np

from askfront.assistant import embedding_spec
from askfront.core.config import Settings
from askfront.core.text import content_terms, normalize_text
from askfront.core.types import Chunk, Document, Passage
from askfront.indexing.chunking import chunk_document
from askfront.indexing.embeddings import get_tokenizer
from paths import DEFAULT_ARTICLE


class Corpus:
    """The default article, chunked, with a BM25 stand-in for retrieval."""

    def __init__(self) -> None:
        post = frontmatter.loads(normalize_text(DEFAULT_ARTICLE.read_text(encoding="utf-8")))
        self.doc = Document(
            path=DEFAULT_ARTICLE.name,
            text=post.content,
            sha256="0" * 64,
            title=str(post["title"]),
            date=str(post["date"]),
        )
        self.chunks: list[Chunk] = chunk_document(
            self.doc, get_tokenizer(embedding_spec(Settings())), 200
        )
        self.bm25 = bm25s.BM25()
        self.bm25.index([content_terms(c.text) for c in self.chunks], show_progress=False)

    def passage(self, chunk: Chunk, rank: int, dense: float | None = None) -> Passage:
        return Passage(chunk, self.doc.title, self.doc.date, 1.0 / (60 + rank), dense, None, rank)

    def retrieve(self, query: str, k: int = 5, dense: float | None = None) -> list[Passage]:
        scores = self.bm25.get_scores(content_terms(query))
        order = np.argsort(-scores, kind="stable")[:k]
        return [self.passage(self.chunks[i], r + 1, dense) for r, i in enumerate(order)]
