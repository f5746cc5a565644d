"""Launching the web chat: the bind address checked (no password, no public address), the
request guard installed, the index warmed up, and a clean stop on Ctrl+C or SIGTERM.

One server, one port: a FastAPI app holds the OpenAI-compatible /v1 routes
(web.openai_api) with the Gradio app mounted beside them at "/" (gr.mount_gradio_app),
Gradio's MCP server included (/gradio_api/mcp). The request guard (Host, Origin, uploads)
and the API gate (Bearer token, body size) wrap the whole app, so every route passes them.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import socket
import threading
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import gradio as gr
import uvicorn
from fastapi import FastAPI
from starlette.middleware import Middleware

from askfront.assistant import Assistant
from askfront.core.config import Settings
from askfront.core.errors import AskfrontError, ConfigError
from askfront.core.options import AskOptions
from askfront.core.protocols import AssistantAPI
from askfront.web.apigate import ApiGate, body_limit
from askfront.web.app import APP_CSS_PATH, asset, build_app
from askfront.web.chat import WebChat
from askfront.web.guard import HostPolicy, RequestGuard, UploadLimits, is_loopback
from askfront.web.openai_api import OpenAIChat
from askfront.web.tools import json_tool_results
from askfront.web.uploads import remove_partials

logger = logging.getLogger(__name__)


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


def _held_upload_bytes(blocks: gr.Blocks) -> int:
    """The bytes of this server's uploads still in Gradio's upload folder; names of files
    already gone are dropped from Gradio's set."""
    held = blocks.upload_file_set
    total = 0
    for name in list(held):
        try:
            total += os.stat(name).st_size
        except OSError:
            held.discard(name)  # saved and discarded, or deleted by delete_cache
    return total


# Asked once before the server says it is ready: the first question of a fresh process
# costs seconds (the embedding model, Chroma's first query, the second hop's first search);
# a question that searches (a listing of the collection would not) pays them here.
WARM_UP_QUESTION = "What did the report say about the cost of it?"


def _warm_up(assistant: AssistantAPI) -> None:
    """Load the embedding model and index, and answer once, before the first question."""
    try:
        assistant.retriever()
        started = time.perf_counter()
        assistant.ask(WARM_UP_QUESTION, options=AskOptions(mode="extractive"))
        logger.info("Warmed up: a first answer in %.0f ms", (time.perf_counter() - started) * 1e3)
    except AskfrontError as exc:
        logger.warning("%s Build it in the Corpus tab or with `askfront index`.", exc)
    except Exception:
        logger.exception("Could not preload the index")


def _warm_up_http(url: str | None) -> None:
    """One answer through the server itself: Gradio's first API request costs ~1.5 s more
    than the next (route and payload machinery set up on first use)."""
    if not url:
        return
    body = json.dumps({"data": [WARM_UP_QUESTION, "[]"]}).encode()
    request = urllib.request.Request(
        url.rstrip("/") + "/gradio_api/run/ask", body, {"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            response.read()
    except OSError as exc:  # behind auth, say: the warm-up is only an optimization
        logger.info("HTTP warm-up skipped (%s)", exc)


def _guard(settings: Settings, held_bytes: Any) -> Middleware:
    return Middleware(
        RequestGuard,
        hosts=HostPolicy.for_bind(
            settings.host, loopback=is_loopback(settings.host), allowed=settings.allowed_hosts
        ),
        uploads=UploadLimits(
            max_files=settings.max_upload_files,
            max_bytes=int(settings.max_upload_total_mb * 1024 * 1024),
            held_bytes=held_bytes,
        ),
    )


def page_options(settings: Settings) -> dict[str, Any]:
    """What Blocks.launch and gr.mount_gradio_app both take (after check_bind's verdict)."""
    system_fonts = ["ui-sans-serif", "system-ui", "sans-serif"]
    mono_fonts = ["ui-monospace", "monospace"]
    return {
        "server_name": settings.host,
        "server_port": settings.port,
        "auth": check_bind(settings),
        "max_file_size": int(settings.max_upload_mb * 1024 * 1024),
        "ssr_mode": False,  # no Node.js server
        "show_error": False,  # users get messages, not tracebacks
        "footer_links": ["api"],
        "css_paths": [APP_CSS_PATH],
        "js": asset("app.js"),
        # Offline by default: no Google Fonts request from the browser.
        "theme": gr.themes.Default(font=system_fonts, font_mono=mono_fonts),
    }


def launch_options(settings: Settings) -> dict[str, Any]:
    """Keyword arguments for Blocks.launch: the Gradio app alone, with the request guard."""
    # scope["app"] is the Gradio app: the guard runs inside it.
    guard = _guard(settings, lambda scope: _held_upload_bytes(scope["app"].get_blocks()))
    return {
        **page_options(settings),
        # Passed on to FastAPI: every request passes the guard before any of Gradio's routes.
        "app_kwargs": {"middleware": [guard]},
        # Gradio's static-file workers (GRADIO_NUM_WORKERS) would take uploads past it.
        "num_workers": 0,
    }


def build_server(assistant: AssistantAPI, settings: Settings) -> FastAPI:
    """The whole server as one ASGI app: /v1 routes, and the Gradio app with its MCP server.

    Raises:
        ConfigError: if the settings would expose it beyond loopback unprotected.
    """
    options = page_options(settings)  # checks the bind address before anything is built
    chat = WebChat(assistant, settings)
    blocks = build_app(assistant, settings, chat=chat)
    limit = body_limit(settings.max_question_chars, settings.max_history_chars)
    app = FastAPI(
        # The guard first, then the gate, then the routes. Outside Gradio's own CORS
        # layer: preflight requests (OPTIONS, which change nothing) pass the guard's Host
        # check and are then answered by Gradio as before.
        middleware=[
            _guard(settings, lambda scope: _held_upload_bytes(blocks)),
            Middleware(ApiGate, token=settings.auth, max_body=limit),
        ],
        docs_url=None,  # the API is documented in the README; no page to probe
        redoc_url=None,
        openapi_url=None,
    )
    app.include_router(OpenAIChat(chat).router())
    gr.mount_gradio_app(app, blocks, path="/", mcp_server=True, **options)
    json_tool_results(blocks)
    return app


def _bind(settings: Settings) -> socket.socket:
    """A socket listening on the configured address, or a message naming the setting.

    Raises:
        ConfigError: if the port is taken or the address is not this machine's.
    """
    host = settings.host.strip("[]")
    try:
        family, kind, proto, _, address = socket.getaddrinfo(
            host, settings.port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )[0]
        sock = socket.socket(family, kind, proto)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
    except OSError as exc:
        raise ConfigError(
            f"Cannot listen on {settings.host}:{settings.port} ({exc}). Is the web chat "
            "already running? Stop it, or pick another port with ASKFRONT_PORT "
            "(askfront serve --port)."
        ) from None
    sock.set_inheritable(True)
    return sock


def _announce(assistant: AssistantAPI, server: uvicorn.Server, url: str) -> None:
    """Warm up (in process, then one answer over HTTP), then say the server is ready."""
    _warm_up(assistant)
    while not server.started and not server.should_exit:
        time.sleep(0.05)
    _warm_up_http(url)
    print(f"* Running on local URL:  {url}  (Ctrl+C to stop)", flush=True)
    print(f"* MCP server (streamable HTTP): {url}gradio_api/mcp/", flush=True)
    print(f"* OpenAI-compatible API: {url}v1", flush=True)


def _url(settings: Settings) -> str:
    host = settings.host.strip("[]")
    if host in ("", "0.0.0.0", "::"):
        host = "localhost"
    return f"http://[{host}]:{settings.port}/" if ":" in host else f"http://{host}:{settings.port}/"


def _uvicorn(app: FastAPI) -> uvicorn.Server:
    # A few seconds for open streams (an MCP client's event stream) at shutdown.
    config = uvicorn.Config(app, log_level="warning", timeout_graceful_shutdown=5)
    return uvicorn.Server(config)


@dataclass
class Running:
    url: str
    server: uvicorn.Server


@contextmanager
def running(assistant: AssistantAPI, settings: Settings) -> Iterator[Running]:
    """The whole server in a background thread (tests, benchmarks); stopped on exit.

    Raises:
        ConfigError: as `serve` does.
    """
    app = build_server(assistant, settings)
    sock = _bind(settings)
    server = _uvicorn(app)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    while not server.started and thread.is_alive():
        threading.Event().wait(0.05)
    try:
        yield Running(_url(settings), server)
    finally:
        server.should_exit = True
        thread.join(30)
        sock.close()


def serve(settings: Settings, *, assistant: AssistantAPI | None = None) -> None:
    """Serve the web chat, its MCP server and the OpenAI-compatible API until interrupted.

    Raises:
        ConfigError: if the settings would expose it beyond loopback unprotected, or the
            port is taken.
    """
    check_bind(settings)  # before anything loads
    remove_partials(settings.corpus_dir)  # left by a server killed while saving an upload
    assistant = assistant or Assistant(settings)
    app = build_server(assistant, settings)
    sock = _bind(settings)
    server = _uvicorn(app)
    # "Running" means ready: the first answer comes as fast as the next ones.
    threading.Thread(
        target=_announce, args=(assistant, server, _url(settings)), daemon=True
    ).start()
    if threading.current_thread() is threading.main_thread():
        # uvicorn stops gracefully on SIGINT or SIGTERM (the lifespan's end runs Gradio's
        # delete_cache), then raises the signal again: by then there is nothing to do.
        signal.signal(signal.SIGTERM, lambda signum, frame: None)
    try:
        server.run(sockets=[sock])
    except KeyboardInterrupt:
        pass
    finally:
        sock.close()
