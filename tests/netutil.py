"""Loopback helpers shared by the tests that start servers (Chroma, the web chat, fake LLMs)."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from askfront.core.config import Settings

APP = Path(__file__).resolve().parent.parent / "app.py"
SERVE_TIMEOUT_S = 900  # a ceiling against hangs, far above a start on a loaded machine
STOP_TIMEOUT_S = 120  # likewise for a graceful stop


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def chroma_run(path: Path) -> Iterator[tuple[int, subprocess.Popen[bytes]]]:
    """A real `chroma run` server over `path` on a free loopback port.

    Yields (port, process) once the port accepts connections; stopped on exit (if the test
    has not killed it already).
    """
    exe = Path(sys.executable).parent / "chroma"
    if not exe.exists():
        exe = Path(shutil.which("chroma") or "chroma")
    port = free_port()
    proc = subprocess.Popen(
        [str(exe), "run", "--path", str(path), "--port", str(port), "--host", "127.0.0.1"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        wait_for_port(port, proc)
        yield port, proc
    finally:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def wait_for_port(port: int, proc: subprocess.Popen[bytes] | None = None) -> None:
    """Until 127.0.0.1:`port` accepts a connection (SERVE_TIMEOUT_S, a hang guard)."""
    deadline = time.monotonic() + SERVE_TIMEOUT_S
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            pytest.fail(f"the server on port {port} exited with {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.2)
    pytest.fail(f"nothing listened on port {port} within {SERVE_TIMEOUT_S} s")


@dataclass
class AppProcess:
    url: str
    env: dict[str, str]  # what the app runs with, for CLI commands against the same index
    log: Path  # its stdout and stderr


@contextmanager
def serve_app(
    settings: Settings, root: Path, extra_env: dict[str, str] | None = None
) -> Iterator[AppProcess]:
    """`python app.py` on a free loopback port over `settings`' corpus and index folders
    (plus `extra_env`).

    Yields once the page answers HTTP 200; the process is stopped on exit. It runs in
    `root` (so no stray .env from the checkout changes its settings) and logs there.
    """
    port = free_port()
    env = {
        **os.environ,
        "ASKFRONT_HOST": "127.0.0.1",
        "ASKFRONT_PORT": str(port),
        "ASKFRONT_CORPUS_DIR": str(settings.corpus_dir),
        "ASKFRONT_INDEX_DIR": str(settings.index_dir),
        "HF_HUB_OFFLINE": "1",
        "ANONYMIZED_TELEMETRY": "False",
        "GRADIO_ANALYTICS_ENABLED": "False",
        "PYTHONUNBUFFERED": "1",
        **(extra_env or {}),
    }
    log = root / "server.log"
    url = f"http://127.0.0.1:{port}/"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, str(APP)], cwd=root, env=env, stdout=out, stderr=out
        )
    try:
        _wait_until_serving(url, proc, log)
        yield AppProcess(url, env, log)
    finally:
        proc.terminate()  # the app stops as on Ctrl+C, deleting its temporary files
        try:
            proc.wait(timeout=STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _wait_until_serving(url: str, proc: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + SERVE_TIMEOUT_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"app.py exited with {proc.returncode}:\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    pytest.fail(f"app.py did not answer on {url}:\n{log.read_text()[-3000:]}")


@contextmanager
def http_server(
    respond: Callable[[BaseHTTPRequestHandler, dict[str, Any]], None],
) -> Iterator[tuple[str, list[dict[str, Any]]]]:
    """A local HTTP server on 127.0.0.1; `respond(handler, json_body)` answers each POST.
    Yields the base URL and the list of request bodies received."""
    bodies: list[dict[str, Any]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            size = int(self.headers.get("Content-Length", 0))
            body = json.loads(self.rfile.read(size) or b"{}")
            bodies.append({"path": self.path, **body})
            # The client may give up first (the timeout tests).
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                respond(self, body)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", bodies
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
