"""Stateless replicas, with real processes on loopback: one `chroma run`, one indexer
(`askfront index`) and `askfront serve` replicas that get only the Chroma address and an
empty cache folder each (no shared index folder, no corpus).

Propagation times are measured and printed (run with -s to see them), never asserted.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from netutil import SERVE_TIMEOUT_S, STOP_TIMEOUT_S, free_port

pytestmark = [pytest.mark.slow, pytest.mark.timeout(1800)]

CEILING_S = 300  # per change: a ceiling against hangs, far above the ~seconds it takes

ARTICLES = {
    "festival.md": (
        "Zorblat festival returns",
        "The Zorblat festival takes place in Quenford every June. Thousands of visitors "
        "come for the lantern parade. The organisers said attendance doubled this year.",
    ),
    "river.md": (
        "Melvane floods again",
        "The river Melvane floods each spring. The mayor of Melvane is Tessa Brandl, who "
        "promised new levees. Farmers downstream asked for compensation.",
    ),
}
BRIDGE = (
    "Kaltrop bridge history",
    "The Kaltrop bridge was opened in 1932 by the engineer Ivo Ramsk. It spans the gorge "
    "north of the town. Repairs are planned for next year.",
)
NEW_MAYOR = (
    "The river Melvane floods each spring. The mayor of Melvane is Orla Penn, who was "
    "elected in March. Farmers downstream asked for compensation."
)
FILLERS = 40  # more documents, so that a replica's first fill takes long enough to kill


def _write(folder: Path, name: str, title: str, body: str) -> None:
    (folder / name).write_text(f'---\ntitle: "{title}"\ndate: "2024-03-01"\n---\n\n{body}\n')


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ASKFRONT_")}
    return {**env, "HF_HUB_OFFLINE": "1", "ANONYMIZED_TELEMETRY": "False",
            "GRADIO_ANALYTICS_ENABLED": "False", "PYTHONUNBUFFERED": "1", **extra}  # fmt: skip


@dataclass
class Chroma:
    path: Path
    port: int
    proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        exe = Path(sys.executable).parent / "chroma"
        if not exe.exists():
            exe = Path(shutil.which("chroma") or "chroma")
        self.proc = subprocess.Popen(
            [str(exe), "run", "--path", str(self.path), "--port", str(self.port),
             "--host", "127.0.0.1"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return
            except OSError:
                time.sleep(0.2)
        pytest.fail("chroma run did not start within 120 s")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=STOP_TIMEOUT_S)
        self.proc = None


@dataclass
class Replica:
    name: str
    cache: Path
    chroma_port: int
    proc: subprocess.Popen[bytes] | None = None
    url: str = ""

    @property
    def log(self) -> Path:
        return self.cache.parent / f"{self.name}.log"

    def start(self, wait: bool = True) -> None:
        port = free_port()
        self.url = f"http://127.0.0.1:{port}/"
        empty = self.cache.parent / f"{self.name}-corpus"  # never read: the replica has none
        empty.mkdir(exist_ok=True)
        env = _env(ASKFRONT_CHROMA_MODE="server", ASKFRONT_CHROMA_PORT=str(self.chroma_port),
                   ASKFRONT_INDEX_DIR=str(self.cache), ASKFRONT_CORPUS_DIR=str(empty))  # fmt: skip
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "askfront.cli", "serve", "--port", str(port)],
                cwd=self.cache.parent, env=env, stdout=out, stderr=out,
            )  # fmt: skip
        if wait:
            self.wait_serving()

    def wait_serving(self) -> None:
        deadline = time.monotonic() + SERVE_TIMEOUT_S
        while time.monotonic() < deadline:
            assert self.proc is not None
            if self.proc.poll() is not None:
                pytest.fail(f"{self.name} exited:\n{self.log.read_text()[-3000:]}")
            try:
                with urllib.request.urlopen(self.url, timeout=5) as response:
                    if response.status == 200:
                        return
            except OSError:
                time.sleep(0.3)
        pytest.fail(f"{self.name} did not serve:\n{self.log.read_text()[-3000:]}")

    def ask(self, question: str) -> dict[str, Any]:
        body = json.dumps({"data": [question, "[]"]}).encode()
        request = urllib.request.Request(
            f"{self.url}gradio_api/run/ask", body, {"Content-Type": "application/json"}
        )
        with urllib.request.urlopen(request, timeout=120) as response:
            return dict(json.loads(response.read())["data"][0])

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(sig)
            self.proc.wait(timeout=STOP_TIMEOUT_S)
        self.proc = None


def _sources(answer: dict[str, Any]) -> set[str]:
    return {c["source"] for c in answer.get("citations") or ()}


def _until(
    replicas: list[Replica], question: str, ok: Callable[[dict[str, Any]], bool]
) -> dict[str, float]:
    """Ask every replica until `ok(answer)`; seconds each took. Fails after CEILING_S."""
    started = time.monotonic()
    took: dict[str, float] = {}
    last: dict[str, Any] = {}
    while len(took) < len(replicas) and time.monotonic() - started < CEILING_S:
        for r in replicas:
            if r.name in took:
                continue
            try:
                last[r.name] = r.ask(question)
            except OSError as exc:
                last[r.name] = {"error": str(exc)}
                continue
            if ok(last[r.name]):
                took[r.name] = round(time.monotonic() - started, 2)
        time.sleep(0.2)
    assert len(took) == len(replicas), f"{question!r} never answered as expected: {last}"
    return took


@contextmanager
def _running(*things: Chroma | Replica) -> Iterator[None]:
    try:
        yield
    finally:
        for thing in reversed(things):
            try:
                thing.stop()
            except Exception:  # stop the others anyway
                if thing.proc is not None:
                    thing.proc.kill()


def test_replicas_follow_the_indexer_through_chroma_alone(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for name, (title, body) in ARTICLES.items():
        _write(corpus, name, title, body)
    for i in range(FILLERS):
        _write(corpus, f"filler-{i:02d}.md", f"Filler {i}",
               f"Filler article number {i} mentions the village of Hobb{i} twice. "
               f"Hobb{i} has a bakery and a school.")  # fmt: skip
    chroma = Chroma(tmp_path / "chroma-server", free_port())
    indexer_env = _env(ASKFRONT_CHROMA_MODE="server", ASKFRONT_CHROMA_PORT=str(chroma.port),
                       ASKFRONT_CORPUS_DIR=str(corpus),
                       ASKFRONT_INDEX_DIR=str(tmp_path / "indexer"))  # fmt: skip

    def index() -> None:
        done = subprocess.run(
            [sys.executable, "-m", "askfront.cli", "index"], env=indexer_env, cwd=tmp_path,
            capture_output=True, text=True, timeout=SERVE_TIMEOUT_S,
        )  # fmt: skip
        assert done.returncode == 0, done.stdout + done.stderr

    a = Replica("a", tmp_path / "cache-a", chroma.port)
    b = Replica("b", tmp_path / "cache-b", chroma.port)
    c = Replica("c", tmp_path / "cache-c", chroma.port)
    both = [a, b]
    measured: dict[str, dict[str, float]] = {}
    with _running(chroma, a, b, c):
        chroma.start()
        index()
        for r in both:
            r.start()
        measured["cold start"] = _until(
            both, "Where does the Zorblat festival take place?",
            lambda ans: "Quenford" in ans["answer"] and "festival.md" in _sources(ans),
        )  # fmt: skip

        # Add a document.
        _write(corpus, "bridge.md", *BRIDGE)
        index()
        measured["added"] = _until(
            both, "Who opened the Kaltrop bridge?",
            lambda ans: "Ivo Ramsk" in ans["answer"] and "bridge.md" in _sources(ans),
        )  # fmt: skip

        # Change one.
        _write(corpus, "river.md", "Melvane floods again", NEW_MAYOR)
        index()
        measured["changed"] = _until(
            both, "Who is the mayor of Melvane?",
            lambda ans: "Orla Penn" in ans["answer"] and "Tessa Brandl" not in ans["answer"],
        )  # fmt: skip

        # Delete one.
        (corpus / "festival.md").unlink()
        index()
        measured["deleted"] = _until(
            both, "Where does the Zorblat festival take place?",
            lambda ans: "festival.md" not in _sources(ans) and "Quenford" not in ans["answer"],
        )  # fmt: skip

        # The cache is only a cache: deleted under a running replica, it is filled again.
        shutil.rmtree(b.cache / "replica")
        _until([b], "Who opened the Kaltrop bridge?", lambda ans: "bridge.md" in _sources(ans))
        _filled(b, tmp_path / "indexer")

        # The Chroma server goes down: both answer from their caches, and say so.
        chroma.stop()
        for r in both:
            down = r.ask("Who opened the Kaltrop bridge?")
            assert "Ivo Ramsk" in down["answer"] and "bridge.md" in _sources(down)
            assert down["notice"] and "unavailable" in down["notice"]

        # It comes back: both recover (no notice), and follow the next change again.
        chroma.start()
        measured["recovered"] = _until(
            both, "Who opened the Kaltrop bridge?",
            lambda ans: "Ivo Ramsk" in ans["answer"] and not ans["notice"],
        )  # fmt: skip

        # A third replica is killed during its first fill from Chroma, then restarted.
        c.start(wait=False)
        fill_started = c.cache / "replica" / "builds"
        deadline = time.monotonic() + SERVE_TIMEOUT_S
        while not any(fill_started.glob("*/docstore.sqlite3")) and time.monotonic() < deadline:
            assert c.proc is not None and c.proc.poll() is None, c.log.read_text()[-3000:]
            time.sleep(0.01)
        c.stop(signal.SIGKILL)
        mid_refresh = not (c.cache / "replica" / "manifest.json").exists()
        c.start()
        measured["restarted after kill"] = _until(
            [c], "Who is the mayor of Melvane?", lambda ans: "Orla Penn" in ans["answer"]
        )
        assert "bridge.md" in _sources(c.ask("Who opened the Kaltrop bridge?"))
        assert "festival.md" not in _sources(c.ask("Where does the Zorblat festival take place?"))
        # Its cache holds exactly the indexer's documents, once its refill is done (it
        # answers from Chroma's dense search before that).
        _filled(c, tmp_path / "indexer")
    print(f"\nreplica propagation (s, from the end of `askfront index`): {measured}")
    print(f"replica c killed mid-refresh: {mid_refresh}")


def _filled(replica: Replica, indexer: Path) -> None:
    """Wait until `replica`'s cache has the indexer's documents; fails after CEILING_S.

    A replica answers from Chroma while it fills its cache, so an answer alone does not
    mean the cache is complete: its manifest is written last, when the fill is done.
    """
    want = _cached_paths(indexer)
    deadline = time.monotonic() + CEILING_S
    have: set[str] | None = None
    while time.monotonic() < deadline:
        if (replica.cache / "replica" / "manifest.json").exists():
            have = _cached_paths(replica.cache / "replica")
            if have == want:
                return
        time.sleep(0.2)
    raise AssertionError(
        f"cache of {replica.name}: {have} != {want}\n{replica.log.read_text()[-3000:]}"
    )


def _cached_paths(index_dir: Path) -> set[str]:
    import sqlite3

    active = json.loads((index_dir / "manifest.json").read_text())["active"]
    path = index_dir / "builds" / active / "docstore.sqlite3"
    with sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True) as conn:
        return {row[0] for row in conn.execute("SELECT path FROM documents")}
