"""The web chat's page: Gradio components wired to a `WebChat` (askfront.web.chat).

Chat with streamed, cited answers, a sources panel and a document viewer; a Corpus tab to
upload, rebuild and delete; and the `ask` API.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import gradio as gr

from askfront.core.config import Settings
from askfront.core.protocols import AssistantAPI
from askfront.corpus.files import SUPPORTED_SUFFIXES
from askfront.web.chat import ChatState, WebChat
from askfront.web.render import DOCUMENT_HEADERS, REPORT_HEADERS, SOURCES_EMPTY, VIEWER_EMPTY
from askfront.web.tools import register_tools
from askfront.web.uploads import discard_upload

logger = logging.getLogger(__name__)

EXAMPLES = [
    "How many foreigners serve in Ukraine's international legion?",
    "How much are Nepali recruits paid?",
    "Who is Ramchandra Khadka?",
    "What did Emmanuel Macron say about sending troops?",
]
UPLOAD_TYPES = list(SUPPORTED_SUFFIXES)

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

# Global (not component-scoped) because the Chatbot renders the inline markers.
APP_CSS = """
#chat a[href^="#cite-"] { font-weight: 600; text-decoration: none; color: var(--color-accent); }
"""


def build_app(
    assistant: AssistantAPI, settings: Settings, *, chat: WebChat | None = None
) -> gr.Blocks:
    """The Gradio app (queued, not launched); `chat` if the server shares its /ask limiter
    with other routes (web.serve)."""
    chat = chat or WebChat(assistant, settings)
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
        # The ask, search and list_documents API endpoints, also Gradio's MCP tools. Not
        # queued: an API answer takes ~30 ms, and Gradio's queue (two requests and an event
        # stream per call) cost more than the answer under 50 concurrent clients.
        # POST /gradio_api/run/ask answers in one request; gradio_client also works.
        register_tools(chat)
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
