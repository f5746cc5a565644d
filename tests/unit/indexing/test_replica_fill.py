"""A replica's first fill streams the chunk collection page by page (replica._fill_by_scan):
documents whose chunks span pages arrive whole, one caught mid-rewrite is left for the next
refresh. Chroma's get() is faked here; tests/e2e/test_replicas.py runs the real server."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from askfront.core.types import Chunk, Document
from askfront.indexing import replica
from askfront.indexing.docstore import DocStore
from askfront.indexing.reconcile import lc_document


class FakeCollection:
    """Chroma's get(ids=...) and get(limit=, offset=) over fixed records, in insertion order."""

    def __init__(self, records: list[tuple[str, str, dict[str, Any]]]) -> None:
        self.records = records
        self.pages = 0

    def get(self, ids: list[str] | None = None, include: Any = None, limit: int | None = None,
            offset: int = 0) -> dict[str, list[Any]]:  # fmt: skip
        if ids is not None:
            rows = [r for r in self.records if r[0] in set(ids)]
        else:
            self.pages += 1
            rows = self.records[offset : offset + (limit or len(self.records))]
        return {"ids": [r[0] for r in rows], "documents": [r[1] for r in rows],
                "metadatas": [r[2] for r in rows]}  # fmt: skip


def _document(n: int, sentences: int) -> tuple[Document, list[Chunk]]:
    parts = [f"Article {n} sentence {i} says something." for i in range(sentences)]
    text = " ".join(parts)
    doc = Document(path=f"a{n}.md", text=text, sha256=f"sha{n}", title=f"Title {n}")
    chunks, start = [], 0
    for i, part in enumerate(parts):
        end = start + len(part)
        chunks.append(Chunk(id=f"c{n}-{i}", source=doc.path, index=i, text=part, start=start,
                            end=end, sentences=((start, end),)))  # fmt: skip
        start += len(part) + 1
    return doc, chunks


@pytest.fixture
def published(tmp_path: Path) -> tuple[FakeCollection, FakeCollection, list[Document]]:
    """What an indexer publishes for three documents of 2, 7 and 3 chunks."""
    source = DocStore(tmp_path / "indexer" / "docstore.sqlite")
    chunk_records, documents = [], []
    for n, size in enumerate((2, 7, 3)):
        doc, chunks = _document(n, size)
        source.put_document(doc, chunks)
        documents.append(doc)
        for c in chunks:
            chunk_records.append((c.id, c.text, lc_document(c, doc.date).metadata))
    doc_records = []
    for row in source.rows():
        text, meta = replica._doc_record(source, row)
        doc_records.append((row.path, text, meta))
    return FakeCollection(doc_records), FakeCollection(chunk_records), documents


def test_the_first_fill_streams_pages_and_writes_whole_documents(
    tmp_path: Path, published: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    docs, chunks, documents = published
    monkeypatch.setattr(replica, "_PAGE", 1)  # pages of 5 chunks: the 7-chunk article spans two
    store = DocStore(tmp_path / "replica" / "docstore.sqlite")
    _, expected = replica._remote_index(docs)
    wanted = {d.path for d in documents}

    assert replica._fill_by_scan(store, docs, chunks, wanted, expected) is True
    assert chunks.pages == 3  # 12 chunks in pages of 5
    for doc in documents:
        stored = store.document(doc.path)
        assert stored is not None and stored.text == doc.text and stored.title == doc.title
        ids = [f"c{documents.index(doc)}-{i}" for i in range(expected[doc.path])]
        got = store.chunks(ids)
        assert [got[i].text for i in ids] == [doc.text[got[i].start : got[i].end] for i in ids]


def test_a_document_caught_mid_rewrite_is_left_for_the_next_refresh(
    tmp_path: Path, published: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    docs, chunks, documents = published
    monkeypatch.setattr(replica, "_PAGE", 1)
    chunks.records = [r for r in chunks.records if r[0] != "c1-4"]  # one chunk not there yet
    store = DocStore(tmp_path / "replica" / "docstore.sqlite")
    _, expected = replica._remote_index(docs)

    assert (
        replica._fill_by_scan(store, docs, chunks, {d.path for d in documents}, expected) is False
    )
    assert store.document("a1.md") is None
    assert store.document("a0.md") is not None and store.document("a2.md") is not None
