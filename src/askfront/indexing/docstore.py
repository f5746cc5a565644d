"""The docstore of one build: a SQLite table of documents (normalized text, metadata,
sha256, status) and of chunks (offsets, sentence spans, a float16 copy of each vector)."""

from __future__ import annotations

import json
import logging
import sqlite3
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from askfront.core.types import Chunk, Document, PageSpan, Passage

logger = logging.getLogger(__name__)

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
-- Counting the articles of some dates and searching titles (mention search) read this,
-- not the wide rows that hold the texts.
CREATE INDEX IF NOT EXISTS documents_listing ON documents(chunks, date, title, path);
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
        self._inode = _inode(path)

    @property
    def on_disk(self) -> bool:
        """Whether the file at `path` is still the one this store has open. False once its
        folder was deleted, even if a reader has since created a new, empty file there:
        writes would then go to the deleted file (a replica cache may be deleted any time)."""
        return self._inode is not None and _inode(self.path) == self._inode

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

    def passages_of(self, source: str) -> list[Passage]:
        """Every chunk of one document, in order, as Passages with its title and date."""
        chunks = self.chunks(self.chunk_ids(source))
        title, date = self.doc_meta([source]).get(source, (None, None))
        return [Passage(c, title, date) for c in sorted(chunks.values(), key=lambda c: c.index)]

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

    def listing(self) -> list[tuple[str, str | None, str | None]]:
        """(path, title, date) of every readable document, read from an index rather than
        the wide rows that hold the texts (mention search keeps it per version)."""
        cur = self._conn.execute(
            "SELECT path, title, date FROM documents INDEXED BY documents_listing WHERE chunks > 0"
        )
        return cur.fetchall()

    def chunk_texts(self, ids: Sequence[str]) -> list[tuple[str, str, int, int, int | None, str]]:
        """(id, source, index, start, page, text) of those chunks: what a text search reads."""
        out: list[tuple[str, str, int, int, int | None, str]] = []
        for i in range(0, len(ids), 900):  # SQLite's bound-parameter limit
            part = list(ids[i : i + 900])
            q = ",".join("?" * len(part))
            cur = self._conn.execute(
                f"SELECT id, source, idx, start, page, text FROM chunks WHERE id IN ({q})", part
            )
            out.extend(cur.fetchall())
        return out

    def sentences_of(self, ids: Sequence[str]) -> dict[str, list[list[int]]]:
        """chunk id -> its sentence spans [[start, end], ...]."""
        out: dict[str, list[list[int]]] = {}
        for i in range(0, len(ids), 900):
            part = list(ids[i : i + 900])
            q = ",".join("?" * len(part))
            cur = self._conn.execute(f"SELECT id, sentences FROM chunks WHERE id IN ({q})", part)
            out.update((cid, json.loads(spans)) for cid, spans in cur.fetchall())
        return out

    def first_chunk_ids(self, paths: Iterable[str]) -> dict[str, str]:
        """path -> id of its first chunk."""
        out: dict[str, str] = {}
        for path in paths:
            row = self._conn.execute(
                "SELECT id FROM chunks WHERE source = ? AND idx = 0", (path,)
            ).fetchone()
            if row:
                out[path] = row[0]
        return out

    def chunks_containing(self, text: str) -> list[str]:
        """Ids of the chunks whose text contains `text`, ignoring ASCII case (mention search
        without a keyword index; see askfront.retrieval.mentions)."""
        cur = self._conn.execute(
            "SELECT id FROM chunks WHERE instr(lower(text), lower(?)) > 0", (text,)
        )
        return [r[0] for r in cur.fetchall()]

    def chunk_ids(self, source: str) -> list[str]:
        cur = self._conn.execute("SELECT id FROM chunks WHERE source = ?", (source,))
        return [r[0] for r in cur.fetchall()]

    def counts(self) -> tuple[int, int]:
        """(chunks, chunks with a stored vector copy), without reading either."""
        chunks = self._conn.execute("SELECT COUNT(*) FROM chunks").fetchone()[0]
        vectors = self._conn.execute("SELECT COUNT(*) FROM chunk_vectors").fetchone()[0]
        return int(chunks), int(vectors)

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


def _inode(path: Path) -> int | None:
    try:
        return path.stat().st_ino
    except OSError:
        return None
