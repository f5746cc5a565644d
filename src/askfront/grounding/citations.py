"""The one Citation builder: a span of a passage's document text, numbered [n].

Every answerer cites through it, so a citation's offsets are always absolute in the
document text and document_text[start:end] == quote.
"""

from __future__ import annotations

from askfront.core.types import Citation, Passage


def span_text(p: Passage, start: int, end: int) -> str:
    """document_text[start:end], read from the passage's chunk (offsets absolute)."""
    return p.chunk.text[start - p.chunk.start : end - p.chunk.start]


def cite(
    n: int, p: Passage, start: int, end: int, score: float, quote: str | None = None
) -> Citation:
    """Citation [n] of document_text[start:end] in `p`; `quote` when the caller has it."""
    text = span_text(p, start, end) if quote is None else quote
    return Citation(
        n=n, source=p.source, title=p.title, date=p.date, start=start, end=end, quote=text,
        score=float(score), page=p.chunk.page,
    )  # fmt: skip
