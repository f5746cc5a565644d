"""A server-mode reader following the build the indexer published in Chroma.

A background thread reads the pointer (askfront.indexing.replica) every `POLL_S` seconds
and, when it moved, refreshes the replica cache from Chroma; searches keep using the
previous build meanwhile. When the reader runs on the indexer's own machine and its
`index_dir` already holds the published build at that generation, that folder is read
directly and nothing is fetched.

A replica with an empty cache does not wait for its first fill (minutes at a million
chunks): it answers at once from Chroma's dense search, fetching the documents of the
passages it finds (`warming`), while the poll thread fills the cache; it switches to hybrid
search when the fill is done.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from askfront.core.errors import (
    IndexLockedError,
    IndexNotFoundError,
    IndexWriteError,
    StoreUnavailableError,
)
from askfront.indexing.chroma import chroma_client
from askfront.indexing.lock import index_lock
from askfront.indexing.replica import Pointer, cache_store, fill_cache, read_pointer
from askfront.indexing.store import Build, StoreSpec, active_build

logger = logging.getLogger(__name__)

POLL_S = 1.0  # how often the pointer is read: one ~1 ms HTTP call


class Follower:
    """The build a server-mode reader should search, kept in step with the indexer. Thread-safe."""

    def __init__(self, store: StoreSpec) -> None:
        self.store = store
        self.cache = cache_store(store)
        self._client: Any = None
        self._current: Build | None = None
        self._pointer: Pointer | None = None
        self._complete = False
        self._warming = False  # answering from Chroma while the first fill runs
        self._lock = threading.Lock()  # guards _current
        self._refreshing = threading.Lock()  # one refresh at a time in this process
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()

    def build(self) -> Build:
        """The build to search: the published one, fetched first if there is no cache yet.

        Raises:
            IndexNotFoundError: if no indexer has published an index to this Chroma server.
            StoreUnavailableError: if Chroma is unreachable and there is no cache to use.
        """
        with self._lock:
            current = self._current
        if current is None:
            current = self._first_build()
        self._start_thread()
        return current

    @property
    def warming(self) -> bool:
        """True while the build() is a cache still being filled for the first time: dense
        search works (documents are fetched as passages are found), keyword search and
        questions about the whole collection do not yet."""
        with self._lock:
            return self._warming

    def close(self) -> None:
        self._stop.set()

    def _first_build(self) -> Build:
        try:
            pointer = self._read_pointer()
        except StoreUnavailableError:
            cached = self._cached()
            if cached is None:
                raise
            logger.warning("Chroma is unreachable; answering from the cached %s", cached.name)
            with self._lock:
                self._current = cached
            return cached
        if pointer is None:
            raise IndexNotFoundError(
                f"No index has been published to the Chroma server at "
                f"{self.store.chroma.address}. Run `askfront index` on the indexer machine."
            )
        local = Build(self.store, pointer.build).state()
        on_indexer = local.get("generation") == pointer.generation and not local.get("pending")
        if not on_indexer and self._cached() is None:
            # Nothing to answer from yet: answer from Chroma while the poll thread fills.
            logger.info("Replica cache empty: answering from Chroma while it fills")
            with self._lock:
                self._current = Build(self.cache, pointer.build)
                self._warming = True
            return self._current
        self._follow(pointer, wait=True)
        with self._lock:
            if self._current is None:
                raise StoreUnavailableError("The replica cache could not be filled from Chroma.")
            return self._current

    def _cached(self) -> Build | None:
        """The cache's build, if a refresh ever completed one (maybe an older generation)."""
        try:
            build = active_build(self.cache)
        except IndexNotFoundError:
            return None
        return build if build.bm25_dir() is not None else None

    def _read_pointer(self) -> Pointer | None:
        try:
            if self._client is None:
                self._client = chroma_client(self.store.chroma, self.store.index_dir)
            return read_pointer(self._client, self.store)
        except StoreUnavailableError:
            self._client = None
            raise

    def _follow(self, pointer: Pointer, *, wait: bool) -> None:
        """Switch to `pointer`'s build: the indexer's own folder when it holds that
        generation, else the replica cache, refreshed from Chroma."""
        current = self._current
        if (pointer, True) == (self._pointer, self._complete) and (
            current is not None and current.intact
        ):
            return  # up to date, and the cache was not deleted under us
        local = Build(self.store, pointer.build)
        state = local.state()
        if state.get("generation") == pointer.generation and not state.get("pending"):
            self._switch(local, pointer, complete=True)
            return
        with self._refreshing:
            try:
                # Other processes may share the cache folder: one refreshes, the rest wait
                # (a first fill) or keep their build until the next poll.
                with index_lock(self.cache.index_dir, wait=wait):
                    started = time.perf_counter()
                    build, complete = fill_cache(self.store, pointer)
            except IndexLockedError:
                return
            logger.info(
                "Replica cache at %s generation %d in %.1f s%s", pointer.build,
                pointer.generation, time.perf_counter() - started,
                "" if complete else " (some documents were being re-indexed)",
            )  # fmt: skip
            self._switch(build, pointer, complete=complete)

    def _switch(self, build: Build, pointer: Pointer, *, complete: bool) -> None:
        with self._lock:
            self._current = build
            self._pointer = pointer
            self._complete = complete
            self._warming = False

    def _start_thread(self) -> None:
        with self._lock:
            if self._thread is not None:
                return
            self._thread = threading.Thread(target=self._poll, name="askfront-follow", daemon=True)
        self._thread.start()

    def refresh(self) -> None:
        """One poll: follow the published pointer if it moved (or finish the first fill).

        Raises:
            StoreUnavailableError: if the Chroma server cannot be reached.
        """
        pointer = self._read_pointer()
        if pointer is not None:
            self._follow(pointer, wait=False)

    def _poll(self) -> None:
        failing = False
        while not self._stop.wait(POLL_S):
            try:
                self.refresh()
                if failing:
                    logger.warning("Chroma at %s answers again", self.store.chroma.address)
                failing = False
            except IndexWriteError as exc:  # e.g. the cache deleted mid-refresh
                logger.warning("%s", exc)
            except StoreUnavailableError as exc:
                if not failing:
                    logger.warning("Cannot follow the index (%s); answering from the cache", exc)
                failing = True
            except Exception:  # never let the thread die: the next poll tries again
                logger.exception("Following the published index failed")
