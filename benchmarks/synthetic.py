"""A large synthetic index (≈100k chunks) for query latency and memory at scale.

Texts are real: sentences of the RealTimeQA articles, shuffled across articles with a fixed
seed into new article files, loaded and chunked by askfront's own loader and chunker.

Vectors are a documented shortcut. Embedding ≈20M word pieces with MiniLM on two cores
would take the better part of an hour, and query cost does not depend on where a vector
came from: HNSW search cost depends on the number of vectors and their dimension, BM25 cost
on the postings. So the first `real_vectors` chunks get real MiniLM embeddings, and every
other chunk gets a random perturbation of one of them (Gaussian noise of `sigma` per
component, renormalized to unit length). The vectors go into Chroma through the same
collection, docstore and BM25 code the indexer uses, and the build is activated like any
other, so `Assistant` reads it normally. The naive baseline gets a Chroma collection with
the very same vectors, so the comparison isolates the pipelines' query overhead.
"""

from __future__ import annotations

import os
import random
import resource
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

if TYPE_CHECKING:
    from langchain_core.embeddings import Embeddings

    from askfront.core.config import Settings
    from askfront.core.types import Chunk, Document

SEED = 20240105
SENTENCES_PER_ARTICLE = (25, 70)  # RealTimeQA articles have ~10 chunks of 200 word pieces
SENTENCES_PER_PARAGRAPH = (2, 5)


@dataclass
class SyntheticCorpus:
    folder: Path
    documents: list[tuple[Document, list[Chunk]]] = field(default_factory=list)

    @property
    def n_chunks(self) -> int:
        return sum(len(chunks) for _, chunks in self.documents)

    def chunks(self) -> Iterator[Chunk]:
        for _, chunks in self.documents:
            yield from chunks


def sentence_pool(sources: Sequence[Path]) -> tuple[list[str], list[str]]:
    """Every sentence of the source articles (as askfront splits them), and their dates."""
    from askfront.core.text import split_sentences
    from askfront.corpus.loader import load_document

    sentences: list[str] = []
    dates: list[str] = []
    for path in sources:
        doc = load_document(path, path.parent)
        sentences.extend(doc.text[a:b] for a, b in split_sentences(doc.text) if b - a > 1)
        if doc.date:
            dates.append(doc.date)
    return sentences, dates or ["2024-01-01"]


class _MemoTokenizer:
    """The real tokenizer, remembering each text's Encoding: a synthetic article is made of
    pool sentences, so chunking 1M chunks would otherwise tokenize the same ~20k sentences
    hundreds of times over (85% of the generation time). Same Encodings, same chunks."""

    def __init__(self, tokenizer: Any) -> None:
        self.tokenizer = tokenizer
        self.memo: dict[tuple[str, bool], Any] = {}

    def encode_batch(self, texts: list[str], add_special_tokens: bool = True) -> list[Any]:
        memo = self.memo
        missing = [t for t in dict.fromkeys(texts) if (t, add_special_tokens) not in memo]
        if missing:
            encoded = self.tokenizer.encode_batch(missing, add_special_tokens=add_special_tokens)
            memo.update({(t, add_special_tokens): e for t, e in zip(missing, encoded, strict=True)})
        return [memo[(t, add_special_tokens)] for t in texts]


def generate(
    sources: Sequence[Path],
    folder: Path,
    target_chunks: int,
    settings: Settings,
    seed: int = SEED,
) -> SyntheticCorpus:
    """Write recombined articles into `folder` until askfront makes >= target_chunks chunks.

    Deterministic for a given list of sources, target and seed.
    """
    from askfront.assistant import embedding_spec
    from askfront.corpus.loader import load_document
    from askfront.indexing.chunking import chunk_document
    from askfront.indexing.embeddings import get_tokenizer

    rng = random.Random(seed)
    pool, dates = sentence_pool(sorted(sources))
    if not pool:
        raise ValueError("the source articles hold no sentences")
    tokenizer: Any = _MemoTokenizer(get_tokenizer(embedding_spec(settings)))
    folder.mkdir(parents=True, exist_ok=True)
    corpus = SyntheticCorpus(folder)
    total = 0
    n = 0
    while total < target_chunks:
        n += 1
        picked = [rng.choice(pool) for _ in range(rng.randint(*SENTENCES_PER_ARTICLE))]
        paragraphs: list[str] = []
        while picked:
            take = rng.randint(*SENTENCES_PER_PARAGRAPH)
            paragraphs.append(" ".join(picked[:take]))
            picked = picked[take:]
        path = folder / f"synthetic-{n:06d}.md"
        front = f'---\ntitle: "Synthetic article {n}"\ndate: "{rng.choice(dates)}"\n---\n\n'
        path.write_text(front + "\n\n".join(paragraphs) + "\n", encoding="utf-8")
        doc = load_document(path, folder)
        chunks = chunk_document(
            doc, tokenizer, settings.chunk_tokens, settings.chunk_overlap_tokens
        )
        corpus.documents.append((doc, chunks))
        total += len(chunks)
    return corpus


def make_vectors(
    texts: Sequence[str],
    embeddings: Embeddings,
    real_vectors: int,
    sigma: float,
    seed: int = SEED,
) -> tuple[np.ndarray, dict[str, float]]:
    """Unit vectors for `texts`: real embeddings for the first `real_vectors`, perturbed
    copies of those for the rest. Returns the vectors and how they were made."""
    n = len(texts)
    real = max(1, min(real_vectors, n))
    started = time.perf_counter()
    base = np.asarray(embeddings.embed_documents(list(texts[:real])), dtype=np.float32)
    embed_s = time.perf_counter() - started
    rng = np.random.default_rng(seed)
    vectors = np.empty((n, base.shape[1]), dtype=np.float32)
    vectors[:real] = base
    for start in range(real, n, 10_000):
        stop = min(n, start + 10_000)
        origin = base[np.arange(start, stop) % real]
        noisy = origin + rng.normal(0.0, sigma, size=origin.shape).astype(np.float32)
        vectors[start:stop] = noisy / np.linalg.norm(noisy, axis=1, keepdims=True)
    cos = [float(vectors[i] @ base[i % real]) for i in range(real, n, max(1, (n - real) // 1000))]
    info = {
        "real_vectors": real,
        "perturbed_vectors": n - real,
        "sigma": sigma,
        "mean_cosine_to_origin": float(np.mean(cos)) if cos else 1.0,
        "embed_seconds": embed_s,
    }
    return vectors, info


def _batches(n: int, size: int) -> Iterator[tuple[int, int]]:
    for start in range(0, n, size):
        yield start, min(n, start + size)


def build_askfront_index(
    settings: Settings, corpus: SyntheticCorpus, vectors: np.ndarray
) -> dict[str, float]:
    """Write `corpus` with `vectors` into a new build of settings.index_dir and activate it.

    Same layout as `askfront.indexing.sync.sync` leaves (Chroma collection with the chunk ids,
    docstore, BM25 folder, state.json, manifest.json), minus the indexing-API record
    manager, which only incremental syncs read. Returns seconds per stage.
    """
    from askfront.assistant import index_spec, store_spec
    from askfront.indexing import bm25, replica
    from askfront.indexing.reconcile import lc_document
    from askfront.indexing.store import Build, activate, date_int
    from askfront.indexing.sync import build_key

    timings: dict[str, float] = {}

    def peak(stage: str) -> None:  # the build's memory high-water mark after each stage
        maxrss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        timings[f"peak_rss_mb_after_{stage}"] = maxrss / 1024

    build = Build(
        store_spec(settings), f"{settings.collection}-synthetic-{int(time.time() * 1000):x}"
    )
    build.dir.mkdir(parents=True, exist_ok=True)
    build.write_state(key=build_key(index_spec(settings)), created_at=time.time(), synthetic=True)

    t = time.perf_counter()
    chunks = list(corpus.chunks())
    doc_dates = {doc.path: doc.date for doc, _ in corpus.documents}
    collection = build.collection()
    batch = build.client.get_max_batch_size()
    for a, b in _batches(len(chunks), min(batch, 5000)):
        part = chunks[a:b]
        collection.add(
            ids=[c.id for c in part],
            embeddings=vectors[a:b],
            documents=[c.text for c in part],
            # What the indexer writes (offsets, sentence spans, ...): a replica reads it.
            metadatas=[lc_document(c, doc_dates[c.source]).metadata for c in part],
        )
    timings["chroma_s"] = time.perf_counter() - t
    peak("chroma")

    t = time.perf_counter()
    row = {c.id: i for i, c in enumerate(chunks)}
    for doc, doc_chunks in corpus.documents:
        # With the vectors, as the indexer stores them (askfront.indexing.recorder.Recorder).
        build.docstore.put_document(doc, doc_chunks, {c.id: vectors[row[c.id]] for c in doc_chunks})
    timings["docstore_s"] = time.perf_counter() - t
    peak("docstore")

    t = time.perf_counter()
    ids, texts, sources, doc_dates = build.docstore.all_chunk_texts()
    folder = build.dir / "bm25-1"
    bm25.build(folder, ids, texts, sources, [date_int(d) for d in doc_dates])
    build.write_state(generation=1, bm25=folder.name, updated_at=time.time())
    timings["bm25_s"] = time.perf_counter() - t
    peak("bm25")
    activate(store_spec(settings), build)
    if settings.chroma_mode == "server":  # replicas follow it from Chroma alone
        t = time.perf_counter()
        replica.publish(build)
        timings["publish_s"] = time.perf_counter() - t
        peak("publish")
    build.close()
    return timings


def build_naive_store(persist_dir: Path, corpus: SyntheticCorpus, vectors: np.ndarray) -> float:
    """The naive pipeline's Chroma collection holding the same chunks and vectors.

    Written with chromadb directly (langchain_chroma would re-embed the texts); the naive
    queries then open it with langchain_chroma like any naive store. Returns seconds.
    """
    import chromadb

    from naive import COLLECTION, client_settings

    started = time.perf_counter()
    client: Any = chromadb.PersistentClient(path=str(persist_dir), settings=client_settings())
    collection = client.get_or_create_collection(COLLECTION, embedding_function=None)
    chunks = list(corpus.chunks())
    for a, b in _batches(len(chunks), min(client.get_max_batch_size(), 5000)):
        part = chunks[a:b]
        collection.add(
            ids=[c.id for c in part],
            embeddings=vectors[a:b],
            documents=[c.text for c in part],
            metadatas=[{"source": c.source} for c in part],
        )
    return time.perf_counter() - started
