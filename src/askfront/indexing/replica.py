"""Server mode: everything a replica needs lives in Chroma; it needs only the address.

Next to each build's chunk collection (texts, with source, offsets and sentence spans as
metadata: `askfront.indexing.reconcile.lc_document`), the indexer publishes:

    <build>-docs        one record per document: the normalized text (what citation
                        offsets point into) as the document, title, date, sha256, status
                        ... as metadata; a dummy vector (Chroma needs one per record)
    <prefix>-active     no records; its collection metadata says which build answers and
                        its generation (bumped by every sync that changed something)

A replica reads the pointer (one small HTTP call), and when it moved, brings its cache
(`index_dir/replica/`, an indexer's layout) up to it: changed documents are fetched,
removed ones dropped, BM25 rebuilt locally (open-source Chroma has no BM25 outside its
distributed deployment). No vector copies: 384 floats per chunk over Chroma's JSON API
cost ~6x the texts; keyword-only hits get dense scores from Chroma (retrieval.hybrid).
"""

from __future__ import annotations

import json
import logging
import multiprocessing
import shutil
import time
from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from askfront.core.errors import IndexWriteError, StoreUnavailableError
from askfront.core.types import Chunk, Document, PageSpan
from askfront.indexing import bm25
from askfront.indexing.docstore import DocStore
from askfront.indexing.store import Build, StoreSpec, activate, date_int

logger = logging.getLogger(__name__)

_PAGE = 1000  # records per Chroma get/upsert call
_DUMMY = [1.0]  # the docs collection's vector: Chroma needs one, nothing searches it
# Above this many changed documents, paging through the whole chunk collection beats one
# `where source $in` query per batch of documents (~3x slower per chunk).
_SCAN_ABOVE = 2000


@dataclass(frozen=True)
class Pointer:
    """Which build answers, and its generation, as the indexer last published them."""

    build: str
    generation: int
    published_at: float = 0.0


def pointer_name(store: StoreSpec) -> str:
    return f"{store.collection}-active"


def docs_name(build_name: str) -> str:
    return f"{build_name}-docs"


def cache_store(store: StoreSpec) -> StoreSpec:
    """Where a replica keeps its caches: a folder of the same layout as an indexer's."""
    return StoreSpec(store.index_dir / "replica", store.collection, store.chroma)


def read_pointer(client: Any, store: StoreSpec) -> Pointer | None:
    """The published pointer; None when no indexer has published one yet.

    Raises:
        StoreUnavailableError: if the Chroma server cannot be reached.
    """
    try:
        names = {c if isinstance(c, str) else c.name for c in client.list_collections()}
        if pointer_name(store) not in names:
            return None
        meta = client.get_collection(pointer_name(store), embedding_function=None).metadata
    except Exception as exc:
        raise StoreUnavailableError(f"Chroma server at {store.chroma.address}: {exc}") from exc
    if not meta or "build" not in meta:
        return None
    return Pointer(str(meta["build"]), int(meta["generation"]), float(meta.get("published_at", 0)))


# -- the indexer's side -----------------------------------------------------------------------
def publish(build: Build) -> Pointer:
    """Make Chroma hold `build`'s documents as its docstore has them, then point replicas at
    the build's current generation. Cheap when nothing changed: one metadata listing.

    Raises:
        StoreUnavailableError: if the Chroma server cannot be reached.
    """
    client = build.client
    docs: Any = client.get_or_create_collection(docs_name(build.name), embedding_function=None)
    remote = _remote_shas(docs)
    rows = {row.path: row for row in build.docstore.rows()}
    gone = sorted(set(remote) - set(rows))
    for part in _pages(gone):
        docs.delete(ids=list(part))
    changed = sorted(p for p, row in rows.items() if remote.get(p) != row.sha256)
    for part in _pages(changed):
        records = [_doc_record(build.docstore, rows[p]) for p in part]
        docs.upsert(
            ids=list(part),
            embeddings=[_DUMMY] * len(part),
            documents=[text for text, _ in records],
            metadatas=[meta for _, meta in records],
        )
    pointer = Pointer(build.name, int(build.state().get("generation", 0)), time.time())
    client.get_or_create_collection(pointer_name(build.store), embedding_function=None).modify(
        metadata={"build": pointer.build, "generation": pointer.generation,
                  "published_at": pointer.published_at}
    )  # fmt: skip
    if gone or changed:
        logger.info("Published %d changed and %d removed documents", len(changed), len(gone))
    return pointer


def delete_published(client: Any, build_name: str) -> None:
    """Drop a destroyed build's documents collection (its chunks go with the build)."""
    try:
        client.delete_collection(docs_name(build_name))
    except Exception as exc:  # already gone, or never published
        logger.info("Could not delete collection %s: %s", docs_name(build_name), exc)


def _doc_record(store: DocStore, row: Any) -> tuple[str, dict[str, Any]]:
    doc = store.document(row.path)
    meta: dict[str, Any] = {"sha256": row.sha256, "status": row.status, "chunks": row.chunks}
    if row.error:
        meta["error"] = row.error
    if doc is None:  # a file that failed before it was ever indexed: listed, not searched
        return "", meta
    meta["has_text"] = True
    for key in ("title", "date", "author", "url"):
        if getattr(doc, key):
            meta[key] = getattr(doc, key)
    meta["pages"] = json.dumps([[p.page, p.start, p.end] for p in doc.pages])
    meta["metadata"] = json.dumps(doc.metadata, default=str)
    return doc.text, meta


# -- the replica's side -----------------------------------------------------------------------
def fill_cache(store: StoreSpec, pointer: Pointer) -> tuple[Build, bool]:
    """Bring the replica cache's copy of `pointer.build` up to date from Chroma and make it
    the cache's active build. Returns it, and whether every document came through whole
    (False while the indexer is midway through a sync: the next call tries again).

    Crash-safe like a sync: each document is written in one transaction, and state.json
    (which says the cache reached this generation) only at the end.

    Raises:
        StoreUnavailableError: if the Chroma server cannot be reached.
    """
    cache = cache_store(store)
    build = Build(cache, pointer.build)
    build.dir.mkdir(parents=True, exist_ok=True)
    try:
        complete = _fill(build)
    except StoreUnavailableError:
        raise
    except Exception as exc:  # chromadb raises plain exceptions when the server goes away
        raise StoreUnavailableError(
            f"Refreshing the replica cache from Chroma at {store.chroma.address} failed: {exc}"
        ) from exc
    _check_on_disk(build)  # before BM25 is built from (and state.json names) the file
    _rebuild_bm25(build, pointer.generation, complete)
    _check_on_disk(build)
    activate(cache, build)
    for folder in (cache.index_dir / "builds").iterdir():
        if folder.name != build.name and folder.is_dir():
            shutil.rmtree(folder, ignore_errors=True)
    return build, complete


def _check_on_disk(build: Build) -> None:
    """Raises IndexWriteError if the cache folder was deleted under this refresh, after
    removing what was made there since (an empty docstore, a state.json naming the deleted
    one): the next refresh starts from nothing instead of a half-filled cache."""
    if build.docstore.on_disk:
        return
    shutil.rmtree(build.dir, ignore_errors=True)
    raise IndexWriteError("The replica cache was deleted during a refresh; filling it again.")


def _fill(build: Build) -> bool:
    client = build.client
    docs: Any = client.get_collection(docs_name(build.name), embedding_function=None)
    chunks_coll: Any = client.get_collection(build.name, embedding_function=None)
    store = build.docstore
    remote, expected = _remote_index(docs)
    local = {row.path: row.sha256 for row in store.rows()}
    for path in sorted(set(local) - set(remote)):
        store.delete_document(path)
    changed = sorted(p for p, sha in remote.items() if local.get(p) != sha)
    if not changed:
        return True
    if len(changed) > _SCAN_ABOVE:
        return _fill_by_scan(store, docs, chunks_coll, set(changed), expected)
    complete = True
    for part in _pages(changed, 200):
        complete &= _store_page(store, docs, part, _chunks_of(chunks_coll, part))
    return complete


def fetch_documents(build: Build, chunk_ids: Sequence[str]) -> None:
    """Read-through for a replica still filling its cache: write the documents of
    `chunk_ids` (which dense search found in Chroma) into the cache's docstore now, so that
    the answer can quote and cite them before the first fill reaches them.

    Raises:
        StoreUnavailableError: if the Chroma server cannot be reached.
    """
    try:
        client = build.client
        chunks_coll: Any = client.get_collection(build.name, embedding_function=None)
        got = chunks_coll.get(ids=list(chunk_ids), include=["metadatas"])
        sources = sorted({str((m or {}).get("source")) for m in got["metadatas"]} - {"None"})
        if sources:
            docs: Any = client.get_collection(docs_name(build.name), embedding_function=None)
            _store_page(build.docstore, docs, sources, _chunks_of(chunks_coll, sources))
    except Exception as exc:  # chromadb raises plain exceptions when the server goes away
        raise StoreUnavailableError(f"Fetching passages from Chroma failed: {exc}") from exc


def _store_page(
    store: DocStore, docs: Any, paths: Sequence[str], by_source: dict[str, list[Chunk]]
) -> bool:
    """Fetch the documents `paths` and write them with their chunks; False if one was
    being re-indexed (its chunks did not check out)."""
    complete = True
    got = docs.get(ids=list(paths), include=["documents", "metadatas"])
    for path, text, meta in zip(got["ids"], got["documents"], got["metadatas"], strict=True):
        complete &= _store_document(store, path, text or "", dict(meta or {}),
                                    by_source.get(path, []))  # fmt: skip
    return complete


def _fill_by_scan(
    store: DocStore, docs: Any, chunks_coll: Any, wanted: set[str], expected: dict[str, int]
) -> bool:
    """A cold start's one pass over the chunk collection, streamed: chunks are held only
    until their document has all of them (the indexer writes a document's chunks
    together, so that is a few pages at most), then the document is fetched and written."""
    pending: dict[str, list[Chunk]] = defaultdict(list)
    ready: list[str] = []
    done: set[str] = set()
    complete = True
    for page in _scan_pages(chunks_coll):
        for chunk in page:
            if chunk.source not in wanted:
                continue
            pending[chunk.source].append(chunk)
            if len(pending[chunk.source]) == expected.get(chunk.source, -1):
                ready.append(chunk.source)
        if len(ready) >= 200:
            complete &= _store_page(store, docs, ready, {p: pending.pop(p) for p in ready})
            done.update(ready)
            ready = []
    # Whatever is left: documents with no text, or caught mid-rewrite (checked and retried).
    rest = ready + sorted(wanted - done - set(ready))
    for part in _pages(rest, 200):
        complete &= _store_page(store, docs, part, {p: pending.pop(p, []) for p in part})
    return complete


def _store_document(
    store: DocStore, path: str, text: str, meta: dict[str, Any], chunks: list[Chunk]
) -> bool:
    """Write one fetched document to the cache's docstore, if its chunks check out."""
    if not meta.get("has_text"):
        with store.transaction() as c:
            c.execute(
                "INSERT OR REPLACE INTO documents (path, sha256, status, error, chunks, "
                "indexed_at) VALUES (?, ?, 'failed', ?, 0, ?)",
                (path, meta.get("sha256", ""), meta.get("error"), time.time()),
            )
        return True
    chunks.sort(key=lambda ch: ch.index)
    whole = len(chunks) == int(meta.get("chunks", -1)) and all(
        ch.index == i and text[ch.start : ch.end] == ch.text for i, ch in enumerate(chunks)
    )
    if not whole:  # the indexer is rewriting this document right now
        logger.info("Document %s is being re-indexed; fetching it again later", path)
        return False
    pages = tuple(PageSpan(*p) for p in json.loads(meta.get("pages") or "[]"))
    doc = Document(
        path=path, text=text, sha256=str(meta["sha256"]), title=meta.get("title"),
        date=meta.get("date"), author=meta.get("author"), url=meta.get("url"), pages=pages,
        metadata=json.loads(meta.get("metadata") or "{}"),
    )  # fmt: skip
    store.put_document(doc, chunks)
    if meta.get("status") != "indexed":  # a newer version failed; this one stays indexed
        with store.transaction() as c:
            c.execute(
                "UPDATE documents SET status = ?, error = ? WHERE path = ?",
                (meta.get("status"), meta.get("error"), path),
            )
    return True


def _rebuild_bm25(build: Build, generation: int, complete: bool) -> None:
    state = build.state()
    version = build.docstore.version()
    folder = build.bm25_dir()
    if folder is None or not folder.is_dir() or state.get("docstore_version") != version:
        folder = build.dir / f"bm25-{generation}-{version}"
        _bm25_in_child(build.docstore.path, folder)
    build.write_state(
        generation=generation, bm25=folder.name, docstore_version=version, complete=complete,
        replica=True, updated_at=time.time(),
    )  # fmt: skip
    for old in build.dir.glob("bm25-*"):
        if old != folder:
            shutil.rmtree(old, ignore_errors=True)


def _bm25_in_child(docstore: Path, folder: Path) -> None:
    """Build BM25 from the docstore in a child process. Every chunk's text and stemmed
    terms (~7 GB at a million chunks) would otherwise stay the serving process's peak
    memory for good; the child's goes away with it, and the index is memory-mapped after.

    Raises:
        IndexWriteError: if the child fails (its traceback is in the log).
    """
    child = multiprocessing.get_context("spawn").Process(
        target=_bm25_from_docstore, args=(str(docstore), str(folder)), name="askfront-bm25"
    )
    child.start()
    child.join()
    if child.exitcode != 0:
        raise IndexWriteError(
            f"Building the replica's keyword index failed (exit code {child.exitcode}); "
            "the next refresh tries again."
        )


def _bm25_from_docstore(docstore: str, folder: str) -> None:
    ids, texts, sources, dates = DocStore(Path(docstore)).all_chunk_texts()
    bm25.build(Path(folder), ids, texts, sources, [date_int(d) for d in dates])


def _remote_shas(docs: Any) -> dict[str, str]:
    return _remote_index(docs)[0]


def _remote_index(docs: Any) -> tuple[dict[str, str], dict[str, int]]:
    """sha256 and chunk count by document path, as published."""
    out: dict[str, str] = {}
    chunks: dict[str, int] = {}
    offset = 0
    while True:
        got = docs.get(include=["metadatas"], limit=_PAGE * 5, offset=offset)
        for path, meta in zip(got["ids"], got["metadatas"], strict=True):
            out[path] = str((meta or {}).get("sha256", ""))
            chunks[path] = int((meta or {}).get("chunks", 0))
        if len(got["ids"]) < _PAGE * 5:
            return out, chunks
        offset += len(got["ids"])


def _scan_pages(collection: Any) -> Iterator[list[Chunk]]:
    """Every chunk of the collection, a page at a time."""
    offset = 0
    while True:
        got = collection.get(include=["documents", "metadatas"], limit=_PAGE * 5, offset=offset)
        yield list(_chunks(got))
        if len(got["ids"]) < _PAGE * 5:
            return
        offset += len(got["ids"])


def _chunks_of(collection: Any, sources: Sequence[str]) -> dict[str, list[Chunk]]:
    got = collection.get(where={"source": {"$in": list(sources)}},
                         include=["documents", "metadatas"])  # fmt: skip
    out: dict[str, list[Chunk]] = defaultdict(list)
    for chunk in _chunks(got):
        out[chunk.source].append(chunk)
    return out


def _chunks(got: dict[str, Any]) -> Iterator[Chunk]:
    for cid, text, meta in zip(got["ids"], got["documents"], got["metadatas"], strict=True):
        meta = meta or {}
        if "sentences" not in meta:  # written before replicas existed: not usable here
            continue
        yield Chunk(
            id=cid, source=str(meta["source"]), index=int(meta["idx"]), text=text or "",
            start=int(meta["start"]), end=int(meta["end"]),
            page=int(meta["page"]) if "page" in meta else None,
            sentences=tuple(tuple(s) for s in json.loads(meta["sentences"])),
            n_tokens=int(meta.get("n_tokens", 0)),
        )  # fmt: skip


def _pages(items: Sequence[str], size: int = _PAGE) -> Iterator[Sequence[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
