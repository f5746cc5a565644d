"""Client/server mode: index into a real `chroma run` server on loopback and answer from it."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from askfront.assistant import Assistant, index_spec
from askfront.core.config import Settings
from askfront.core.errors import StoreUnavailableError
from askfront.indexing.sync import sync
from netutil import chroma_run
from netutil import free_port as _free_port

pytestmark = pytest.mark.slow


_RUNNING: list[subprocess.Popen[bytes]] = []


@pytest.fixture
def chroma_server(tmp_path: Path) -> Iterator[int]:
    with chroma_run(tmp_path / "chroma-server") as (port, proc):
        _RUNNING.append(proc)
        try:
            yield port
        finally:
            _RUNNING.remove(proc)


def test_index_and_answer_through_chroma_server(
    settings: Settings, chroma_server: int, real_embeddings
) -> None:  # type: ignore[no-untyped-def]
    server = settings.model_copy(update={"chroma_mode": "server", "chroma_port": chroma_server})
    report = sync(index_spec(server), embeddings=real_embeddings)
    assert report.counts["added"] == 1
    assert not (server.index_dir / "chroma").exists()  # vectors live on the server
    answer = Assistant(server, embeddings=real_embeddings).ask(
        "How many Nepalis have gone to Ukraine's battlefields?"
    )
    assert not answer.refused and "200" in answer.text
    assert answer.citations[0].source == "ukraine-foreign-fighters-washington-post-2024-02-28.md"


def test_unreachable_server_is_a_clear_error(settings: Settings, real_embeddings) -> None:  # type: ignore[no-untyped-def]
    server = settings.model_copy(update={"chroma_mode": "server", "chroma_port": _free_port()})
    with pytest.raises(StoreUnavailableError, match="chroma run"):
        sync(index_spec(server), embeddings=real_embeddings)


def test_server_going_down_degrades_to_keyword_search(  # type: ignore[no-untyped-def]
    settings: Settings, chroma_server: int, real_embeddings, request: pytest.FixtureRequest
) -> None:
    # Small chunks: a build of at most 30 chunks is searched from the docstore's vector
    # copies, without Chroma (askfront.retrieval.hybrid._small_build), so it would not notice.
    update = {"chroma_mode": "server", "chroma_port": chroma_server, "chunk_tokens": 48}
    server = settings.model_copy(update=update)
    report = sync(index_spec(server), embeddings=real_embeddings)
    assert report.chunks_embedded > 30
    assistant = Assistant(server, embeddings=real_embeddings)
    assert assistant.ask("Who is Ramchandra Khadka?").notice is None
    # Stop the server: answers keep coming, from BM25, with a notice.
    for proc in _chroma_processes(chroma_server):
        proc.terminate()
        proc.wait(timeout=30)
    answer = assistant.ask("Who is Ramchandra Khadka?")
    assert answer.notice and "keyword search only" in answer.notice
    assert "Ramchandra Khadka" in answer.text and answer.citations


def _chroma_processes(port: int) -> list[subprocess.Popen[bytes]]:
    return [p for p in _RUNNING if p.args and str(port) in p.args]  # type: ignore[operator]
