"""The web chat's behaviour, as plain methods that tests drive without a browser: answers
streamed into the chat, citations opened in the viewer, the `ask` API, uploads, rebuilds
and deletes."""

from __future__ import annotations

import atexit
import functools
import html
import logging
import os
import re
import shutil
import tempfile
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import anyio
import anyio.to_thread
import gradio as gr

from askfront.core.config import Settings
from askfront.core.errors import AskfrontError, DocumentError, QuestionError
from askfront.core.history import parse_history
from askfront.core.options import AskOptions
from askfront.core.protocols import AssistantAPI
from askfront.core.types import Answer, Citation
from askfront.corpus.files import safe_corpus_path
from askfront.web.cards import export_markdown
from askfront.web.filters import corpus_line, filter_chips, refusal_hint
from askfront.web.render import (
    SOURCES_EMPTY,
    VIEWER_EMPTY,
    document_rows,
    md_escape,
    render_answer,
    render_document,
    render_sources,
    report_rows,
    report_summary,
)
from askfront.web.session import ChatState, FeedbackLog, from_store, to_store
from askfront.web.uploads import copy_into

logger = logging.getLogger(__name__)

GENERIC_ERROR = "Something went wrong on the server; the details are in its log."
# A citation key "<answer id>-<c|r><n>": answer id within the session, citation or
# related passage, and its number. It travels in link targets "#cite-<key>".
_KEY = re.compile(r"^(\d+)-([cr])(\d+)$")


def ask_options(*values: Any) -> AskOptions:
    """The question's options from the settings panel's values, in AskOptions' field order
    (mode, top_k, hybrid, sources, date_from, date_to).

    Raises:
        QuestionError: on a bad date or an empty date range.
    """
    return AskOptions.from_values(values)


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


_EXPORTS = "askfront-exports-"


@functools.cache
def exports_folder(tmp: Path | None = None) -> Path:
    """This process's folder for conversation exports, removed when the process exits.

    Folders left by processes that no longer run (a killed server) are removed first: the
    name is ours alone, so nothing else's files go with them.
    """
    tmp = tmp or Path(tempfile.gettempdir())
    for old in tmp.glob(f"{_EXPORTS}*"):
        pid = old.name.removeprefix(_EXPORTS)
        if pid.isdigit() and int(pid) != os.getpid() and not _alive(int(pid)):
            shutil.rmtree(old, ignore_errors=True)
    folder = tmp / f"{_EXPORTS}{os.getpid()}"
    # At interpreter exit (also after uvicorn's SIGTERM stop); SIGKILL is swept next start.
    atexit.register(shutil.rmtree, folder, True)
    return folder


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True


class WebChat:
    """The web chat's behaviour, separate from its layout so tests can drive it directly."""

    def __init__(self, assistant: AssistantAPI, settings: Settings) -> None:
        self.assistant = assistant
        self.settings = settings
        # /ask answers run in worker threads, admitted first come, first served (anyio's
        # CapacityLimiter is FIFO). Extractive answers are ~15 ms of mostly Python: in
        # parallel they only contend for the GIL and starve the thread serving HTTP (in
        # our load runs p95 was 2-4x the median with 4 at once, ~1.3x with 1). LLM answers
        # wait on a model for seconds, so they run concurrency_limit at a time.
        slots = 1 if settings.llm == "extractive" else settings.concurrency_limit
        self.api_limiter = anyio.CapacityLimiter(slots)
        self._exports = exports_folder()
        self.feedback = FeedbackLog(settings.feedback_file or settings.index_dir / "feedback.jsonl")

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
        asked = AskOptions()
        asked_with = list(state.turns)
        try:
            asked = ask_options(*options)
            for event in self.assistant.ask_stream(question, list(state.turns), asked):
                if isinstance(event, Answer):
                    final = event
                elif event:
                    streamed += event
                    chat[-1] = {"role": "assistant", "content": md_escape(streamed) + " ▌"}
                    yield "", list(chat), state, gr.skip()
        except Exception as exc:  # every failure becomes a chat message, never a traceback
            text = _message(exc)  # once, in the chat (no toast as well)
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
        state.questions[answer_id] = question
        state.asked_with[answer_id] = asked_with
        state.message_ids[len(chat) - 1] = answer_id
        state.turns += [
            {"role": "user", "content": question},
            {"role": "assistant", "content": final.text},
        ]
        # Only the latest turns are ever sent (the Assistant bounds them); keep no more.
        keep = self.settings.max_history_turns
        state.turns = state.turns[-keep:] if keep else []
        hint = refusal_hint(asked) if final.refused else None
        chat[-1] = {"role": "assistant", "content": render_answer(final, answer_id, hint)}
        yield "", list(chat), state, render_sources(final, answer_id)

    def new_chat(self) -> tuple[Any, ...]:
        """An empty chat, state, panel, viewer and question box; the stored chat forgotten;
        nothing to export."""
        nothing = gr.update(value=None, interactive=False)
        return [], ChatState(), SOURCES_EMPTY, VIEWER_EMPTY, "", None, nothing

    def chips(self, *filters: Any) -> str:
        """The active filters as chips (sources, date from, date to)."""
        try:
            return filter_chips(ask_options(None, None, None, *filters))
        except QuestionError as exc:
            return f'<p class="af-warn">⚠ {html.escape(str(exc))}</p>'

    # the session across reloads, feedback and export
    def restore(self, stored: Any) -> tuple[list[dict[str, Any]], ChatState, str]:
        """The chat, state and sources panel from the browser's stored session."""
        chat, state = from_store(stored)
        latest = max(state.answers, default=None)
        panel = render_sources(state.answers[latest], latest) if latest is not None else None
        return chat, state, panel or SOURCES_EMPTY

    def store(self, chat: list[dict[str, Any]] | None, state: ChatState | None) -> Any:
        """What the browser keeps of this session (gr.BrowserState)."""
        return to_store(list(chat or []), state or ChatState())

    def rate(self, state: ChatState | None, index: Any, liked: Any) -> None:
        """Save a thumbs up (liked True) or down on the chat message at `index`."""
        index = index[0] if isinstance(index, (list, tuple)) else index
        answer_id = (
            (state.message_ids.get(int(index)) if state else None) if index is not None else None
        )
        if state is None or answer_id is None or liked is None:
            return  # an un-rating, or a message without an answer (an error)
        try:
            self.feedback.record(state, answer_id, bool(liked))
        except Exception as exc:
            _warn(_message(exc))
            return
        gr.Info("Thanks: your feedback is saved.")

    def export(self, state: ChatState | None) -> Any:
        """The export button, holding the conversation as a Markdown file (or disabled)."""
        if state is None or not state.answers:
            return gr.update(value=None, interactive=False)
        self._exports.mkdir(parents=True, exist_ok=True)
        old = time.time() - self.settings.upload_cache_seconds
        for stale in self._exports.glob("*/*.md"):  # Gradio serves its own cached copy
            if stale.stat().st_mtime < old:
                shutil.rmtree(stale.parent, ignore_errors=True)
        folder = Path(tempfile.mkdtemp(dir=self._exports))
        path = folder / "askfront-conversation.md"
        path.write_text(export_markdown(state.exchanges()), encoding="utf-8")
        return gr.update(value=str(path), interactive=True)

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
                self.assistant.ask, question, history, limiter=self.api_limiter
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

    def rebuild(self, progress: gr.Progress | None = None) -> tuple[Any, ...]:
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

    def delete(self, path: str | None) -> tuple[Any, ...]:
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

    def documents_view(self) -> tuple[list[list[Any]], Any, Any, str]:
        """The documents table, the document choices for the filter and delete lists, and
        the corpus in one line."""
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
            corpus_line(records),
        )
