"""A replica with an empty cache answers before its first fill is done: dense search from a
real `chroma run`, the found documents fetched on the spot, a notice saying so, and
questions about the whole collection held back until the fill completes."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from askfront.assistant import Assistant, index_spec
from askfront.core.config import Settings
from askfront.core.errors import IndexWarmingError
from askfront.indexing.follow import Follower
from askfront.indexing.sync import sync
from netutil import chroma_run

pytestmark = pytest.mark.slow

QUESTION = "How many Nepalis have gone to Ukraine's battlefields?"
SOURCE = "ukraine-foreign-fighters-washington-post-2024-02-28.md"


@pytest.fixture
def chroma_port(tmp_path: Path) -> Iterator[int]:
    with chroma_run(tmp_path / "chroma-server") as (port, _):
        yield port


def test_a_replica_answers_from_chroma_while_its_cache_fills(  # type: ignore[no-untyped-def]
    settings: Settings, chroma_port: int, real_embeddings, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    indexer = settings.model_copy(update={"chroma_mode": "server", "chroma_port": chroma_port})
    sync(index_spec(indexer), embeddings=real_embeddings)
    empty = tmp_path / "replica-corpus"
    empty.mkdir()
    replica_settings = indexer.model_copy(
        update={"index_dir": tmp_path / "replica-cache", "corpus_dir": empty}
    )
    # No poll thread: the test decides when the first fill runs.
    monkeypatch.setattr(Follower, "_start_thread", lambda self: None)
    assistant = Assistant(replica_settings, embeddings=real_embeddings)

    answer = assistant.ask(QUESTION)
    follower = assistant._search._follower
    assert follower is not None and follower.warming
    assert not answer.refused and "200" in answer.text
    assert answer.citations[0].source == SOURCE
    assert answer.notice and "still loading" in answer.notice
    assert assistant.document(SOURCE) is not None  # fetched with the passage: highlightable
    with pytest.raises(IndexWarmingError, match="whole collection"):
        assistant.documents()

    follower.refresh()  # the first fill
    assert not follower.warming
    after = assistant.ask(QUESTION)
    assert not after.refused and "200" in after.text
    assert not after.notice or "still loading" not in after.notice
    assert [r.path for r in assistant.documents()] == [SOURCE]
