"""The OpenAI endpoint under load: benchmarks/openai_load.py's 50 clients against
`python app.py` (the real server, the real index), beside the /ask API in the same run.

Bounded (few questions per client, one round, a deadline per phase). It checks that every
answer arrives, well formed; the latencies are printed (run with -s), never asserted: the
README records them from a real benchmark run.
"""

from __future__ import annotations

import importlib.util
import json

import pytest

from netutil import AppProcess
from paths import DATA, REPO

pytestmark = pytest.mark.slow

BENCH = REPO / "benchmarks" / "openai_load.py"
SEED = DATA / "seed_testset.jsonl"
DEADLINE_S = 600  # per phase; a ceiling against hangs, not a performance claim


def test_50_openai_clients_beside_the_ask_api_get_every_answer(default_app: AppProcess) -> None:
    spec = importlib.util.spec_from_file_location("askfront_bench_openai_load", BENCH)
    assert spec is not None and spec.loader is not None
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    items = [json.loads(line) for line in SEED.read_text(encoding="utf-8").splitlines() if line]
    questions = [q["question"] for q in items if not q.get("history")][:20]

    # The session's shared server (conftest): this test only asks.
    report = bench.run_benchmark(
        default_app.url, questions, clients=50, per_client=2, rounds=1, deadline_s=DEADLINE_S
    )
    print(json.dumps(report["median"], indent=2))
    assert report["errors"] == {"ask_api": 0, "openai": 0, "openai_stream": 0}, report
    for phase, summary in report["rounds_detail"][0].items():
        assert summary["answers"] == 50 * 2, phase
