"""The index lock: one writer at a time, across processes (fcntl.flock on index/.lock)."""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from askfront.core.errors import IndexLockedError


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
