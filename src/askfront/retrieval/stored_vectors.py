"""Dense search without Chroma, over the docstore's copies of the chunk vectors.

When Chroma cannot be opened or queried, the docstore still holds a float16 copy of every
chunk's vector (the copy keyword-only hits are scored from). An exact scan of them ranks
as Chroma's approximate index would. The case that needs it: a fresh process on a full
disk, where opening Chroma's PersistentClient writes to its SQLite file and fails, so
answers would be keyword-only. Memory: 4 bytes x 384 per chunk (150 MB at 100k chunks),
loaded only after Chroma failed.
"""

from __future__ import annotations

import logging
from collections.abc import Set
from typing import Any

import numpy as np

from askfront.indexing.bm25 import filter_mask
from askfront.indexing.store import DocStore, date_int

logger = logging.getLogger(__name__)


class StoredVectors:
    """Every stored chunk vector of one build, with its chunk's source and date."""

    def __init__(self, store: DocStore) -> None:
        self.ids, self.matrix = store.all_vectors()
        source_of = store.chunk_sources()
        date_of = {row.path: date_int(row.date) for row in store.rows()}
        self.sources = np.array([source_of.get(i, "") for i in self.ids], dtype=object)
        self.dates = np.array([date_of.get(s, 0) for s in self.sources], dtype=np.int64)

    def __len__(self) -> int:
        return len(self.ids)

    def query(
        self, qvec: np.ndarray, n: int, sources: Set[str], date_from: int, date_to: int
    ) -> dict[str, Any]:
        """The top `n` chunks by cosine, in the shape of Chroma's query() result."""
        if not self.ids:
            return {"ids": [[]], "distances": [[]], "embeddings": [[]]}
        sims = self.matrix @ qvec
        keep = filter_mask(self.sources, self.dates, sources, date_from, date_to)
        hits = np.flatnonzero(keep)
        hits = hits[np.argsort(-sims[hits], kind="stable")[:n]]
        return {
            "ids": [[self.ids[int(i)] for i in hits]],
            "distances": [[1.0 - float(sims[i]) for i in hits]],
            "embeddings": [self.matrix[hits]],
        }
