"""Per-question options: the one typed object the CLI, the web chat and the assistant share.

A new option is one field here (with its check in `__post_init__`), then read where it acts:
`Assistant.search_options` for retrieval, the answerer for answering.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields
from datetime import date
from typing import Any

from askfront.core.errors import QuestionError


def _iso_date(value: str | None, which: str) -> str | None:
    """`value` as YYYY-MM-DD, None when empty.

    Raises:
        QuestionError: if it is not a date.
    """
    value = (value or "").strip()
    if not value:
        return None
    try:
        return date.fromisoformat(value).isoformat()
    except ValueError:
        raise QuestionError(
            f"The '{which}' date {value!r} is not a date; write it as YYYY-MM-DD."
        ) from None


@dataclass(frozen=True)
class AskOptions:
    """Overrides of the settings for one question; None means "as the settings say".

    Values arrive loosely typed from forms (a slider's float, an empty textbox) and are
    normalized here, once. Raises QuestionError (from the constructor) on bad dates or an
    empty date range.
    """

    mode: str | None = None  # "extractive" or the configured LLM backend
    top_k: int | None = None
    hybrid: bool | None = None
    sources: Sequence[str] | None = None  # only passages of these articles (kept as a tuple)
    date_from: str | None = None  # ISO YYYY-MM-DD, inclusive
    date_to: str | None = None
    as_of: str | None = None  # ISO day that relative dates ("last week") are read against

    def __post_init__(self) -> None:
        start, end = _iso_date(self.date_from, "from"), _iso_date(self.date_to, "to")
        if start and end and start > end:
            raise QuestionError(f"The date range is empty: 'from' {start} is after 'to' {end}.")
        # A frozen dataclass normalizes its own fields through object.__setattr__.
        normalized: dict[str, Any] = {
            "mode": self.mode or None,
            "top_k": int(self.top_k) if self.top_k else None,
            "sources": tuple(self.sources) if self.sources else None,
            "date_from": start,
            "date_to": end,
            "as_of": _iso_date(self.as_of, "as-of"),
        }
        for name, value in normalized.items():
            object.__setattr__(self, name, value)

    @classmethod
    def from_values(cls, values: Sequence[Any]) -> AskOptions:
        """From positional values in field order (the web chat's settings panel)."""
        names = [f.name for f in fields(cls)]
        if len(values) > len(names):
            raise QuestionError(f"Expected at most {len(names)} options, got {len(values)}.")
        return cls(**dict(zip(names, values, strict=False)))
