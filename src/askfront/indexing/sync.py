"""Incremental, crash-safe sync of corpus_dir into the index.

Bookkeeping is LangChain's indexing API (`index()` with a SQLRecordManager): it skips
chunks already embedded, and with cleanup="scoped_full" drops a changed file's stale
chunks. On top of it we keep per-file sha256 in the docstore, so unchanged files are not
even re-read, and files that failed keep their previous version.
"""

from __future__ import annotations

import hashlib
import logging
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from askfront.core.errors import AskfrontError, IndexLockedError
from askfront.core.types import Chunk, Document, FileReport, IndexReport, Progress
from askfront.corpus.files import corpus_file_problem, display_name, iter_corpus
from askfront.corpus.loader import load_document_with_timeout
from askfront.indexing import bm25, reconcile, replica
from askfront.indexing.chroma import reset_chroma_client
from askfront.indexing.chunking import chunk_document
from askfront.indexing.docstore import DocRow
from askfront.indexing.embeddings import (
    EmbeddingSpec,
    fingerprint,
    get_embeddings,
    get_tokenizer,
)
from askfront.indexing.failures import user_error
from askfront.indexing.lock import index_lock
from askfront.indexing.store import MANIFEST, Build, StoreSpec, activate, date_int, read_json

if TYPE_CHECKING:
    from langchain_core.documents import Document as LCDocumentType
    from langchain_core.embeddings import Embeddings
    from langchain_core.indexing import RecordManager

logger = logging.getLogger(__name__)

FILES_PER_BATCH = 16  # files embedded per indexing-API call; also the progress granularity


@dataclass(frozen=True)
class IndexSpec:
    """What a sync reads and writes (the Assistant builds it from the settings)."""

    corpus_dir: Path
    store: StoreSpec
    embedding: EmbeddingSpec = field(default_factory=EmbeddingSpec)
    chunk_tokens: int = 200  # chunk size in word pieces (MiniLM reads at most 256)
    chunk_overlap_tokens: int = 0  # whole sentences repeated between chunks, up to this
    max_file_bytes: int = 50 * 1024 * 1024
    file_timeout: float = 60.0  # seconds one file may take to load and chunk


def build_key(spec: IndexSpec) -> dict[str, object]:
    """What the vectors and chunks depend on: a change forces a full rebuild."""
    key: dict[str, object] = {
        "embedding": fingerprint(spec.embedding),
        "chunk_tokens": spec.chunk_tokens,
        "chunk_overlap_tokens": spec.chunk_overlap_tokens,
        "collection": spec.store.collection,
    }
    if spec.store.chroma.mode == "server":
        # Chunks carry what replicas need (askfront.indexing.replica): builds made before
        # lack it, so they are rebuilt once.
        key["layout"] = "replica-1"
    return key


def _new_build_name(spec: IndexSpec, key: dict[str, object]) -> str:
    digest = hashlib.sha256(repr(sorted(key.items())).encode()).hexdigest()[:8]
    return f"{spec.store.collection}-{digest}-{int(time.time() * 1000):x}"


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def sync(
    spec: IndexSpec,
    *,
    full: bool = False,
    progress: Progress | None = None,
    embeddings: Embeddings | None = None,
    wait: bool = False,
) -> IndexReport:
    """Bring the index in line with spec.corpus_dir.

    Raises:
        IndexLockedError: if another rebuild is running.
        StoreUnavailableError: if the Chroma server is unreachable.
        ConfigError: if the corpus folder or the embedding model is missing.
        DiskFullError: if the index's disk fills up; the index built before still answers.
    """
    from askfront.core.errors import ConfigError

    corpus = spec.corpus_dir
    if not corpus.is_dir():
        raise ConfigError(
            f"Corpus folder {corpus}/ does not exist. Create it and put .txt, .md, .html or "
            ".pdf files in it, or point ASKFRONT_CORPUS_DIR / --corpus at your articles."
        )
    with index_lock(spec.store.index_dir, wait=wait):
        folder = spec.store.index_dir.resolve()
        if folder in _FRESH_CHROMA_NEEDED:
            reset_chroma_client(spec.store.chroma, spec.store.index_dir)
            _FRESH_CHROMA_NEEDED.discard(folder)
        try:
            return _sync_locked(spec, full=full, progress=progress, embeddings=embeddings)
        except AskfrontError:
            raise
        except Exception as exc:
            # Chroma's in-process state after a failed write is unknown (after a full disk,
            # its next write hung): the next sync in this process starts a fresh client.
            _FRESH_CHROMA_NEEDED.add(folder)
            raise user_error(exc, spec.store) from exc


# Index folders whose embedded Chroma failed on a full disk in this process. Its next write
# would hang forever (say, the web chat's next rebuild, even with space freed), so the next
# sync starts with a fresh client. Until then readers keep the old one: it still answers,
# where a fresh one could not while the disk is full.
_FRESH_CHROMA_NEEDED: set[Path] = set()


def _sync_locked(
    spec: IndexSpec, *, full: bool, progress: Progress | None, embeddings: Embeddings | None
) -> IndexReport:
    started = time.perf_counter()
    report = (lambda *a: None) if progress is None else progress
    key = build_key(spec)
    manifest = read_json(spec.store.index_dir / MANIFEST) or {}
    current = Build(spec.store, manifest["active"]) if manifest.get("active") else None
    rebuild_reason = None
    if current is None or not current.state_path.is_file():
        rebuild_reason = "no index yet"
    elif full:
        rebuild_reason = "--full requested"
    elif current.state().get("key") != key:
        rebuild_reason = "embedding model or chunk settings changed"
    build = Build(spec.store, _new_build_name(spec, key)) if rebuild_reason else current
    assert build is not None
    build.dir.mkdir(parents=True, exist_ok=True)
    if rebuild_reason:
        build.write_state(key=key, created_at=time.time())
        logger.info("Full rebuild into %s: %s", build.name, rebuild_reason)

    store = build.docstore
    known = {row.path: row for row in store.rows()}
    reports, todo, refused, rels = _scan(spec, known, report)
    deleted = [path for path in known if path not in rels or path in refused]
    interrupted = reconcile.needs_repair(build)
    if todo or deleted or interrupted:
        build.write_state(pending=True)  # cleared by the state write that ends this sync

    embedded = 0
    # The indexing API (langchain_classic, SQLAlchemy: most of a no-op sync's time) is
    # imported only when there is something to write.
    records = _record_manager(build) if todo or deleted or interrupted else None
    if todo:
        from langchain_core.indexing import index

        assert records is not None
        tokenizer = get_tokenizer(spec.embedding)
        embeddings = embeddings or get_embeddings(spec.embedding)
        from askfront.indexing.recorder import Recorder

        recorder = Recorder(embeddings)
        vectorstore = build.vectorstore(recorder)
        done = 0
        for start in range(0, len(todo), FILES_PER_BATCH):
            batch = todo[start : start + FILES_PER_BATCH]
            loaded: list[tuple[str, str, Document, list[Chunk]]] = []
            for rel, path, sha, status in batch:
                try:
                    # The file's time limit covers loading and chunking together.
                    deadline = time.monotonic() + spec.file_timeout
                    doc = load_document_with_timeout(
                        path,
                        spec.corpus_dir,
                        timeout_s=spec.file_timeout,
                        max_bytes=spec.max_file_bytes,
                    )
                    chunks = chunk_document(
                        doc, tokenizer, spec.chunk_tokens, spec.chunk_overlap_tokens,
                        deadline=deadline,
                    )  # fmt: skip
                    if not chunks:
                        raise AskfrontError("no text to index")
                except AskfrontError as exc:
                    store.mark_failed(rel, sha, str(exc))
                    reports.append(FileReport(rel, "failed", reason=str(exc)))
                    continue
                except Exception as exc:  # one bad file never stops the others
                    logger.exception("Unexpected error reading %s", rel)
                    reason = f"unexpected error: {type(exc).__name__}: {exc}"
                    store.mark_failed(rel, sha, reason)
                    reports.append(FileReport(rel, "failed", reason=reason))
                    continue
                loaded.append((rel, status, doc, chunks))
            lc_docs = [
                reconcile.lc_document(ch, doc.date) for _, _, doc, chunks in loaded for ch in chunks
            ]
            recorder.seen.clear()
            if lc_docs:
                result = index(
                    lc_docs,
                    records,
                    vectorstore,
                    cleanup="scoped_full",
                    source_id_key="source",
                    batch_size=256,
                    key_encoder=_chunk_key,
                )
                embedded += result["num_added"] + result["num_updated"]
            # The docstore is written after the vectors: a crash in between leaves the file
            # looking new, and the next run's index() skips what is already embedded.
            for rel, status, doc, chunks in loaded:
                vectors = {
                    ch.id: recorder.seen[ch.text] for ch in chunks if ch.text in recorder.seen
                }
                store.put_document(doc, chunks, vectors)
                reports.append(FileReport(rel, status, chunks=len(chunks)))
            done += len(batch)
            report("Embedding files", done, len(todo))

    if deleted:
        assert records is not None
        collection = build.collection()
        for rel in deleted:
            # The docstore's ids too: the record manager may have missed some in a crash.
            keys = sorted(set(records.list_keys(group_ids=[rel])) | set(store.chunk_ids(rel)))
            if keys:
                collection.delete(ids=keys)
                records.delete_keys(keys)
            store.delete_document(rel)
            if rel not in refused:
                reports.append(FileReport(rel, "deleted"))

    fixes = []
    if interrupted:
        assert records is not None
        report("Checking the stores agree", 0, 1)
        fix = reconcile.repair(build, records, lambda: embeddings or get_embeddings(spec.embedding))
        fixes += [fix.summary()] if fix else []
        report("Checking the stores agree", 1, 1)
    stale = reconcile.bm25_is_stale(build)
    if todo or deleted or rebuild_reason or interrupted or stale:
        if stale and not (todo or deleted or rebuild_reason):
            fixes.append("keyword index rebuilt")  # nothing else would have changed it
        _build_bm25(build, report)
    if rebuild_reason:
        activate(spec.store, build)
    if spec.store.chroma.mode == "server":
        replica.publish(build)  # replicas follow it from Chroma alone
    _remove_orphan_builds(spec, keep=build.name)

    reports.sort(key=lambda r: r.path)
    counts = {s: 0 for s in ("added", "updated", "deleted", "unchanged", "failed")}
    for r in reports:
        counts[r.status] += 1
    return IndexReport(
        files=reports,
        counts=counts,
        chunks_embedded=embedded,
        seconds=time.perf_counter() - started,
        full_rebuild=bool(rebuild_reason),
        rebuild_reason=rebuild_reason,
        repaired=", ".join(fixes) or None,
    )


def _record_manager(build: Build) -> RecordManager:
    from langchain_classic.indexes import SQLRecordManager

    records = SQLRecordManager(build.name, db_url=build.record_manager_url())
    records.create_schema()
    return records


def _scan(
    spec: IndexSpec, known: dict[str, DocRow], report: Progress
) -> tuple[list[FileReport], list[tuple[str, Path, str, str]], dict[str, str], set[str]]:
    """Hash the corpus files: (reports so far, files to embed, refused files, all names).

    A file to embed is (name, path, sha256, "added"/"updated"). Refused files (a name that
    is not UTF-8, a link out of the corpus) are reported as failed and never read.
    """
    corpus = spec.corpus_dir
    real_root = corpus.resolve()
    rels = {p.relative_to(corpus).as_posix(): p for p in iter_corpus(corpus)}
    reports: list[FileReport] = []
    todo: list[tuple[str, Path, str, str]] = []
    refused: dict[str, str] = {}
    for i, (rel, path) in enumerate(sorted(rels.items())):
        report("Checking files", i, len(rels))
        problem = corpus_file_problem(rel, path, real_root)
        if problem:
            refused[rel] = problem
            reports.append(FileReport(display_name(rel), "failed", reason=problem))
            continue
        try:
            sha = _sha256(path)
        except OSError as exc:
            reports.append(FileReport(rel, "failed", reason=f"cannot read: {exc.strerror}"))
            continue
        row = known.get(rel)
        if row is not None and row.sha256 == sha:
            if row.status == "failed":
                reports.append(FileReport(rel, "failed", reason=row.error))
            else:
                reports.append(FileReport(rel, "unchanged", chunks=row.chunks))
            continue
        todo.append((rel, path, sha, "updated" if row and row.status == "indexed" else "added"))
    return reports, todo, refused, set(rels)


def _build_bm25(build: Build, report: Progress) -> None:
    """A new BM25 generation from the docstore; the state write that switches to it also
    records the docstore version it reflects and ends the sync (clears `pending`)."""
    report("Building keyword index", 0, 1)
    store = build.docstore
    version = store.version()
    generation = int(build.state().get("generation", 0)) + 1
    ids, texts, sources, dates = store.all_chunk_texts()
    folder = build.dir / f"bm25-{generation}"
    bm25.build(folder, ids, texts, sources, [date_int(d) for d in dates], build.bm25_dir())
    build.write_state(
        generation=generation, bm25=folder.name, docstore_version=version, pending=False,
        updated_at=time.time(),
    )  # fmt: skip
    # This generation's folder, and any a killed sync left half-written, go.
    for old in build.dir.glob("bm25-*"):
        if old != folder:
            shutil.rmtree(old, ignore_errors=True)
    report("Building keyword index", 1, 1)


def _chunk_key(doc: LCDocumentType) -> str:
    # Chroma ids are our chunk ids (content-derived, so upserts stay idempotent), which
    # lets search hits be looked up in the docstore without a metadata round trip.
    return str(doc.metadata["chunk_id"])


def _remove_orphan_builds(spec: IndexSpec, keep: str) -> None:
    """The build a full rebuild replaced, and any left by a rebuild killed midway."""
    builds = spec.store.index_dir / "builds"
    for folder in builds.iterdir() if builds.is_dir() else []:
        if folder.name != keep and folder.is_dir():
            Build(spec.store, folder.name).destroy()


def remove_source(spec: IndexSpec, source: str) -> None:
    """Delete the corpus file `source`, under the index lock, so a rebuild running meanwhile
    cannot miss it: either this refuses before touching the file, or every later sync sees
    it gone. The index drops its chunks at the next sync.

    Raises:
        AskfrontError: if `source` is not a file inside the corpus folder.
        IndexLockedError: if another rebuild is running; nothing was deleted.
    """
    root = spec.corpus_dir.resolve()
    path = (root / source).resolve()
    if root not in path.parents or not path.is_file():
        raise AskfrontError(f"{source!r} is not a file in {spec.corpus_dir}/.")
    try:
        with index_lock(spec.store.index_dir):
            path.unlink()
    except IndexLockedError as exc:
        raise IndexLockedError(f"{source} was not deleted. {exc}") from None
