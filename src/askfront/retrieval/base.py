"""What a search is asked for, and what it returns."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from askfront.core.types import Passage


@dataclass
class SearchOptions:
    """Per-question search settings (the web chat's settings panel can change them)."""

    top_k: int = 5
    hybrid: bool = True
    mmr: bool = False
    sources: Sequence[str] | None = None
    date_from: str | None = None
    date_to: str | None = None
    # Keyword side only, no query embedding: for the searches of a second hop, whose
    # passages get dense scores against the first search's query vector instead.
    keywords_only: bool = False


@dataclass
class SearchResult:
    """The passages found, best first, with per-stage timings."""

    passages: list[Passage]
    timings: dict[str, float] = field(default_factory=dict)
    notice: str | None = None  # a degraded search the user should know about
    query_vector: Any = None  # the query's embedding (numpy), when the search made one
