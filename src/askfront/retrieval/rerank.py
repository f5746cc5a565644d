"""Optional reranking with a local sentence-transformers CrossEncoder folder (never a
download)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from askfront.core.errors import ConfigError
from askfront.core.types import Passage


@lru_cache(maxsize=2)
def _cross_encoder(path: Path) -> Any:
    from sentence_transformers import CrossEncoder

    if not path.is_dir():
        raise ConfigError(
            f"Reranker folder {path} does not exist. Point ASKFRONT_RERANKER_MODEL at a local "
            "CrossEncoder model folder, or unset it."
        )
    return CrossEncoder(str(path), device="cpu", local_files_only=True)


def rerank(path: Path, query: str, passages: list[Passage]) -> list[Passage]:
    scores = _cross_encoder(path).predict([(query, p.chunk.text) for p in passages])
    order = np.argsort(-np.asarray(scores))
    return [passages[i] for i in order]
