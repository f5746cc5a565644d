"""End-to-end indexing through the real model and a real Chroma store in tmp folders."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from langchain_core.embeddings import Embeddings

from askfront.assistant import Assistant, index_spec, store_spec
from askfront.core.config import Settings
from askfront.core.errors import IndexLockedError, IndexNotFoundError
from askfront.indexing.lock import index_lock
from askfront.indexing.store import active_build
from askfront.indexing.sync import sync
from askfront.retrieval.base import SearchOptions

ZORBLATT = (
    "---\ntitle: The Zorblatt Festival\ndate: 2024-05-12\n---\n"
    "The Zorblatt Festival took place in Quexville on 12 May 2024. "
    "It drew 4,000 visitors who came to watch the glass-blowing contest.\n"
)


def _sources(settings: Settings, embeddings, query: str) -> list[str]:  # type: ignore[no-untyped-def]
    assistant = Assistant(settings, embeddings=embeddings)
    result = assistant.retriever().search(query, SearchOptions(top_k=3))
    return [p.source for p in result.passages]


def _texts(settings: Settings, embeddings, query: str) -> str:  # type: ignore[no-untyped-def]
    assistant = Assistant(settings, embeddings=embeddings)
    result = assistant.retriever().search(query, SearchOptions(top_k=3))
    return " ".join(p.chunk.text for p in result.passages)


def test_incremental_add_edit_delete(settings: Settings, counting_embeddings) -> None:  # type: ignore[no-untyped-def]
    first = sync(index_spec(settings), embeddings=counting_embeddings)
    assert first.counts["added"] == 1 and first.full_rebuild
    n_first = counting_embeddings.documents
    assert n_first == first.chunks_embedded > 0

    # Same corpus again: nothing is embedded.
    again = sync(index_spec(settings), embeddings=counting_embeddings)
    assert again.counts == {"added": 0, "updated": 0, "deleted": 0, "unchanged": 1, "failed": 0}
    assert counting_embeddings.documents == n_first

    # One new file: only its chunks are embedded, and the report says 1 added.
    (settings.corpus_dir / "zorblatt.md").write_text(ZORBLATT)
    added = sync(index_spec(settings), embeddings=counting_embeddings)
    assert added.counts["added"] == 1 and added.counts["unchanged"] == 1
    assert counting_embeddings.documents - n_first == added.chunks_embedded == 1
    assert _sources(settings, counting_embeddings, "Zorblatt Festival visitors")[0] == "zorblatt.md"

    # Editing replaces the old chunks: the new fact is found, the old one is gone.
    (settings.corpus_dir / "zorblatt.md").write_text(ZORBLATT.replace("4,000", "7,500"))
    edited = sync(index_spec(settings), embeddings=counting_embeddings)
    assert edited.counts["updated"] == 1
    text = _texts(settings, counting_embeddings, "How many visitors did Zorblatt draw?")
    assert "7,500" in text and "4,000" not in text
    build = active_build(store_spec(settings))
    assert build.collection().count() == len(build.docstore.all_chunk_texts()[0])

    # Deleting a file drops its chunks.
    (settings.corpus_dir / "zorblatt.md").unlink()
    deleted = sync(index_spec(settings), embeddings=counting_embeddings)
    assert deleted.counts["deleted"] == 1
    assert "zorblatt.md" not in _sources(settings, counting_embeddings, "Zorblatt Festival")
    assert build.collection().count() == first.chunks_embedded


def test_bad_files_are_reported_and_good_ones_searchable(
    settings: Settings, real_embeddings
) -> None:  # type: ignore[no-untyped-def]
    (settings.corpus_dir / "binary.txt").write_bytes(bytes(range(256)) * 40)
    (settings.corpus_dir / "empty.md").write_bytes(b"")
    (settings.corpus_dir / "broken.pdf").write_bytes(
        b"%PDF-1.7\n1 0 obj << /Type /Catalog >>\ntrunc"
    )
    (settings.corpus_dir / "zorblatt.md").write_text(ZORBLATT)
    report = sync(index_spec(settings), embeddings=real_embeddings)
    failed = {f.path: f.reason for f in report.files if f.status == "failed"}
    assert set(failed) == {"binary.txt", "empty.md", "broken.pdf"}
    assert all(reason for reason in failed.values())
    assert report.counts["added"] == 2
    assert _sources(settings, real_embeddings, "Zorblatt Festival")[0] == "zorblatt.md"
    # An unchanged bad file is reported again, not re-read silently.
    again = sync(index_spec(settings), embeddings=real_embeddings)
    assert again.counts["failed"] == 3 and again.chunks_embedded == 0


def test_failed_update_keeps_previous_version(settings: Settings, real_embeddings) -> None:  # type: ignore[no-untyped-def]
    (settings.corpus_dir / "zorblatt.md").write_text(ZORBLATT)
    sync(index_spec(settings), embeddings=real_embeddings)
    (settings.corpus_dir / "zorblatt.md").write_bytes(b"")  # the file gets truncated
    report = sync(index_spec(settings), embeddings=real_embeddings)
    assert report.counts["failed"] == 1
    assert _sources(settings, real_embeddings, "Zorblatt Festival visitors")[0] == "zorblatt.md"
    rows = {d.path: d for d in Assistant(settings, embeddings=real_embeddings).documents()}
    assert rows["zorblatt.md"].status == "failed" and "kept" in (rows["zorblatt.md"].error or "")


def test_changing_chunk_settings_forces_full_rebuild(settings: Settings, real_embeddings) -> None:  # type: ignore[no-untyped-def]
    sync(index_spec(settings), embeddings=real_embeddings)
    old = active_build(store_spec(settings)).name
    smaller = settings.model_copy(update={"chunk_tokens": 64})
    report = sync(index_spec(smaller), embeddings=real_embeddings)
    assert report.full_rebuild and "chunk settings" in (report.rebuild_reason or "")
    new = active_build(store_spec(smaller))
    assert new.name != old
    assert not (settings.index_dir / "builds" / old).exists()
    assert max(c for c in (r.chunks for r in new.docstore.rows())) > 11


def test_no_index_gives_actionable_error(settings: Settings) -> None:
    with pytest.raises(IndexNotFoundError, match="askfront index"):
        Assistant(settings).retriever()


def test_second_rebuild_is_refused_while_one_runs(settings: Settings, real_embeddings) -> None:  # type: ignore[no-untyped-def]
    with index_lock(settings.index_dir), pytest.raises(IndexLockedError, match="Another rebuild"):
        sync(index_spec(settings), embeddings=real_embeddings)
    # And from a second process, through the CLI: a clear message, a non-zero exit.
    with index_lock(settings.index_dir):
        proc = subprocess.run(
            [sys.executable, "-m", "askfront.cli", "index", "--corpus", str(settings.corpus_dir),
             "--index", str(settings.index_dir)],
            capture_output=True, text=True,
        )  # fmt: skip
    assert proc.returncode == 1
    assert "Another rebuild" in proc.stderr and "Traceback" not in proc.stderr


def _article(i: int) -> str:
    return f"---\ntitle: Bulletin {i}\ndate: 2024-03-{i % 28 + 1:02d}\n---\n" + " ".join(
        f"Bulletin {i} reports that the village of Vell{i} counted {i * 37 + s} lanterns "
        f"during festival night number {s}, a record for the valley."
        for s in range(60)
    )


@pytest.mark.slow
def test_sigkill_during_rebuild_then_search_and_rebuild(
    settings: Settings, real_embeddings
) -> None:  # type: ignore[no-untyped-def]
    sync(index_spec(settings), embeddings=real_embeddings)
    for i in range(64):
        (settings.corpus_dir / f"bulletin-{i:02d}.md").write_text(_article(i))
    env = {**os.environ, "ASKFRONT_CORPUS_DIR": str(settings.corpus_dir),
           "ASKFRONT_INDEX_DIR": str(settings.index_dir)}  # fmt: skip
    proc = subprocess.Popen(
        [sys.executable, "-m", "askfront.cli", "index"], env=env,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    docstore = active_build(store_spec(settings)).dir / "docstore.sqlite3"
    deadline = time.monotonic() + 240
    try:
        # Kill once the first batch of new files is written, mid-rebuild.
        while time.monotonic() < deadline and proc.poll() is None:
            with sqlite3.connect(docstore, timeout=60) as conn:
                (n,) = conn.execute("SELECT COUNT(*) FROM documents").fetchone()
            if n > 1:
                break
            time.sleep(0.05)
        assert proc.poll() is None, "the rebuild finished before it could be killed"
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL

    # The index still answers.
    assistant = Assistant(settings, embeddings=real_embeddings)
    answer = assistant.ask("How many Nepalis have gone to Ukraine's battlefields?")
    assert "200" in answer.text
    # The next run completes, and everything is searchable exactly once.
    report = sync(index_spec(settings), embeddings=real_embeddings)
    assert report.counts["failed"] == 0
    assert len(assistant.documents()) == 65
    build = active_build(store_spec(settings))
    assert build.collection().count() == len(build.docstore.all_chunk_texts()[0])
    assert _sources(settings, real_embeddings, "lanterns in Vell63")[0] == "bulletin-63.md"


def test_cli_index_json_report(settings: Settings) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "askfront.cli", "index", "--corpus", str(settings.corpus_dir),
         "--index", str(settings.index_dir), "--json"],
        capture_output=True, text=True,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert data["counts"]["added"] == 1
    assert data["files"][0]["path"] == "ukraine-foreign-fighters-washington-post-2024-02-28.md"
    assert data["files"][0]["status"] == "added" and data["files"][0]["chunks"] > 0


def test_missing_corpus_folder_is_a_clear_error(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "askfront.cli", "index", "--corpus", str(tmp_path / "nope"),
         "--index", str(tmp_path / "index")],
        capture_output=True, text=True,
    )  # fmt: skip
    assert proc.returncode == 1
    assert "does not exist" in proc.stderr and "Traceback" not in proc.stderr


def test_docstore_keeps_a_copy_of_each_vector(
    settings: Settings, real_embeddings: Embeddings
) -> None:
    import numpy as np

    sync(index_spec(settings), embeddings=real_embeddings)
    (settings.corpus_dir / "zorblatt.md").write_text(ZORBLATT)
    sync(index_spec(settings), embeddings=real_embeddings)
    build = active_build(store_spec(settings))
    ids = build.docstore.all_chunk_texts()[0]
    copies = build.docstore.vectors(ids)
    assert set(copies) == set(ids)
    got = build.collection().get(ids=ids, include=["embeddings"])
    for cid, vec in zip(got["ids"], got["embeddings"], strict=True):
        assert float(np.dot(copies[cid], np.asarray(vec))) > 0.999  # float16 of the same vector

    zorblatt = build.docstore.chunk_ids("zorblatt.md")
    (settings.corpus_dir / "zorblatt.md").unlink()
    sync(index_spec(settings), embeddings=real_embeddings)
    assert build.docstore.vectors(zorblatt) == {}


def test_keyword_only_hits_are_scored_without_chroma(
    settings: Settings, real_embeddings: Embeddings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A BM25-only hit gets its dense score from the docstore's copy, not a Chroma get()."""
    import numpy as np

    sync(index_spec(settings), embeddings=real_embeddings)
    retriever = Assistant(settings, embeddings=real_embeddings).retriever()
    collection = type(retriever.collection)

    def no_dense_hits(*args: object, **kwargs: object) -> dict[str, list[list[object]]]:
        return {"ids": [[]], "distances": [[]]}  # every hit below is keyword-only

    def no_get(*args: object, **kwargs: object) -> None:
        raise AssertionError("collection.get was called")

    monkeypatch.setattr(collection, "query", no_dense_hits)
    monkeypatch.setattr(collection, "get", no_get)
    question = "Ramchandra Khadka job opportunities in Nepal"
    result = retriever.search(question, SearchOptions(top_k=3, hybrid=True))
    assert result.passages and result.notice is None
    qvec = np.asarray(real_embeddings.embed_query(question))
    for p in result.passages:
        assert p.bm25_score is not None and p.dense_score is not None
        exact = float(qvec @ np.asarray(real_embeddings.embed_documents([p.chunk.text])[0]))
        assert abs(p.dense_score - exact) < 0.01


def test_keyword_only_hits_without_a_stored_vector_are_scored_from_chroma(
    settings: Settings, real_embeddings: Embeddings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A build without the docstore's vector copies (older, or chunks index() skipped after
    a crash) still gives keyword-only hits a dense score, fetched from Chroma."""
    import sqlite3

    import numpy as np

    sync(index_spec(settings), embeddings=real_embeddings)
    build = active_build(store_spec(settings))
    with sqlite3.connect(build.dir / "docstore.sqlite3") as conn:
        conn.execute("DELETE FROM chunk_vectors")
    retriever = Assistant(settings, embeddings=real_embeddings).retriever()
    collection = type(retriever.collection)
    real_get = collection.get
    fetched: list[str] = []

    def no_dense_hits(*args: object, **kwargs: object) -> dict[str, list[list[object]]]:
        return {"ids": [[]], "distances": [[]]}

    def get(self: object, *args: object, ids: list[str], **kwargs: object) -> object:
        fetched.extend(ids)
        return real_get(self, *args, ids=ids, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(collection, "query", no_dense_hits)
    monkeypatch.setattr(collection, "get", get)
    question = "Ramchandra Khadka job opportunities in Nepal"
    result = retriever.search(question, SearchOptions(top_k=3, hybrid=True))
    assert result.passages and result.notice is None
    assert {p.chunk.id for p in result.passages} <= set(fetched)
    qvec = np.asarray(real_embeddings.embed_query(question))
    for p in result.passages:
        exact = float(qvec @ np.asarray(real_embeddings.embed_documents([p.chunk.text])[0]))
        assert p.dense_score is not None and abs(p.dense_score - exact) < 0.01


class _NoQueryEmbedding(Embeddings):
    """The real model for documents; a query embedding is a failure (a hop must not make one)."""

    def __init__(self, inner: Embeddings) -> None:
        self.inner = inner

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self.inner.embed_documents(texts)

    def embed_query(self, text: str) -> list[float]:
        raise AssertionError("a keyword-only search embedded its query")


def test_a_keyword_only_search_scores_its_hits_against_the_given_query_vector(
    settings: Settings, real_embeddings: Embeddings
) -> None:
    """The second hop's search: BM25 alone, no query embedding, no Chroma; each hit gets the
    cosine of its stored vector to the first search's query vector."""
    (settings.corpus_dir / "zorblatt.md").write_text(ZORBLATT)
    sync(index_spec(settings), embeddings=real_embeddings)
    full = Assistant(settings, embeddings=real_embeddings).retriever()
    first = full.search("How many visitors came to the festival?", SearchOptions(top_k=3))
    assert first.query_vector is not None

    keyword = Assistant(settings, embeddings=_NoQueryEmbedding(real_embeddings)).retriever()
    options = SearchOptions(top_k=3, keywords_only=True)
    hop = keyword.search("Zorblatt Festival Quexville", options, first.query_vector)
    assert hop.passages and hop.passages[0].source == "zorblatt.md"
    assert "dense_ms" not in hop.timings and "embed_ms" not in hop.timings
    by_id = {p.chunk.id: p for p in first.passages}
    for p in hop.passages:
        assert p.dense_score is not None and p.bm25_score is not None
        if p.chunk.id in by_id:  # the same chunk, the same query vector: the same cosine
            assert p.dense_score == pytest.approx(by_id[p.chunk.id].dense_score, abs=0.01)
