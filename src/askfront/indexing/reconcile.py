"""Keeping a build's stores in agreement: the docstore, Chroma (and LangChain's record
manager, which says what Chroma holds) and BM25.

A sync writes them in turn: per batch of files, Chroma then the record manager (inside
LangChain's `index()`), then the docstore; at the end BM25, then state.json. A kill between
two of those writes leaves them disagreeing, and a rerun that only compares file hashes sees
nothing to do (issue 13, item 1: BM25 stayed stale for good). The docstore is the reference:
a file's row and chunks are written in one transaction, after its vectors.

Detection has to stay cheap. A no-op sync of 500 files takes ~0.02 s, while opening Chroma
alone takes ~0.5 s, so comparing every store on every run is out. Two entries of the
build's state.json do it instead:

- `pending` is set before a sync's first write, and cleared by the atomic state.json write
  that ends the sync. Found set when a sync starts, it means the last one stopped midway:
  `repair` then compares the id sets of the docstore, Chroma and the record manager and
  fixes every difference, and BM25 is rebuilt.
- `docstore_version` is the docstore's write counter (bumped in the same transaction as
  each change) that BM25 was built from. Any other value and BM25 is rebuilt. That check is
  one SQLite read, so it runs on every sync, and it also catches a BM25 folder written by
  anything but the last sync.
"""

from __future__ import annotations

import json
import logging
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from askfront.core.types import Chunk
from askfront.indexing import bm25
from askfront.indexing.store import Build, date_int

if TYPE_CHECKING:
    from langchain_core.documents import Document as LCDocument
    from langchain_core.embeddings import Embeddings
    from langchain_core.indexing import RecordManager

logger = logging.getLogger(__name__)

_PAGE = 5000  # ids per Chroma get/delete call


@dataclass
class Repair:
    """What `repair` changed; all zero when the stores already agreed."""

    vectors_removed: int = 0
    records_removed: int = 0
    records_added: int = 0
    chunks_reembedded: int = 0

    def __bool__(self) -> bool:
        return any(
            (self.vectors_removed, self.records_removed, self.records_added,
             self.chunks_reembedded)
        )  # fmt: skip

    def summary(self) -> str:
        parts = [
            (self.vectors_removed, "stray vectors removed"),
            (self.chunks_reembedded, "missing vectors re-embedded"),
            (self.records_removed + self.records_added, "record-manager entries fixed"),
        ]
        return ", ".join(f"{n} {what}" for n, what in parts if n)


def needs_repair(build: Build) -> bool:
    """Whether the last sync of this build stopped before it finished."""
    return bool(build.state().get("pending"))


def bm25_is_stale(build: Build) -> bool:
    """Whether BM25 was built from anything but the docstore as it is now."""
    state = build.state()
    folder = build.bm25_dir()
    if folder is None or not folder.is_dir() or not bm25.is_current(folder):
        return True
    return state.get("docstore_version") != build.docstore.version()


def lc_document(chunk: Chunk, date: str | None) -> LCDocument:
    """A chunk as the LangChain Document the indexing API writes to Chroma."""
    from langchain_core.documents import Document as LCDocument

    metadata: dict[str, Any] = {
        "source": chunk.source,
        "chunk_id": chunk.id,
        "date_int": date_int(date),
        "start": chunk.start,
        "end": chunk.end,
        # The rest of the chunk, so that a replica can rebuild its docstore from Chroma
        # alone (askfront.indexing.replica).
        "idx": chunk.index,
        "sentences": json.dumps(chunk.sentences),
        "n_tokens": chunk.n_tokens,
    }
    if chunk.page is not None:  # Chroma metadata holds no None
        metadata["page"] = chunk.page
    return LCDocument(page_content=chunk.text, metadata=metadata)


def repair(build: Build, records: RecordManager, embeddings: Callable[[], Embeddings]) -> Repair:
    """Make Chroma and the record manager hold exactly the docstore's chunk ids.

    Vectors and records of chunks the docstore does not have are deleted; chunks the
    docstore has but Chroma lacks are embedded again from their stored text (with
    `embeddings()`, called only then: loading the model takes a second or two).

    Raises:
        StoreUnavailableError: if the Chroma collection cannot be opened.
    """
    wanted = build.docstore.chunk_sources()
    collection = build.collection()
    in_chroma = set(_chroma_ids(collection))
    in_records = set(records.list_keys())
    fixed = Repair()

    stray = sorted(in_chroma - wanted.keys())
    for part in _pages(stray):
        collection.delete(ids=list(part))
    fixed.vectors_removed = len(stray)
    stale = sorted(in_records - wanted.keys())
    if stale:
        records.delete_keys(stale)
    fixed.records_removed = len(stale)

    missing = sorted(wanted.keys() - in_chroma)
    if missing:
        # The record manager would make index() skip them as already embedded.
        known = [k for k in missing if k in in_records]
        if known:
            records.delete_keys(known)
        sources = {wanted[k] for k in missing}
        fixed.chunks_reembedded = _reembed(build, records, embeddings(), sources)

    unrecorded = sorted((wanted.keys() & in_chroma) - in_records)
    by_source: dict[str, list[str]] = defaultdict(list)
    for key in unrecorded:
        by_source[wanted[key]].append(key)
    for source, keys in by_source.items():
        records.update(keys, group_ids=[source] * len(keys))
    fixed.records_added = len(unrecorded)
    if fixed:
        logger.warning("Repaired an interrupted sync of %s: %s", build.name, fixed.summary())
    return fixed


def _reembed(
    build: Build, records: RecordManager, embeddings: Embeddings, sources: set[str]
) -> int:
    """Embed the given files' chunks again from the docstore; returns how many were."""
    from langchain_core.indexing import index

    from askfront.indexing.recorder import Recorder
    from askfront.indexing.sync import _chunk_key

    store = build.docstore
    dates = {path: date for path, (_, date) in store.doc_meta(sources).items()}
    docs = [
        lc_document(chunk, dates.get(chunk.source))
        for source in sorted(sources)
        for chunk in store.chunks(store.chunk_ids(source)).values()
    ]
    recorder = Recorder(embeddings)
    result = index(
        docs, records, build.vectorstore(recorder), cleanup="scoped_full",
        source_id_key="source", batch_size=256, key_encoder=_chunk_key,
    )  # fmt: skip
    seen = recorder.seen
    store.put_vectors(
        {str(d.metadata["chunk_id"]): seen[d.page_content] for d in docs if d.page_content in seen}
    )
    return int(result["num_added"]) + int(result["num_updated"])


def _chroma_ids(collection: Any) -> Iterator[str]:
    offset = 0
    while True:
        ids: Sequence[str] = collection.get(include=[], limit=_PAGE, offset=offset)["ids"]
        yield from ids
        if len(ids) < _PAGE:
            return
        offset += len(ids)


def _pages(items: Sequence[str]) -> Iterable[Sequence[str]]:
    for start in range(0, len(items), _PAGE):
        yield items[start : start + _PAGE]
