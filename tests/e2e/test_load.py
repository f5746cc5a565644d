"""Load: 50 concurrent API clients x 20 questions against `python app.py`, while full rebuilds
swap the index underneath it. Every answer must arrive, well formed and the same as before.

Loopback only, bounded by DEADLINE_S. Latency figures are printed (run with -s), never
asserted; docs/reliability.md records them from a real run.
"""

from __future__ import annotations

import asyncio
import importlib.util
import json
import shutil
import statistics
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

import pytest
from langchain_core.embeddings import Embeddings

from askfront.assistant import Assistant, index_spec
from askfront.core.config import Settings
from netutil import serve_app
from paths import DATA, DEFAULT_ARTICLE, REPO

pytestmark = pytest.mark.slow

CLIENTS = 50
QUESTIONS_PER_CLIENT = 20
DEADLINE_S = 600  # the whole load must finish within this; a ceiling, not a performance claim
ANSWER_KEYS = {"answer", "refused", "citations", "timings_ms", "sentences", "related", "notice"}
SEED = DATA / "seed_testset.jsonl"
LOAD_CLIENT = REPO / "benchmarks" / "load.py"


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
    from askfront.indexing.sync import sync

    root = tmp_path_factory.mktemp("load")
    (root / "corpus").mkdir()
    shutil.copy(DEFAULT_ARTICLE, root / "corpus" / DEFAULT_ARTICLE.name)
    settings = Settings(corpus_dir=root / "corpus", index_dir=root / "index")
    sync(index_spec(settings), embeddings=real_embeddings)
    with serve_app(settings, root) as proc:
        yield App(proc.url, settings, proc.env, proc.log)


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
            run = subprocess.run(command, env=self.env, capture_output=True, text=True)
            self.runs.append(run)

    def __enter__(self) -> Rebuilds:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join(330)


def _load_client() -> ModuleType:
    """benchmarks/load.py: the same asyncio client `make bench` measures the web chat with."""
    spec = importlib.util.spec_from_file_location("askfront_bench_load", LOAD_CLIENT)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def _percentile(values: list[float], p: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[int(p) - 1]


def test_answers_keep_coming_under_load_during_full_rebuilds(
    app: App, real_embeddings: Embeddings
) -> None:
    questions = _questions()
    # What each question gets from the same index, asked directly and one at a time.
    local = Assistant(app.settings, embeddings=real_embeddings)
    expected = {q: local.ask(q).to_json() for q in questions}

    load = _load_client()
    with Rebuilds(app.env) as rebuilds:
        # One POST per answer, as in the benchmark. gradio_client (2.7.2) is not used here:
        # its one SSE stream per Client can close between two back-to-back jobs under load,
        # and the second job then fails in the client with CancelledError (seen once in
        # 1,000 in CI). That race is in the client library, not in the server under test.
        result = asyncio.run(
            load.run_clients(app.url, questions, CLIENTS, QUESTIONS_PER_CLIENT, DEADLINE_S)
        )
        finished_rebuilds = len(rebuilds.runs)

    answers = [data for _, data in result.answers]
    degraded = [data for data in answers if data.get("notice")]
    # Time inside Assistant.ask; the rest of a client's wait is the /ask API's admission
    # (extractive answers one at a time, first come first served) and HTTP.
    answering = [data["timings_ms"]["total_ms"] / 1000 for data in answers]
    latencies = result.latencies_s
    figures = {
        "answers": len(latencies),
        "errors": len(result.errors),
        "degraded": len(degraded),
        "seconds": round(result.seconds, 1),
        "answers_per_s": round(len(latencies) / result.seconds, 1),
        "p50_ms": round(_percentile(latencies, 50) * 1000) if latencies else None,
        "p95_ms": round(_percentile(latencies, 95) * 1000) if latencies else None,
        "max_ms": round(max(latencies) * 1000) if latencies else None,
        "answering_p50_ms": round(_percentile(answering, 50) * 1000) if answering else None,
        "answering_p95_ms": round(_percentile(answering, 95) * 1000) if answering else None,
        "full_rebuilds_during_load": finished_rebuilds,
    }
    print(f"\nload figures: {json.dumps(figures)}")

    log = app.log.read_text()
    assert not result.errors, f"{len(result.errors)} failed, e.g. {result.errors[0]}\n{log[-3000:]}"
    assert len(latencies) == CLIENTS * QUESTIONS_PER_CLIENT
    assert finished_rebuilds >= 1
    for run in rebuilds.runs:
        assert run.returncode == 0, run.stderr[-2000:]
        assert json.loads(run.stdout)["full_rebuild"] is True
    # Session setup answers (one per client, untimed) are checked too.
    assert len(result.answers) == CLIENTS * (QUESTIONS_PER_CLIENT + 1)
    for question, data in result.answers:
        assert set(data) >= ANSWER_KEYS, data
        want = expected[question]
        # The rebuilt index holds the same corpus, so every answer is the one asked directly.
        assert (data["answer"], data["refused"]) == (want["answer"], want["refused"]), (
            question, data["notice"])  # fmt: skip
        assert [c["quote"] for c in data["citations"]] == [c["quote"] for c in want["citations"]]
    assert not degraded, f"{len(degraded)} degraded answers, e.g. {degraded[0]['notice']}"
    assert "Traceback" not in log
