"""A tiny run of benchmarks/run.py on a 3-article corpus, so the benchmark code can't rot.

Every measurement (both pipelines' builds, the incremental add, queries, the synthetic
index, cold starts, the web app, a profile build) runs for real; no timing is asserted,
only that each one ran and reported consistent counts.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

from paths import REPO

pytestmark = pytest.mark.slow


ARTICLES = {
    "harbor-bridge-reopens.md": (
        "Harbor bridge reopens after two years of repairs",
        "2024-03-04",
        "The Harbor Street bridge in Port Alder reopened on Monday after two years of "
        "repairs. Mayor Lena Ortiz cut the ribbon at nine in the morning. The repairs cost "
        "41 million dollars, most of it paid by the state transport fund.\n\n"
        "Engineers replaced the steel deck and all 212 cables. Traffic will be limited to "
        "cars and bicycles until the end of April, when buses return to the route.",
    ),
    "chess-prodigy-wins-open.md": (
        "Chess prodigy wins the Riverside Open",
        "2024-03-05",
        "Twelve-year-old Amara Keita won the Riverside Open chess tournament on Sunday. She "
        "beat the defending champion, Tomas Varga, in the final round with the black pieces. "
        "Keita scored seven points out of nine.\n\n"
        "Her coach said she trains four hours a day. The tournament drew 180 players from "
        "eleven countries, a record for the event.",
    ),
    "bakery-strike-ends.md": (
        "Bakery strike ends with a new contract",
        "2024-03-06",
        "Workers at the Golden Crust bakery chain ended their strike on Wednesday after "
        "accepting a new contract. The agreement raises wages by 9 percent over three years. "
        "The strike had lasted 23 days and closed fourteen shops.\n\n"
        "The union leader, Rosa Delgado, called the deal fair. Shops will reopen on Friday "
        "with the usual morning hours.",
    ),
}

QUESTIONS = [
    ("Who cut the ribbon when the Harbor Street bridge reopened?", ["Lena Ortiz"],
     "harbor-bridge-reopens.md"),
    ("Who won the Riverside Open chess tournament?", ["Amara Keita"],
     "chess-prodigy-wins-open.md"),
    ("By how much does the Golden Crust contract raise wages?", ["9 percent"],
     "bakery-strike-ends.md"),
]  # fmt: skip


@pytest.fixture
def dataset(tmp_path: Path) -> Path:
    folder = tmp_path / "dataset"
    (folder / "corpus").mkdir(parents=True)
    for name, (title, date, body) in ARTICLES.items():
        text = f'---\ntitle: "{title}"\ndate: "{date}"\n---\n\n{body}\n'
        (folder / "corpus" / name).write_text(text, encoding="utf-8")
    rows = [
        {"id": str(i), "question": q, "answers": a, "answerable": True, "sources": [s]}
        for i, (q, a, s) in enumerate(QUESTIONS)
    ]
    (folder / "testset.jsonl").write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    return folder


def test_benchmark_runs_end_to_end(dataset: Path, tmp_path: Path) -> None:
    out = tmp_path / "result.json"
    cmd = [
        sys.executable, str(REPO / "benchmarks" / "run.py"), "--dataset", str(dataset),
        "--articles", "3", "--runs", "1", "--warmup", "1", "--incremental-repeats", "2",
        "--synthetic-chunks", "40", "--synthetic-real", "10", "--profiles", "default",
        "--profile-articles", "2", "--build-rounds", "1",
        "--load-clients", "3", "--load-per-client", "2",
        "--out", str(out), "--quiet",
    ]  # fmt: skip
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-4000:]
    data = json.loads(out.read_text())
    build, run = data["builds"][0], data["runs"][0]

    # Both pipelines built the 2 base articles. askfront then added the held-out article
    # twice (deleting it in between), embedding only its chunks, and a no-op sync embedded
    # nothing.
    af, nv = build["askfront"], build["naive"]
    assert af["files"] == 2 and nv["files"] == 2
    assert af["chunks"] > 0 and nv["chunks"] > 0
    assert [c["added"] for c in af["incremental_counts"]] == [1, 1]
    assert [c["unchanged"] for c in af["incremental_counts"]] == [2, 2]
    assert af["incremental_chunks"][0] == af["incremental_chunks"][1] >= 1
    assert af["noop_chunks"] == 0
    assert nv["append_chunks"] >= 1

    # Fresh processes sent every question through each retrieval mode and ask().
    q = run["askfront"]["queries"]
    assert q["questions"] == 3
    for key in ("hybrid_ms", "dense_ms", "ask_ms"):
        assert q[key]["n"] == 3
    assert run["naive"]["queries"]["search_ms"]["n"] == 3
    rates = (q["hybrid_hit5"], q["dense_hit5"], q["ask_accuracy"], run["naive"]["queries"]["hit5"])
    assert all(0.0 <= rate <= 1.0 for rate in rates)

    # The synthetic index reached its size and served both pipelines' queries.
    syn = data["meta"]["synthetic"]
    assert syn["chunks"] >= 40
    assert syn["vectors"]["real_vectors"] == 10
    assert run["synthetic_askfront"]["queries"]["ask_ms"]["n"] == 3
    assert run["synthetic_naive"]["queries"]["search_ms"]["n"] == 3

    assert run["cold_ask"]["answer"]
    assert run["cold_ask_synthetic"]["answer"]
    if importlib.util.find_spec("askfront.web.app") is not None:
        assert "error" not in run["serve"], run["serve"]
        assert run["serve"]["first_answer_s"] >= run["serve"]["http_200_s"]
        # 3 concurrent clients x 2 questions through the /ask API, all answered.
        load = run["serve"]["load"]
        assert (load["clients"], load["answers"], load["errors"]) == (3, 6, 0), load
    # The profile build of the same 2 articles chunks them exactly as the full build did.
    assert build["profiles"]["default"]["chunks"] == af["chunks"]

    # The summary has every metric and the table went to stdout.
    metrics = {row["metric"] for row in data["summary"]}
    assert {"full build", "add 1 article / askfront full build", "ask() p95"} <= metrics
    assert {"full build, `fast` profile (static model)", "answer latency p95"} <= metrics
    assert "| Full build | full build |" in proc.stdout
