"""Load: 50 concurrent API clients x 20 questions against `python app.py`, while full rebuilds
swap the index underneath it. Every answer must arrive, well formed and the same as before.

Loopback only, bounded by DEADLINE_S. Latency figures are printed (run with -s), never
asserted; docs/reliability.md records them from a real run.
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from langchain_core.embeddings import Embeddings

from askfront.assistant import Assistant
from askfront.config import Settings
from conftest import DEFAULT_ARTICLE, REPO
from netutil import free_port as _free_port

pytestmark = [pytest.mark.slow, pytest.mark.e2e]

CLIENTS = 50
QUESTIONS_PER_CLIENT = 20
DEADLINE_S = 600  # the whole load must finish within this; a ceiling, not a performance claim
ANSWER_KEYS = {"answer", "refused", "citations", "timings_ms", "sentences", "related", "notice"}
SEED = Path(__file__).parent / "data" / "seed_testset.jsonl"


def _questions() -> list[str]:
    """Seed questions without history: answerable ones and ones the articles can't answer."""
    items = [json.loads(line) for line in SEED.read_text(encoding="utf-8").splitlines() if line]
    return [q["question"] for q in items if not q.get("history")][:40]


@dataclass
class App:
    url: str
    settings: Settings
    env: dict[str, str]
    log: Path


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory, real_embeddings: Embeddings) -> Iterator[App]:
    """`python app.py` on a free loopback port over a real index of the default corpus."""
    from askfront.indexer import sync

    root = tmp_path_factory.mktemp("load")
    (root / "corpus").mkdir()
    shutil.copy(DEFAULT_ARTICLE, root / "corpus" / DEFAULT_ARTICLE.name)
    settings = Settings(corpus_dir=root / "corpus", index_dir=root / "index")
    sync(settings, embeddings=real_embeddings)
    port = _free_port()
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
    }
    log = root / "server.log"
    url = f"http://127.0.0.1:{port}/"
    with log.open("wb") as out:  # cwd=root: no .env from the checkout leaks in
        proc = subprocess.Popen([sys.executable, str(REPO / "app.py")], cwd=root, env=env,
                                stdout=out, stderr=out)  # fmt: skip
    try:
        deadline = time.monotonic() + 180
        while True:
            assert proc.poll() is None, f"app.py exited:\n{log.read_text()[-3000:]}"
            assert time.monotonic() < deadline, f"app.py never served:\n{log.read_text()[-3000:]}"
            try:
                with urllib.request.urlopen(url, timeout=5) as response:
                    if response.status == 200:
                        break
            except OSError:
                time.sleep(0.5)
        yield App(url, settings, env, log)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


class Rebuilds:
    """Runs `askfront index --full` against the app's index, again and again, until stopped."""

    def __init__(self, env: dict[str, str]) -> None:
        self.env = env
        self.stop = threading.Event()
        self.runs: list[subprocess.CompletedProcess[str]] = []
        self.thread = threading.Thread(target=self._loop, name="rebuilds", daemon=True)

    def _loop(self) -> None:
        while not self.stop.is_set():
            command = [sys.executable, "-m", "askfront.cli", "index", "--full", "--json"]
            run = subprocess.run(command, env=self.env, capture_output=True, text=True, timeout=300)
            self.runs.append(run)

    def __enter__(self) -> Rebuilds:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join(330)


@dataclass
class Outcome:
    question: str
    seconds: float
    data: Any = None
    error: str | None = None


def _client_session(url: str, questions: list[str], offset: int) -> list[Outcome]:
    from gradio_client import Client

    client = Client(url, verbose=False, analytics_enabled=False)
    outcomes = []
    for i in range(QUESTIONS_PER_CLIENT):
        question = questions[(offset + i) % len(questions)]
        started = time.perf_counter()
        try:
            data = client.submit(question, "[]", api_name="/ask").result(timeout=DEADLINE_S)
            outcomes.append(Outcome(question, time.perf_counter() - started, data))
        except Exception as exc:  # recorded, and the test fails on it below
            outcomes.append(Outcome(question, time.perf_counter() - started, error=repr(exc)))
    return outcomes


def _percentile(values: list[float], p: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[int(p) - 1]


def test_answers_keep_coming_under_load_during_full_rebuilds(
    app: App, real_embeddings: Embeddings
) -> None:
    questions = _questions()
    # What each question gets from the same index, asked directly and one at a time.
    local = Assistant(app.settings, embeddings=real_embeddings)
    expected = {q: local.ask(q).to_json() for q in questions}

    started = time.monotonic()
    outcomes: list[Outcome] = []
    with Rebuilds(app.env) as rebuilds, ThreadPoolExecutor(CLIENTS) as pool:
        futures = [pool.submit(_client_session, app.url, questions, n * 7) for n in range(CLIENTS)]
        for future in as_completed(futures, timeout=DEADLINE_S):
            outcomes += future.result()
        elapsed = time.monotonic() - started
        finished_rebuilds = len(rebuilds.runs)

    errors = [o for o in outcomes if o.error]
    latencies = [o.seconds for o in outcomes if not o.error]
    degraded = [o for o in outcomes if not o.error and o.data.get("notice")]
    # Time inside Assistant.ask; the rest of a client's wait is the /ask API's admission
    # (extractive answers one at a time, first come first served), gradio_client and HTTP.
    answering = [o.data["timings_ms"]["total_ms"] / 1000 for o in outcomes if not o.error]
    figures = {
        "answers": len(outcomes) - len(errors),
        "errors": len(errors),
        "degraded": len(degraded),
        "seconds": round(elapsed, 1),
        "answers_per_s": round(len(latencies) / elapsed, 1),
        "p50_ms": round(_percentile(latencies, 50) * 1000) if latencies else None,
        "p95_ms": round(_percentile(latencies, 95) * 1000) if latencies else None,
        "max_ms": round(max(latencies) * 1000) if latencies else None,
        "answering_p50_ms": round(_percentile(answering, 50) * 1000) if answering else None,
        "answering_p95_ms": round(_percentile(answering, 95) * 1000) if answering else None,
        "full_rebuilds_during_load": finished_rebuilds,
    }
    print(f"\nload figures: {json.dumps(figures)}")

    log = app.log.read_text()
    assert not errors, f"{len(errors)} failed, e.g. {errors[0].error}\n{log[-3000:]}"
    assert len(outcomes) == CLIENTS * QUESTIONS_PER_CLIENT
    assert finished_rebuilds >= 1
    for run in rebuilds.runs:
        assert run.returncode == 0, run.stderr[-2000:]
        assert json.loads(run.stdout)["full_rebuild"] is True
    for o in outcomes:
        assert isinstance(o.data, dict) and set(o.data) >= ANSWER_KEYS, o.data
        want = expected[o.question]
        # The rebuilt index holds the same corpus, so every answer is the one asked directly.
        assert (o.data["answer"], o.data["refused"]) == (want["answer"], want["refused"]), (
            o.question, o.data["notice"])  # fmt: skip
        assert [c["quote"] for c in o.data["citations"]] == [c["quote"] for c in want["citations"]]
    assert not degraded, f"{len(degraded)} degraded answers, e.g. {degraded[0].data['notice']}"
    assert "Traceback" not in log
