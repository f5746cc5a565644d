"""Search whichever build of the index is active: reloaded when another process rebuilt
it, and searched again when a full rebuild switched builds mid-search."""

from __future__ import annotations

import dataclasses
import logging
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from askfront.core.errors import AskfrontError, IndexWarmingError
from askfront.indexing.follow import Follower
from askfront.indexing.store import MANIFEST, Build, StoreSpec, active_build, read_json
from askfront.retrieval.base import SearchOptions, SearchResult
from askfront.retrieval.hybrid import Retriever

if TYPE_CHECKING:
    from langchain_core.embeddings import Embeddings

    from askfront.retrieval.mentions import MentionResult, MentionSearch

logger = logging.getLogger(__name__)

SWAP_RETRIES = 2  # searches redone when full rebuilds switch builds mid-search


class ActiveRetriever:
    """The `Retriever` of the active build, kept until the build or its generation changes.

    Thread-safe. `embeddings` is called on the first load only, so a process that never
    searches never loads the model.
    """

    def __init__(
        self,
        store: StoreSpec,
        embeddings: Callable[[], Embeddings],
        *,
        reranker_model: Path | None = None,
    ) -> None:
        self.store = store
        self._embeddings = embeddings
        self._reranker_model = reranker_model
        self._current: Retriever | None = None
        self._mentions: MentionSearch | None = None
        self._lock = threading.Lock()
        # Server mode: the build the indexer published in Chroma, not the local manifest.
        self._follower = Follower(store) if store.chroma.mode == "server" else None

    def build(self) -> Build:
        """The active build (in server mode, the replica cache of the published one).

        Raises:
            IndexNotFoundError: if there is no index yet.
            StoreUnavailableError: server mode: Chroma is unreachable and nothing is cached.
        """
        return self._follower.build() if self._follower else active_build(self.store)

    def current(self) -> Retriever:
        """The retriever for the active build.

        Raises:
            IndexNotFoundError: if there is no index yet.
        """
        build = self.build()
        generation = build.state().get("generation")
        with self._lock:
            current = self._current
            # A replica refilling a deleted cache gets a new Build of the same name and
            # generation: the old retriever would keep its docstore and BM25.
            if (
                current is None
                or (current.build.name, current.generation) != (build.name, generation)
                or (self._follower is not None and current.build is not build)
            ):
                current = Retriever(build, self._embeddings(), reranker_model=self._reranker_model,
                                    **self._warming_options(build))  # fmt: skip
                self._current = current
            return current

    def _warming_options(self, build: Build) -> dict[str, Any]:
        """A replica answering before its first fill: fetch found documents, say so."""
        if self._follower is None or not self._follower.warming:
            return {}
        from askfront.indexing.replica import fetch_documents

        return {"fetch_missing": lambda ids: fetch_documents(build, ids),
                "notice": "This server is still loading its keyword index; "
                          "answered from meaning search only."}  # fmt: skip

    def require_whole(self) -> None:
        """Raises IndexWarmingError while a replica's cache is still filling for the first
        time: a listing or count of the collection would leave articles out."""
        if self._follower is not None and self._follower.warming:
            raise IndexWarmingError(
                "This server is still loading the list of articles from the index; "
                "ask about the whole collection again in a minute."
            )

    def mentions(
        self, phrase: str, date_from: str | None = None, date_to: str | None = None
    ) -> MentionResult:
        """Every article of the active build that mentions `phrase` (retrieval.mentions).

        Raises:
            IndexNotFoundError: if there is no index yet.
        """
        from askfront.retrieval.mentions import MentionSearch

        self.require_whole()
        retriever = self.current()
        with self._lock:  # one per build: it keeps a map of the build's words
            search = self._mentions
            if search is None or search.docstore is not retriever.build.docstore:
                search = self._mentions = MentionSearch(retriever.keyword, retriever.build.docstore)
        return search.find(phrase, date_from=date_from, date_to=date_to)

    def forget(self) -> None:
        """Drop the loaded build: the next search loads the active one (after a reindex)."""
        with self._lock:
            self._current = None

    def search(self, query: str, options: SearchOptions, query_vector: Any = None) -> SearchResult:
        """Search the active build. A full rebuild that switches builds mid-search deletes
        the build being searched (its vectors, then its files), which would fail the search
        or quietly degrade it; then the search runs again on the new build.

        Raises:
            IndexNotFoundError: if there is no index yet.
            StoreUnavailableError: if the vector store cannot be queried.
        """
        for attempt in range(SWAP_RETRIES + 1):
            seen = self._active_name()
            try:
                result = self.current().search(query, options, query_vector)
            except Exception:
                if attempt < SWAP_RETRIES and self._active_name() != seen:
                    continue
                raise
            if attempt < SWAP_RETRIES and self._active_name() != seen:
                logger.info("The index switched builds during a search; searching again")
                continue
            return result
        raise AssertionError("unreachable: the last attempt returns or raises")

    def extend(
        self, first: SearchResult, queries: Sequence[str], options: SearchOptions
    ) -> SearchResult:
        """`first` with the new passages of more searches (a second hop) appended after its
        own: its ranking, which evaluation scores, stays as it was. The searches are
        keyword-only (a hop looks for a name), scored for meaning against `first`'s query.

        Raises:
            IndexNotFoundError: if there is no index yet.
            StoreUnavailableError: if the vector store cannot be queried.
        """
        passages = list(first.passages)
        seen = {p.chunk.id for p in passages}
        notice = first.notice
        # Up to top_k new passages per search: ask for as many more as are already seen.
        hop = dataclasses.replace(options, keywords_only=True, top_k=options.top_k + len(passages))
        for query in queries:
            found = self.search(query, hop, first.query_vector)
            notice = notice or found.notice
            new = [p for p in found.passages if p.chunk.id not in seen][: options.top_k]
            for p in new:
                seen.add(p.chunk.id)
                p.rank = len(passages) + 1
                passages.append(p)
        return dataclasses.replace(first, passages=passages, notice=notice)

    def _active_name(self) -> str | None:
        """The active build's name from manifest.json (None when there is no index)."""
        if self._follower:
            try:
                return self._follower.build().name
            except AskfrontError:
                return None
        return (read_json(self.store.index_dir / MANIFEST) or {}).get("active")
