"""The web chat: questions with streamed, cited answers, a document viewer, corpus management.

The only module that imports gradio. `build_app` wires a `WebChat` (plain methods, tested
without a browser) to Gradio components; `serve` checks the bind address and launches it.
"""

from __future__ import annotations

import html
import ipaddress
import logging
import os
import re
import signal
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import anyio
import anyio.to_thread
import gradio as gr
from starlette.middleware import Middleware

from askfront.assistant import Assistant
from askfront.core.config import Settings
from askfront.core.errors import AskfrontError, ConfigError, DocumentError, QuestionError
from askfront.core.history import parse_history
from askfront.core.types import Answer, Citation, DocumentRecord, IndexReport, Turn
from askfront.corpus.files import SUPPORTED_SUFFIXES, safe_corpus_path
from askfront.web.guard import HostPolicy, RequestGuard, UploadLimits
from askfront.web.uploads import copy_into, discard_upload, remove_partials

logger = logging.getLogger(__name__)

EXAMPLES = [
    "How many foreigners serve in Ukraine's international legion?",
    "How much are Nepali recruits paid?",
    "Who is Ramchandra Khadka?",
    "What did Emmanuel Macron say about sending troops?",
]
UPLOAD_TYPES = list(SUPPORTED_SUFFIXES)
GENERIC_ERROR = "Something went wrong on the server; the details are in its log."
UNSUPPORTED = "⚠ unsupported by the cited passages"
SOURCES_EMPTY = (
    '<p class="af-empty">The citations of the latest answer appear here. '
    "Click a [n] marker to read the passage in its article.</p>"
)
VIEWER_EMPTY = '<p class="af-empty">Click a citation to read it in its article.</p>'
REPORT_HEADERS = ["path", "status", "chunks", "reason"]
DOCUMENT_HEADERS = ["path", "title", "date", "chunks", "status", "error"]

# A citation key "<answer id>-<c|r><n>": answer id within the session, citation or
# related passage, and its number. It travels in link targets "#cite-<key>".
_KEY = re.compile(r"^(\d+)-([cr])(\d+)$")
_MARKER = re.compile(r"\[(\d+)\]")
# Markdown's specials, plus ":" and "@" and the "." of "www.": escaped, they keep bare URLs
# and e-mail addresses in quoted text from becoming links, whose text would show the
# escaping backslashes ("raw\-image.png") instead of the quote.
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+!|~$<>:@-])")
_WWW_DOT = re.compile(r"(?i)(?<=www)\.")
_WARN_TOKEN = "\x00unsupported\x00"
_LOOPBACK_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost"}

# Clicks on any "#cite-..." link (inline markers in the chat and entries in the sources
# panel) go to the server as the panel's `click` event. The listener sits on `document`
# because the chat's links are rendered by the Chatbot, outside this component; it is
# re-registered (not stacked) if the component mounts again.
_CITE_JS = """
const handler = (event) => {
  const link = event.target.closest ? event.target.closest('a[href^="#cite-"]') : null;
  if (!link) return;
  event.preventDefault();
  event.stopPropagation();
  trigger('click', {cite: link.getAttribute('href').slice('#cite-'.length)});
};
if (window.__askfrontCite) document.removeEventListener('click', window.__askfrontCite, true);
window.__askfrontCite = handler;
document.addEventListener('click', handler, true);
"""
# After the viewer shows a new document, bring the highlighted passage into view.
_SCROLL_JS = """
watch('value', () => {
  const mark = element.querySelector('#cite-mark');
  if (mark) mark.scrollIntoView({block: 'center'});
});
"""
# Global (not component-scoped) because the Chatbot renders the inline markers.
_APP_CSS = """
#chat a[href^="#cite-"] { font-weight: 600; text-decoration: none; color: var(--color-accent); }
"""
_SOURCES_CSS = """
ol { padding-left: 0; list-style: none; margin: 0; }
li { margin: 0 0 0.6em 0; }
a.af-cite { font-weight: 600; text-decoration: none; margin-right: 0.3em; }
.af-meta { color: var(--body-text-color-subdued); font-size: 0.9em; }
.af-quote { font-style: italic; margin-top: 0.15em; }
.af-empty { color: var(--body-text-color-subdued); }
"""
_VIEWER_CSS = """
.af-doc-head { margin-bottom: 0.5em; }
.af-doc-text { white-space: pre-wrap; max-height: 60vh; overflow-y: auto;
  border: 1px solid var(--border-color-primary); border-radius: 6px; padding: 0.75em;
  line-height: 1.5; }
mark#cite-mark { background: #ffe066; color: #000; padding: 0 1px; }
.af-warn { color: var(--color-accent); }
.af-empty { color: var(--body-text-color-subdued); }
"""


# -- pure helpers ---------------------------------------------------------------------------
def is_loopback(host: str) -> bool:
    if host.lower() in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def parse_auth(auth: str) -> tuple[str, str]:
    user, sep, password = auth.partition(":")
    if not sep or not user or not password:
        raise ConfigError("ASKFRONT_AUTH must look like user:password (both parts non-empty).")
    return user, password


def check_bind(settings: Settings) -> tuple[str, str] | None:
    """The Gradio `auth` for these settings; refuses to listen beyond loopback unprotected.

    Raises:
        ConfigError: for a non-loopback host without auth or allow_public, or a bad auth.
    """
    auth = parse_auth(settings.auth) if settings.auth else None
    if not is_loopback(settings.host) and auth is None:
        if not settings.allow_public:
            raise ConfigError(
                f"Refusing to serve the web chat on {settings.host} without a password: anyone "
                "on the network could use it. Set ASKFRONT_AUTH=user:password, or set "
                "ASKFRONT_ALLOW_PUBLIC=true to serve it to everyone, or use "
                "ASKFRONT_HOST=127.0.0.1."
            )
        logger.warning(
            "!!! The web chat listens on %s WITHOUT a password (ASKFRONT_ALLOW_PUBLIC=true): "
            "anyone who can reach this machine can ask questions, upload and delete articles.",
            settings.host,
        )
    return auth


def _iso_date(value: str | None, which: str) -> str | None:
    value = (value or "").strip()
    if not value:
        return None
    try:
        return date.fromisoformat(value).isoformat()
    except ValueError:
        raise QuestionError(
            f"The '{which}' date {value!r} is not a date; write it as YYYY-MM-DD."
        ) from None


def ask_options(
    mode: str | None = None,
    top_k: float | None = None,
    hybrid: bool | None = None,
    sources: Sequence[str] | None = None,
    date_from: str | None = None,
    date_to: str | None = None,
) -> dict[str, Any]:
    """Keyword arguments for Assistant.ask/ask_stream from the settings panel's values."""
    start, end = _iso_date(date_from, "from"), _iso_date(date_to, "to")
    if start and end and start > end:
        raise QuestionError(f"The date range is empty: 'from' {start} is after 'to' {end}.")
    return {
        "mode": mode or None,
        "top_k": int(top_k) if top_k else None,
        "hybrid": hybrid,
        "sources": list(sources) if sources else None,
        "date_from": start,
        "date_to": end,
    }


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


def render_answer(answer: Answer, answer_id: int) -> str:
    """The chat message for a final answer: linked [n] markers, sources line, notice."""
    numbers = {c.n for c in answer.citations}
    text, missing = _mark_unsupported(answer)
    parts = []
    for i, piece in enumerate(_MARKER.split(text)):
        if i % 2 == 0:
            parts.append(md_escape(piece))
        elif int(piece) in numbers:
            parts.append(f"[\\[{piece}\\]](#cite-{answer_id}-c{piece})")
        else:
            parts.append(md_escape(f"[{piece}]"))
    lines = ["".join(parts).replace(_WARN_TOKEN, f" **{UNSUPPORTED}**")]
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
    return f"<h4>{heading}</h4><ol>{''.join(rows)}</ol>"


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


# -- the handlers -----------------------------------------------------------------------------
@dataclass
class ChatState:
    """One browser session: the turns sent as history, and each answer's citations."""

    turns: list[Turn] = field(default_factory=list)
    answers: dict[int, Answer] = field(default_factory=dict)
    next_id: int = 0


def _message(exc: Exception) -> str:
    """What the user sees for an exception; unexpected ones are logged in full."""
    if isinstance(exc, AskfrontError):
        return str(exc)
    logger.exception("Unexpected error in the web chat", exc_info=exc)
    return GENERIC_ERROR


def _warn(text: str) -> None:
    """A warning toast. Gradio renders toasts as HTML, and the text may hold a file name or
    the user's words: escaped, it is shown as written and never loads anything."""
    gr.Warning(html.escape(text))


def _refused(message: str) -> dict[str, Any]:
    """The /ask API's answer to input it cannot use: a refusal with the reason as notice."""
    return Answer(text=message, refused=True, notice=message).to_json()


class WebChat:
    """The web chat's behaviour, separate from its layout so tests can drive it directly."""

    def __init__(self, assistant: Assistant, settings: Settings) -> None:
        self.assistant = assistant
        self.settings = settings
        # /ask answers run in worker threads, admitted first come, first served (anyio's
        # CapacityLimiter is FIFO). Extractive answers are ~15 ms of mostly Python: in
        # parallel they only contend for the GIL and starve the thread serving HTTP (in
        # our load runs p95 was 2-4x the median with 4 at once, ~1.3x with 1). LLM answers
        # wait on a model for seconds, so they run concurrency_limit at a time.
        slots = 1 if settings.llm == "extractive" else settings.concurrency_limit
        self._api_limiter = anyio.CapacityLimiter(slots)

    # chat
    def respond(
        self,
        message: str,
        chat: list[dict[str, Any]] | None,
        state: ChatState | None,
        *options: Any,
    ) -> Iterator[tuple[str, list[dict[str, Any]], ChatState, str]]:
        """Stream one answer into the chat. Yields (textbox, chat, state, sources panel)."""
        state = state or ChatState()
        chat = list(chat or [])
        question = (message or "").strip()
        if not question:
            _warn("Type a question first.")
            yield message, list(chat), state, gr.skip()
            return
        chat += [
            {"role": "user", "content": md_escape(question)},
            {"role": "assistant", "content": "…"},
        ]
        yield "", list(chat), state, gr.skip()
        final: Answer | None = None
        streamed = ""
        try:
            kwargs = ask_options(*options)
            for event in self.assistant.ask_stream(question, list(state.turns), **kwargs):
                if isinstance(event, Answer):
                    final = event
                elif event:
                    streamed += event
                    chat[-1] = {"role": "assistant", "content": md_escape(streamed) + " ▌"}
                    yield "", list(chat), state, gr.skip()
        except Exception as exc:  # every failure becomes a chat message, never a traceback
            text = _message(exc)
            _warn(text)
            chat[-1] = {"role": "assistant", "content": f"⚠ {md_escape(text)}"}
            yield "", list(chat), state, gr.skip()
            return
        if final is None:  # the Assistant's contract says this cannot happen
            logger.error("ask_stream ended without an Answer")
            chat[-1] = {"role": "assistant", "content": f"⚠ {GENERIC_ERROR}"}
            yield "", list(chat), state, gr.skip()
            return
        answer_id = state.next_id
        state.next_id += 1
        state.answers[answer_id] = final
        state.turns += [
            {"role": "user", "content": question},
            {"role": "assistant", "content": final.text},
        ]
        # Only the latest turns are ever sent (the Assistant bounds them); keep no more.
        keep = self.settings.max_history_turns
        state.turns = state.turns[-keep:] if keep else []
        chat[-1] = {"role": "assistant", "content": render_answer(final, answer_id)}
        yield "", list(chat), state, render_sources(final, answer_id)

    def new_chat(self) -> tuple[list[dict[str, Any]], ChatState, str, str, str]:
        return [], ChatState(), SOURCES_EMPTY, VIEWER_EMPTY, ""

    def citation(self, state: ChatState | None, key: str) -> Citation:
        match = _KEY.match(key or "")
        answer = state.answers.get(int(match.group(1))) if state and match else None
        if answer is None or match is None:
            raise AskfrontError("That citation belongs to an earlier chat; ask again.")
        items = answer.citations if match.group(2) == "c" else answer.related
        for c in items:
            if c.n == int(match.group(3)):
                return c
        raise AskfrontError(f"The answer has no citation [{match.group(3)}].")

    def show_citation(self, state: ChatState | None, key: str) -> str:
        """The viewer's HTML for citation `key` ("<answer id>-<c|r><n>")."""
        try:
            cited = self.citation(state, key)
            doc = self.assistant.document(cited.source)
            if doc is None:
                raise AskfrontError(
                    f"{cited.source} is no longer in the index (deleted or not rebuilt)."
                )
            return render_document(doc.text, doc.title or cited.title, doc.date, cited)
        except Exception as exc:
            text = _message(exc)
            _warn(text)
            return f'<p class="af-warn">⚠ {html.escape(text)}</p>'

    async def api_ask(self, question: str, history_json: str = "[]") -> dict[str, Any]:
        """Answer `question` given earlier turns (JSON list of {"role","content"}).

        Returns the answer's JSON structure: answer, refused, citations, timings_ms, ...
        Input it cannot use (a question that is not text, bad or oversized history) gets a
        refusal in that structure, with the reason as its notice.
        """
        try:
            # Before any work: a huge history_json is refused before it is even decoded.
            history = parse_history(history_json, max_chars=self.settings.max_history_chars)
        except QuestionError as exc:
            return _refused(str(exc))
        try:
            answer = await anyio.to_thread.run_sync(
                self.assistant.ask, question, history, limiter=self._api_limiter
            )
            return answer.to_json()
        except Exception as exc:  # the message is for the client; the log keeps no traceback
            raise gr.Error(_message(exc), print_exception=False) from None

    # corpus
    def save_uploads(self, files: Sequence[str] | None) -> str:
        """Copy uploaded files into corpus_dir under sanitized names; a Markdown status."""
        root = self.settings.corpus_dir
        limit = self.settings.max_upload_mb
        saved, problems = [], []
        for upload in files or ():
            source = Path(upload)
            # Gradio keeps the browser's file name as the temporary file's base name.
            name = source.name
            try:
                size_mb = source.stat().st_size / 1024 / 1024
                if size_mb > limit:
                    raise DocumentError(
                        f"it is {size_mb:.1f} MB; the upload limit is {limit:g} MB "
                        "(ASKFRONT_MAX_UPLOAD_MB)"
                    )
                root.mkdir(parents=True, exist_ok=True)
                target = safe_corpus_path(root, name)
                existed = target.exists()
                copy_into(source, target)
                saved.append(target.name + (" (replaced)" if existed else ""))
            except DocumentError as exc:
                problems.append(f"{name} was not saved: {exc}.")
            except Exception as exc:
                problems.append(f"{name} was not saved: {_message(exc)}")
        lines = []
        if saved:
            lines.append(
                f"Saved to {md_escape(str(root))}/: {md_escape(', '.join(saved))}. "
                "Click **Rebuild index** to make them searchable."
            )
        for problem in problems:
            _warn(problem)
            lines.append(f"⚠ {md_escape(problem)}")
        return "\n\n".join(lines)

    def rebuild(
        self, progress: gr.Progress | None = None
    ) -> tuple[list[list[Any]], str, list[list[Any]], Any, Any]:
        """Sync the index with corpus_dir. Returns the report table, its summary, the
        documents table and the refreshed document choices of the filter and delete lists."""

        def report(stage: str, done: int, total: int) -> None:
            if progress is not None:
                progress((done, total) if total else 0.0, desc=stage)

        try:
            result = self.assistant.reindex(progress=report)
        except Exception as exc:
            text = _message(exc)
            _warn(text)
            return [], f"⚠ {md_escape(text)}", *self.documents_view()
        return report_rows(result), report_summary(result), *self.documents_view()

    def delete(self, path: str | None) -> tuple[list[list[Any]], str, list[list[Any]], Any, Any]:
        if not path:
            return gr.skip(), "Pick a document to delete.", *self.documents_view()
        try:
            result = self.assistant.delete_document(path)
        except Exception as exc:
            text = _message(exc)
            _warn(text)
            return gr.skip(), f"⚠ {md_escape(text)}", *self.documents_view()
        summary = f"Deleted {md_escape(path)}. " + report_summary(result)
        return report_rows(result), summary, *self.documents_view()

    def documents_view(self) -> tuple[list[list[Any]], Any, Any]:
        """The documents table and the document choices for the filter and delete lists."""
        try:
            records = self.assistant.documents()
        except Exception as exc:
            _warn(_message(exc))
            records = []
        paths = [r.path for r in records]
        return (
            document_rows(records),
            gr.update(choices=paths),
            gr.update(choices=paths, value=None),
        )


# -- layout -----------------------------------------------------------------------------------
def build_app(assistant: Assistant, settings: Settings) -> gr.Blocks:
    """The Gradio app (queued, not launched)."""
    chat = WebChat(assistant, settings)
    # Gradio's delete_cache: uploads never saved to the corpus (say, POSTed straight to
    # /gradio_api/upload) are deleted once they are upload_cache_seconds old, and all of
    # this server's temporary files when it stops.
    age = settings.upload_cache_seconds
    cache = (max(1, min(age, 300)), age)
    with gr.Blocks(title="askfront", analytics_enabled=False, delete_cache=cache) as app:
        state = gr.State(ChatState())
        gr.Markdown(
            "## askfront\nAsk about the articles. Every claim is cited; click a **[n]** to "
            "read the passage in its article."
        )
        with gr.Tab("Chat"), gr.Row():
            with gr.Column(scale=3):
                chatbot = gr.Chatbot(
                    label="Chat",
                    show_label=False,
                    elem_id="chat",
                    height=520,
                    latex_delimiters=[],  # "$2,000 ... $3,000" must stay text
                    allow_tags=False,
                    feedback_options=None,
                    buttons=["copy"],
                )
                with gr.Row():
                    question = gr.Textbox(
                        placeholder="Ask a question about the articles…",
                        show_label=False,
                        container=False,
                        elem_id="question",
                        scale=5,
                        autofocus=True,
                    )
                    send = gr.Button("Ask", variant="primary", elem_id="ask", scale=1)
                    clear = gr.Button("New chat", elem_id="new-chat", scale=1)
                gr.Examples(EXAMPLES, inputs=[question], label="Examples")
                with gr.Accordion("Settings", open=False):
                    modes = assistant.modes()
                    mode = gr.Dropdown(
                        modes,
                        # The configured backend by default; "extractive" stays one click away.
                        value=settings.llm if settings.llm in modes else modes[0],
                        label="Answer mode",
                        elem_id="mode",
                    )
                    top_k = gr.Slider(
                        1, 20, value=settings.top_k, step=1, label="Passages to retrieve"
                    )
                    hybrid = gr.Checkbox(
                        value=settings.hybrid, label="Hybrid search (keywords + meaning)"
                    )
                    sources = gr.Dropdown(
                        [],
                        multiselect=True,
                        label="Only these articles (empty: all)",
                        elem_id="filter-sources",
                    )
                    with gr.Row():
                        date_from = gr.Textbox(label="From date", placeholder="YYYY-MM-DD")
                        date_to = gr.Textbox(label="To date", placeholder="YYYY-MM-DD")
            with gr.Column(scale=2):
                sources_panel = gr.HTML(
                    SOURCES_EMPTY,
                    elem_id="sources-panel",
                    js_on_load=_CITE_JS,
                    css_template=_SOURCES_CSS,
                    label="Sources",
                )
                viewer = gr.HTML(
                    VIEWER_EMPTY,
                    elem_id="doc-viewer",
                    js_on_load=_SCROLL_JS,
                    css_template=_VIEWER_CSS,
                    label="Document",
                )
        with gr.Tab("Corpus"):
            gr.Markdown(
                f"Articles live in `{settings.corpus_dir}/` ({', '.join(UPLOAD_TYPES)}, at "
                f"most {settings.max_upload_mb:g} MB each). Upload, then rebuild the index."
            )
            uploads = gr.File(
                file_count="multiple",
                file_types=UPLOAD_TYPES,
                type="filepath",
                label="Upload articles",
                elem_id="upload",
            )
            upload_status = gr.Markdown(elem_id="upload-status")
            rebuild = gr.Button("Rebuild index", variant="primary", elem_id="rebuild")
            summary = gr.Markdown(elem_id="rebuild-summary")
            report = gr.Dataframe(
                headers=REPORT_HEADERS,
                label="Last index sync",
                elem_id="report",
                interactive=False,
                wrap=True,
                column_widths=["45%", "12%", "8%", "35%"],
            )
            documents = gr.Dataframe(
                headers=DOCUMENT_HEADERS,
                label="Indexed documents (click a row to pick it for deletion)",
                elem_id="documents",
                interactive=False,
                wrap=True,
                column_widths=["28%", "32%", "11%", "7%", "8%", "14%"],
            )
            with gr.Row():
                to_delete = gr.Dropdown([], label="Document to delete", scale=4)
                delete = gr.Button("Delete document", variant="stop", scale=1, elem_id="delete")

        ask_inputs = [question, chatbot, state, mode, top_k, hybrid, sources, date_from, date_to]
        ask_outputs = [question, chatbot, state, sources_panel]
        for trigger in (question.submit, send.click):
            trigger(chat.respond, ask_inputs, ask_outputs, api_visibility="private")
        # The Chatbot's own trash button must forget the session too.
        for trigger in (clear.click, chatbot.clear):
            trigger(
                chat.new_chat,
                None,
                [chatbot, state, sources_panel, viewer, question],
                api_visibility="private",
            )

        def on_cite(state: ChatState, evt: gr.EventData) -> str:
            data = evt._data if isinstance(evt._data, dict) else {}
            return chat.show_citation(state, str(data.get("cite", "")))

        sources_panel.click(on_cite, [state], [viewer], api_visibility="private")

        # Index changes run one at a time in their own group, so chat events never wait
        # behind a rebuild (the Assistant keeps answering from the previous index).
        index_outputs = [report, summary, documents, sources, to_delete]

        def on_rebuild(
            request: gr.Request,
            progress: gr.Progress = gr.Progress(),  # noqa: B008 (Gradio's idiom)
        ) -> Any:
            _from_the_page(request)
            return chat.rebuild(progress)

        def on_delete(path: str | None, request: gr.Request) -> Any:
            _from_the_page(request)
            return chat.delete(path)

        def on_upload(files: list[str] | None, request: gr.Request) -> Any:
            try:
                _from_the_page(request)
                return chat.save_uploads(files), None
            finally:  # saved or refused, Gradio's temporary copies have served
                for upload in files or ():
                    discard_upload(Path(upload))

        rebuild.click(
            on_rebuild,
            None,
            index_outputs,
            concurrency_limit=1,
            concurrency_id="index",
            api_visibility="private",
        )
        delete.click(
            on_delete,
            [to_delete],
            index_outputs,
            js="(path) => (path && confirm('Delete ' + path + ' from the corpus folder?')) "
            "? path : null",
            concurrency_limit=1,
            concurrency_id="index",
            api_visibility="private",
        )
        uploads.upload(
            on_upload,
            [uploads],
            [upload_status, uploads],
            api_visibility="private",
        )

        def on_select_document(evt: gr.SelectData) -> Any:
            row = evt.row_value if isinstance(evt.row_value, list) else None
            return gr.update(value=row[0]) if row else gr.skip()

        documents.select(on_select_document, None, [to_delete], api_visibility="private")
        app.load(
            chat.documents_view, None, [documents, sources, to_delete], api_visibility="private"
        )
        # Not queued: an API answer takes ~30 ms, and Gradio's queue (two requests and an
        # event stream per call) cost more than the answer under 50 concurrent clients.
        # POST /gradio_api/run/ask answers in one request; gradio_client also works.
        gr.api(chat.api_ask, api_name="ask", queue=False)
    # api_open=False: POST /gradio_api/run/<name> runs only unqueued events (the `ask` API,
    # the Examples), whatever fn_index the body names; every write event is queued.
    app.queue(default_concurrency_limit=settings.concurrency_limit, api_open=False)
    return app


def _from_the_page(request: gr.Request | None) -> None:
    """Write events (rebuild, delete, upload) run only as the page runs them: through the
    queue's join route, never /gradio_api/call/<name> or a route that takes fn_index.

    Raises:
        gr.Error: for any other route.
    """
    url = getattr(request, "url", None) if request is not None else None
    path = getattr(url, "path", "") or ""
    if not path.rstrip("/").endswith("/queue/join"):
        logger.warning("Refused a write event called through %s", path or "no request")
        raise gr.Error("This action runs only from the web page.", print_exception=False)


def _held_upload_bytes(scope: Any) -> int:
    """The bytes of this server's uploads still in Gradio's upload folder (scope["app"] is
    the Gradio app); names of files already gone are dropped from Gradio's set."""
    held = scope["app"].get_blocks().upload_file_set
    total = 0
    for name in list(held):
        try:
            total += os.stat(name).st_size
        except OSError:
            held.discard(name)  # saved and discarded, or deleted by delete_cache
    return total


def _warm_up(assistant: Assistant) -> None:
    """Load the embedding model and index before the first question arrives."""
    try:
        assistant.retriever()
    except AskfrontError as exc:
        logger.warning("%s Build it in the Corpus tab or with `askfront index`.", exc)
    except Exception:
        logger.exception("Could not preload the index")


def launch_options(settings: Settings) -> dict[str, Any]:
    """Keyword arguments for Blocks.launch (after check_bind's verdict)."""
    system_fonts = ["ui-sans-serif", "system-ui", "sans-serif"]
    mono_fonts = ["ui-monospace", "monospace"]
    auth = check_bind(settings)
    guard = Middleware(
        RequestGuard,
        hosts=HostPolicy.for_bind(
            settings.host, loopback=is_loopback(settings.host), allowed=settings.allowed_hosts
        ),
        uploads=UploadLimits(
            max_files=settings.max_upload_files,
            max_bytes=int(settings.max_upload_total_mb * 1024 * 1024),
            held_bytes=_held_upload_bytes,
        ),
    )
    return {
        "server_name": settings.host,
        "server_port": settings.port,
        "auth": auth,
        "max_file_size": int(settings.max_upload_mb * 1024 * 1024),
        # Passed on to FastAPI: every request passes the guard before any of Gradio's routes.
        "app_kwargs": {"middleware": [guard]},
        # Gradio's static-file workers (GRADIO_NUM_WORKERS) would take uploads past it.
        "num_workers": 0,
        "ssr_mode": False,  # no Node.js server
        "show_error": False,  # users get messages, not tracebacks
        "footer_links": ["api"],
        "css": _APP_CSS,
        # Offline by default: no Google Fonts request from the browser.
        "theme": gr.themes.Default(font=system_fonts, font_mono=mono_fonts),
    }


def serve(settings: Settings, *, assistant: Assistant | None = None) -> None:
    """Launch the web chat and block until interrupted.

    Raises:
        ConfigError: if the settings would expose it beyond loopback unprotected, or the
            port is taken.
    """
    options = launch_options(settings)  # checks the bind address before anything loads
    remove_partials(settings.corpus_dir)  # left by a server killed while saving an upload
    assistant = assistant or Assistant(settings)
    app = build_app(assistant, settings)
    threading.Thread(target=_warm_up, args=(assistant,), daemon=True).start()
    try:
        # quiet: Gradio's banner suggests share=True, which askfront never uses.
        app.launch(prevent_thread_lock=True, quiet=True, **options)
    except OSError as exc:  # Gradio's message names its own knobs, not ours
        raise ConfigError(
            f"Cannot listen on {settings.host}:{settings.port} ({exc}). Is the web chat "
            "already running? Stop it, or pick another port with ASKFRONT_PORT "
            "(askfront serve --port)."
        ) from None
    print(f"* Running on local URL:  {app.local_url}  (Ctrl+C to stop)", flush=True)
    _stop_on_sigterm()
    app.block_thread()


def _stop_on_sigterm() -> None:
    """`kill` stops the server as Ctrl+C does, so Gradio deletes this server's temporary
    upload files (delete_cache) on the way out instead of leaving them behind."""

    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, interrupt)
