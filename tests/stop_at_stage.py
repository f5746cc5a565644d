"""Run the real `askfront index` and stop it (SIGSTOP) at one stage of a sync.

    python tests/stop_at_stage.py STAGE [options of askfront index]

For tests that SIGKILL a sync at a precise point. A test-side wrapper, not a hook in
askfront: it wraps the one function that does the stage's write, so the process stops
itself right after (or before) that write. The test waits until it is stopped
(os.waitpid with WUNTRACED), then kills it. Watching files instead would be a race: BM25
for a few hundred chunks is built and switched to in milliseconds.
"""

from __future__ import annotations

import functools
import os
import signal
import sys
from collections.abc import Callable
from typing import Any


def _stop() -> None:
    os.kill(os.getpid(), signal.SIGSTOP)


def _after(owner: Any, name: str, nth: int, when: Callable[..., bool] | None = None) -> None:
    """Stop once owner.name has returned for the nth time (counting calls `when` accepts)."""
    real = getattr(owner, name)
    calls = [0]

    @functools.wraps(real)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        result = real(*args, **kwargs)
        if when is None or when(*args, **kwargs):
            calls[0] += 1
            if calls[0] == nth:
                _stop()
        return result

    setattr(owner, name, wrapper)


def _before(owner: Any, name: str) -> None:
    real = getattr(owner, name)

    @functools.wraps(real)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        _stop()
        return real(*args, **kwargs)

    setattr(owner, name, wrapper)


def _install(stage: str) -> None:
    from langchain_chroma import Chroma
    from langchain_classic.indexes import SQLRecordManager

    from askfront.indexing import bm25
    from askfront.indexing import sync as indexer
    from askfront.indexing.store import DocStore

    grouped = lambda *a, **k: k.get("group_ids") is not None  # noqa: E731 - index()'s own update
    stages: dict[str, Callable[[], None]] = {
        # Batch 2's vectors are in Chroma; the record manager and the docstore lack them.
        "embedding": lambda: _after(Chroma, "add_documents", 2),
        # Batch 2 is in Chroma and the record manager, not in the docstore.
        "records": lambda: _after(SQLRecordManager, "update", 2, grouped),
        # Midway through batch 2's docstore writes.
        "docstore": lambda: _after(DocStore, "put_document", 20),
        # One deleted file is gone from all stores, the others not yet.
        "deleting": lambda: _after(DocStore, "delete_document", 1),
        # All stores but BM25 are up to date.
        "bm25": lambda: _before(bm25, "build"),
        # The new BM25 folder is written; state.json still names the old one.
        "state": lambda: _after(bm25, "build", 1),
        # A full rebuild is complete; manifest.json still names the build before it.
        "manifest": lambda: _before(indexer, "activate"),
    }
    stages[stage]()


if __name__ == "__main__":
    _install(sys.argv[1])
    from askfront.cli import main

    sys.argv = ["askfront", "index", *sys.argv[2:]]
    main()
