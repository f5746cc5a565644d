"""Does a `fast` static model distilled with the corpus's own words retrieve better?

    .venv/bin/python benchmarks/static_vocab.py ../shared/datasets/realtimeqa-2024

model2vec's distill can add whole words to the tokenizer's vocabulary, so a name that
word pieces split ("khadka" -> "k", "##had", "##ka") gets a vector of its own. This script
distils two static models from the bundled MiniLM in the same run: askfront's `fast`
profile model, and one with every corpus word seen at least --min-count times that is not
already a single word piece. Words come from the articles, never from the questions. Each
model indexes the corpus and answers the test set through `askfront.evaluation.runner`; the
script prints hit@5, MRR, accuracy and the distillation time of both. One run, no tuning.
"""

from __future__ import annotations

import argparse
import collections
import json
import re
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

WORD = re.compile(r"[A-Za-z][A-Za-z'\-]+")


def corpus_words(corpus: Path, known: set[str], min_count: int) -> list[str]:
    """Lower-cased corpus words seen at least min_count times that are not one word piece."""
    from askfront.corpus.files import iter_corpus
    from askfront.corpus.loader import load_document

    counts: collections.Counter[str] = collections.Counter()
    for path in iter_corpus(corpus):
        counts.update(w.lower() for w in WORD.findall(load_document(path, corpus).text))
    return [w for w, c in counts.most_common() if c >= min_count and w not in known]


def evaluate(name: str, embeddings: Any, dataset: Path, work: Path) -> dict[str, Any]:
    from askfront.assistant import Assistant, index_spec
    from askfront.core.config import Settings
    from askfront.evaluation.runner import run_eval
    from askfront.evaluation.testset import load_testset
    from askfront.indexing.sync import sync

    settings = Settings(
        corpus_dir=dataset / "corpus", index_dir=work / name, embedding_profile="fast"
    )
    sync(index_spec(settings), embeddings=embeddings)
    testset = load_testset(dataset / "testset.jsonl")
    result = run_eval(Assistant(settings, embeddings=embeddings), testset)
    return {k: result.metrics[k] for k in ("hit_at_1", "hit_at_5", "mrr", "accuracy")}


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("dataset", type=Path, help="a folder with corpus/ and testset.jsonl")
    p.add_argument("--min-count", type=int, default=2)
    args = p.parse_args(argv)

    from model2vec.distill import distill

    from askfront.assistant import embedding_spec
    from askfront.core.config import Settings
    from askfront.indexing.embeddings import (
        STATIC_PCA_DIMS,
        StaticEmbeddings,
        get_tokenizer,
        model_path,
        static_model_dir,
    )

    out: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="askfront-vocab-") as tmp:
        work = Path(tmp)
        settings = Settings(embedding_profile="fast", cache_dir=work / "cache")

        t = time.perf_counter()
        default = static_model_dir(
            embedding_spec(settings)
        )  # askfront's own distillation, in a fresh cache
        out["default"] = {"distill_s": round(time.perf_counter() - t, 1)}

        known = set(get_tokenizer(embedding_spec(settings)).get_vocab())
        words = corpus_words(args.dataset / "corpus", known, args.min_count)
        t = time.perf_counter()
        model = distill(
            model_name=str(model_path(embedding_spec(settings))),
            vocabulary=words,
            pca_dims=STATIC_PCA_DIMS,
        )
        model.save_pretrained(str(work / "vocab-model"))
        out["corpus_vocabulary"] = {
            "distill_s": round(time.perf_counter() - t, 1),
            "words_added": len(words),
        }

        for name, folder in (("default", default), ("corpus_vocabulary", work / "vocab-model")):
            out[name].update(evaluate(name, StaticEmbeddings(folder), args.dataset, work))
    print(json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
