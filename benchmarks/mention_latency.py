"""Mention-search latency at ≈100k chunks: "Which articles mention T?" answered from the
BM25 postings plus the docstore's chunk texts (askfront.retrieval.mentions), against a
baseline in the same run that scans every chunk text in SQLite (instr()) for the phrase.

The index is benchmarks/synthetic.py's: RealTimeQA sentences recombined into new articles,
loaded and chunked by askfront's own code. Mention search reads no vectors, so only the
docstore and the BM25 index are written (no Chroma, no embeddings).

    nice -n 10 python benchmarks/mention_latency.py [--chunks 100000] [--runs 7] [--json OUT]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))  # synthetic.py sits next to this script

import synthetic  # noqa: E402

# .ci/run points ASKFRONT_DATASETS at the shared data sets (as tests/conftest.py reads it).
DATASETS = Path(os.environ.get("ASKFRONT_DATASETS") or HERE.parent.parent / "shared" / "datasets")
DATASET = DATASETS / "realtimeqa-2024"
# Names in 3 to 14 RealTimeQA articles (there; recombined, many more here), a frequent one
# and an absent one.
TERMS = ("Abbe Lowell", "Gretchen Whitmer", "North Korea", "Kimberly Cheatle", "Tom Homan",
         "Melania Trump", "Donald Trump", "Zyxwv Qwerty")  # fmt: skip


def build(folder: Path, target_chunks: int) -> tuple[object, object, int, float]:
    """A docstore and BM25 index of ≈target_chunks synthetic chunks; (docstore, keyword
    index, chunks, seconds)."""
    from askfront.core.config import Settings
    from askfront.indexing import bm25
    from askfront.indexing.docstore import DocStore
    from askfront.indexing.store import date_int

    t = time.perf_counter()
    if (folder / "bm25").is_dir():  # --keep: built by an earlier run
        store = DocStore(folder / "docstore.sqlite3")
        return store, bm25.load(folder / "bm25"), len(store.chunk_sources()), 0.0
    settings = Settings(corpus_dir=folder / "corpus", index_dir=folder / "index")
    sources = sorted((DATASET / "corpus").glob("*.md"))
    corpus = synthetic.generate(sources, folder / "corpus", target_chunks, settings)
    store = DocStore(folder / "docstore.sqlite3")
    for doc, chunks in corpus.documents:
        store.put_document(doc, chunks)
    ids, texts, srcs, dates = store.all_chunk_texts()
    bm25.build(folder / "bm25", ids, texts, srcs, [date_int(d) for d in dates])
    return store, bm25.load(folder / "bm25"), corpus.n_chunks, time.perf_counter() - t


def main() -> None:
    from askfront.retrieval.mentions import MentionSearch

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chunks", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--json", type=Path)
    parser.add_argument("--keep", type=Path, help="Build in (and reuse) this folder.")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="askfront-mentions-") as tmp:
        store, keyword, n_chunks, build_s = build(args.keep or Path(tmp), args.chunks)
        indexed = MentionSearch(keyword, store)  # type: ignore[arg-type]
        scan = MentionSearch(None, store)  # type: ignore[arg-type]
        rows = []
        for term in TERMS:
            times: dict[str, list[float]] = {"postings": [], "scan": []}
            counts = {}
            for _ in range(args.runs):
                for name, search in (("postings", indexed), ("scan", scan)):
                    t = time.perf_counter()
                    found = search.find(term)
                    times[name].append((time.perf_counter() - t) * 1000)
                    counts[name] = len(found.mentions)
            assert counts["postings"] == counts["scan"], (term, counts)  # same answer
            rows.append(
                {
                    "term": term,
                    "articles": counts["postings"],
                    "postings_p50_ms": statistics.median(times["postings"]),
                    "scan_p50_ms": statistics.median(times["scan"]),
                }
            )
        store.close()  # type: ignore[attr-defined]
    p50 = statistics.median(r["postings_p50_ms"] for r in rows)
    base = statistics.median(r["scan_p50_ms"] for r in rows)
    out = {"chunks": n_chunks, "build_s": round(build_s, 1), "runs": args.runs, "terms": rows,
           "p50_ms": round(p50, 2), "scan_p50_ms": round(base, 2),
           "speedup": round(base / p50, 1) if p50 else None}  # fmt: skip
    print(f"{n_chunks} chunks (built in {build_s:.0f}s), median of {args.runs} runs per term")
    print(f"{'term':<20} {'articles':>8} {'postings ms':>12} {'scan ms':>9}")
    for r in rows:
        print(f"{r['term']:<20} {r['articles']:>8} {r['postings_p50_ms']:>12.2f} "
              f"{r['scan_p50_ms']:>9.2f}")  # fmt: skip
    print(f"p50 over terms: {p50:.2f} ms (scan baseline {base:.2f} ms, x{out['speedup']})")
    if args.json:
        args.json.write_text(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
