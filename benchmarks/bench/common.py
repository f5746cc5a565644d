"""Shared by the benchmark's parts: paths, the child environment, small measurements."""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent.parent  # benchmarks/
REPO = HERE.parent
DEFAULT_DATASET = REPO.parent / "shared" / "datasets" / "realtimeqa-2024"
RESULTS = HERE / "results"
sys.path.insert(0, str(HERE))  # naive.py and synthetic.py sit in benchmarks/

CHILD_ENV = {
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "ANONYMIZED_TELEMETRY": "False",
    "TOKENIZERS_PARALLELISM": "false",
    "PYTHONUNBUFFERED": "1",
}
PROFILES = {
    "default": {},  # MiniLM as int8 ONNX, the setting's default
    "torch": {"ASKFRONT_EMBEDDING_BACKEND": "torch"},  # MiniLM in fp32 via sentence-transformers
    "fast": {"ASKFRONT_EMBEDDING_PROFILE": "fast"},
}
WORKER_TIMEOUT = 3600.0

Json = dict[str, Any]


# -- small helpers --------------------------------------------------------------------------


def now() -> float:
    return time.perf_counter()


def maxrss_mb() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # KiB on Linux


def cpu_s() -> float:
    """CPU seconds of this process, all threads: less sensitive than wall time to other
    processes competing for the cores (though torch's spinning threads still inflate it)."""
    import resource

    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def latency(values: Sequence[float]) -> Json:
    from askfront.evaluation.metrics import percentile

    return {
        "n": len(values),
        "p50": percentile(values, 50),
        "p95": percentile(values, 95),
        "mean": statistics.fmean(values) if values else None,
    }


def rate(hits: Sequence[bool]) -> float | None:
    from askfront.evaluation.metrics import mean_defined

    return mean_defined(float(h) for h in hits)


def contains_answer(text: str, answers: Sequence[str]) -> bool:
    """`askfront eval`'s accuracy: a SQuAD-normalized gold answer, as whole words."""
    from askfront.evaluation.metrics import answer_accuracy

    return answer_accuracy(text, answers) == 1.0


def count_tokens(texts: Sequence[str]) -> int:
    from askfront.assistant import embedding_spec
    from askfront.core.config import Settings
    from askfront.indexing.embeddings import get_tokenizer

    tok = get_tokenizer(embedding_spec(Settings()))
    total = 0
    for start in range(0, len(texts), 512):
        encs = tok.encode_batch(list(texts[start : start + 512]), add_special_tokens=False)
        total += sum(len(e.ids) for e in encs)
    return total


def bench_settings(corpus: str | Path, index: str | Path) -> Any:
    from askfront.core.config import Settings

    return Settings(corpus_dir=Path(corpus), index_dir=Path(index))
