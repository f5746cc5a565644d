"""What a user is told when a sync fails unexpectedly: the real error, named as what it is.

"Disk full" only for ENOSPC/EDQUOT or SQLite's and Chroma's own words for it; little free
space alone is mentioned as a fact, never taken for the cause.
"""

from __future__ import annotations

import errno
import logging
import shutil
from collections.abc import Iterator
from pathlib import Path

from askfront.core.errors import (
    AskfrontError,
    DiskFullError,
    IndexWriteError,
    StoreUnavailableError,
)
from askfront.indexing.store import StoreSpec

logger = logging.getLogger(__name__)

_DISK_FULL_ERRNOS = {errno.ENOSPC, errno.EDQUOT}
# Chroma and SQLite report a full disk as text, not as an OSError.
_DISK_FULL_TEXT = ("database or disk is full", "no space left on device", "disk quota exceeded")
_LOW_SPACE_BYTES = 64 * 1024 * 1024  # below this, an error message mentions the free space


def user_error(exc: Exception, store: StoreSpec) -> AskfrontError:
    """The error a user sees for an unexpected failure of a sync: what really went wrong."""
    index_dir, chroma = store.index_dir, store.chroma
    rerun = "then run `askfront index` again: it repairs what this run left half-done"
    if chroma.mode == "server" and _is_unreachable(exc):
        where = chroma.address
        return StoreUnavailableError(
            f"The Chroma server at {where} became unreachable while indexing "
            f"({_first_line(exc)}). Start it again (`chroma run --path DIR --port "
            f"{chroma.port}`), or check ASKFRONT_CHROMA_HOST/ASKFRONT_CHROMA_PORT, "
            f"{rerun}."
        )
    if _is_disk_full(exc):
        return DiskFullError(
            f"The disk holding {index_dir}/ is full ({_first_line(exc)}). Free "
            "some space, or point ASKFRONT_INDEX_DIR at a disk with more room, then run "
            "`askfront index` again. The index built before keeps answering meanwhile."
        )
    logger.debug("Sync failed", exc_info=exc)
    return IndexWriteError(
        f"Updating the index in {index_dir}/ failed: {type(exc).__name__}: "
        f"{_first_line(exc)}.{_free_space_note(index_dir)} Fix the cause, {rerun}. The "
        "index built before keeps answering meanwhile."
    )


def _causes(exc: BaseException) -> Iterator[BaseException]:
    seen: list[BaseException] = []
    cur: BaseException | None = exc
    while cur is not None and cur not in seen and len(seen) < 10:
        yield cur
        seen.append(cur)
        cur = cur.__cause__ or cur.__context__


def _is_disk_full(exc: BaseException) -> bool:
    for cur in _causes(exc):
        if isinstance(cur, OSError) and cur.errno in _DISK_FULL_ERRNOS:
            return True
        if any(text in str(cur).lower() for text in _DISK_FULL_TEXT):
            return True
    return False


def _is_unreachable(exc: BaseException) -> bool:
    import httpx  # chromadb's HTTP client raises httpx errors unwrapped

    return any(isinstance(c, httpx.TransportError | ConnectionError) for c in _causes(exc))


def _free_space_note(index_dir: Path) -> str:
    try:
        free = shutil.disk_usage(index_dir).free
    except OSError:
        return ""
    if free >= _LOW_SPACE_BYTES:
        return ""
    # Chroma sometimes reports a full disk only as "Error in compaction: ...": say what is
    # known (little space) without claiming it is the cause.
    return f" Only {free / (1024 * 1024):.1f} MB is free on that disk, which may be the cause."


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0][:200] if text else type(exc).__name__
