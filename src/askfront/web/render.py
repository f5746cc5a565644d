"""What the web chat shows: answers as Markdown with linked [n] markers, the sources panel
and the document viewer as HTML, and the index tables. All document text is escaped: it is
shown as written, never as markup."""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from typing import Any

from askfront.core.types import Answer, Citation, DocumentRecord, IndexReport
from askfront.grounding.markers import iter_markers

UNSUPPORTED = "⚠ unsupported by the cited passages"
SOURCES_EMPTY = (
    '<p class="af-empty">The citations of the latest answer appear here. '
    "Click a [n] marker to read the passage in its article.</p>"
)
VIEWER_EMPTY = '<p class="af-empty">Click a citation to read it in its article.</p>'
REPORT_HEADERS = ["path", "status", "chunks", "reason"]
DOCUMENT_HEADERS = ["path", "title", "date", "chunks", "status", "error"]
# Markdown's specials, plus ":" and "@" and the "." of "www.": escaped, they keep bare URLs
# and e-mail addresses in quoted text from becoming links, whose text would show the
# escaping backslashes ("raw\-image.png") instead of the quote.
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+!|~$<>:@-])")
_WWW_DOT = re.compile(r"(?i)(?<=www)\.")
_WARN_TOKEN = "\x00unsupported\x00"
_BOLD_ON, _BOLD_OFF = "\x01", "\x02"  # around an answering phrase; "**" once escaped


def md_escape(text: str) -> str:
    """Text shown literally by the Chatbot's Markdown renderer (no HTML, no formatting)."""
    escaped = _MD_SPECIAL.sub(r"\\\1", html.escape(text, quote=False))
    return _WWW_DOT.sub(r"\\.", escaped)


def _label(title: str | None, source: str, when: str | None) -> str:
    return f"*{md_escape(title or source)}* ({md_escape(when or 'undated')})"


def _unique_sources(citations: Sequence[Citation]) -> list[Citation]:
    seen: dict[str, Citation] = {}
    for c in citations:
        seen.setdefault(c.source, c)
    return list(seen.values())


def _mark_unsupported(answer: Answer) -> tuple[str, list[str]]:
    """answer.text with a token after each unsupported sentence, and the ones not found."""
    text, missing = answer.text, []
    for sentence in answer.sentences:
        if sentence.supported:
            continue
        at = text.find(sentence.text) if sentence.text else -1
        if at < 0:
            missing.append(sentence.text)
            continue
        end = at + len(sentence.text)
        text = text[:end] + _WARN_TOKEN + text[end:]
    return text, missing


def _mark_answering_phrases(text: str, answer: Answer) -> str:
    """`text` with tokens around each sentence's answering phrase (its answer_span)."""
    pos = 0
    for sentence in answer.sentences:
        at = text.find(sentence.text, pos) if sentence.text else -1
        if at < 0:
            continue
        pos = at + len(sentence.text)
        span = sentence.answer_span
        if span and 0 <= span[0] < span[1] <= len(sentence.text):
            s, e = at + span[0], at + span[1]
            text = f"{text[:s]}{_BOLD_ON}{text[s:e]}{_BOLD_OFF}{text[e:]}"
            pos += 2
    return text


def render_answer(answer: Answer, answer_id: int) -> str:
    """The chat message for a final answer: linked [n] markers, the answering phrase of a
    quote in bold (the quote itself unchanged), sources line, notice."""
    numbers = {c.n for c in answer.citations}
    text, missing = _mark_unsupported(answer)
    text = _mark_answering_phrases(text, answer)
    parts, pos = [], 0
    for start, end, cited in iter_markers(text):
        parts.append(md_escape(text[pos:start]))
        if cited and all(n in numbers for n in cited):
            parts.append("".join(f"[\\[{n}\\]](#cite-{answer_id}-c{n})" for n in cited))
        else:
            parts.append(md_escape(text[start:end]))
        pos = end
    parts.append(md_escape(text[pos:]))
    shown = "".join(parts).replace(_BOLD_ON, "**").replace(_BOLD_OFF, "**")
    lines = [shown.replace(_WARN_TOKEN, f" **{UNSUPPORTED}**")]
    lines += [f"**{UNSUPPORTED}:** “{md_escape(s)}”" for s in missing]
    if answer.notice and answer.notice != answer.text:
        lines.append(f"> ℹ {md_escape(answer.notice)}")
    if answer.citations:
        labels = [_label(c.title, c.source, c.date) for c in _unique_sources(answer.citations)]
        lines.append("**Sources:** " + " · ".join(labels))
    if answer.refused and answer.related:
        lines.append("**Related reading:**")
        for c in answer.related:
            quote = md_escape(_shorten(c.quote, 160))
            link = f"[\\[{c.n}\\]](#cite-{answer_id}-r{c.n})"
            lines.append(f"- {link} {_label(c.title, c.source, c.date)}: “{quote}”")
    return "\n\n".join(lines)


def _shorten(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def render_sources(answer: Answer | None, answer_id: int) -> str:
    """The sources panel (HTML): each citation's [n], title, date, path, score and quote."""
    if answer is None:
        return SOURCES_EMPTY
    if answer.citations:
        kind, heading, items = "c", "Citations", answer.citations
    elif answer.related:
        kind, heading, items = "r", "Related passages (not an answer)", answer.related
    else:
        return SOURCES_EMPTY
    rows = []
    for c in items:
        e = html.escape
        page = f" · page {c.page}" if c.page is not None else ""
        rows.append(
            f'<li><a class="af-cite" href="#cite-{answer_id}-{kind}{c.n}">[{c.n}]</a>'
            f"<strong>{e(c.title or c.source)}</strong> "
            f'<span class="af-meta">{e(c.date or "undated")} · <code>{e(c.source)}</code>'
            f"{page} · score {c.score:.3f}</span>"
            f'<div class="af-quote">“{e(_shorten(c.quote, 240))}”</div></li>'
        )
    return f"<h4>{heading}</h4><ol>{''.join(rows)}</ol>{render_articles(answer)}"


def render_articles(answer: Answer) -> str:
    """The articles a collection answer matched (Answer.articles), all of them, as a table
    in a scrolling box: the text names at most 100, a list can hold thousands."""
    if not answer.articles:
        return ""
    e = html.escape
    rows = "".join(
        f"<tr><td>{e(str(a.get('date') or 'undated'))}</td><td>{e(str(a.get('title') or ''))}"
        f"</td><td><code>{e(str(a.get('source') or ''))}</code></td>"
        f"<td>{e(_shorten(str(a.get('first_mention') or ''), 160))}</td></tr>"
        for a in answer.articles
    )
    return (
        f"<h4>Matching articles ({len(answer.articles)})</h4>"
        '<div class="af-articles" style="max-height:24em;overflow:auto">'
        "<table><thead><tr><th>Date</th><th>Title</th><th>File</th><th>First mention</th>"
        f"</tr></thead><tbody>{rows}</tbody></table></div>"
    )


def render_document(text: str, title: str | None, when: str | None, citation: Citation) -> str:
    """The viewer (HTML): the whole article, escaped, the cited span in <mark id=cite-mark>."""
    e = html.escape
    start, end = citation.start, citation.end
    note = ""
    if not (0 <= start <= end <= len(text)) or text[start:end] != citation.quote:
        # The article changed since the answer (rebuilt index): find the quote again.
        found = text.find(citation.quote) if citation.quote else -1
        if found >= 0:
            start, end = found, found + len(citation.quote)
        else:
            start = end = -1
            note = (
                '<p class="af-warn">The article has changed since this answer; '
                "the cited passage is no longer in it.</p>"
            )
    head = (
        f'<div class="af-doc-head"><strong>{e(title or citation.source)}</strong> '
        f"· {e(when or 'undated')} · <code>{e(citation.source)}</code> · "
        f"citation [{citation.n}]</div>{note}"
    )
    if start < 0:
        body = e(text)
    else:
        body = f'{e(text[:start])}<mark id="cite-mark">{e(text[start:end])}</mark>{e(text[end:])}'
    return f'{head}<div class="af-doc-text">{body}</div>'


def report_rows(report: IndexReport) -> list[list[Any]]:
    return [[f.path, f.status, f.chunks, f.reason or ""] for f in report.files]


def report_summary(report: IndexReport) -> str:
    counts = ", ".join(f"{n} {name}" for name, n in report.counts.items())
    summary = (
        f"Index synced in {report.seconds:.1f} s: {counts}; "
        f"{report.chunks_embedded} chunks embedded."
    )
    if report.full_rebuild and report.rebuild_reason:
        summary += f" Full rebuild: {report.rebuild_reason}."
    return md_escape(summary)


def document_rows(records: Sequence[DocumentRecord]) -> list[list[Any]]:
    return [
        [r.path, r.title or "", r.date or "", r.chunks, r.status, r.error or ""] for r in records
    ]
