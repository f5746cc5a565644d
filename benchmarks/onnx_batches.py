"""Why the int8 ONNX backend encodes one text at a time: speed by batch size.

    .venv/bin/python benchmarks/onnx_batches.py ../shared/datasets/realtimeqa-2024/corpus

Chunks a sample of the corpus as askfront does, then encodes the chunks with the int8
export in batches of 1, 4, 16 and 64 (padded to the longest text of each batch, mean
pooled over the attention mask), --repeats times in turn. Prints the median seconds per
batch size and its ratio to batch 1, measured in the same run.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np


def encode(session: Any, tokenizer: Any, texts: Sequence[str], batch: int) -> None:
    for i in range(0, len(texts), batch):
        encodings = tokenizer.encode_batch(list(texts[i : i + batch]))
        ids = np.asarray([e.ids for e in encodings], dtype=np.int64)
        mask = np.asarray([e.attention_mask for e in encodings], dtype=np.int64)
        feeds = {"input_ids": ids, "attention_mask": mask, "token_type_ids": 0 * ids}
        hidden = session.run(None, feeds)[0]
        (hidden * mask[..., None]).sum(axis=1) / mask.sum(axis=1, keepdims=True)


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("corpus", type=Path)
    p.add_argument("--articles", type=int, default=30)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--batches", default="1,4,16,64")
    args = p.parse_args(argv)

    from tokenizers import Tokenizer

    from askfront.assistant import embedding_spec
    from askfront.core.config import Settings
    from askfront.corpus.files import iter_corpus
    from askfront.corpus.loader import load_document
    from askfront.indexing.chunking import chunk_document
    from askfront.indexing.embeddings import OnnxEmbeddings, get_embeddings, get_tokenizer

    settings = Settings()
    embeddings = get_embeddings(embedding_spec(settings))  # the int8 export, made once if missing
    if not isinstance(embeddings, OnnxEmbeddings):
        raise SystemExit("Set ASKFRONT_EMBEDDING_BACKEND=onnx-int8 (the default) for this script.")
    tokenizer = get_tokenizer(embedding_spec(settings))
    texts = [
        chunk.text
        for path in iter_corpus(args.corpus)[: args.articles]
        for chunk in chunk_document(
            load_document(path, args.corpus), tokenizer, settings.chunk_tokens
        )
    ]
    session = embeddings.session(threads=0)  # the one index builds use
    # A copy of askfront's tokenizer that truncates like the model and pads batches.
    padded = Tokenizer.from_str(tokenizer.to_str())
    padded.enable_truncation(embeddings.max_tokens)
    padded.enable_padding()
    sizes = [int(b) for b in args.batches.split(",")]
    seconds: dict[int, list[float]] = {b: [] for b in sizes}
    for _ in range(args.repeats):
        for b in sizes:  # interleaved, so machine noise hits every size alike
            t = time.perf_counter()
            encode(session, padded, texts, b)
            seconds[b].append(time.perf_counter() - t)
    base = statistics.median(seconds[sizes[0]])
    out = {
        "chunks": len(texts),
        "median_s": {b: round(statistics.median(v), 2) for b, v in seconds.items()},
        f"ratio_to_batch_{sizes[0]}": {
            b: round(statistics.median(v) / base, 2) for b, v in seconds.items()
        },
    }
    print(json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
