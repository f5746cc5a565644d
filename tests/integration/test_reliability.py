"""Faults end to end: the disk filling up, a rebuild switching builds mid-search, the LLM down.

Everything runs through the real embedding model and real Chroma in tmp folders.
docs/reliability.md maps each input and fault to its test.
"""

from __future__ import annotations

import contextlib
import errno
import os
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest
from langchain_core.embeddings import Embeddings

from askfront.assistant import Assistant, index_spec, store_spec
from askfront.core.config import Settings
from askfront.core.errors import DiskFullError, IndexWriteError
from askfront.core.types import IndexReport
from askfront.indexing import sync as indexer
from askfront.indexing.store import DocStore, active_build
from askfront.indexing.sync import sync
from askfront.retrieval.base import SearchOptions
from askfront.retrieval.hybrid import Retriever
from attackutil import LEGION
from attackutil import bulletin as _bulletin
from diskutil import resize, small_disk_fixture, used_kb  # noqa: F401 (a fixture)
from netutil import free_port as _free_port
from netutil import http_server
from reliabilityutil import gist as _gist

# Faults with their own modules:
# SIGKILL during a rebuild: test_indexer.py::test_sigkill_during_rebuild_then_search_and_rebuild
# Chroma server unreachable or going down: tests/integration/test_chroma_server.py
# LLM backend down/slow at the client level: tests/unit/answering/test_llm_clients.py


@pytest.mark.parametrize("full", [False, True], ids=["incremental", "full-rebuild"])
def test_disk_full_midway_is_a_clear_error_and_a_later_sync_completes(
    settings: Settings, counting_embeddings: Any, monkeypatch: pytest.MonkeyPatch, full: bool
) -> None:
    sync(index_spec(settings), embeddings=counting_embeddings)
    before = active_build(store_spec(settings)).name
    for i in range(6):
        (settings.corpus_dir / f"bulletin-{i}.md").write_text(_bulletin(i))
    monkeypatch.setattr(indexer, "FILES_PER_BATCH", 2)
    real_put = DocStore.put_document
    written: list[str] = []

    def put(self: DocStore, doc: Any, chunks: Any, vectors: Any = None) -> None:
        if len(written) == 2:  # the disk fills up in the second batch
            raise OSError(errno.ENOSPC, "No space left on device")
        real_put(self, doc, chunks, vectors)
        written.append(doc.path)

    monkeypatch.setattr(DocStore, "put_document", put)
    with pytest.raises(DiskFullError) as info:
        sync(index_spec(settings), full=full, embeddings=counting_embeddings)
    message = str(info.value)
    assert message.startswith(f"The disk holding {settings.index_dir}/ is full (")
    assert "No space left on device" in message and "ASKFRONT_INDEX_DIR" in message
    # The index built before is intact and still answers.
    assert active_build(store_spec(settings)).name == before
    answer = Assistant(settings, embeddings=counting_embeddings).ask(LEGION)
    assert "20,000" in answer.text and answer.notice is None

    monkeypatch.setattr(DocStore, "put_document", real_put)  # space freed
    embedded_before = counting_embeddings.documents
    report = sync(index_spec(settings), full=full, embeddings=counting_embeddings)
    assert report.counts["failed"] == 0
    assistant = Assistant(settings, embeddings=counting_embeddings)
    assert {r.status for r in assistant.documents()} == {"indexed"}
    assert len(assistant.documents()) == 7
    build = active_build(store_spec(settings))
    assert build.collection().count() == len(build.docstore.all_chunk_texts()[0])
    assert [p.name for p in (settings.index_dir / "builds").iterdir()] == [build.name]
    if not full:
        # It picks up where it stopped: the second batch's vectors were already written.
        assert report.counts == {"added": 4, "updated": 0, "deleted": 0, "unchanged": 3,
                                 "failed": 0}  # fmt: skip
        assert counting_embeddings.documents - embedded_before == report.chunks_embedded == 2
    assert "Vell5" in assistant.ask("How many lanterns did Vell5 count?").text


@pytest.mark.slow
@pytest.mark.timeout(900)  # a hang here is the bug this test guards against (~30 s quiet)
def test_disk_full_on_a_real_small_disk(
    settings: Settings, real_embeddings: Embeddings, small_disk: Path
) -> None:
    settings = settings.model_copy(update={"index_dir": small_disk})
    sync(index_spec(settings), embeddings=real_embeddings)
    serving = Assistant(settings, embeddings=real_embeddings)  # like the web chat's process
    assert "20,000" in serving.ask(LEGION).text
    resize(small_disk, used_kb(small_disk) + 256)  # room for a few chunks, not 30 files
    for i in range(30):
        (settings.corpus_dir / f"bulletin-{i:02d}.md").write_text(_bulletin(i) * 6)
    # Chroma says so ("database or disk is full"), or only "Error in compaction: ...": then
    # the message gives Chroma's error and the free space, and does not claim a full disk.
    with pytest.raises((DiskFullError, IndexWriteError)) as info:
        sync(index_spec(settings), embeddings=real_embeddings)
    if isinstance(info.value, DiskFullError):
        assert str(info.value).startswith(f"The disk holding {small_disk}/ is full")
    else:
        assert "Error in compaction" in str(info.value) and "MB is free on that disk" in str(
            info.value
        )
    meanwhile = serving.ask(LEGION)  # the index built before answers, vectors and all
    assert "20,000" in meanwhile.text and meanwhile.notice is None
    # The CLI prints the same message, not a traceback.
    env = {**os.environ, "ASKFRONT_CORPUS_DIR": str(settings.corpus_dir),
           "ASKFRONT_INDEX_DIR": str(small_disk)}  # fmt: skip
    proc = subprocess.run([sys.executable, "-m", "askfront.cli", "index"], env=env,
                          capture_output=True, text=True)  # fmt: skip
    assert proc.returncode == 1
    assert ("is full" in proc.stderr and "Free some space" in proc.stderr) or (
        "MB is free on that disk" in proc.stderr
    )
    assert "Traceback" not in proc.stderr

    resize(small_disk, 64 * 1024)  # space freed
    # In the same process (the web chat's Rebuild button): Chroma used to hang here.
    report = sync(index_spec(settings), embeddings=real_embeddings)
    assert (
        report.counts["failed"] == 0 and report.counts["added"] + report.counts["unchanged"] == 31
    )
    build = active_build(store_spec(settings))
    assert len(build.docstore.rows()) == 31
    assert build.collection().count() == len(build.docstore.all_chunk_texts()[0])
    answer = serving.ask("How many lanterns did Vell7 count?")
    assert "107 lanterns" in answer.text and answer.notice is None


def test_rebuild_switching_builds_mid_search_does_not_degrade_the_answer(
    settings: Settings, real_embeddings: Embeddings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A full rebuild deletes the build it replaced; a search running on it searches again."""
    sync(index_spec(settings), embeddings=real_embeddings)
    assistant = Assistant(settings, embeddings=real_embeddings)
    expected = assistant.ask(LEGION)
    real_search = Retriever.search
    rebuilt: list[IndexReport] = []

    def search(self: Retriever, query: str, options: SearchOptions, *rest: Any) -> Any:
        if not rebuilt:  # the rebuild finishes while this search runs on the old build
            rebuilt.append(sync(index_spec(settings), full=True, embeddings=real_embeddings))
        return real_search(self, query, options, *rest)

    monkeypatch.setattr(Retriever, "search", search)
    answer = assistant.ask(LEGION)
    assert rebuilt and rebuilt[0].full_rebuild
    assert answer.notice is None
    assert _gist(answer) == _gist(expected)


@pytest.mark.parametrize("fault", ["down", "slow"])
def test_llm_down_or_slow_falls_back_to_the_extractive_answer_with_a_notice(
    seed_index: Settings, seed_assistant: Assistant, real_embeddings: Embeddings, fault: str
) -> None:
    expected = seed_assistant.ask(LEGION)
    with contextlib.ExitStack() as stack:
        if fault == "down":
            url = f"http://127.0.0.1:{_free_port()}/v1"  # bound, then closed: nobody listens
        else:
            release = threading.Event()
            base, _ = stack.enter_context(http_server(lambda handler, body: release.wait(30)))
            stack.callback(release.set)  # runs first: the server can then shut down
            url = base + "/v1"
        settings = seed_index.model_copy(
            update={"llm": "openai:tiny", "llm_base_url": url, "llm_timeout": 2.0}
        )
        answer = Assistant(settings, embeddings=real_embeddings).ask(LEGION)
    kind = "unreachable" if fault == "down" else "timed out"
    # "timed out" also shows that llm_timeout, not the stalled server, ended the wait.
    assert answer.notice and answer.notice.startswith(f"LLM backend openai:tiny {kind} at {url}")
    assert answer.notice.endswith("showing the extractive answer instead.")
    assert answer.mode == "extractive"
    assert _gist(answer) == _gist(expected)
