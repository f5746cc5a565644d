"""Incremental, crash-safe sync of corpus_dir into the index.

Bookkeeping is LangChain's indexing API (`index()` with a SQLRecordManager): it skips
chunks already embedded, and with cleanup="scoped_full" drops a changed file's stale
chunks. On top of it we keep per-file sha256 in the docstore, so unchanged files are not
even re-read, and files that failed keep their previous version.
"""

from __future__ import annotations

import errno
import fcntl
import hashlib
import logging
import os
import shutil
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from langchain_core.embeddings import Embeddings

from askfront.core.config import Settings
from askfront.core.errors import (
    AskfrontError,
    IndexLockedError,
    IndexWriteError,
    StoreUnavailableError,
)
from askfront.core.types import Chunk, Document, FileReport, IndexReport
from askfront.corpus.files import corpus_file_problem, display_name, iter_corpus
from askfront.corpus.loader import load_document_with_timeout
from askfront.indexing import bm25, reconcile
from askfront.indexing.chunking import chunk_document
from askfront.indexing.embeddings import fingerprint, get_embeddings, get_tokenizer
from askfront.indexing.store import (
    MANIFEST,
    Build,
    DocRow,
    activate,
    date_int,
    read_json,
    reset_chroma_client,
)

if TYPE_CHECKING:
    from langchain_core.documents import Document as LCDocumentType

logger = logging.getLogger(__name__)

Progress = Callable[[str, int, int], None]
FILES_PER_BATCH = 16  # files embedded per indexing-API call; also the progress granularity


@contextmanager
def index_lock(index_dir: Path, wait: bool = False) -> Iterator[None]:
    """One writer at a time. A second rebuild exits with a clear message (or waits).

    Raises:
        IndexLockedError: if another process holds the lock and `wait` is False.
    """
    index_dir.mkdir(parents=True, exist_ok=True)
    path = index_dir / ".lock"
    with open(path, "a+") as f:
        try:
            fcntl.flock(f, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError:
            f.seek(0)
            holder = f.read().strip() or "another process"
            raise IndexLockedError(
                f"Another rebuild ({holder}) is updating {index_dir}/. Wait for it to finish, "
                "then run again."
            ) from None
        f.seek(0)
        f.truncate()
        f.write(f"pid {os.getpid()}")
        f.flush()
        try:
            yield
        finally:
            f.seek(0)
            f.truncate()
            fcntl.flock(f, fcntl.LOCK_UN)


def build_key(settings: Settings) -> dict[str, object]:
    """What the vectors and chunks depend on: a change forces a full rebuild."""
    return {
        "embedding": fingerprint(settings),
        "chunk_tokens": settings.chunk_tokens,
        "chunk_overlap_tokens": settings.chunk_overlap_tokens,
        "collection": settings.collection,
    }


def _new_build_name(settings: Settings, key: dict[str, object]) -> str:
    digest = hashlib.sha256(repr(sorted(key.items())).encode()).hexdigest()[:8]
    return f"{settings.collection}-{digest}-{int(time.time() * 1000):x}"


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def sync(
    settings: Settings,
    *,
    full: bool = False,
    progress: Progress | None = None,
    embeddings: Embeddings | None = None,
    wait: bool = False,
) -> IndexReport:
    """Bring the index in line with settings.corpus_dir.

    Raises:
        IndexLockedError: if another rebuild is running.
        StoreUnavailableError: if the Chroma server is unreachable.
        ConfigError: if the corpus folder or the embedding model is missing.
        DiskFullError: if the index's disk fills up; the index built before still answers.
    """
    from askfront.core.errors import ConfigError

    corpus = settings.corpus_dir
    if not corpus.is_dir():
        raise ConfigError(
            f"Corpus folder {corpus}/ does not exist. Create it and put .txt, .md, .html or "
            ".pdf files in it, or point ASKFRONT_CORPUS_DIR / --corpus at your articles."
        )
    with index_lock(settings.index_dir, wait=wait):
        folder = settings.index_dir.resolve()
        if folder in _FRESH_CHROMA_NEEDED:
            reset_chroma_client(settings)
            _FRESH_CHROMA_NEEDED.discard(folder)
        try:
            return _sync_locked(settings, full=full, progress=progress, embeddings=embeddings)
        except AskfrontError:
            raise
        except Exception as exc:
            # Chroma's in-process state after a failed write is unknown (after a full disk,
            # its next write hung): the next sync in this process starts a fresh client.
            _FRESH_CHROMA_NEEDED.add(folder)
            raise _user_error(exc, settings) from exc


# Index folders whose embedded Chroma failed on a full disk in this process. Its next write
# would hang forever (say, the web chat's next rebuild, even with space freed), so the next
# sync starts with a fresh client. Until then readers keep the old one: it still answers,
# where a fresh one could not while the disk is full.
_FRESH_CHROMA_NEEDED: set[Path] = set()


class DiskFullError(AskfrontError):
    """The index could not be written because its disk is full."""


_DISK_FULL_ERRNOS = {errno.ENOSPC, errno.EDQUOT}
# Chroma and SQLite report a full disk as text, not as an OSError.
_DISK_FULL_TEXT = ("database or disk is full", "no space left on device", "disk quota exceeded")
_LOW_SPACE_BYTES = 64 * 1024 * 1024  # below this, an error message mentions the free space


def _user_error(exc: Exception, settings: Settings) -> AskfrontError:
    """The error a user sees for an unexpected failure of a sync: what really went wrong.

    "Disk full" only for ENOSPC/EDQUOT or SQLite's and Chroma's own words for it; little
    free space alone is mentioned as a fact, never taken for the cause.
    """
    index_dir = settings.index_dir
    rerun = "then run `askfront index` again: it repairs what this run left half-done"
    if settings.chroma_mode == "server" and _is_unreachable(exc):
        where = f"{settings.chroma_host}:{settings.chroma_port}"
        return StoreUnavailableError(
            f"The Chroma server at {where} became unreachable while indexing "
            f"({_first_line(exc)}). Start it again (`chroma run --path DIR --port "
            f"{settings.chroma_port}`), or check ASKFRONT_CHROMA_HOST/ASKFRONT_CHROMA_PORT, "
            f"{rerun}."
        )
    if _is_disk_full(exc):
        return DiskFullError(
            f"The disk holding {index_dir}/ is full ({_first_line(exc)}). Free "
            "some space, or point ASKFRONT_INDEX_DIR at a disk with more room, then run "
            "`askfront index` again. The index built before keeps answering meanwhile."
        )
    logger.debug("Sync failed", exc_info=exc)
    return IndexWriteError(
        f"Updating the index in {index_dir}/ failed: {type(exc).__name__}: "
        f"{_first_line(exc)}.{_free_space_note(index_dir)} Fix the cause, {rerun}. The "
        "index built before keeps answering meanwhile."
    )


def _causes(exc: BaseException) -> Iterator[BaseException]:
    seen: list[BaseException] = []
    cur: BaseException | None = exc
    while cur is not None and cur not in seen and len(seen) < 10:
        yield cur
        seen.append(cur)
        cur = cur.__cause__ or cur.__context__


def _is_disk_full(exc: BaseException) -> bool:
    for cur in _causes(exc):
        if isinstance(cur, OSError) and cur.errno in _DISK_FULL_ERRNOS:
            return True
        if any(text in str(cur).lower() for text in _DISK_FULL_TEXT):
            return True
    return False


def _is_unreachable(exc: BaseException) -> bool:
    import httpx  # chromadb's HTTP client raises httpx errors unwrapped

    return any(isinstance(c, httpx.TransportError | ConnectionError) for c in _causes(exc))


def _free_space_note(index_dir: Path) -> str:
    try:
        free = shutil.disk_usage(index_dir).free
    except OSError:
        return ""
    if free >= _LOW_SPACE_BYTES:
        return ""
    # Chroma sometimes reports a full disk only as "Error in compaction: ...": say what is
    # known (little space) without claiming it is the cause.
    return f" Only {free / (1024 * 1024):.1f} MB is free on that disk, which may be the cause."


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0][:200] if text else type(exc).__name__


def _sync_locked(
    settings: Settings, *, full: bool, progress: Progress | None, embeddings: Embeddings | None
) -> IndexReport:
    from langchain_classic.indexes import SQLRecordManager
    from langchain_core.indexing import index

    started = time.perf_counter()
    report = (lambda *a: None) if progress is None else progress
    key = build_key(settings)
    manifest = read_json(settings.index_dir / MANIFEST) or {}
    current = Build(settings, manifest["active"]) if manifest.get("active") else None
    rebuild_reason = None
    if current is None or not current.state_path.is_file():
        rebuild_reason = "no index yet"
    elif full:
        rebuild_reason = "--full requested"
    elif current.state().get("key") != key:
        rebuild_reason = "embedding model or chunk settings changed"
    build = Build(settings, _new_build_name(settings, key)) if rebuild_reason else current
    assert build is not None
    build.dir.mkdir(parents=True, exist_ok=True)
    if rebuild_reason:
        build.write_state(key=key, created_at=time.time())
        logger.info("Full rebuild into %s: %s", build.name, rebuild_reason)

    store = build.docstore
    known = {row.path: row for row in store.rows()}
    reports, todo, refused, rels = _scan(settings, known, report)
    deleted = [path for path in known if path not in rels or path in refused]
    interrupted = reconcile.needs_repair(build)
    if todo or deleted or interrupted:
        build.write_state(pending=True)  # cleared by the state write that ends this sync

    tokenizer = get_tokenizer(settings)
    embedded = 0
    records = SQLRecordManager(build.name, db_url=build.record_manager_url())
    if todo or deleted or interrupted:
        records.create_schema()
    if todo:
        embeddings = embeddings or get_embeddings(settings)
        recorder = _Recorder(embeddings)
        vectorstore = build.vectorstore(recorder)
        done = 0
        for start in range(0, len(todo), FILES_PER_BATCH):
            batch = todo[start : start + FILES_PER_BATCH]
            loaded: list[tuple[str, str, Document, list[Chunk]]] = []
            for rel, path, sha, status in batch:
                try:
                    # The file's time limit covers loading and chunking together.
                    deadline = time.monotonic() + settings.file_timeout
                    doc = load_document_with_timeout(
                        path,
                        settings.corpus_dir,
                        timeout_s=settings.file_timeout,
                        max_bytes=int(settings.max_file_mb * 1024 * 1024),
                    )
                    chunks = chunk_document(
                        doc, tokenizer, settings.chunk_tokens, settings.chunk_overlap_tokens,
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
        report("Checking the stores agree", 0, 1)
        fix = reconcile.repair(build, records, lambda: embeddings or get_embeddings(settings))
        fixes += [fix.summary()] if fix else []
        report("Checking the stores agree", 1, 1)
    stale = reconcile.bm25_is_stale(build)
    if todo or deleted or rebuild_reason or interrupted or stale:
        if stale and not (todo or deleted or rebuild_reason):
            fixes.append("keyword index rebuilt")  # nothing else would have changed it
        _build_bm25(build, report)
    if rebuild_reason:
        activate(settings, build)
    _remove_orphan_builds(settings, keep=build.name)

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


def _scan(
    settings: Settings, known: dict[str, DocRow], report: Progress
) -> tuple[list[FileReport], list[tuple[str, Path, str, str]], dict[str, str], set[str]]:
    """Hash the corpus files: (reports so far, files to embed, refused files, all names).

    A file to embed is (name, path, sha256, "added"/"updated"). Refused files (a name that
    is not UTF-8, a link out of the corpus) are reported as failed and never read.
    """
    corpus = settings.corpus_dir
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
    bm25.build(folder, ids, texts, sources, [date_int(d) for d in dates])
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


def _remove_orphan_builds(settings: Settings, keep: str) -> None:
    """The build a full rebuild replaced, and any left by a rebuild killed midway."""
    builds = settings.index_dir / "builds"
    for folder in builds.iterdir() if builds.is_dir() else []:
        if folder.name != keep and folder.is_dir():
            Build(settings, folder.name).destroy()


class _Recorder(Embeddings):
    """Passes embedding calls through, keeping the vectors of the current batch.

    The docstore stores a copy of each chunk's vector, so search can score keyword-only
    hits without asking Chroma. LangChain's index() embeds inside the vector store, so this
    is where the vectors can be seen. Chunks index() skips (already embedded by a run that
    crashed before its docstore write) get no copy; search falls back to Chroma for them.
    """

    def __init__(self, inner: Embeddings) -> None:
        self.inner = inner
        self.seen: dict[str, list[float]] = {}

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        vectors = self.inner.embed_documents(texts)
        self.seen.update(zip(texts, vectors, strict=True))
        return vectors

    def embed_query(self, text: str) -> list[float]:
        return self.inner.embed_query(text)
