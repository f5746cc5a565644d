"""Entailment scoring for claim verification: the scorer protocol and a local
sentence-transformers NLI cross-encoder (never downloaded)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

import numpy as np

from askfront.core.errors import ConfigError, MissingExtraError


class EntailmentScorer(Protocol):
    """Scores whether each premise entails its hypothesis, as a probability in [0, 1]."""

    def entailment(self, pairs: Sequence[tuple[str, str]]) -> list[float]: ...


class CrossEncoderNLI:
    """Entailment probabilities from a local sentence-transformers NLI CrossEncoder folder
    (e.g. cross-encoder/nli-deberta-v3-xsmall saved to disk). Never downloads anything."""

    def __init__(self, path: Path | str) -> None:
        try:
            from sentence_transformers import CrossEncoder
        except ImportError as exc:  # pragma: no cover - core dependency
            raise MissingExtraError("sentence-transformers", "default") from exc
        path = Path(path).expanduser()
        if not (path / "config.json").is_file():
            raise ConfigError(f"NLI model folder {path} has no config.json.")
        self.model = CrossEncoder(str(path), device="cpu", local_files_only=True)
        labels = {int(k): str(v).lower() for k, v in self.model.config.id2label.items()}
        hits = [i for i, name in labels.items() if name.startswith("entail")]
        if not hits:
            raise ConfigError(
                f"NLI model {path} has no 'entailment' label (labels: {sorted(labels.values())})."
            )
        self.entail_index = hits[0]

    def entailment(self, pairs: Sequence[tuple[str, str]]) -> list[float]:
        if not pairs:
            return []
        probs = self.model.predict(list(pairs), apply_softmax=True, convert_to_numpy=True)
        return [float(row[self.entail_index]) for row in np.atleast_2d(probs)]
