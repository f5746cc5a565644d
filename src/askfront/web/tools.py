"""The read-only API endpoints, which Gradio's MCP server also offers as MCP tools.

`register_tools` adds them to the Blocks being built: `ask` (the documented /ask API), then
`search` and `list_documents`. Gradio names each MCP tool after its function and describes
it from the docstring ("Args:" lines become the parameters' descriptions), so the
docstrings here are written for an agent deciding which tool to call. Nothing that writes
(upload, rebuild, delete) is registered: those events are private to the page.
"""

from __future__ import annotations

import json
import logging
from typing import Any

import anyio.to_thread
import gradio as gr

from askfront.core.errors import AskfrontError
from askfront.web.chat import GENERIC_ERROR, WebChat, ask_options

logger = logging.getLogger(__name__)

MAX_SOURCES = 100  # article paths one search may be restricted to


def _error(exc: Exception) -> gr.Error:
    """The message a client sees; unexpected errors are logged in full, never shown."""
    if isinstance(exc, AskfrontError):
        return gr.Error(str(exc), print_exception=False)
    logger.exception("Unexpected error in an API tool", exc_info=exc)
    return gr.Error(GENERIC_ERROR, print_exception=False)


def register_tools(chat: WebChat) -> None:
    """Add the `ask`, `search` and `list_documents` endpoints to the Blocks being built.

    Not queued: each answers in one request (Gradio's queue costs more than an answer),
    and they share the /ask API's FIFO limiter, so MCP calls, API calls and the OpenAI
    endpoint (which uses it too) take turns rather than contend."""
    assistant = chat.assistant
    max_k = 50  # Settings.top_k's own bound

    async def ask(question: str, history_json: str = "[]") -> dict[str, Any]:
        """Answer a question about the indexed news articles, with every claim cited.

        Use this for a question a person would ask (a fact, an overview, a cause, a
        comparison, which articles or how many): the answer holds [n] markers, and
        `citations` gives each [n]'s article, character offsets and exact quote. When the
        articles do not say, `refused` is true and `related` lists the closest passages;
        do not invent an answer then. For raw passages without an answer, use `search`.

        Args:
            question: The question, in plain words (at most ASKFRONT_MAX_QUESTION_CHARS).
            history_json: Earlier turns (follow-ups): JSON [{"role", "content"}, ...], or "[]".
        Returns:
            The answer's JSON: answer, refused, citations, related, notice, mode, timings_ms.
        """
        return await chat.api_ask(question, history_json)

    async def search(
        query: str,
        k: int = 5,
        sources: list[str] | None = None,
        date_from: str = "",
        date_to: str = "",
    ) -> dict[str, Any]:
        """Find the passages of the indexed news articles that best match a query.

        Use this to read the sources yourself: to check a claim, gather material on a
        topic, or quote an article. Each passage gives its article (`source`, title, date)
        and the character offsets `start`/`end` of its text in the article. It does not
        answer; for a cited answer use `ask`. `list_documents` gives the article paths
        that `sources` accepts.

        Args:
            query: What to look for: keywords or a question.
            k: How many passages to return (1 to 50).
            sources: Only search these articles (paths as list_documents gives them); empty for all.
            date_from: Only articles dated on or after this day (YYYY-MM-DD); empty for no limit.
            date_to: Only articles dated on or before this day (YYYY-MM-DD); empty for no limit.
        Returns:
            {"query", "passages", "notice"}; each passage has rank, source, title, date,
            start, end, page, text and score.
        """
        try:
            if not isinstance(k, int) or not 1 <= k <= max_k:
                raise AskfrontError(f"k must be a whole number from 1 to {max_k}, not {k!r}.")
            if sources is not None and (
                not isinstance(sources, list)
                or len(sources) > MAX_SOURCES
                or not all(isinstance(s, str) for s in sources)
            ):
                raise AskfrontError(
                    f"sources must be a list of at most {MAX_SOURCES} article paths."
                )
            options = ask_options(None, k, None, sources, date_from, date_to)
            result = await anyio.to_thread.run_sync(
                lambda: assistant.search(query, options), limiter=chat.api_limiter
            )
        except Exception as exc:
            raise _error(exc) from None
        passages = [
            {
                "rank": n,
                "source": p.source,
                "title": p.title,
                "date": p.date,
                "start": p.chunk.start,
                "end": p.chunk.end,
                "page": p.chunk.page,
                "text": p.chunk.text,
                "score": round(float(p.score), 4),
            }
            for n, p in enumerate(result.passages, 1)
        ]
        return {"query": query, "passages": passages, "notice": result.notice}

    def list_documents() -> dict[str, Any]:
        """List the news articles in the index: path, title, date, chunks and status.

        Use this to learn what the collection holds before asking or searching, or to get
        the paths that `search` accepts in `sources`. Failed files are listed with their
        error; they cannot be searched.

        Returns:
            {"documents": [{"path", "title", "date", "chunks", "status", "error"}]}.
        """
        try:
            records = assistant.documents()
        except Exception as exc:
            raise _error(exc) from None
        return {
            "documents": [
                {
                    "path": r.path,
                    "title": r.title,
                    "date": r.date,
                    "chunks": r.chunks,
                    "status": r.status,
                    "error": r.error,
                }
                for r in records
            ]
        }

    gr.api(ask, api_name="ask", queue=False)
    gr.api(search, api_name="search", queue=False)
    gr.api(list_documents, api_name="list_documents", queue=False)


def json_tool_results(blocks: gr.Blocks) -> None:
    """Make the MCP server give each tool's dict result as JSON text.

    Gradio's MCP server turns a result into text with str(), which for a dict is Python's
    repr (single quotes, None, True): an agent can read it, a program cannot parse it.
    This wraps its output step so dicts and lists become JSON; everything else (files,
    images) is left to Gradio.
    """
    server = getattr(blocks, "mcp_server_obj", None)
    if server is None:
        return
    original = server.postprocess_output_data

    def postprocess(data: Any, root_url: str) -> list[Any]:
        from mcp import types

        if isinstance(data, list) and all(isinstance(d, dict | list) for d in data):
            return [types.TextContent(type="text", text=json.dumps(d)) for d in data]
        return list(original(data, root_url))

    server.postprocess_output_data = postprocess
