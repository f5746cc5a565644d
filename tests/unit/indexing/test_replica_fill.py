"""A replica's first fill streams the chunk collection page by page (replica._fill_by_scan):
documents whose chunks span pages arrive whole, one caught mid-rewrite is left for the next
refresh. Chroma's get() is faked here; tests/e2e/test_replicas.py runs the real server."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from askfront.core.errors import IndexNotFoundError, IndexWriteError
from askfront.core.types import Chunk, Document
from askfront.indexing import replica
from askfront.indexing.docstore import DocStore
from askfront.indexing.reconcile import lc_document
from askfront.indexing.store import active_build


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


class FakeClient:
    """Chroma's get_collection for one published build: `<build>-docs` and `<build>`."""

    def __init__(self, docs: FakeCollection, chunks: FakeCollection) -> None:
        self.docs, self.chunks = docs, chunks

    def get_collection(self, name: str, embedding_function: Any = None) -> FakeCollection:
        return self.docs if name.endswith("-docs") else self.chunks


@pytest.fixture
def replica_store(
    tmp_path: Path, published: Any, monkeypatch: pytest.MonkeyPatch
) -> replica.StoreSpec:
    """A replica whose Chroma is the fakes above (read by scanning, which they support);
    BM25 built in-process, not in a child."""
    docs, chunks, _ = published
    monkeypatch.setattr(replica, "_SCAN_ABOVE", 0)
    monkeypatch.setattr(replica.Build, "client", property(lambda self: FakeClient(docs, chunks)))
    in_process = lambda db, folder: replica._bm25_from_docstore(str(db), str(folder))  # noqa: E731
    monkeypatch.setattr(replica, "_bm25_in_child", in_process)
    return replica.StoreSpec(tmp_path / "replica-index")


@pytest.mark.parametrize("when", ["_fill", "_rebuild_bm25"])
def test_a_cache_deleted_during_a_refresh_is_not_activated_and_the_next_one_fills_it(
    replica_store: replica.StoreSpec, published: Any, monkeypatch: pytest.MonkeyPatch, when: str
) -> None:
    _, _, documents = published
    pointer = replica.Pointer(build="b1", generation=3)
    real = getattr(replica, when)

    def then_delete(build: replica.Build, *args: Any) -> Any:
        out = real(build, *args)
        shutil.rmtree(replica.cache_store(replica_store).index_dir)
        build.docstore.on_disk  # noqa: B018 - a reader may look at the path meanwhile
        DocStore(build.docstore.path)  # ... and so create a new, empty docstore there
        return out

    monkeypatch.setattr(replica, when, then_delete)
    with pytest.raises(IndexWriteError, match="deleted during a refresh"):
        replica.fill_cache(replica_store, pointer)
    cache = replica.cache_store(replica_store)
    folder = cache.index_dir / "builds" / "b1"
    assert not (folder / "state.json").exists(), "a half-filled cache must not look finished"
    assert not (folder / "docstore.sqlite3").exists()
    with pytest.raises(IndexNotFoundError):
        active_build(cache)

    monkeypatch.setattr(replica, when, real)
    build, complete = replica.fill_cache(replica_store, pointer)
    assert complete and build.intact
    assert active_build(cache).name == "b1"
    assert {r.path for r in build.docstore.rows()} == {d.path for d in documents}
    assert build.bm25_dir() is not None
