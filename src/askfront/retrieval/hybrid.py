"""Hybrid search: dense (Chroma) + keyword (BM25), fused by reciprocal rank fusion.

Optional extras on top: MMR diversification and a local cross-encoder reranker.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from askfront.core.errors import StoreUnavailableError
from askfront.core.types import Passage
from askfront.indexing import bm25
from askfront.indexing.store import Build, date_int
from askfront.retrieval.base import SearchOptions, SearchResult
from askfront.retrieval.rerank import rerank

if TYPE_CHECKING:
    from langchain_core.embeddings import Embeddings

    from askfront.retrieval.stored_vectors import StoredVectors

logger = logging.getLogger(__name__)

RRF_K = 60  # the constant of Cormack et al.; damps the weight of top ranks
CANDIDATES = 30  # per side, before fusion


class Retriever:
    """Searches one build of the index. Cheap to keep; swapped whole after a rebuild."""

    def __init__(
        self,
        build: Build,
        embeddings: Embeddings,
        *,
        reranker_model: Path | None = None,
        fetch_missing: Callable[[Sequence[str]], None] | None = None,
        notice: str | None = None,
    ) -> None:
        """`fetch_missing` (a replica still filling its cache) writes the documents of chunks
        Chroma found but the docstore lacks; `notice` goes with every result meanwhile."""
        self.build = build
        self.fetch_missing = fetch_missing
        self.notice = notice
        self.reranker_model = reranker_model
        self.embeddings = embeddings
        self.generation = build.state().get("generation")
        folder = build.bm25_dir()
        self.keyword = bm25.load(folder) if folder and folder.is_dir() else None
        self._collection: Any = None
        self._stored: StoredVectors | None = None  # Chroma's stand-in after it failed
        self._copies: int | None = None  # chunks with a stored vector copy (see _small_build)

    @property
    def collection(self) -> Any:
        if self._collection is None:
            self._collection = self.build.collection()
        return self._collection

    def search(
        self, query: str, options: SearchOptions, query_vector: np.ndarray | None = None
    ) -> SearchResult:
        """Top passages for `query`. With `options.keywords_only` (and a keyword index),
        only BM25 runs, and its hits are scored for meaning against `query_vector`.

        Raises:
            StoreUnavailableError: if the vector store cannot be queried.
        """
        if options.keywords_only and self.keyword is not None:
            return self._keyword_search(self.keyword, query, options, query_vector)
        timings: dict[str, float] = {}
        k = options.top_k
        n_candidates = max(CANDIDATES, 4 * k)
        sources = set(options.sources or ())
        d_from, d_to = date_int(options.date_from), date_int(options.date_to)

        t = time.perf_counter()
        qvec = np.asarray(self.embeddings.embed_query(query), dtype=np.float32)
        timings["embed_ms"] = _ms(t)

        t = time.perf_counter()
        notice = None
        chroma_ok = True
        res: Any  # Chroma's query() result, or the same shape from the stored copies
        try:
            small = self._small_build(n_candidates)
            if small is not None:
                res = small.query(qvec, n_candidates, sources, d_from, d_to)
            else:
                res = self.collection.query(
                    query_embeddings=[qvec.tolist()],
                    n_results=n_candidates,
                    where=_where(sources, d_from, d_to),
                    include=["distances", "embeddings"] if options.mmr else ["distances"],
                )
        except Exception as exc:
            self._collection = None
            chroma_ok = False
            res = self._stored_vector_search(exc, qvec, n_candidates, sources, d_from, d_to)
            if res is None:
                if self.keyword is None:
                    raise StoreUnavailableError(f"Vector search failed: {exc}") from exc
                # Keep answering from the keyword side, and say so.
                logger.warning("Vector search failed, using keyword search only: %s", exc)
                notice = (
                    f"The vector store is unavailable ({exc}); answered from keyword search only."
                )
                res = {"ids": [[]], "distances": [[]]}
                options = SearchOptions(**{**options.__dict__, "hybrid": True, "mmr": False})
        dense_ids: list[str] = res["ids"][0]
        dense_sim = {
            cid: 1.0 - float(d) for cid, d in zip(dense_ids, res["distances"][0], strict=True)
        }
        timings["dense_ms"] = _ms(t)

        keyword_hits: list[tuple[str, float]] = []
        if options.hybrid and self.keyword is not None:
            t = time.perf_counter()
            mask = self.keyword.mask(sources, d_from, d_to)
            keyword_hits = self.keyword.search(query, n_candidates, mask)
            timings["bm25_ms"] = _ms(t)

        t = time.perf_counter()
        fused: dict[str, float] = {}
        for rank, cid in enumerate(dense_ids):
            fused[cid] = fused.get(cid, 0.0) + 1.0 / (RRF_K + rank + 1)
        for rank, (cid, _) in enumerate(keyword_hits):
            fused[cid] = fused.get(cid, 0.0) + 1.0 / (RRF_K + rank + 1)
        bm25_score = dict(keyword_hits)
        ranked = sorted(fused, key=lambda c: -fused[c])

        if options.mmr and dense_ids:
            ranked = self._mmr(qvec, ranked, res, k)
        pool = ranked[: k * 3 if self.reranker_model else k]
        chunks = self.build.docstore.chunks(pool)
        if self.fetch_missing is not None and len(chunks) < len(pool) and chroma_ok:
            self.fetch_missing([cid for cid in pool if cid not in chunks])
            chunks = self.build.docstore.chunks(pool)
        meta = self.build.docstore.doc_meta(c.source for c in chunks.values())

        # Keyword-only hits get a dense score too: the refusal decision reads it.
        missing = [cid for cid in pool if cid not in dense_sim and cid in chunks]
        for cid, vec in self.build.docstore.vectors(missing).items():
            dense_sim[cid] = float(np.dot(vec, qvec))
        missing = [cid for cid in missing if cid not in dense_sim]
        if missing and chroma_ok:  # a replica's cache, or a build older than the copies
            dense_sim.update(self._chroma_scores(missing, qvec))

        passages = []
        for cid in pool:
            chunk = chunks.get(cid)
            if chunk is None:  # written to Chroma by a rebuild that has not finished
                continue
            title, date = meta.get(chunk.source, (None, None))
            passages.append(
                Passage(
                    chunk=chunk,
                    title=title,
                    date=date,
                    score=fused[cid],
                    dense_score=dense_sim.get(cid),
                    bm25_score=bm25_score.get(cid),
                )
            )
        timings["fuse_ms"] = _ms(t)
        if self.reranker_model and passages:
            t = time.perf_counter()
            passages = rerank(self.reranker_model, query, passages)
            timings["rerank_ms"] = _ms(t)
        passages = passages[:k]
        for i, p in enumerate(passages):
            p.rank = i + 1
        return SearchResult(passages, timings, notice or self.notice, query_vector=qvec)

    def _keyword_search(
        self,
        keyword: bm25.KeywordIndex,
        query: str,
        options: SearchOptions,
        query_vector: np.ndarray | None,
    ) -> SearchResult:
        """BM25's top passages for `query`; their dense scores come from the docstore's
        vector copies against `query_vector` (none without one). No embedding, no Chroma:
        a second hop's search costs a fraction of a millisecond."""
        t = time.perf_counter()
        sources = set(options.sources or ())
        mask = keyword.mask(sources, date_int(options.date_from), date_int(options.date_to))
        hits = keyword.search(query, options.top_k, mask)
        ids = [cid for cid, _ in hits]
        chunks = self.build.docstore.chunks(ids)
        meta = self.build.docstore.doc_meta(c.source for c in chunks.values())
        dense: dict[str, float] = {}
        if query_vector is not None:
            for cid, vec in self.build.docstore.vectors(ids).items():
                dense[cid] = float(np.dot(vec, query_vector))
            missing = [cid for cid in ids if cid not in dense and cid in chunks]
            if missing and self.build.store.chroma.mode == "server":
                dense.update(self._chroma_scores(missing, query_vector))
        passages: list[Passage] = []
        for rank, (cid, score) in enumerate(hits):
            chunk = chunks.get(cid)
            if chunk is None:  # written by a rebuild that has not finished
                continue
            title, date = meta.get(chunk.source, (None, None))
            passages.append(
                Passage(chunk, title, date, score=1.0 / (RRF_K + rank + 1),
                        dense_score=dense.get(cid), bm25_score=score, rank=len(passages) + 1)
            )  # fmt: skip
        return SearchResult(passages, {"bm25_ms": _ms(t)}, query_vector=query_vector)

    def _small_build(self, n: int) -> StoredVectors | None:
        """The stored vector copies, when the build has at most `n` chunks, all with a copy.

        Chroma would return every chunk (that passes the filters) of such a build, so an
        exact scan of the copies yields the same candidates, and a cold `askfront ask` on a
        small folder never imports chromadb (0.8 s of its 1.5 s budget). Bigger builds keep
        Chroma's HNSW: an exact scan would rank differently from it.
        """
        if self._copies is None:
            chunks, copies = self.build.docstore.counts()
            self._copies = copies if copies == chunks else 0  # builds from before the copies
        if not 0 < self._copies <= n:
            return None
        if self._stored is None:
            from askfront.retrieval.stored_vectors import StoredVectors

            self._stored = StoredVectors(self.build.docstore)
        return self._stored

    def _chroma_scores(self, ids: list[str], qvec: np.ndarray) -> dict[str, float]:
        """Dense scores of chunks whose vectors the docstore has no copy of, from Chroma;
        none when Chroma fails (the passages then go without one)."""
        try:
            got = self.collection.get(ids=ids, include=["embeddings"])
        except Exception as exc:
            logger.warning("Could not read vectors from Chroma: %s", exc)
            self._collection = None
            return {}
        return {
            cid: float(np.dot(np.asarray(vec, dtype=np.float32), qvec))
            for cid, vec in zip(got["ids"], got["embeddings"], strict=True)
        }

    def _stored_vector_search(
        self, exc: Exception, qvec: np.ndarray, n: int, sources: set[str], d_from: int, d_to: int
    ) -> dict[str, Any] | None:
        """Chroma failed: dense search over the docstore's vector copies, if it has any.

        Embedded mode only: a Chroma server that went down is reported (keyword search with
        a notice), since that is something its operator has to fix.
        """
        from askfront.retrieval.stored_vectors import StoredVectors

        if self.build.store.chroma.mode != "embedded":
            return None
        try:
            if self._stored is None:
                self._stored = StoredVectors(self.build.docstore)
        except Exception as load_exc:  # the docstore is unreadable too: keyword search
            logger.warning("Cannot read the stored vectors either: %s", load_exc)
            return None
        if not len(self._stored):
            return None
        logger.warning("Vector search failed (%s); searching the stored vectors instead", exc)
        return self._stored.query(qvec, n, sources, d_from, d_to)

    def _mmr(self, qvec: np.ndarray, ranked: list[str], res: Any, k: int) -> list[str]:
        """Maximal marginal relevance over the dense candidates; keyword-only hits follow."""
        from langchain_core.vectorstores.utils import maximal_marginal_relevance

        ids = res["ids"][0]
        vecs = np.asarray(res["embeddings"][0], dtype=np.float32)
        picked = maximal_marginal_relevance(qvec, list(vecs), k=min(k, len(ids)), lambda_mult=0.5)
        first = [ids[i] for i in picked]
        return first + [c for c in ranked if c not in set(first)]


def _where(sources: set[str], d_from: int, d_to: int) -> dict[str, Any] | None:
    clauses: list[dict[str, Any]] = []
    if sources:
        clauses.append({"source": {"$in": sorted(sources)}})
    if d_from:
        clauses.append({"date_int": {"$gte": d_from}})
    if d_to:
        clauses.append({"date_int": {"$lte": d_to}})
    if not clauses:
        return None
    return clauses[0] if len(clauses) == 1 else {"$and": clauses}


def _ms(start: float) -> float:
    return (time.perf_counter() - start) * 1000.0
