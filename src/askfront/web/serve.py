"""Launching the web chat: the bind address checked (no password, no public address), the
request guard installed, the index warmed up, and a clean stop on Ctrl+C or SIGTERM."""

from __future__ import annotations

import json
import logging
import os
import signal
import threading
import time
import urllib.request
from typing import Any

import gradio as gr
from starlette.middleware import Middleware

from askfront.assistant import Assistant
from askfront.core.config import Settings
from askfront.core.errors import AskfrontError, ConfigError
from askfront.web.app import APP_CSS_PATH, asset, build_app
from askfront.web.guard import HostPolicy, RequestGuard, UploadLimits, is_loopback
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


# Asked once before the server says it is ready: the first question of a fresh process
# costs seconds (the embedding model, Chroma's first query, the second hop's first search);
# a question that searches (a listing of the collection would not) pays them here.
WARM_UP_QUESTION = "What did the report say about the cost of it?"


def _warm_up(assistant: Assistant) -> None:
    """Load the embedding model and index, and answer once, before the first question."""
    try:
        assistant.retriever()
        started = time.perf_counter()
        assistant.ask(WARM_UP_QUESTION, mode="extractive")
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
        "css_paths": [APP_CSS_PATH],
        "js": asset("app.js"),
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
    warm = threading.Thread(target=_warm_up, args=(assistant,), daemon=True)
    warm.start()
    try:
        # quiet: Gradio's banner suggests share=True, which askfront never uses.
        app.launch(prevent_thread_lock=True, quiet=True, **options)
    except OSError as exc:  # Gradio's message names its own knobs, not ours
        raise ConfigError(
            f"Cannot listen on {settings.host}:{settings.port} ({exc}). Is the web chat "
            "already running? Stop it, or pick another port with ASKFRONT_PORT "
            "(askfront serve --port)."
        ) from None
    warm.join()  # "Running" means ready: the first answer comes as fast as the next ones
    _warm_up_http(app.local_url)
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
