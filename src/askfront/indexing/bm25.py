"""The keyword side of hybrid search: a bm25s index over a build's chunks, saved next to it."""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
import sys
from collections.abc import Set
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING

import numpy as np

from askfront.core.text import content_terms

if TYPE_CHECKING:
    import bm25s

logger = logging.getLogger(__name__)


def _bm25s() -> ModuleType:
    """bm25s, imported on first use: it pulls in scipy.sparse (~0.3 s of a cold start),
    which a process that never searches keywords (`ask --help`, a no-op index) skips."""
    import bm25s

    # bm25s sets its own logger to DEBUG when imported, which prints build chatter to users.
    logging.getLogger("bm25s").setLevel(logging.WARNING)
    return bm25s


# The lexical tokenizer every stage shares (askfront.core.text.content_terms), so BM25
# and the answerer match the same stems. Saved with the index: one built with another
# tokenizer is stale, and the next sync rebuilds it.
TOKENIZER = "askfront.content_terms/1"
TERMS = "terms.json"  # text key -> the chunk's terms, for the next build (search never reads it)


def filter_mask(
    sources_of: np.ndarray,
    dates_of: np.ndarray,
    sources: Set[str] | None,
    date_from: int,
    date_to: int,
) -> np.ndarray:
    """Which chunks pass a search's filters (boolean, one per chunk): the chunk's source is
    one of `sources` and its date (YYYYMMDD, 0 when unknown) within [date_from, date_to];
    an empty filter passes all. The keyword index and the stored vectors both use it."""
    keep = np.ones(len(sources_of), dtype=bool)
    if sources:
        keep &= np.isin(sources_of, list(sources))
    if date_from:
        keep &= dates_of >= date_from
    if date_to:
        keep &= dates_of <= date_to
    return keep


@dataclass
class KeywordIndex:
    """BM25 over chunks, with the chunk ids, sources and dates needed to filter hits."""

    retriever: bm25s.BM25
    ids: list[str]
    sources: np.ndarray
    dates: np.ndarray  # int YYYYMMDD, 0 when unknown

    def search(self, query: str, k: int, mask: np.ndarray | None = None) -> list[tuple[str, float]]:
        if not self.ids:
            return []
        # Words the corpus never uses drop out.
        known = self.retriever.get_tokens_ids(content_terms(query))
        if not known:
            return []
        scores = self.retriever.get_scores_from_ids(known, weight_mask=mask)
        # Top k among the chunks that contain a query word, not among all of them: bm25s'
        # retrieve() argpartitions the whole score array, the largest cost of a query at
        # 100k chunks, though only a few thousand chunks ever score above zero.
        hits = np.flatnonzero(scores > 0)
        if len(hits) > k:
            hits = hits[np.argpartition(-scores[hits], k - 1)[:k]]
        hits = hits[np.argsort(-scores[hits], kind="stable")]
        return [(self.ids[int(i)], float(scores[i])) for i in hits]

    def mask(self, sources: set[str] | None, date_from: int, date_to: int) -> np.ndarray | None:
        if not sources and not date_from and not date_to:
            return None
        keep = filter_mask(self.sources, self.dates, sources, date_from, date_to)
        return keep.astype(np.float32)


def build(
    folder: Path,
    ids: list[str],
    texts: list[str],
    sources: list[str],
    dates: list[int],
    previous: Path | None = None,
) -> None:
    """Build and save an index to `folder` (replacing what is there).

    Chunk terms saved in `previous` (the generation this one replaces) are reused for
    chunks whose text is unchanged: stemming every chunk again was most of the time it
    takes to add one article (bm25s has no incremental add, so the index itself is rebuilt).
    """
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    known = _saved_terms(previous) if previous is not None else {}
    keys = [_text_key(t) for t in texts]
    # Interned: a corpus has a few hundred thousand distinct terms but ~100 per chunk, and
    # one string object per occurrence was most of this step's memory at 1M chunks.
    terms = [
        [sys.intern(w) for w in known.get(k) or content_terms(t)]
        for k, t in zip(keys, texts, strict=True)
    ]
    retriever = _bm25s().BM25()
    if texts:
        retriever.index(terms, show_progress=False)
        retriever.save(str(folder))
    saved = {"tokenizer": TOKENIZER, "terms": dict(zip(keys, terms, strict=True))}
    (folder / TERMS).write_text(json.dumps(saved))
    (folder / "chunks.json").write_text(
        json.dumps({"ids": ids, "sources": sources, "dates": dates, "tokenizer": TOKENIZER})
    )


def _text_key(text: str) -> str:
    return hashlib.blake2b(text.encode(), digest_size=12).hexdigest()


def _saved_terms(folder: Path) -> dict[str, list[str]]:
    """The terms a build saved, if it used today's tokenizer; {} when there are none."""
    try:
        saved = json.loads((folder / TERMS).read_text())
    except (OSError, ValueError):
        return {}
    if not isinstance(saved, dict) or saved.get("tokenizer") != TOKENIZER:
        return {}
    terms = saved.get("terms")
    return terms if isinstance(terms, dict) else {}


def is_current(folder: Path) -> bool:
    """Whether the index in `folder` was built with today's tokenizer."""
    try:
        meta = json.loads((folder / "chunks.json").read_text())
    except (OSError, ValueError):
        return False
    return isinstance(meta, dict) and meta.get("tokenizer") == TOKENIZER


def load(folder: Path) -> KeywordIndex:
    meta = json.loads((folder / "chunks.json").read_text())
    if meta.get("tokenizer") != TOKENIZER:
        logger.warning(
            "The keyword index in %s was built by an older askfront; run `askfront index` to "
            "rebuild it (keyword matches are unreliable until then).",
            folder,
        )
    bm25s = _bm25s()
    # Memory-mapped score arrays: nothing is read until a query touches its terms' postings
    # (the files are never rewritten in place: a new generation goes to a new folder).
    retriever = bm25s.BM25.load(str(folder), mmap=True) if meta["ids"] else bm25s.BM25()
    return KeywordIndex(
        retriever=retriever,
        ids=meta["ids"],
        sources=np.array(meta["sources"], dtype=object),
        dates=np.array(meta["dates"], dtype=np.int64),
    )
