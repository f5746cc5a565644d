"""What the page says about the search filters and the corpus: chips by the question box,
the hint on a refusal while a filter is on, and the corpus in one line."""

from __future__ import annotations

import html
from collections.abc import Sequence

from askfront.core.options import AskOptions
from askfront.core.types import DocumentRecord
from askfront.web.cards import nice_date


def active_filters(options: AskOptions) -> list[str]:
    """The filters in `options` as short phrases, in the page's order."""
    found = []
    sources = options.sources or ()
    if len(sources) == 1:
        found.append(f"only {sources[0]}")
    elif sources:
        found.append(f"only {len(sources)} articles")
    if options.date_from:
        found.append(f"from {nice_date(options.date_from)}")
    if options.date_to:
        found.append(f"to {nice_date(options.date_to)}")
    return found


def filter_chips(options: AskOptions) -> str:
    """The chips shown by the question box (HTML); empty when no filter is on."""
    found = active_filters(options)
    if not found:
        return ""
    chips = "".join(f'<li class="af-chip">{html.escape(f)}</li>' for f in found)
    return f'<ul class="af-chips" aria-label="Active filters">{chips}</ul>'


def refusal_hint(options: AskOptions) -> str | None:
    """Why a refusal may come from the filters, when any is on."""
    found = active_filters(options)
    if not found:
        return None
    return (
        f"A filter is on ({'; '.join(found)}): only those articles were searched. "
        "Clear the filters to search every article."
    )


def corpus_line(records: Sequence[DocumentRecord]) -> str:
    """The corpus in one line: "1 article, 28 Feb 2024" or "12 articles, 3 Jan – 5 Mar 2024"."""
    indexed = [r for r in records if r.status == "indexed"]
    if not indexed:
        return "No articles indexed yet: add some in the Corpus tab."
    count = f"{len(indexed)} article{'s' if len(indexed) != 1 else ''}"
    dates = sorted(r.date[:10] for r in indexed if r.date)
    if not dates:
        return f"{count}, undated"
    first, last = nice_date(dates[0]), nice_date(dates[-1])
    span = first if first == last else f"{first} – {last}"
    undated = len(indexed) - len(dates)
    return f"{count}, {span}" + (f" ({undated} undated)" if undated else "")
