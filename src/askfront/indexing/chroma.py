"""Chroma clients: an embedded PersistentClient under the index folder (one per folder and
process), or a `chroma run` server. Never Chroma's default embedding function."""

from __future__ import annotations

import logging
import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from askfront.core.errors import StoreUnavailableError

if TYPE_CHECKING:
    import chromadb

os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ChromaSpec:
    """Where the vectors live: embedded under the index folder, or on a `chroma run` server."""

    mode: Literal["embedded", "server"] = "embedded"
    host: str = "127.0.0.1"
    port: int = 8000

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"


def chroma_client(spec: ChromaSpec, index_dir: Path) -> chromadb.ClientAPI:
    """The Chroma client: embedded under `index_dir`/chroma, or a `chroma run` server.

    Raises:
        StoreUnavailableError: if the Chroma server cannot be reached.
    """
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    chroma_settings = ChromaSettings(anonymized_telemetry=False, allow_reset=False)
    if spec.mode == "server":
        try:
            client = chromadb.HttpClient(host=spec.host, port=spec.port, settings=chroma_settings)
            client.heartbeat()
        except Exception as exc:  # chromadb raises plain ValueError/ConnectionError here
            raise StoreUnavailableError(
                f"Chroma server at {spec.host}:{spec.port} is unreachable "
                f"({exc}). Start it with `chroma run --path DIR --port {spec.port}` "
                "or set ASKFRONT_CHROMA_MODE=embedded."
            ) from exc
        return client
    path = index_dir / "chroma"
    path.mkdir(parents=True, exist_ok=True)
    # One client per folder and process, made under a lock. A client per build meant every
    # rebuild swap made new clients in the web chat's worker threads at once, and under
    # load some failed ("Could not connect to tenant", a stopped System), degrading
    # answers to keyword search (tests/e2e/test_load.py).
    key = str(path.resolve())
    with _EMBEDDED_LOCK:
        if key not in _EMBEDDED_CLIENTS:
            _EMBEDDED_CLIENTS[key] = chromadb.PersistentClient(path=key, settings=chroma_settings)
        return _EMBEDDED_CLIENTS[key]


_EMBEDDED_CLIENTS: dict[str, chromadb.ClientAPI] = {}
_EMBEDDED_LOCK = threading.Lock()


def reset_chroma_client(spec: ChromaSpec, index_dir: Path) -> None:
    """Close this process's embedded Chroma client for `index_dir`; the next use opens a
    fresh one. After a write failed midway (a full disk), Chroma's in-process state can make
    every later write in the process hang, even once there is space again."""
    if spec.mode != "embedded":
        return
    key = str((index_dir / "chroma").resolve())
    with _EMBEDDED_LOCK:
        client = _EMBEDDED_CLIENTS.pop(key, None)
    close = getattr(client, "close", None)  # chromadb's Client has it; ClientAPI does not
    if close is not None:
        try:
            close()  # stops Chroma's shared System for the folder: this is its last client
        except Exception as exc:
            logger.warning("Closing the Chroma client for %s failed: %s", key, exc)
