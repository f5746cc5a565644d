"""The workers: each runs in its own child process (`run.py --worker NAME SPEC`)."""

from __future__ import annotations

import json
import shutil
import statistics
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from bench.common import (
    PROFILES,
    Json,
    bench_settings,
    contains_answer,
    count_tokens,
    cpu_s,
    latency,
    maxrss_mb,
    now,
    rate,
)

# -- workers: each runs in its own child process --------------------------------------------


def _askfront_queries(
    settings: Any, embeddings: Any, questions: Sequence[Json], warmup: int, retrieval: bool = True
) -> Json:
    """Retrieval alone (hybrid and dense-only) and whole extractive answers, per question."""
    from askfront.assistant import Assistant
    from askfront.evaluation.metrics import passes
    from askfront.grounding.markers import strip_markers
    from askfront.retrieval.base import SearchOptions

    assistant = Assistant(settings, embeddings=embeddings)
    retriever = assistant.retriever()
    options = {
        "hybrid": SearchOptions(top_k=5, hybrid=True),
        "dense": SearchOptions(top_k=5, hybrid=False),
    }
    modes = list(options) if retrieval else []
    for q in questions[:warmup]:
        for mode in modes:
            retriever.search(q["question"], options[mode])
        assistant.ask(q["question"])
    lat: dict[str, list[float]] = {m: [] for m in [*modes, "ask"]}
    hits: dict[str, list[bool]] = {m: [] for m in modes}
    answer_in_top5: list[bool] = []  # hybrid: a gold answer string in the top-5 chunks' text
    correct: list[bool] = []
    refused = 0
    for q in questions:
        gold = set(q["sources"])
        for mode in modes:
            t = now()
            result = retriever.search(q["question"], options[mode])
            lat[mode].append((now() - t) * 1000)
            hits[mode].append(any(p.source in gold for p in result.passages))
            if mode == "hybrid":
                text = " ".join(p.chunk.text for p in result.passages)
                answer_in_top5.append(contains_answer(text, q["answers"]))
        t = now()
        answer = assistant.ask(q["question"])
        lat["ask"].append((now() - t) * 1000)
        scored = "" if answer.refused else strip_markers(answer.text)
        correct.append(passes(scored, answer.refused, q["answers"], answerable=True))
        refused += answer.refused
    out: Json = {f"{m}_ms": latency(v) for m, v in lat.items()}
    out.update({f"{m}_hit5": rate(h) for m, h in hits.items()})
    out["hybrid_answer_hit5"] = rate(answer_in_top5)
    out["ask_accuracy"] = rate(correct)
    out["ask_refused"] = refused
    out["questions"] = len(questions)
    return out


def _naive_queries(
    db: Any, embeddings: Any, questions: Sequence[Json], warmup: int, by_vector: bool = False
) -> Json:
    import naive

    def search(q: str) -> list[Any]:
        if by_vector:
            return naive.search_by_vector(db, embeddings, q)
        return naive.search(db, q)

    for q in questions[:warmup]:
        search(q["question"])
    lat: list[float] = []
    hits: list[bool] = []
    answer_in_top5: list[bool] = []
    for q in questions:
        t = now()
        docs = search(q["question"])
        lat.append((now() - t) * 1000)
        hits.append(any(d.metadata.get("source") in set(q["sources"]) for d in docs))
        text = " ".join(d.page_content for d in docs)
        answer_in_top5.append(contains_answer(text, q["answers"]))
    return {
        "search_ms": latency(lat),
        "hit5": rate(hits),
        "answer_hit5": rate(answer_in_top5),
        "questions": len(questions),
    }


def worker_askfront_build(spec: Json) -> Json:
    """Full build of the base corpus, one-article incremental add, no-op re-sync."""
    from askfront.assistant import embedding_spec, index_spec, store_spec
    from askfront.indexing.embeddings import get_embeddings
    from askfront.indexing.store import active_build
    from askfront.indexing.sync import sync

    settings = bench_settings(spec["corpus"], spec["index"])
    out: Json = {}
    t = now()
    emb = get_embeddings(embedding_spec(settings))
    emb.embed_documents(["warm up the model"])
    out["model_load_s"] = now() - t
    out["rss_model_mb"] = maxrss_mb()

    t, cpu = now(), cpu_s()
    report = sync(index_spec(settings), embeddings=emb)
    out["build_s"] = now() - t
    out["build_cpu_s"] = cpu_s() - cpu
    out["rss_build_mb"] = maxrss_mb()
    out["build_failed_files"] = report.counts["failed"]
    out["files"] = report.counts["added"]
    _, texts, _, _ = active_build(store_spec(settings)).docstore.all_chunk_texts()
    out["chunks"] = len(texts)
    out["chunk_tokens"] = count_tokens(texts)

    # Add the held-out article, then (to repeat the measurement) delete and add it again.
    held_out = Path(spec["held_out"])
    target = Path(spec["corpus"]) / held_out.name
    adds: list[float] = []
    deletes: list[float] = []
    out["incremental_counts"] = []
    out["incremental_chunks"] = []
    for i in range(spec["incremental_repeats"]):
        if i:
            target.unlink()
            t = now()
            sync(index_spec(settings), embeddings=emb)
            deletes.append(now() - t)
        shutil.copy(held_out, target)
        t = now()
        report = sync(index_spec(settings), embeddings=emb)
        adds.append(now() - t)
        out["incremental_counts"].append(report.counts)
        out["incremental_chunks"].append(report.chunks_embedded)
    out["incremental_s"] = statistics.median(adds)
    out["incremental_all_s"] = adds
    out["delete_s"] = statistics.median(deletes) if deletes else None

    t = now()
    report = sync(index_spec(settings), embeddings=emb)
    out["noop_s"] = now() - t
    out["noop_chunks"] = report.chunks_embedded
    out["rss_end_mb"] = maxrss_mb()
    return out


def worker_naive_build(spec: Json) -> Json:
    """The naive pipeline: full build, then an append of the held-out article."""
    import naive
    from askfront.indexing.embeddings import bundled_model_path

    out: Json = {}
    t = now()
    emb = naive.make_embeddings(bundled_model_path())
    emb.embed_documents(["warm up the model"])
    out["model_load_s"] = now() - t
    out["rss_model_mb"] = maxrss_mb()

    paths = sorted(Path(spec["corpus"]).glob("*.md"))
    t, cpu = now(), cpu_s()
    db, chunks = naive.build(paths, emb, Path(spec["index"]))
    out["build_s"] = now() - t
    out["build_cpu_s"] = cpu_s() - cpu
    out["rss_build_mb"] = maxrss_mb()
    out["files"] = len(paths)
    out["chunks"] = len(chunks)
    out["chunk_tokens"] = count_tokens([c.page_content for c in chunks])

    t = now()
    out["append_chunks"] = naive.add_files(db, [Path(spec["held_out"])])
    out["append_s"] = now() - t
    out["rss_end_mb"] = maxrss_mb()
    return out


def worker_synthetic_build(spec: Json) -> Json:
    """Generate the synthetic corpus and write both pipelines' stores with the same vectors."""
    import synthetic
    from askfront.assistant import embedding_spec
    from askfront.indexing.embeddings import get_embeddings

    settings = bench_settings(spec["corpus"], spec["index"])
    out: Json = {}
    t = now()
    corpus = synthetic.generate(
        [Path(p) for p in spec["sources"]], Path(spec["corpus"]), spec["target_chunks"], settings
    )
    out["generate_s"] = now() - t
    out["articles"] = len(corpus.documents)
    out["chunks"] = corpus.n_chunks
    texts = [c.text for c in corpus.chunks()]
    out["chunk_tokens"] = count_tokens(texts)
    emb = get_embeddings(embedding_spec(settings))
    vectors, out["vectors"] = synthetic.make_vectors(
        texts, emb, spec["real_vectors"], spec["sigma"]
    )
    out["askfront_write"] = synthetic.build_askfront_index(settings, corpus, vectors)
    out["naive_write_s"] = synthetic.build_naive_store(Path(spec["naive_index"]), corpus, vectors)
    return out


def worker_askfront_query(spec: Json) -> Json:
    """A fresh process answering from an existing index: latency and peak memory."""
    from askfront.assistant import embedding_spec
    from askfront.indexing.embeddings import get_embeddings

    settings = bench_settings(spec["corpus"], spec["index"])
    out: Json = {}
    t = now()
    emb = get_embeddings(embedding_spec(settings))
    emb.embed_query("warm up the model")
    out["model_load_s"] = now() - t
    out["queries"] = _askfront_queries(settings, emb, spec["questions"], spec["warmup"])
    out["rss_end_mb"] = maxrss_mb()
    return out


def worker_naive_query(spec: Json) -> Json:
    import naive
    from askfront.indexing.embeddings import bundled_model_path

    out: Json = {}
    emb = naive.make_embeddings(bundled_model_path())
    emb.embed_query("warm up the model")
    db = naive.open_store(Path(spec["index"]), emb)
    out["queries"] = _naive_queries(
        db, emb, spec["questions"], spec["warmup"], by_vector=spec["by_vector"]
    )
    out["rss_end_mb"] = maxrss_mb()
    return out


def worker_throughput(spec: Json) -> Json:
    """Build throughput of one embedding profile/backend (set through ASKFRONT_* env)."""
    from askfront.assistant import embedding_spec, index_spec, store_spec
    from askfront.core.config import Settings
    from askfront.indexing.embeddings import fingerprint, get_embeddings
    from askfront.indexing.store import active_build
    from askfront.indexing.sync import sync

    settings = bench_settings(spec["corpus"], spec["index"])
    out: Json = {"profile": spec["profile"]}
    fields = [var.removeprefix("ASKFRONT_").lower() for var in PROFILES[spec["profile"]]]
    missing = [f for f in fields if f not in Settings.model_fields]
    if missing:
        out["unsupported"] = f"askfront has no {', '.join(missing)} setting"
        return out
    if fields:
        baseline = settings.model_copy(update={f: Settings.model_fields[f].default for f in fields})
        if fingerprint(embedding_spec(settings)) == fingerprint(embedding_spec(baseline)):
            # Vectors of two models never share a fingerprint, so an equal one means the
            # setting changes nothing: it would measure the default model again.
            out["unsupported"] = f"{', '.join(fields)} does not change the embedding model"
            return out
    t = now()
    try:
        emb = get_embeddings(embedding_spec(settings))
        emb.embed_documents(["warm up the model"])
    except Exception as exc:  # report n/a with the reason instead of failing the whole run
        out["unsupported"] = f"{type(exc).__name__}: {exc}"[:300]
        return out
    out["model_load_s"] = now() - t
    t = now()
    report = sync(index_spec(settings), embeddings=emb)
    out["build_s"] = now() - t
    _, texts, _, _ = active_build(store_spec(settings)).docstore.all_chunk_texts()
    out["chunks"] = len(texts)
    out["chunk_tokens"] = count_tokens(texts)
    out["failed_files"] = report.counts["failed"]
    q = _askfront_queries(settings, emb, spec["questions"], warmup=0)
    out["hybrid_hit5"] = q["hybrid_hit5"]
    out["dense_hit5"] = q["dense_hit5"]
    out["rss_end_mb"] = maxrss_mb()
    return out


WORKERS: dict[str, Callable[[Json], Json]] = {
    "askfront-build": worker_askfront_build,
    "naive-build": worker_naive_build,
    "synthetic-build": worker_synthetic_build,
    "askfront-query": worker_askfront_query,
    "naive-query": worker_naive_query,
    "throughput": worker_throughput,
}


def worker_main(name: str, spec_path: Path) -> int:
    import logging

    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    spec = json.loads(spec_path.read_text())
    result = WORKERS[name](spec)
    Path(spec["result"]).write_text(json.dumps(result, indent=2))
    return 0
