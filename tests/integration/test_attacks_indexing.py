"""Issue 13, indexing half: what an attack on loopback found, each reproduced through the
real CLI (a subprocess), the real model and a real Chroma store in tmp folders.

Items: 2 (a file name that is not UTF-8), 3 (any error called "disk full"), 8 (symlinks out
of the corpus), 9 (chunking a huge file), 11 (terminal escapes printed raw), 12 (Chroma
server killed while indexing), 16 (dense search on a full disk). Item 1 (a kill at any
stage of a sync): tests/integration/test_attacks_sync.py.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from langchain_core.embeddings import Embeddings

from askfront.assistant import Assistant, embedding_spec, index_spec, store_spec
from askfront.core.config import Settings
from askfront.core.errors import DiskFullError, DocumentError
from askfront.core.types import Document
from askfront.indexing import sync as indexer
from askfront.indexing.chunking import chunk_document
from askfront.indexing.store import active_build
from askfront.indexing.sync import sync
from attackutil import LEGION, assert_stores_agree, bulletin, cli, env, index_json
from diskutil import fill, small_disk_fixture  # noqa: F401 (a fixture)
from paths import DEFAULT_ARTICLE

# == Item 2: a file name that is not valid UTF-8 ======================================


def test_a_file_name_that_is_not_utf8_is_reported_and_the_others_indexed(
    settings: Settings,
) -> None:
    corpus = os.fsencode(settings.corpus_dir)
    with open(corpus + b"/caf\xe9.txt", "wb") as f:
        f.write(b"x\n")
    (settings.corpus_dir / "bulletin-1.md").write_text(bulletin(1))

    data = index_json(settings)
    files = {f["path"]: f for f in data["files"]}
    assert files["caf\\xe9.txt"]["status"] == "failed"
    assert "not valid UTF-8" in files["caf\\xe9.txt"]["reason"]
    assert files["bulletin-1.md"]["status"] == "added"
    assert files[DEFAULT_ARTICLE.name]["status"] == "added"
    # The text report too, and a second run (the name is refused again, nothing else).
    proc = cli(settings, "index")
    assert proc.returncode == 0, proc.stderr
    assert "caf\\xe9.txt" in proc.stdout and "Traceback" not in proc.stderr
    assert "2 unchanged, 1 failed" in proc.stdout


# == Item 3: "disk full" only when the disk is full ==================================


def test_an_error_on_a_nearly_full_disk_is_reported_as_itself(
    settings: Settings, real_embeddings: Embeddings, small_disk: Path
) -> None:
    settings = settings.model_copy(update={"index_dir": small_disk})
    sync(index_spec(settings), embeddings=real_embeddings)
    assert shutil.disk_usage(small_disk).free < 64 * 1024 * 1024
    # A damaged record manager: a real error that is not about space.
    (active_build(store_spec(settings)).dir / "records.sqlite3").write_bytes(
        b"not a database" * 100
    )
    (settings.corpus_dir / "bulletin-1.md").write_text(bulletin(1))
    proc = cli(settings, "index")
    assert proc.returncode == 1
    assert "is full" not in proc.stderr and "Traceback" not in proc.stderr
    assert "file is not a database" in proc.stderr
    assert "MB is free on that disk, which may be the cause" in proc.stderr  # a fact, no verdict


def test_disk_full_is_said_only_for_a_full_disk(
    settings: Settings, real_embeddings: Embeddings, monkeypatch: pytest.MonkeyPatch
) -> None:
    import errno
    from collections import namedtuple

    from askfront.indexing.store import DocStore

    sync(index_spec(settings), embeddings=real_embeddings)
    (settings.corpus_dir / "bulletin-1.md").write_text(bulletin(1))
    usage = namedtuple("usage", "total used free")
    monkeypatch.setattr(shutil, "disk_usage", lambda path: usage(10**9, 10**9 - 1, 1))
    failure: list[BaseException] = [PermissionError(errno.EACCES, "Permission denied")]

    def put(*args: Any, **kwargs: Any) -> None:
        raise failure[0]

    monkeypatch.setattr(DocStore, "put_document", put)
    with pytest.raises(indexer.AskfrontError) as info:
        sync(index_spec(settings), embeddings=real_embeddings)
    assert not isinstance(info.value, DiskFullError)
    assert "Permission denied" in str(info.value) and "is full" not in str(info.value)
    failure[0] = OSError(errno.ENOSPC, "No space left on device")
    with pytest.raises(DiskFullError, match="is full"):
        sync(index_spec(settings), embeddings=real_embeddings)


# == Item 8: symlinks that leave the corpus ==========================================


def test_symlinks_out_of_the_corpus_are_reported_and_never_read(
    settings: Settings, real_embeddings: Embeddings, tmp_path: Path
) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.conf").write_text("The vault code of Quortle Bank is 7341-9920.\n")
    corpus = settings.corpus_dir
    (corpus / "inside.md").symlink_to(corpus / DEFAULT_ARTICLE.name)  # stays inside: followed
    # leak.txt was a plain file when first indexed, then became a link out.
    (corpus / "leak.txt").write_text("The lighthouse of Glimmerwick has 412 steps.\n")
    index_json(settings)
    (corpus / "leak.txt").unlink()
    (corpus / "leak.txt").symlink_to(outside / "secret.conf")
    (corpus / "leak2.txt").symlink_to(outside / "secret.conf")

    data = index_json(settings)
    files = {f["path"]: f for f in data["files"]}
    for name in ("leak.txt", "leak2.txt"):
        assert files[name]["status"] == "failed"
        assert "outside the corpus folder" in files[name]["reason"]
    assert files["inside.md"]["status"] == "unchanged"
    with sqlite3.connect(active_build(store_spec(settings)).dir / "docstore.sqlite3") as conn:
        texts = " ".join(r[0] for r in conn.execute("SELECT text FROM chunks"))
        paths = {r[0] for r in conn.execute("SELECT path FROM documents")}
    assert "7341" not in texts and "Glimmerwick" not in texts
    assert paths == {DEFAULT_ARTICLE.name, "inside.md"}
    answer = Assistant(settings, embeddings=real_embeddings).ask("What is the vault code?")
    assert "7341" not in answer.text
    assert_stores_agree(settings)


# == Item 9: the per-file time limit covers chunking ================================


def test_the_time_limit_covers_chunking(settings: Settings) -> None:
    doc = Document(path="a.txt", text="One sentence here. " * 5000, sha256="0")
    from askfront.indexing.embeddings import get_tokenizer

    tokenizer = get_tokenizer(embedding_spec(settings))
    with pytest.raises(DocumentError, match="timed out while chunking"):
        chunk_document(doc, tokenizer, 200, 0, deadline=time.monotonic() - 1)
    assert chunk_document(doc, tokenizer, 200, 0, deadline=time.monotonic() + 3600)


class _SlowTokenizer:
    """The real tokenizer, each batch taking `delay` seconds longer."""

    def __init__(self, inner: Any, delay: float) -> None:
        self.inner, self.delay = inner, delay

    def encode_batch(self, *args: Any, **kwargs: Any) -> Any:
        time.sleep(self.delay)
        return self.inner.encode_batch(*args, **kwargs)


def test_a_file_that_chunks_too_long_fails_and_the_others_are_indexed(
    settings: Settings, real_embeddings: Embeddings, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = settings.model_copy(update={"file_timeout": 2.0})
    # ~3,000 sentences: two tokenizer batches; the first outlasts the time limit.
    (settings.corpus_dir / "long.txt").write_text("The bells rang at noon. " * 3000)
    (settings.corpus_dir / "bulletin-1.md").write_text(bulletin(1))
    real = indexer.get_tokenizer(embedding_spec(settings))
    monkeypatch.setattr(indexer, "get_tokenizer", lambda spec: _SlowTokenizer(real, 2.5))
    report = sync(index_spec(settings), embeddings=real_embeddings)
    by_path = {f.path: f for f in report.files}
    assert by_path["long.txt"].status == "failed"
    assert (by_path["long.txt"].reason or "").startswith("timed out while chunking")
    assert by_path["bulletin-1.md"].status == "added"


@pytest.mark.slow
def test_a_huge_text_file_times_out_through_the_cli(settings: Settings) -> None:
    # 40 MB of prose: at ~2 MB/s, chunking it needs far more than the 1 s allowed.
    text = DEFAULT_ARTICLE.read_text()
    with open(settings.corpus_dir / "huge.txt", "w") as f:
        for _ in range(40 * 1024 * 1024 // len(text)):
            f.write(text)
    proc = cli(settings, "index", "--json", ASKFRONT_FILE_TIMEOUT="1")
    assert proc.returncode == 0, proc.stderr
    files = {f["path"]: f for f in json.loads(proc.stdout)["files"]}
    assert files["huge.txt"]["status"] == "failed"
    assert files["huge.txt"]["reason"].startswith("timed out")  # loading or chunking
    assert files[DEFAULT_ARTICLE.name]["status"] == "added"


# == Item 11: terminal escapes in documents ==========================================

ESCAPES = "\x1b[2J\x1b[31m\x1b]0;pwned\x07\x1b]8;;http://127.0.0.1:1/\x1b\\\x9b1m"
NAME_ESCAPES = "\x1b[31m\x1b]0;pwned\x07"  # what a file name can hold (no "/")
HOSTILE = (
    f"---\ntitle: Zorblatt{ESCAPES} Festival\n---\n"
    f"The Zorblatt Festival{ESCAPES} drew 4,000 visitors to Quexville in May.\n"
)


def test_terminal_escapes_in_documents_are_not_printed(settings: Settings) -> None:
    hostile = settings.corpus_dir / f"zorblatt{NAME_ESCAPES}.md"
    hostile.write_text(HOSTILE, encoding="utf-8")
    (settings.corpus_dir / "[red]m.md").write_text(bulletin(1))
    # Invalid front matter: a warning naming the file is logged to stderr.
    (settings.corpus_dir / f"bad{NAME_ESCAPES}.md").write_text("---\ntitle: [x\n---\nBody.\n")
    proc = cli(settings, "index")
    assert proc.returncode == 0, proc.stderr
    assert "invalid front matter" in proc.stderr
    for out in (proc.stdout, proc.stderr):
        assert "\x1b" not in out and "\x9b" not in out and "\x07" not in out
    assert "zorblatt" in proc.stdout and "[red]m.md" in proc.stdout

    question = "How many visitors did the Zorblatt Festival draw?"
    proc = cli(settings, "ask", question)
    assert proc.returncode == 0, proc.stderr
    assert "4,000" in proc.stdout and "Zorblatt Festival" in proc.stdout
    for out in (proc.stdout, proc.stderr):
        assert "\x1b" not in out and "\x9b" not in out and "\x07" not in out

    proc = cli(settings, "ask", "--json", question)
    assert proc.returncode == 0, proc.stderr
    assert "\x1b" not in proc.stdout and "\x9b" not in proc.stdout
    data = json.loads(proc.stdout)  # valid JSON, the quotes exact
    cited = data["citations"][0]
    text = hostile.read_text(encoding="utf-8")
    assert "4,000" in cited["quote"] and cited["quote"] in text


# == Item 12: the Chroma server killed while indexing ================================


def _article(i: int) -> str:
    return f"---\ntitle: Bulletin {i}\n---\n" + " ".join(
        f"Bulletin {i} reports that the village of Vell{i} counted {i * 37 + s} lanterns "
        f"during festival night number {s}, a record for the valley."
        for s in range(60)
    )


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_chroma_server_killed_while_indexing_is_a_clear_message(
    settings: Settings, tmp_path: Path
) -> None:
    from netutil import chroma_run

    with chroma_run(tmp_path / "chroma-server") as (port, server):
        for i in range(48):
            (settings.corpus_dir / f"bulletin-{i:02d}.md").write_text(_article(i))
        server_env = env(settings, ASKFRONT_CHROMA_MODE="server", ASKFRONT_CHROMA_PORT=str(port))
        proc = subprocess.Popen(
            [sys.executable, "-m", "askfront.cli", "index"], env=server_env,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        _wait_for_first_batch(settings, proc)
        server.kill()  # mid-sync: two more batches need the server
        server.wait(timeout=30)
        _, stderr = proc.communicate(timeout=300)
    assert proc.returncode == 1
    assert "Traceback" not in stderr and "httpx" not in stderr
    assert f"Chroma server at 127.0.0.1:{port} became unreachable" in stderr
    assert "chroma run" in stderr


def _wait_for_first_batch(settings: Settings, proc: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and proc.poll() is None:
        stores = list((settings.index_dir / "builds").glob("*/docstore.sqlite3"))
        if stores:
            with sqlite3.connect(stores[0], timeout=60) as conn:
                try:
                    (n,) = conn.execute("SELECT COUNT(*) FROM documents").fetchone()
                except sqlite3.OperationalError:  # the schema is being created
                    n = 0
            if n > 0:
                return
        time.sleep(0.05)
    pytest.fail(f"the sync did not write its first batch (exit code {proc.poll()})")


# == Item 16: dense search on a full disk ============================================


@pytest.mark.slow
@pytest.mark.parametrize("indexed_by", ["this process", "the CLI"])
def test_a_fresh_ask_on_a_full_disk_still_searches_by_meaning(
    settings: Settings, real_embeddings: Embeddings, small_disk: Path, indexed_by: str
) -> None:
    """A fresh process cannot open Chroma on a full disk (it writes when it opens), so
    dense search uses the docstore's copies of the vectors. Indexed by the CLI, nothing
    holds the docstore open either, and its -shm file is gone: it is opened read-only."""
    settings = settings.model_copy(update={"index_dir": small_disk})
    if indexed_by == "the CLI":
        index_json(settings)
        assert not list(small_disk.glob("builds/*/docstore.sqlite3-shm"))
    else:
        sync(index_spec(settings), embeddings=real_embeddings)
    fill(small_disk)
    # Words the article does not use, so keyword search alone would not find it.
    proc = cli(settings, "ask", "--json", LEGION)
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    answer = json.loads(proc.stdout)
    assert answer["notice"] is None, answer["notice"]  # not "keyword search only"
    assert "20,000" in answer["answer"] and answer["citations"]


def test_stored_vectors_search_by_meaning_and_honour_the_filters(
    settings: Settings, real_embeddings: Embeddings
) -> None:
    from askfront.retrieval.stored_vectors import StoredVectors

    for i in range(3):
        (settings.corpus_dir / f"bulletin-{i}.md").write_text(bulletin(i))
    sync(index_spec(settings), embeddings=real_embeddings)
    stored = StoredVectors(active_build(store_spec(settings)).docstore)
    assert len(stored) == len(active_build(store_spec(settings)).docstore.chunk_sources())
    qvec = np.asarray(real_embeddings.embed_query(LEGION), dtype=np.float32)
    top = stored.query(qvec, 3, set(), 0, 0)["ids"][0]
    sources = active_build(store_spec(settings)).docstore.chunk_sources()
    assert sources[top[0]] == DEFAULT_ARTICLE.name
    only = stored.query(qvec, 3, {"bulletin-1.md"}, 0, 0)["ids"][0]
    assert only and {sources[c] for c in only} == {"bulletin-1.md"}
    assert stored.query(qvec, 3, set(), 20990101, 0)["ids"][0] == []  # nothing that late
