"""`askfront eval` end to end: the CI quality gate on the seed set, reports, baselines."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from paths import REPO

pytestmark = pytest.mark.slow

SEED = REPO / "tests" / "data" / "seed_testset.jsonl"


def _eval(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "askfront.cli", "eval", *args],
        capture_output=True, text=True,
    )  # fmt: skip


def test_seed_set_quality_gate(tmp_path: Path, corpus_dir: Path) -> None:
    """The gate CI relies on: extractive accuracy >= 0.9 and refusal F1 >= 0.8."""
    out, report = tmp_path / "seed.json", tmp_path / "seed.html"
    proc = _eval(str(SEED), "--corpus", str(corpus_dir), "--index", str(tmp_path / "index"),
                 "--json", str(out), "--report", str(report),
                 "--fail-under", "accuracy=0.9", "--fail-under", "refusal_f1=0.8")  # fmt: skip
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    data = json.loads(out.read_text())
    assert data["metrics"]["accuracy"] >= 0.9 and data["metrics"]["refusal_f1"] >= 0.8
    assert "<svg" in report.read_text()

    # The same run as its own baseline: nothing regressed, and an impossible gate fails.
    again = _eval(str(SEED), "--index", str(tmp_path / "index"), "--baseline", str(out),
                  "--fail-under", "accuracy=1.01")  # fmt: skip
    assert again.returncode == 1
    assert "Regressed: none" in again.stdout and "Below threshold" in again.stderr


@pytest.mark.dataset
@pytest.mark.quality
def test_realtimeqa_goals_of_the_extractive_default(tmp_path: Path, realtimeqa: Path) -> None:
    """The public-benchmark bars, on the real data set: hit@5 >= 0.95 (issue 6), and
    issue 15's concise answers: a median answer of at most 36 words at accuracy >= 0.55
    (issue 6's accuracy >= 0.7 was met by quoting three sentences, a median of 78 words).

    A quality gate (`make quality`), not part of `make test`: it indexes 500 articles.
    """
    dataset = realtimeqa
    out = tmp_path / "rtqa.json"
    proc = _eval(str(dataset / "testset.jsonl"), "--corpus", str(dataset / "corpus"),
                 "--index", str(tmp_path / "index"), "--json", str(out),
                 "--fail-under", "hit_at_5=0.95", "--fail-under", "accuracy=0.55",
                 "--fail-under", "median_answer_words=36")  # fmt: skip
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    metrics = json.loads(out.read_text())["metrics"]
    assert metrics["hit_at_5"] >= 0.95 and metrics["accuracy"] >= 0.55
    assert metrics["median_answer_words"] <= 36
    assert metrics["groundedness"] == 1.0  # extractive quotes are their own evidence


def test_unknown_metric_is_rejected_before_running(tmp_path: Path) -> None:
    proc = _eval(str(SEED), "--index", str(tmp_path / "none"), "--fail-under", "acuracy=0.9")
    assert proc.returncode == 1 and "Unknown metric" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_bad_testset_line_is_named(tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "a", "question": "Q?", "answers": ["x"], "answerable": true}\n{oops\n')
    proc = _eval(str(bad), "--index", str(tmp_path / "none"))
    assert proc.returncode == 1 and "line 2" in proc.stderr
