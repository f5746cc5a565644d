"""The web chat's page: Gradio components wired to a `WebChat` (askfront.web.chat).

Chat with streamed, cited answers, a sources panel and a document viewer; a Corpus tab to
upload, rebuild and delete; and the `ask` API.
"""

from __future__ import annotations

import logging
from importlib.resources import files
from pathlib import Path
from typing import Any

import gradio as gr

from askfront.core.config import Settings
from askfront.core.protocols import AssistantAPI
from askfront.corpus.files import SUPPORTED_SUFFIXES
from askfront.web.chat import WebChat
from askfront.web.render import DOCUMENT_HEADERS, REPORT_HEADERS, SOURCES_EMPTY, VIEWER_EMPTY
from askfront.web.session import ChatState
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
EMPTY_CHAT = (
    "**Ask about the articles.** Every claim is cited: click or tap a **[n]** to read the "
    "passage, highlighted, in its article."
)

ASSETS = files("askfront.web") / "assets"
APP_CSS_PATH = str(ASSETS / "app.css")  # the page's own styles (launch(css_paths=...))


def asset(name: str) -> str:
    """The text of one of the page's asset files (askfront/web/assets)."""
    return (ASSETS / name).read_text(encoding="utf-8")


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
        # The conversation in the browser's localStorage, encrypted with a key made when the
        # server starts: a reload keeps it; a restarted server starts a fresh chat.
        stored = gr.BrowserState(None, storage_key="askfront-chat")
        with gr.Sidebar(label="Settings", open=False, position="right", elem_id="settings"):
            gr.Markdown("### Settings\nThey apply to the next question.")
            modes = assistant.modes()
            mode = gr.Dropdown(
                modes,
                # The configured backend by default; "extractive" stays one click away.
                value=settings.llm if settings.llm in modes else modes[0],
                label="Answer mode",
                elem_id="mode",
            )
            top_k = gr.Slider(1, 20, value=settings.top_k, step=1, label="Passages to retrieve")
            hybrid = gr.Checkbox(value=settings.hybrid, label="Hybrid search (keywords + meaning)")
            gr.Markdown("#### Filters")
            sources = gr.Dropdown(
                [],
                multiselect=True,
                label="Only these articles (empty: all)",
                elem_id="filter-sources",
            )
            date_from = gr.DateTime(
                include_time=False, type="string", label="From date", elem_id="date-from"
            )
            date_to = gr.DateTime(
                include_time=False, type="string", label="To date", elem_id="date-to"
            )
            clear_filters = gr.Button("Clear filters", size="sm", elem_id="clear-filters")
        with gr.Row(elem_id="header"):
            gr.Markdown("# askfront", elem_id="brand")
            corpus = gr.Markdown(elem_id="corpus-line")
        with gr.Tabs(elem_id="main-tabs"):
            with gr.Tab("Chat", id="chat-tab"), gr.Row(elem_id="chat-row", equal_height=False):
                with gr.Column(scale=3, elem_id="chat-col"):
                    chatbot = gr.Chatbot(
                        label="Conversation",
                        show_label=False,
                        elem_id="chat",
                        height="calc(100vh - 300px)",
                        min_height=320,
                        latex_delimiters=[],  # "$2,000 ... $3,000" must stay text
                        allow_tags=False,
                        feedback_options=("Like", "Dislike"),
                        buttons=[],  # Copy is the answer's own button (plain text)
                        placeholder=EMPTY_CHAT,
                        examples=[{"text": q} for q in EXAMPLES],
                    )
                    chips = gr.HTML("", elem_id="filter-chips", padding=False)
                    with gr.Row(elem_id="ask-row"):
                        question = gr.Textbox(
                            label="Question",
                            placeholder="Ask a question about the articles…",
                            show_label=False,
                            container=False,
                            elem_id="question",
                            scale=5,
                            autofocus=True,
                        )
                        send = gr.Button("Ask", variant="primary", elem_id="ask", scale=1)
                    with gr.Row(elem_id="chat-tools"):
                        clear = gr.Button("New chat", size="sm", elem_id="new-chat", scale=0)
                        export = gr.DownloadButton(
                            "Export chat (Markdown)",
                            size="sm",
                            interactive=False,
                            elem_id="export",
                            scale=0,
                        )
                with gr.Column(scale=2, elem_id="side-panel"):
                    back = gr.Button("← Back to the answer", size="sm", elem_id="back-to-answer")
                    with gr.Tabs(elem_id="side-tabs") as side_tabs:
                        with gr.Tab("Sources", id="sources"):
                            sources_panel = gr.HTML(
                                SOURCES_EMPTY, elem_id="sources-panel", js_on_load=asset("cite.js")
                            )
                        with gr.Tab("Document", id="document"):
                            viewer = gr.HTML(
                                VIEWER_EMPTY, elem_id="doc-viewer", js_on_load=asset("viewer.js")
                            )
            with gr.Tab("Corpus", id="corpus-tab"):
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

        private: dict[str, Any] = {"api_visibility": "private"}
        filters = [sources, date_from, date_to]
        ask_inputs = [question, chatbot, state, mode, top_k, hybrid, *filters]
        ask_outputs = [question, chatbot, state, sources_panel]

        def after_answer(messages: Any, session: ChatState) -> Any:
            """Keep the chat in the browser, refresh the export, show the new sources."""
            return chat.store(messages, session), chat.export(session), gr.Tabs(selected="sources")

        def ask(trigger: Any) -> None:
            trigger(
                chat.respond, ask_inputs, ask_outputs, show_progress_on=[chatbot], **private
            ).then(after_answer, [chatbot, state], [stored, export, side_tabs], **private)

        ask(question.submit)
        ask(send.click)

        # An example asks at once: it fills the question box, then asks.
        def example_text(evt: gr.SelectData) -> str:
            return str(evt.value.get("text", "")) if isinstance(evt.value, dict) else ""

        ask(chatbot.example_select(example_text, None, [question], **private).then)

        # The Chatbot's own trash button must forget the session too.
        for trigger in (clear.click, chatbot.clear):
            trigger(
                chat.new_chat,
                None,
                [chatbot, state, sources_panel, viewer, question, stored, export],
                **private,
            )
        app.load(
            chat.restore,
            [stored],
            [chatbot, state, sources_panel],
            show_progress="hidden",  # no spinner on an empty chat
            **private,
        ).then(chat.export, [state], [export], **private)

        def on_like(session: ChatState, evt: gr.LikeData) -> None:
            chat.rate(session, evt.index, evt.liked)

        chatbot.like(on_like, [state], None, **private)

        def on_cite(session: ChatState, evt: gr.EventData) -> Any:
            data = evt._data if isinstance(evt._data, dict) else {}
            return chat.show_citation(session, str(data.get("cite", ""))), gr.Tabs(
                selected="document"
            )

        sources_panel.click(on_cite, [state], [viewer, side_tabs], **private)
        # Back to the answer (phones): closes the sheet in the page, no server round trip.
        back.click(None, js="() => window.askfrontCloseSheet && window.askfrontCloseSheet()")
        gr.on(
            [sources.change, date_from.change, date_to.change],
            chat.chips,
            filters,
            [chips],
            show_progress="hidden",
            **private,
        )
        clear_filters.click(lambda: ([], None, None), None, filters, **private)

        # Index changes run one at a time in their own group, so chat events never wait
        # behind a rebuild (the Assistant keeps answering from the previous index).
        index_outputs = [report, summary, documents, sources, to_delete, corpus]

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
            show_progress_on=[summary],  # the one place where the work shows
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
            show_progress_on=[summary],
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
            chat.documents_view,
            None,
            [documents, sources, to_delete, corpus],
            show_progress="hidden",
            **private,
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
