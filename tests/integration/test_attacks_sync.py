"""Issue 13, item 1: a kill at any stage of a sync, repaired by the next one.

The real `askfront index` runs in a subprocess and is SIGKILLed at each stage of an
incremental sync (tests/stop_at_stage.py stops it there); the rerun, again the real CLI,
must leave the docstore, Chroma, the record manager and BM25 with the same chunk ids, and
the new files answered.
"""

from __future__ import annotations

import os
import shutil
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from langchain_core.embeddings import Embeddings

from askfront.assistant import Assistant, index_spec, store_spec
from askfront.core.config import Settings
from askfront.indexing.store import active_build
from askfront.indexing.sync import sync
from attackutil import assert_stores_agree, bulletin, env, index_json
from paths import DEFAULT_ARTICLE, REPO

STOPPER = REPO / "tests" / "stop_at_stage.py"


@pytest.fixture(scope="module")
def thirty_built(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """The default article and bulletins 0-29, indexed by the real CLI once per module: the
    state every kill test starts from. Read-only: each test works on its own copy."""
    root = tmp_path_factory.mktemp("thirty")
    (root / "corpus").mkdir()
    shutil.copy(DEFAULT_ARTICLE, root / "corpus" / DEFAULT_ARTICLE.name)
    for i in range(30):
        (root / "corpus" / f"bulletin-{i:02d}.md").write_text(bulletin(i))
    built = Settings(corpus_dir=root / "corpus", index_dir=root / "index")
    index_json(built)
    return built


@pytest.fixture
def thirty(tmp_path: Path, thirty_built: Settings) -> Settings:
    """This test's own copy of `thirty_built`. The same index, not a look-alike: the CLI that
    built it has exited (every store is on disk), sources are relative paths and files are
    known by their hash."""
    shutil.copytree(thirty_built.corpus_dir, tmp_path / "corpus")
    shutil.copytree(thirty_built.index_dir, tmp_path / "index")
    return Settings(corpus_dir=tmp_path / "corpus", index_dir=tmp_path / "index")


def _kill_at(settings: Settings, stage: str, *args: str) -> None:
    """Run `askfront index` until it stops itself at `stage`, then SIGKILL it."""
    log = settings.index_dir.parent / f"stopped-at-{stage}.log"
    with open(log, "w") as stderr:
        proc = subprocess.Popen(
            [sys.executable, str(STOPPER), stage, *args], env=env(settings),
            stdout=subprocess.DEVNULL, stderr=stderr,
        )  # fmt: skip
    status: int | None = None
    try:
        _, status = os.waitpid(proc.pid, os.WUNTRACED)
    finally:
        if status is None or os.WIFSTOPPED(status):  # stopped, or the wait was interrupted
            os.kill(proc.pid, signal.SIGKILL)
            os.waitpid(proc.pid, 0)
        proc.returncode = -signal.SIGKILL  # reaped here, not by Popen
    assert os.WIFSTOPPED(status), f"the sync ended before {stage}: {log.read_text()}"


@pytest.mark.slow
@pytest.mark.timeout(900)
@pytest.mark.parametrize(
    "stage", ["embedding", "records", "docstore", "deleting", "bm25", "state", "manifest"]
)
def test_kill_at_each_stage_of_a_sync_is_repaired_by_the_next_run(
    thirty: Settings, real_embeddings: Embeddings, stage: str
) -> None:
    settings = thirty
    # From bulletins 0-29 indexed: 24 files added (two batches of the indexer), 5 deleted.
    for i in range(30, 54):
        (settings.corpus_dir / f"bulletin-{i:02d}.md").write_text(bulletin(i))
    for i in range(5):
        (settings.corpus_dir / f"bulletin-{i:02d}.md").unlink()

    _kill_at(settings, stage, *(["--full"] if stage == "manifest" else []))
    rerun = index_json(settings)

    ids = assert_stores_agree(settings)
    with sqlite3.connect(active_build(store_spec(settings)).dir / "docstore.sqlite3") as conn:
        sources = {r[0] for r in conn.execute("SELECT DISTINCT source FROM chunks")}
    assert sources == {p.name for p in settings.corpus_dir.iterdir()}
    assert len(ids) >= 50
    assert rerun["counts"]["failed"] == 0
    assistant = Assistant(settings, embeddings=real_embeddings)
    for i in (30, 41, 53):  # new files, from both batches
        assert f"{100 + i} lanterns" in assistant.ask(f"How many lanterns did Vell{i} count?").text
    answer = assistant.ask("How many lanterns did Vell3 count?")  # a deleted file
    assert all(c.source != "bulletin-03.md" for c in answer.citations + answer.related)


@pytest.mark.slow
@pytest.mark.timeout(600)
@pytest.mark.parametrize("stage", ["deleting", "bm25", "state"])
def test_kill_during_a_delete_only_sync_is_repaired_by_the_next_run(
    thirty: Settings, real_embeddings: Embeddings, stage: str
) -> None:
    settings = thirty
    # From bulletins 0-29 indexed, 10 deleted.
    for i in range(10):
        (settings.corpus_dir / f"bulletin-{i:02d}.md").unlink()

    _kill_at(settings, stage)
    index_json(settings)

    ids = assert_stores_agree(settings)
    build = active_build(store_spec(settings))
    with sqlite3.connect(build.dir / "docstore.sqlite3") as conn:
        (n,) = conn.execute("SELECT COUNT(*) FROM chunks WHERE source < 'bulletin-10'").fetchone()
    assert n == 0 and ids
    answer = Assistant(settings, embeddings=real_embeddings).ask(
        "How many lanterns did Vell7 count?"
    )
    assert "107 lanterns" not in answer.text
    assert all(c.source != "bulletin-07.md" for c in answer.citations)


def test_a_repair_restores_vectors_missing_from_chroma(
    settings: Settings, real_embeddings: Embeddings
) -> None:
    """The one disagreement no kill produces (the docstore has a chunk Chroma lacks, as
    after Chroma lost a write), repaired by re-embedding it from the docstore."""
    for i in range(4):
        (settings.corpus_dir / f"bulletin-{i}.md").write_text(bulletin(i))
    sync(index_spec(settings), embeddings=real_embeddings)
    build = active_build(store_spec(settings))
    lost = build.docstore.chunk_ids("bulletin-2.md")
    build.collection().delete(ids=lost)
    build.write_state(pending=True)  # what an interrupted sync leaves

    report = sync(index_spec(settings), embeddings=real_embeddings)
    assert report.repaired and "re-embedded" in report.repaired
    assert_stores_agree(settings)
    answer = Assistant(settings, embeddings=real_embeddings).ask(
        "How many lanterns did Vell2 count?"
    )
    assert "102 lanterns" in answer.text


def test_a_no_op_sync_does_not_open_chroma(
    settings: Settings, real_embeddings: Embeddings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The consistency checks of a sync with nothing to do stay cheap: two SQLite reads."""
    sync(index_spec(settings), embeddings=real_embeddings)
    from askfront.indexing.store import Build

    def no_chroma(self: Build) -> None:
        raise AssertionError("a no-op sync opened Chroma")

    monkeypatch.setattr(Build, "collection", no_chroma)
    monkeypatch.setattr(Build, "vectorstore", no_chroma)
    report = sync(index_spec(settings), embeddings=real_embeddings)
    assert report.counts["unchanged"] == 1 and report.repaired is None
