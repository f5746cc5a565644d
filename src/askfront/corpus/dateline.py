"""The publication date an article's own text gives near its start (its dateline: "Feb 28,
2024", "WASHINGTON, July 3, 2024 —", "Published 2024-02-28"), for files whose metadata
(front matter, HTML meta tags, PDF info) has none. Never the day the file was indexed:
an article with no date anywhere stays undated.
"""

from __future__ import annotations

import calendar
import re

from askfront.corpus.base import parse_date

HEAD_CHARS = 600  # a dateline sits above or at the start of the first paragraph

_MONTH = "|".join(
    sorted(
        {m for m in calendar.month_name if m} | {m for m in calendar.month_abbr if m} | {"Sept"},
        key=len,
        reverse=True,
    )
)
_DATELINE = re.compile(
    rf"\b(?:(?:{_MONTH})\.?\s+\d{{1,2}}(?:st|nd|rd|th)?,?\s+(?:19|20)\d\d"
    rf"|\d{{1,2}}\s+(?:{_MONTH})\.?,?\s+(?:19|20)\d\d"
    r"|(?:19|20)\d\d-\d{2}-\d{2})\b"
)


def dateline(text: str) -> str | None:
    """The first full date (day, month and year) in the first HEAD_CHARS characters of
    `text`, as YYYY-MM-DD; None when there is none."""
    for m in _DATELINE.finditer(text[:HEAD_CHARS]):
        day = parse_date(m.group(0))
        if day:
            return day
    return None
