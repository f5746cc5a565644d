"""The gate in front of the machine APIs (the OpenAI-compatible /v1 routes and Gradio's MCP
server): ASKFRONT_AUTH as a Bearer token, and a bounded request body. ASGI middleware.

The web page logs in with Gradio's own form (ASKFRONT_AUTH's user and password); OpenAI
and MCP clients cannot fill in a form, and send `Authorization: Bearer <token>` instead,
the token being the whole ASKFRONT_AUTH value. Gradio's login does not cover its MCP
routes, and FastAPI's HTTPBearer would cover only our own routes, hence one middleware for
both. Bodies are read whole here (they are small JSON) so that neither the MCP SDK nor our
routes ever buffer more than `max_body` bytes of one request.
"""

from __future__ import annotations

import hmac
import json
import logging
from collections.abc import Sequence

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

logger = logging.getLogger(__name__)

API_PREFIXES = ("/v1/", "/gradio_api/mcp")


async def _refuse(send: Send, status: int, message: str, code: str) -> None:
    """An OpenAI-style error body, which OpenAI clients show as the error's message."""
    body = json.dumps({"error": {"message": message, "type": code, "code": code}}).encode()
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
    ]
    if status == 401:
        headers.append((b"www-authenticate", b'Bearer realm="askfront"'))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


class ApiGate:
    """Bearer token and body size for the API paths; every other path passes untouched."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        token: str | None,
        max_body: int,
        prefixes: Sequence[str] = API_PREFIXES,
    ) -> None:
        self.app = app
        self.token = token.encode("utf-8") if token else None
        self.max_body = max_body
        self.prefixes = tuple(prefixes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(self.prefixes):
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        if self.token is not None and not self._authorized(headers):
            logger.warning("Refused %s %s: no valid Bearer token", scope["method"], scope["path"])
            await _refuse(
                send,
                401,
                "This askfront server needs a Bearer token: send the ASKFRONT_AUTH value "
                "(user:password) as the API key.",
                "invalid_api_key",
            )
            return
        declared = headers.get("content-length", "")
        if declared.isdigit() and int(declared) > self.max_body:
            await self._too_large(send, int(declared))
            return
        body = b""
        more = True
        while more:
            message = await receive()
            if message["type"] != "http.request":  # the client went away
                return
            body += message.get("body", b"")
            more = message.get("more_body", False)
            if len(body) > self.max_body:
                await self._too_large(send, len(body))
                return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()  # then the disconnect, when it comes

        await self.app(scope, replay, send)

    def _authorized(self, headers: Headers) -> bool:
        scheme, _, credentials = headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or self.token is None:
            return False
        return hmac.compare_digest(credentials.strip().encode("utf-8"), self.token)

    async def _too_large(self, send: Send, size: int) -> None:
        message = (
            f"The request is {size:,} bytes or more; the limit is {self.max_body:,} "
            "(from ASKFRONT_MAX_QUESTION_CHARS and ASKFRONT_MAX_HISTORY_CHARS). Send a "
            "shorter question or fewer earlier messages."
        )
        logger.warning("Refused an API request: %s", message)
        await _refuse(send, 413, message, "request_too_large")


def body_limit(max_question_chars: int, max_history_chars: int) -> int:
    """Bytes an API request may take: the question and the history at their limits, each
    character written as a 6-byte JSON escape (\\uXXXX), plus 64 KiB for the rest."""
    return 6 * (max_question_chars + max_history_chars) + 64 * 1024
