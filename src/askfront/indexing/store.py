"""The index folder: Chroma (vectors), a SQLite docstore (texts, offsets, file status) and BM25.

Layout of `index_dir`:

    manifest.json           which build is active (written atomically)
    chroma/                 embedded Chroma PersistentClient (absent in server mode)
    builds/<build>/         one build per embedding-model + chunk-settings combination
        state.json          what built it, and the BM25 generation in use
        docstore.sqlite3    documents (normalized text, metadata, sha256) and chunks
        records.sqlite3     LangChain indexing-API record manager
        bm25-<gen>/         keyword index over the build's chunks
    .lock                   held by the one process that writes

A full rebuild writes a new build next to the active one and switches manifest.json only
when it is complete, so readers keep answering from the previous build meanwhile.
"""

from __future__ import annotations

import json
import logging
import os
import sqlite3
import tempfile
import threading
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from askfront.core.config import Settings
from askfront.core.errors import IndexNotFoundError, StoreUnavailableError
from askfront.core.types import Chunk, Document, PageSpan

if TYPE_CHECKING:
    import chromadb
    from langchain_chroma import Chroma
    from langchain_core.embeddings import Embeddings

os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
logger = logging.getLogger(__name__)

MANIFEST = "manifest.json"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS documents (
    path TEXT PRIMARY KEY, sha256 TEXT NOT NULL, status TEXT NOT NULL, error TEXT,
    title TEXT, date TEXT, author TEXT, url TEXT, text TEXT, pages TEXT, metadata TEXT,
    chunks INTEGER NOT NULL DEFAULT 0, indexed_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS chunks (
    id TEXT PRIMARY KEY, source TEXT NOT NULL, idx INTEGER NOT NULL, start INTEGER NOT NULL,
    "end" INTEGER NOT NULL, page INTEGER, text TEXT NOT NULL, sentences TEXT NOT NULL,
    n_tokens INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS chunks_source ON chunks(source);
-- A float16 copy of each chunk's vector: search gives keyword-only hits a dense score
-- from here instead of a Chroma round trip (~5 ms at 100k chunks). Builds made before
-- this table existed fall back to Chroma.
CREATE TABLE IF NOT EXISTS chunk_vectors (id TEXT PRIMARY KEY, vec BLOB NOT NULL);
-- "version" counts the writes that change chunks, bumped in the same transaction as the
-- change: state.json records the version BM25 was built from (see askfront.indexing.reconcile).
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
"""
_BUMP_VERSION = (
    "INSERT INTO meta (key, value) VALUES ('version', 1) "
    "ON CONFLICT(key) DO UPDATE SET value = value + 1"
)
# SQLite's messages when it cannot write the files it needs to open a database for reading
# (a WAL database needs its -shm file): a full disk, or a read-only one.
_CANNOT_WRITE = ("disk i/o error", "database or disk is full", "readonly", "unable to open")


def write_json_atomic(path: Path, data: dict[str, Any]) -> None:
    """Write JSON so that a crash leaves either the old file or the new one, never half."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "w") as f:
            json.dump(data, f, indent=2)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def read_json(path: Path) -> dict[str, Any] | None:
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        logger.warning("Ignoring unreadable %s: %s", path, exc)
        return None


def date_int(date: str | None) -> int:
    """20240228 for "2024-02-28"; 0 when unknown (Chroma filters compare numbers only)."""
    if not date or len(date) < 10:
        return 0
    try:
        return int(date[:10].replace("-", ""))
    except ValueError:
        return 0


@dataclass
class DocRow:
    """A documents-table row without its text (cheap to list)."""

    path: str
    sha256: str
    status: str
    error: str | None
    title: str | None
    date: str | None
    chunks: int


class DocStore:
    """SQLite table of documents and chunks of one build. Safe for one writer + many readers."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.read_only = False
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self._conn = sqlite3.connect(path, timeout=30, check_same_thread=False)
            self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.execute("PRAGMA synchronous=NORMAL")
            self._conn.executescript(_SCHEMA)
        except sqlite3.OperationalError as exc:
            if not path.is_file() or not any(t in str(exc).lower() for t in _CANNOT_WRITE):
                raise
            self._conn = self._open_immutable(path, exc)

    def _open_immutable(self, path: Path, exc: Exception) -> sqlite3.Connection:
        """Open for reading only, without the -shm file a WAL database otherwise needs.

        Only when the normal open failed for want of a writable disk: then no writer can
        commit either, so ignoring locks cannot show a half-written change. Changes still
        in a -wal file that was never checkpointed (its writer was killed) are not seen.
        """
        logger.warning("Opening %s read-only: it cannot be opened for writing (%s)", path, exc)
        self.read_only = True
        uri = f"{path.resolve().as_uri()}?mode=ro&immutable=1"
        return sqlite3.connect(uri, uri=True, check_same_thread=False)

    def close(self) -> None:
        self._conn.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        with self._conn:
            yield self._conn

    # -- reads ---------------------------------------------------------------
    def rows(self) -> list[DocRow]:
        cur = self._conn.execute(
            "SELECT path, sha256, status, error, title, date, chunks FROM documents ORDER BY path"
        )
        return [DocRow(*r) for r in cur.fetchall()]

    def document(self, path: str) -> Document | None:
        row = self._conn.execute(
            "SELECT path, text, sha256, title, date, author, url, pages, metadata "
            "FROM documents WHERE path = ? AND text IS NOT NULL",
            (path,),
        ).fetchone()
        if row is None:
            return None
        pages = tuple(PageSpan(*p) for p in json.loads(row[7] or "[]"))
        return Document(
            path=row[0], text=row[1], sha256=row[2], title=row[3], date=row[4],
            author=row[5], url=row[6], pages=pages, metadata=json.loads(row[8] or "{}"),
        )  # fmt: skip

    def doc_meta(self, paths: Iterable[str]) -> dict[str, tuple[str | None, str | None]]:
        """path -> (title, date)."""
        paths = list(set(paths))
        if not paths:
            return {}
        q = ",".join("?" * len(paths))
        cur = self._conn.execute(
            f"SELECT path, title, date FROM documents WHERE path IN ({q})", paths
        )
        return {p: (t, d) for p, t, d in cur.fetchall()}

    def chunks(self, ids: Sequence[str]) -> dict[str, Chunk]:
        out: dict[str, Chunk] = {}
        for i in range(0, len(ids), 900):  # SQLite's bound-parameter limit
            part = list(ids[i : i + 900])
            q = ",".join("?" * len(part))
            cur = self._conn.execute(
                f'SELECT id, source, idx, text, start, "end", page, sentences, n_tokens '
                f"FROM chunks WHERE id IN ({q})",
                part,
            )
            for r in cur.fetchall():
                out[r[0]] = _chunk(r)
        return out

    def all_chunk_texts(self) -> tuple[list[str], list[str], list[str], list[str | None]]:
        """(ids, texts, sources, dates) of every chunk, for building BM25."""
        cur = self._conn.execute(
            "SELECT c.id, c.text, c.source, d.date FROM chunks c "
            "JOIN documents d ON d.path = c.source ORDER BY c.source, c.idx"
        )
        ids, texts, sources, dates = [], [], [], []
        for cid, text, source, date in cur:
            ids.append(cid)
            texts.append(text)
            sources.append(source)
            dates.append(date)
        return ids, texts, sources, dates

    def vectors(self, ids: Sequence[str]) -> dict[str, np.ndarray]:
        """Stored vectors (float32) of those chunks that have one."""
        out: dict[str, np.ndarray] = {}
        for i in range(0, len(ids), 900):
            part = list(ids[i : i + 900])
            q = ",".join("?" * len(part))
            cur = self._conn.execute(f"SELECT id, vec FROM chunk_vectors WHERE id IN ({q})", part)
            for cid, blob in cur.fetchall():
                out[cid] = np.frombuffer(blob, dtype=np.float16).astype(np.float32)
        return out

    def chunk_ids(self, source: str) -> list[str]:
        cur = self._conn.execute("SELECT id FROM chunks WHERE source = ?", (source,))
        return [r[0] for r in cur.fetchall()]

    def chunk_sources(self) -> dict[str, str]:
        """chunk id -> source, for every chunk (what the other stores must hold)."""
        return dict(self._conn.execute("SELECT id, source FROM chunks").fetchall())

    def version(self) -> int:
        """How many writes have changed the chunks; 0 for a docstore never written to."""
        try:
            row = self._conn.execute("SELECT value FROM meta WHERE key = 'version'").fetchone()
        except sqlite3.OperationalError:  # no meta table: opened read-only, made before it
            return 0
        return int(row[0]) if row else 0

    def all_vectors(self) -> tuple[list[str], np.ndarray]:
        """Every stored vector as (ids, float32 matrix): dense search when Chroma is down."""
        ids: list[str] = []
        rows: list[np.ndarray] = []
        for cid, blob in self._conn.execute("SELECT id, vec FROM chunk_vectors"):
            ids.append(cid)
            rows.append(np.frombuffer(blob, dtype=np.float16))
        if not rows:
            return [], np.zeros((0, 0), dtype=np.float32)
        return ids, np.vstack(rows).astype(np.float32)

    # -- writes --------------------------------------------------------------
    def put_document(
        self,
        doc: Document,
        chunks: Sequence[Chunk],
        vectors: Mapping[str, Sequence[float]] | None = None,
    ) -> None:
        """Replace a document and its chunks (and their vectors, if given) in one transaction."""
        with self.transaction() as c:
            c.execute(_BUMP_VERSION)
            c.execute(_DELETE_VECTORS, (doc.path,))
            c.execute("DELETE FROM chunks WHERE source = ?", (doc.path,))
            c.execute(
                "INSERT OR REPLACE INTO documents (path, sha256, status, error, title, date, "
                "author, url, text, pages, metadata, chunks, indexed_at) "
                "VALUES (?, ?, 'indexed', NULL, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    doc.path, doc.sha256, doc.title, doc.date, doc.author, doc.url, doc.text,
                    json.dumps([[p.page, p.start, p.end] for p in doc.pages]),
                    json.dumps(doc.metadata, default=str), len(chunks), time.time(),
                ),
            )  # fmt: skip
            c.executemany(
                'INSERT INTO chunks (id, source, idx, start, "end", page, text, sentences, '
                "n_tokens) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    (ch.id, ch.source, ch.index, ch.start, ch.end, ch.page, ch.text,
                     json.dumps(ch.sentences), ch.n_tokens)
                    for ch in chunks
                ],
            )  # fmt: skip
            if vectors:
                c.executemany(
                    "INSERT OR REPLACE INTO chunk_vectors (id, vec) VALUES (?, ?)",
                    [
                        (ch.id, np.asarray(vectors[ch.id], dtype=np.float16).tobytes())
                        for ch in chunks
                        if ch.id in vectors
                    ],
                )

    def put_vectors(self, vectors: Mapping[str, Sequence[float]]) -> None:
        """Store copies of chunk vectors (re-embedded by a repair)."""
        with self.transaction() as c:
            c.executemany(
                "INSERT OR REPLACE INTO chunk_vectors (id, vec) VALUES (?, ?)",
                [(cid, np.asarray(v, dtype=np.float16).tobytes()) for cid, v in vectors.items()],
            )

    def mark_failed(self, path: str, sha256: str, error: str) -> None:
        """Record a file that could not be read. A previous good version stays indexed."""
        with self.transaction() as c:
            cur = c.execute(
                "UPDATE documents SET status = 'failed', error = ?, indexed_at = ? "
                "WHERE path = ? AND text IS NOT NULL",
                (f"{error} (the previously indexed version is kept)", time.time(), path),
            )
            if cur.rowcount == 0:
                c.execute(
                    "INSERT OR REPLACE INTO documents (path, sha256, status, error, chunks, "
                    "indexed_at) VALUES (?, ?, 'failed', ?, 0, ?)",
                    (path, sha256, error, time.time()),
                )
            else:
                # Remember the bad bytes' hash so an unchanged bad file is not re-read.
                c.execute("UPDATE documents SET sha256 = ? WHERE path = ?", (sha256, path))

    def delete_document(self, path: str) -> None:
        with self.transaction() as c:
            c.execute(_BUMP_VERSION)
            c.execute(_DELETE_VECTORS, (path,))
            c.execute("DELETE FROM chunks WHERE source = ?", (path,))
            c.execute("DELETE FROM documents WHERE path = ?", (path,))


_DELETE_VECTORS = "DELETE FROM chunk_vectors WHERE id IN (SELECT id FROM chunks WHERE source = ?)"


def _chunk(r: Sequence[Any]) -> Chunk:
    return Chunk(
        id=r[0], source=r[1], index=r[2], text=r[3], start=r[4], end=r[5], page=r[6],
        sentences=tuple(tuple(s) for s in json.loads(r[7])), n_tokens=r[8],
    )  # fmt: skip


def chroma_client(settings: Settings) -> chromadb.ClientAPI:
    """The Chroma client for the settings: embedded under index_dir, or a `chroma run` server.

    Raises:
        StoreUnavailableError: if the Chroma server cannot be reached.
    """
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    chroma_settings = ChromaSettings(anonymized_telemetry=False, allow_reset=False)
    if settings.chroma_mode == "server":
        try:
            client = chromadb.HttpClient(
                host=settings.chroma_host, port=settings.chroma_port, settings=chroma_settings
            )
            client.heartbeat()
        except Exception as exc:  # chromadb raises plain ValueError/ConnectionError here
            raise StoreUnavailableError(
                f"Chroma server at {settings.chroma_host}:{settings.chroma_port} is unreachable "
                f"({exc}). Start it with `chroma run --path DIR --port {settings.chroma_port}` "
                "or set ASKFRONT_CHROMA_MODE=embedded."
            ) from exc
        return client
    path = settings.index_dir / "chroma"
    path.mkdir(parents=True, exist_ok=True)
    # One client per folder and process, made under a lock. A client per build meant every
    # rebuild swap made new clients in the web chat's worker threads at once, and under
    # load some failed ("Could not connect to tenant", a stopped System), degrading
    # answers to keyword search (tests/test_load.py).
    key = str(path.resolve())
    with _EMBEDDED_LOCK:
        if key not in _EMBEDDED_CLIENTS:
            _EMBEDDED_CLIENTS[key] = chromadb.PersistentClient(path=key, settings=chroma_settings)
        return _EMBEDDED_CLIENTS[key]


_EMBEDDED_CLIENTS: dict[str, chromadb.ClientAPI] = {}
_EMBEDDED_LOCK = threading.Lock()


def reset_chroma_client(settings: Settings) -> None:
    """Close this process's embedded Chroma client for the settings; the next use opens a
    fresh one. After a write failed midway (a full disk), Chroma's in-process state can make
    every later write in the process hang, even once there is space again."""
    if settings.chroma_mode != "embedded":
        return
    key = str((settings.index_dir / "chroma").resolve())
    with _EMBEDDED_LOCK:
        client = _EMBEDDED_CLIENTS.pop(key, None)
    close = getattr(client, "close", None)  # chromadb's Client has it; ClientAPI does not
    if close is not None:
        try:
            close()  # stops Chroma's shared System for the folder: this is its last client
        except Exception as exc:
            logger.warning("Closing the Chroma client for %s failed: %s", key, exc)


class Build:
    """One build of the index: a Chroma collection plus its docstore and BM25 files."""

    def __init__(self, settings: Settings, name: str) -> None:
        self.settings = settings
        self.name = name
        self.dir = settings.index_dir / "builds" / name
        self._docstore: DocStore | None = None
        self._client: chromadb.ClientAPI | None = None

    @property
    def state_path(self) -> Path:
        return self.dir / "state.json"

    def state(self) -> dict[str, Any]:
        return read_json(self.state_path) or {}

    def write_state(self, **updates: Any) -> None:
        state = self.state()
        state.update(updates)
        write_json_atomic(self.state_path, state)

    @property
    def docstore(self) -> DocStore:
        if self._docstore is None:
            self._docstore = DocStore(self.dir / "docstore.sqlite3")
        return self._docstore

    @property
    def client(self) -> chromadb.ClientAPI:
        if self.settings.chroma_mode == "embedded":
            # The process-wide client, so that reset_chroma_client reaches every build.
            return chroma_client(self.settings)
        if self._client is None:
            self._client = chroma_client(self.settings)
        return self._client

    def collection(self) -> chromadb.Collection:
        """The raw Chroma collection (for lean queries). Never Chroma's default embedder."""
        try:
            return self.client.get_or_create_collection(
                self.name, embedding_function=None, configuration={"hnsw": {"space": "cosine"}}
            )
        except StoreUnavailableError:
            raise
        except Exception as exc:
            raise StoreUnavailableError(
                f"Chroma collection {self.name} unavailable: {exc}"
            ) from exc

    def vectorstore(self, embeddings: Embeddings) -> Chroma:
        """The same collection through langchain-chroma, for the indexing API."""
        from langchain_chroma import Chroma

        return Chroma(
            collection_name=self.name,
            embedding_function=embeddings,
            client=self.client,
            collection_configuration={"hnsw": {"space": "cosine"}},
        )

    def record_manager_url(self) -> str:
        return f"sqlite:///{(self.dir / 'records.sqlite3').resolve()}"

    def bm25_dir(self) -> Path | None:
        gen = self.state().get("bm25")
        return self.dir / gen if gen else None

    def close(self) -> None:
        if self._docstore is not None:
            self._docstore.close()
            self._docstore = None

    def destroy(self) -> None:
        """Delete this build's collection and files (after another build became active)."""
        import shutil

        self.close()
        try:
            self.client.delete_collection(self.name)
        except Exception as exc:  # already gone, or server down: files still go
            logger.info("Could not delete collection %s: %s", self.name, exc)
        shutil.rmtree(self.dir, ignore_errors=True)


def active_build(settings: Settings) -> Build:
    """The build that queries use.

    Raises:
        IndexNotFoundError: if no index has been built yet.
    """
    manifest = read_json(settings.index_dir / MANIFEST)
    if not manifest or not manifest.get("active"):
        raise IndexNotFoundError(
            f"No index in {settings.index_dir}/. Build it with `askfront index` "
            f"(or `make run`), which reads {settings.corpus_dir}/."
        )
    build = Build(settings, manifest["active"])
    if not build.state_path.is_file():
        raise IndexNotFoundError(
            f"The index in {settings.index_dir}/ is incomplete (no {build.state_path.name}). "
            "Run `askfront index --full` to rebuild it."
        )
    return build


def activate(settings: Settings, build: Build) -> None:
    write_json_atomic(
        settings.index_dir / MANIFEST, {"active": build.name, "switched_at": time.time()}
    )
