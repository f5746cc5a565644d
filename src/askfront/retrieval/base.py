"""What a search is asked for, and what it returns."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

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


@dataclass
class SearchResult:
    """The passages found, best first, with per-stage timings."""

    passages: list[Passage]
    timings: dict[str, float] = field(default_factory=dict)
    notice: str | None = None  # a degraded search the user should know about
