"""An OpenAI-compatible chat endpoint: POST /v1/chat/completions (streamed with SSE, or
not) and GET /v1/models, so Open WebUI, LibreChat, editor plugins and every OpenAI SDK can
ask askfront.

- `model` names an answer mode: "askfront" is the configured one (ASKFRONT_LLM),
  "askfront-<mode>" one of the modes the web chat offers (askfront-extractive, ...).
- The last message is the question; earlier user and assistant messages are the history
  (system messages are ignored: askfront follows its own instructions).
- The reply's content is the answer with its [n] markers and a numbered source list; the
  structured citations ride along in `citations`, the rest of the answer in `askfront`.

Auth and the body size are checked before a request gets here (web.apigate); the question
and history limits are the Assistant's and core.history's, and answers take the /ask
API's FIFO limiter, so the three ways in share one queue.
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

import anyio
import anyio.to_thread
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from askfront.core.errors import AskfrontError, QuestionError
from askfront.core.history import parse_history
from askfront.core.options import AskOptions
from askfront.core.types import Answer, Citation, Turn
from askfront.web.chat import GENERIC_ERROR, WebChat

logger = logging.getLogger(__name__)

MODEL = "askfront"
SOURCES_HEADING = "\n\nSources:\n"
_END = object()  # what next() returns once ask_stream is done


class _Message(BaseModel):
    model_config = ConfigDict(extra="ignore")
    role: str
    # A string, or OpenAI's list of content parts ({"type": "text", "text": ...}).
    content: str | list[dict[str, Any]] | None = None


class _ChatRequest(BaseModel):
    model_config = ConfigDict(extra="ignore")  # temperature, max_tokens, ... do not apply
    model: str
    messages: list[_Message] = Field(min_length=1)
    stream: bool = False
    # askfront's own: the day relative dates ("last week") are read against (YYYY-MM-DD);
    # OpenAI SDKs send it with extra_body={"as_of": ...}.
    as_of: str | None = Field(default=None, max_length=40)


class RequestProblem(AskfrontError):
    """A chat request askfront cannot serve; `status` and `code` for the HTTP reply."""

    def __init__(self, message: str, status: int = 400, code: str = "invalid_request_error"):
        super().__init__(message)
        self.status = status
        self.code = code


def _error_response(message: str, status: int, code: str) -> JSONResponse:
    return JSONResponse(
        {"error": {"message": message, "type": code, "code": code}}, status_code=status
    )


def _text(content: str | list[dict[str, Any]] | None) -> str:
    if isinstance(content, str):
        return content
    parts = [p.get("text") for p in content or () if p.get("type") == "text"]
    return "\n".join(p for p in parts if isinstance(p, str))


def _without_sources(text: str) -> str:
    """An earlier reply of ours without its source list, which is no part of the answer
    a follow-up question refers to."""
    return text.split(SOURCES_HEADING, 1)[0]


def question_and_history(
    messages: list[_Message], max_history_chars: int
) -> tuple[str, list[Turn]]:
    """The last user message and the turns before it.

    Raises:
        RequestProblem: if the last message is not the user's, or the history is too long.
    """
    if messages[-1].role != "user":
        raise RequestProblem("The last message must be the user's question (role 'user').")
    turns = [
        {
            "role": m.role,
            "content": _text(m.content) if m.role == "user" else _without_sources(_text(m.content)),
        }
        for m in messages[:-1]
        if m.role in ("user", "assistant")
    ]
    try:
        history = parse_history(turns, max_chars=max_history_chars, what="The earlier messages")
    except QuestionError as exc:
        raise RequestProblem(str(exc)) from None
    return _text(messages[-1].content), history


def _cite_line(c: Citation) -> str:
    where = ", ".join(filter(None, [c.source, c.date]))
    return f"[{c.n}] {c.title or c.source} ({where}): “{c.quote}”"


def source_list(answer: Answer) -> str:
    """The numbered sources (or, for a refusal, the related reading) after the answer."""
    lines = []
    if answer.citations:
        lines.append(SOURCES_HEADING + "\n".join(_cite_line(c) for c in answer.citations))
    elif answer.related:
        related = "\n".join(f"- {c.title or c.source} ({c.source})" for c in answer.related)
        lines.append("\n\nRelated reading:\n" + related)
    if answer.notice and answer.notice != answer.text:
        lines.append(f"\n\nNote: {answer.notice}")
    return "".join(lines)


def _extras(answer: Answer) -> dict[str, Any]:
    data = answer.to_json()
    return {
        "citations": data["citations"],
        "askfront": {k: data[k] for k in ("refused", "notice", "mode", "related", "timings_ms")},
    }


class OpenAIChat:
    """The /v1 routes over the web chat's Assistant and limiter."""

    def __init__(self, chat: WebChat) -> None:
        self.assistant = chat.assistant
        self.limiter = chat.api_limiter
        self.max_history_chars = chat.settings.max_history_chars

    def models(self) -> list[str]:
        return [MODEL] + [f"{MODEL}-{mode}" for mode in self.assistant.modes()]

    def mode(self, model: str) -> str | None:
        """The answer mode `model` names (None: the configured one).

        Raises:
            RequestProblem: for a model askfront does not serve.
        """
        if model == MODEL:
            return None
        if model in self.models():
            return model.removeprefix(MODEL + "-")
        raise RequestProblem(
            f"askfront has no model {model!r}; GET /v1/models lists {', '.join(self.models())}.",
            404,
            "model_not_found",
        )

    def router(self) -> APIRouter:
        router = APIRouter(prefix="/v1")
        router.add_api_route("/models", self.list_models, methods=["GET"])
        router.add_api_route("/chat/completions", self.completions, methods=["POST"])
        return router

    async def list_models(self) -> dict[str, Any]:
        data = [
            {"id": m, "object": "model", "created": 0, "owned_by": "askfront"}
            for m in self.models()
        ]
        return {"object": "list", "data": data}

    async def completions(self, request: Request) -> Any:
        try:
            body = _ChatRequest.model_validate_json(await request.body())
        except ValidationError as exc:
            problem = exc.errors()[0]
            where = ".".join(str(p) for p in problem["loc"]) or "body"
            return _error_response(
                f"Not a chat completion request: {where}: {problem['msg']}.",
                400,
                "invalid_request_error",
            )
        try:
            mode = self.mode(body.model)
            question, history = question_and_history(body.messages, self.max_history_chars)
            options = AskOptions(mode=mode, as_of=body.as_of)
            events = self.assistant.ask_stream(question, history, options)
            # The first step does the work (search, answer): its errors get an HTTP status.
            first = await self._next(events)
        except RequestProblem as exc:
            return _error_response(str(exc), exc.status, exc.code)
        except QuestionError as exc:
            return _error_response(str(exc), 400, "invalid_request_error")
        except AskfrontError as exc:  # no index, the vector store down, ...
            return _error_response(str(exc), 503, "service_unavailable")
        except Exception:
            logger.exception("Unexpected error in /v1/chat/completions")
            return _error_response(GENERIC_ERROR, 500, "server_error")
        reply = _Reply(body.model)
        if body.stream:
            return StreamingResponse(
                self._sse(reply, first, events),
                media_type="text/event-stream",
                headers={"cache-control": "no-cache", "x-accel-buffering": "no"},
            )
        answer = first
        try:
            while not isinstance(answer, Answer):
                answer = await self._next(events)
        except Exception as exc:
            return _error_response(_message(exc), 500, "server_error")
        return reply.completion(answer)

    async def _next(self, events: Iterator[str | Answer]) -> str | Answer:
        """The next event of `events`, computed in a worker thread admitted by the limiter.

        Raises:
            AskfrontError: from the Assistant (and anything unexpected)."""
        event = await anyio.to_thread.run_sync(next, events, _END, limiter=self.limiter)
        if event is _END:  # the Assistant's contract says this cannot happen
            raise RuntimeError("ask_stream ended without an Answer")
        assert isinstance(event, str | Answer)
        return event

    async def _sse(
        self, reply: _Reply, first: str | Answer, events: Iterator[str | Answer]
    ) -> AsyncIterator[str]:
        streamed = ""
        event = first
        try:
            yield reply.chunk({"role": "assistant", "content": ""})
            while not isinstance(event, Answer):
                if event:
                    streamed += event
                    yield reply.chunk({"content": event})
                event = await self._next(events)
            # An answerer may revise what it streamed (say, drop an unsupported sentence):
            # the client keeps what it got, then reads the checked answer.
            tail = (
                event.text[len(streamed) :]
                if event.text.startswith(streamed)
                else ("\n\n" + event.text)
            )
            yield reply.chunk({"content": tail + source_list(event)})
            yield reply.chunk({}, finish="stop", extra=_extras(event))
        except Exception as exc:  # the status is sent: the error goes in the stream
            error = {"message": _message(exc), "type": "server_error", "code": "server_error"}
            yield f"data: {json.dumps({'error': error})}\n\n"
        finally:
            events.close()  # type: ignore[attr-defined]
        yield "data: [DONE]\n\n"


def _message(exc: Exception) -> str:
    if isinstance(exc, AskfrontError):
        return str(exc)
    logger.error("Unexpected error in /v1/chat/completions", exc_info=exc)
    return GENERIC_ERROR


class _Reply:
    """The identity one reply's objects share (id, created, model)."""

    def __init__(self, model: str) -> None:
        self.id = f"chatcmpl-{uuid.uuid4().hex}"
        self.created = int(time.time())
        self.model = model

    def completion(self, answer: Answer) -> dict[str, Any]:
        content = answer.text + source_list(answer)
        return {
            "id": self.id,
            "object": "chat.completion",
            "created": self.created,
            "model": self.model,
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": content},
                    "finish_reason": "stop",
                }
            ],
            # askfront counts no tokens; the fields are there for clients that expect them.
            "usage": {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0},
            **_extras(answer),
        }

    def chunk(
        self,
        delta: dict[str, Any],
        *,
        finish: str | None = None,
        extra: dict[str, Any] | None = None,
    ) -> str:
        data = {
            "id": self.id,
            "object": "chat.completion.chunk",
            "created": self.created,
            "model": self.model,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
            **(extra or {}),
        }
        return f"data: {json.dumps(data)}\n\n"
