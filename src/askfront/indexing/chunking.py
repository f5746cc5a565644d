"""Token-sized, sentence-aware chunks with exact character offsets."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING

from askfront.core.errors import DocumentError
from askfront.core.text import split_sentences
from askfront.core.types import Chunk, Document

if TYPE_CHECKING:
    from tokenizers import Tokenizer

# Text per tokenizer call (at most this many sentences, or of characters): the tokenizer's
# Encoding objects (ids, offsets, token strings) take ~40x the text's size, so encoding a
# 49 MB file in one call took 2.25 GB.
_ENCODE_BATCH = 2048
_ENCODE_CHARS = 500_000
# A longer "sentence" (no punctuation for pages) is tokenized in pieces of about this many
# characters, cut at whitespace: one Encoding of a 49 MB sentence alone took gigabytes.
_MAX_SPAN_CHARS = 20_000


def chunk_document(
    doc: Document,
    tokenizer: Tokenizer,
    max_tokens: int = 200,
    overlap_tokens: int = 0,
    *,
    deadline: float | None = None,
) -> list[Chunk]:
    """Pack whole sentences into chunks of at most `max_tokens` word pieces.

    Hand-written rather than a LangChain splitter: we need every sentence's exact offsets
    (the answerer quotes them) and batched tokenizer passes instead of a length call per
    merge. A sentence longer than `max_tokens` is cut at word boundaries. `overlap_tokens`
    repeats trailing whole sentences of a chunk at the start of the next. `deadline` is a
    time.monotonic() value; the work stops there (checked between tokenizer batches).

    Raises:
        ValueError: if overlap_tokens >= max_tokens.
        DocumentError: if the deadline passes before the chunks are made.
    """
    if overlap_tokens >= max_tokens:
        raise ValueError("chunk overlap must be smaller than the chunk size")
    text = doc.text
    sentences = list(_token_counts(text, split_sentences(text), tokenizer, max_tokens, deadline))

    chunks: list[Chunk] = []
    i = 0
    while i < len(sentences):
        j, total = i, 0
        while j < len(sentences) and total + sentences[j][2] <= max_tokens:
            total += sentences[j][2]
            j += 1
        group = sentences[i:j]
        start, end = group[0][0], group[-1][1]
        chunks.append(
            Chunk(
                id=_chunk_id(doc, len(chunks), start, end),
                source=doc.path,
                index=len(chunks),
                text=text[start:end],
                start=start,
                end=end,
                page=doc.page_at(start),
                sentences=tuple((s[0], s[1]) for s in group),
                n_tokens=total,
            )
        )
        if j >= len(sentences):
            break
        # Step back over whole sentences for the overlap, but always move forward.
        back, k = 0, j
        while overlap_tokens and k - 1 > i and back + sentences[k - 1][2] <= overlap_tokens:
            k -= 1
            back += sentences[k][2]
        i = k
    return chunks


def _token_counts(
    text: str,
    spans: list[tuple[int, int]],
    tokenizer: Tokenizer,
    max_tokens: int,
    deadline: float | None,
) -> Iterator[tuple[int, int, int]]:
    """(start, end, word pieces) per sentence, overlong ones cut; batch by batch, so only
    one batch of Encodings is alive at a time."""
    spans = [piece for a, b in spans for piece in _pieces(text, a, b)]
    done = 0
    for batch in _batches(spans):
        if deadline is not None and time.monotonic() > deadline:
            raise DocumentError(f"timed out while chunking ({done} of {len(spans)} sentences done)")
        done += len(batch)
        encodings = tokenizer.encode_batch([text[a:b] for a, b in batch], add_special_tokens=False)
        for (a, b), enc in zip(batch, encodings, strict=True):
            n = len(enc.ids)
            if n <= max_tokens:
                yield (a, b, n)
            else:
                yield from _cut_long(text, a, enc.offsets, max_tokens)


def _batches(spans: list[tuple[int, int]]) -> Iterator[list[tuple[int, int]]]:
    batch: list[tuple[int, int]] = []
    size = 0
    for a, b in spans:
        batch.append((a, b))
        size += b - a
        if len(batch) >= _ENCODE_BATCH or size >= _ENCODE_CHARS:
            yield batch
            batch, size = [], 0
    if batch:
        yield batch


def _pieces(text: str, a: int, b: int) -> Iterator[tuple[int, int]]:
    """Sentence text[a:b] in pieces of at most ~_MAX_SPAN_CHARS, cut at whitespace."""
    while b - a > _MAX_SPAN_CHARS:
        cut = a + _MAX_SPAN_CHARS
        space = text.rfind(" ", a + _MAX_SPAN_CHARS // 2, cut)
        newline = text.rfind("\n", a + _MAX_SPAN_CHARS // 2, cut)
        cut = max(space, newline) if max(space, newline) > a else cut
        yield a, cut
        a = cut
        while a < b and text[a].isspace():
            a += 1
    if b > a:
        yield a, b


def _cut_long(
    text: str, base: int, offsets: list[tuple[int, int]], max_tokens: int
) -> list[tuple[int, int, int]]:
    """Cut one overlong sentence into pieces of <= max_tokens word pieces."""
    pieces = []
    for k in range(0, len(offsets), max_tokens):
        window = offsets[k : k + max_tokens]
        a, b = base + window[0][0], base + window[-1][1]
        pieces.append((a, b, len(window)))
    # Cover the gaps between pieces so the sentence stays contiguous.
    return [(a if n == 0 else pieces[n - 1][1], b, t) for n, (a, b, t) in enumerate(pieces)]


def _chunk_id(doc: Document, index: int, start: int, end: int) -> str:
    # Deterministic: the same file content always yields the same chunk ids.
    raw = f"{doc.path}\x00{doc.sha256}\x00{index}\x00{start}\x00{end}"
    return hashlib.sha256(raw.encode()).hexdigest()[:32]
