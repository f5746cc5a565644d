"""Source cards: each article once (short title, date, file) with the sentences cited from
it, and the plain-text form of an answer that Copy and Export give. All text is escaped."""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from datetime import date

from askfront.core.types import Answer, Citation
from askfront.grounding.markers import strip_markers

SHORT_TITLE = 70  # characters; the full title stays in the card's tooltip
# A title's first clause is its headline ("Ukraine Foreign Fighters Mostly From US, Europe,
# Motivated By Ideals. Russian Foreign Fighters, ..."): cut after it when it is long enough.
_CLAUSE_END = re.compile(r"(?<=\w)(?:[.:;!?]| [-–—|]) ")


def short_title(title: str | None, source: str) -> str:
    """A title short enough for a card: its first clause, else cut at a word."""
    text = " ".join((title or source).split())
    if len(text) <= SHORT_TITLE:
        return text
    clause = _CLAUSE_END.search(text)
    if clause and 20 <= clause.start() <= SHORT_TITLE:
        return text[: clause.start()]
    cut = text[: SHORT_TITLE - 1].rsplit(" ", 1)[0]
    return cut.rstrip(",;:.-") + "…"


def nice_date(value: str | None) -> str:
    """'2024-02-28' as '28 Feb 2024'; 'undated' when the article has no date."""
    if not value:
        return "undated"
    try:
        return date.fromisoformat(value[:10]).strftime("%-d %b %Y")
    except ValueError:
        return value


def shorten(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def by_article(citations: Sequence[Citation]) -> list[list[Citation]]:
    """Citations grouped by source, in order of first appearance."""
    groups: dict[str, list[Citation]] = {}
    for c in citations:
        groups.setdefault(c.source, []).append(c)
    return list(groups.values())


def cite_link(c: Citation, key: str) -> str:
    """An [n] link: its tooltip previews the passage; its accessible name names the source."""
    e = html.escape
    return (
        f'<a class="af-n" href="#cite-{key}" title="{e(shorten(c.quote, 300))}">[{c.n}]'
        f'<span class="af-sr">, source: {e(short_title(c.title, c.source))}</span></a>'
    )


def source_cards(citations: Sequence[Citation], key_prefix: str, quote_chars: int) -> str:
    """A list of cards, one per article; `key_prefix` is "<answer id>-<c|r>"."""
    e = html.escape
    cards = []
    for group in by_article(citations):
        first = group[0]
        page = f" · p. {first.page}" if first.page is not None else ""
        quotes = "".join(
            f"<li>{cite_link(c, f'{key_prefix}{c.n}')} "
            f'<span class="af-quote">“{e(shorten(c.quote, quote_chars))}”</span></li>'
            for c in group
        )
        cards.append(
            '<li class="af-card"><div class="af-card-head">'
            f'<strong title="{e(first.title or first.source)}">'
            f"{e(short_title(first.title, first.source))}</strong> "
            f'<span class="af-meta">{e(nice_date(first.date))} · '
            f'<span class="af-file">{e(first.source)}</span>{page}</span></div>'
            f'<ul class="af-quotes">{quotes}</ul></li>'
        )
    return f'<ul class="af-cards">{"".join(cards)}</ul>'


def source_lines(citations: Sequence[Citation]) -> list[str]:
    """The numbered source list of the plain text: "[1] Title (28 Feb 2024), file: “quote”"."""
    return [
        f"[{c.n}] {short_title(c.title, c.source)} ({nice_date(c.date)}), {c.source}: "
        f"“{shorten(c.quote, 300)}”"
        for c in citations
    ]


def plain_text(answer: Answer) -> str:
    """What Copy gives: the answer with its [n] markers, then the numbered sources."""
    lines = [answer.text.strip()]
    if answer.notice and answer.notice != answer.text:
        lines.append(answer.notice)
    if answer.citations:
        lines.append("Sources:\n" + "\n".join(source_lines(answer.citations)))
    elif answer.refused and answer.related:
        lines.append("Related reading (not an answer):\n" + "\n".join(source_lines(answer.related)))
    return "\n\n".join(lines)


def export_markdown(exchanges: Sequence[tuple[str, Answer]]) -> str:
    """A conversation as Markdown: each question, its answer, and the answer's sources."""
    parts = ["# askfront conversation"]
    for question, answer in exchanges:
        parts.append(f"## Q: {_md_line(question)}")
        parts.append(_md_line(answer.text))
        cited = answer.citations or (answer.related if answer.refused else [])
        if cited:
            heading = "Sources" if answer.citations else "Related reading (not an answer)"
            parts.append(
                f"**{heading}**\n\n" + "\n".join(f"- {_md_line(s)}" for s in source_lines(cited))
            )
    return "\n\n".join(parts) + "\n"


def gold_answer(answer: Answer) -> str:
    """The answer without its [n] markers, as a test set's gold answer."""
    return " ".join(strip_markers(answer.text).split())


def _md_line(text: str) -> str:
    """Text as one Markdown line whose specials stay literal (a file, not the chat)."""
    escaped = re.sub(r"([\\`*_{}\[\]<>#|])", r"\\\1", " ".join(text.split()))
    return re.sub(r"\\\[(\d+)\\\]", r"[\1]", escaped)  # keep [n] readable
