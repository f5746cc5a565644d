"""Scores of questions about the collection: list questions (recall and precision of the
cited articles), count questions (the right number), latest questions (the first citation
is one of the newest articles), first-mentioned questions (the right date) and relative
dates (the answer states the expected range).

A test-set row says which it is with "expects" (list | count | latest | first) and, for
relative dates, "expected_range": [start, end]; "asked_on" is the as-of date it is asked on.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date

from askfront.evaluation.metrics import COLLECTION_METRICS

_NUMBER = re.compile(r"(?<![\w.-])\d+(?![\w.-]|-\d)")
_NO_COUNT = re.compile(r"^\W*(?:no|none)\b", re.I)


def collection_scores(
    expects: str | None,
    expected_range: Sequence[str] | None,
    golds: Sequence[str],
    gold_sources: Sequence[str],
    answer_text: str,
    cited_sources: Sequence[str],
    refused: bool,
) -> dict[str, float | None]:
    """The collection scores of one answer (None where they do not apply)."""
    scores: dict[str, float | None] = dict.fromkeys(COLLECTION_METRICS)
    if expects == "list":
        cited, gold = set(cited_sources), set(gold_sources)
        scores["list_recall"] = len(cited & gold) / len(gold) if gold else None
        if cited:
            scores["list_precision"] = len(cited & gold) / len(cited)
        else:  # listing nothing is precise only when nothing was to be listed
            scores["list_precision"] = 1.0 if not gold else 0.0
    elif expects == "count" and golds:
        scores["count_correct"] = float(answer_count(answer_text) == golds[0].strip())
    elif expects == "latest":
        first = cited_sources[0] if cited_sources and not refused else None
        scores["latest_correct"] = float(first is not None and first in set(gold_sources))
    elif expects == "first" and golds:
        scores["first_correct"] = float(not refused and says_date(answer_text, golds[0]))
    if expected_range:
        start, end = expected_range[0], expected_range[-1]
        said = f"on {start}" if start == end else f"from {start} to {end}"
        scores["range_correct"] = float(said in answer_text)
    return scores


def answer_count(text: str) -> str | None:
    """The number an answer gives first ("14 of 500 articles ..." -> "14"; "None of ..." ->
    "0"), as text."""
    if _NO_COUNT.search(text):
        return "0"
    m = _NUMBER.search(text)
    return m.group(0) if m else None


def says_date(text: str, iso_day: str) -> bool:
    """Whether `text` gives the day `iso_day`: as 2024-01-05 or as January 5, 2024."""
    if iso_day in text:
        return True
    try:
        d = date.fromisoformat(iso_day)
    except ValueError:
        return False
    return f"{d.strftime('%B')} {d.day}, {d.year}" in text
