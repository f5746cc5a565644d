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
from askfront.web.cards import cite_link, nice_date, plain_text, shorten, source_cards

UNSUPPORTED = "⚠ unsupported by the cited passages"
SOURCES_EMPTY = (
    '<p class="af-empty">The sources of the latest answer appear here. '
    "Click or tap a [n] to read the passage in its article.</p>"
)
VIEWER_EMPTY = '<p class="af-empty">Click a citation to read it, highlighted, in its article.</p>'
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


def _linked_text(answer: Answer, answer_id: int) -> str:
    """answer.text as Markdown, each valid [n] an HTML link naming its source."""
    by_n = {c.n: c for c in answer.citations}
    text, missing = _mark_unsupported(answer)
    text = _mark_answering_phrases(text, answer)
    parts, pos = [], 0
    for start, end, cited in iter_markers(text):
        parts.append(md_escape(text[pos:start]))
        if cited and all(n in by_n for n in cited):
            parts.append("".join(cite_link(by_n[n], f"{answer_id}-c{n}") for n in cited))
        else:
            parts.append(md_escape(text[start:end]))
        pos = end
    parts.append(md_escape(text[pos:]))
    shown = "".join(parts).replace(_BOLD_ON, "**").replace(_BOLD_OFF, "**")
    lines = [shown.replace(_WARN_TOKEN, f" **{UNSUPPORTED}**")]
    return "\n\n".join(lines + [f"**{UNSUPPORTED}:** “{md_escape(s)}”" for s in missing])


def render_answer(answer: Answer, answer_id: int, hint: str | None = None) -> str:
    """The chat message for a final answer: the text with linked [n] markers, any notice or
    `hint`, the source cards (or, for a refusal, the related passages), and a Copy button
    with the plain text it copies. The HTML parts are single lines: a blank line would end
    the Markdown renderer's HTML block."""
    lines = [_linked_text(answer, answer_id)]
    if answer.notice and answer.notice != answer.text:
        lines.append(f"> ℹ {md_escape(answer.notice)}")
    if hint:
        lines.append(f'<p class="af-hint">{html.escape(hint)}</p>')
    if answer.citations:
        lines.append(source_cards(answer.citations, f"{answer_id}-c", 160))
    elif answer.refused and answer.related:
        lines.append(
            '<p class="af-cards-label">Related reading (not an answer)</p>'
            + source_cards(answer.related, f"{answer_id}-r", 160)
        )
    plain = html.escape(plain_text(answer) + (f"\n\n{hint}" if hint else "")).replace("\n", "&#10;")
    lines.append(
        '<div class="af-actions"><button type="button" class="af-copy" '
        f'title="Copy the answer and its sources as plain text">Copy answer</button>'
        f'<span class="af-plain">{plain}</span></div>'
    )
    return "\n\n".join(lines)


def render_sources(answer: Answer | None, answer_id: int) -> str:
    """The side panel's Sources tab (HTML): the latest answer's cards, with longer quotes."""
    if answer is None:
        return SOURCES_EMPTY
    if answer.citations:
        cards = source_cards(answer.citations, f"{answer_id}-c", 600)
        label = '<p class="af-cards-label">Sources of the latest answer</p>'
        return label + cards + render_articles(answer)
    if answer.related:  # listed once, under the answer
        return (
            '<p class="af-empty">No citations: the articles do not answer this. '
            "The closest passages are listed under the answer.</p>"
        )
    return SOURCES_EMPTY


def render_articles(answer: Answer) -> str:
    """The articles a collection answer matched (Answer.articles), all of them, as a table
    in a scrolling box: the text names at most 100, a list can hold thousands. Its headers
    are buttons that sort it (assets/app.js); `data-key` is what a column sorts by."""
    if not answer.articles:
        return ""
    e = html.escape
    rows = "".join(
        f'<tr><td data-key="{e(str(a.get("date") or ""))}">{e(nice_date(a.get("date")))}</td>'
        f"<td>{e(str(a.get('title') or ''))}</td><td><code>{e(str(a.get('source') or ''))}"
        f"</code></td><td>{e(shorten(str(a.get('first_mention') or ''), 160))}</td></tr>"
        for a in answer.articles
    )
    heads = "".join(
        f'<th aria-sort="none"><button type="button" class="af-sort" data-col="{i}">'
        f"{name}</button></th>"
        for i, name in enumerate(("Date", "Title", "File", "First mention"))
    )
    return (
        f"<h4>Matching articles ({len(answer.articles)})</h4>"
        '<div class="af-articles" style="max-height:24em;overflow:auto">'
        f"<table><thead><tr>{heads}</tr></thead><tbody>{rows}</tbody></table></div>"
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
        f'<span class="af-meta">{e(nice_date(when))} · {e(citation.source)} · '
        f"citation [{citation.n}]</span></div>{note}"
    )
    if start < 0:
        body = e(text)
    else:
        body = f'{e(text[:start])}<mark id="cite-mark">{e(text[start:end])}</mark>{e(text[end:])}'
    # Focusable, so the keyboard can scroll the article as the mouse does.
    box = '<div class="af-doc-text" tabindex="0" role="region" aria-label="Article text">'
    return f"{head}{box}{body}</div>"


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
        [r.path, r.title or "", r.date or "undated", r.chunks, r.status, r.error or ""]
        for r in records
    ]
