"""The web chat's warm start: how long the first answer after "Running on local URL" takes,
against the answers after it, in the same server (the baseline of the same run).

Each run indexes the default corpus into a temporary folder once, then starts `python app.py`
--runs times; each time it waits for the "Running on local URL" line, then asks the /ask
API (one HTTP request per answer, the same pipeline as the chat) the first question and
--later more. Prints the medians over the runs.

    python benchmarks/web_first_answer.py --runs 5
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
QUESTIONS = [
    "How much are Nepali recruits paid?",
    "Who is Ramchandra Khadka?",
    "How many foreigners serve in Ukraine's international legion?",
    "What did Emmanuel Macron say about sending troops?",
]


def _ask(url: str, question: str) -> float:
    body = json.dumps({"data": [question, "[]"]}).encode()
    request = urllib.request.Request(
        url + "gradio_api/run/ask", body, {"Content-Type": "application/json"}
    )
    started = time.perf_counter()
    with urllib.request.urlopen(request, timeout=120) as response:
        response.read()
    return time.perf_counter() - started


def _one_run(env: dict[str, str], root: Path, port: int, later: int) -> tuple[float, float]:
    """(first answer, median of the later ones) in seconds, for one fresh server."""
    log = root / "server.log"
    with log.open("wb") as out:
        proc = subprocess.Popen([sys.executable, str(REPO / "app.py")], cwd=root, env=env,
                                stdout=out, stderr=subprocess.STDOUT)  # fmt: skip
    try:
        deadline = time.monotonic() + 600
        while "Running on local URL" not in log.read_text(errors="replace"):
            if proc.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"app.py did not start:\n{log.read_text()[-2000:]}")
            time.sleep(0.05)
        url = f"http://127.0.0.1:{port}/"
        first = _ask(url, QUESTIONS[0])
        rest = [_ask(url, QUESTIONS[1 + i % (len(QUESTIONS) - 1)]) for i in range(later)]
        return first, statistics.median(rest)
    finally:
        proc.terminate()
        proc.wait(timeout=120)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--later", type=int, default=6)
    parser.add_argument("--port", type=int, default=7941)
    args = parser.parse_args()

    from askfront.assistant import index_spec
    from askfront.core.config import Settings
    from askfront.indexing.sync import sync

    root = Path(tempfile.mkdtemp(prefix="askfront-warm-"))
    try:
        corpus = root / "corpus"
        shutil.copytree(REPO / "corpus", corpus)
        settings = Settings(corpus_dir=corpus, index_dir=root / "index")
        sync(index_spec(settings))
        env = {**os.environ, "ASKFRONT_CORPUS_DIR": str(corpus), "ASKFRONT_HOST": "127.0.0.1",
               "ASKFRONT_INDEX_DIR": str(root / "index"), "ASKFRONT_PORT": str(args.port),
               "HF_HUB_OFFLINE": "1", "ANONYMIZED_TELEMETRY": "False"}  # fmt: skip
        firsts, laters = [], []
        for _ in range(args.runs):
            first, later = _one_run(env, root, args.port, args.later)
            firsts.append(first)
            laters.append(later)
        first_ms, later_ms = statistics.median(firsts) * 1e3, statistics.median(laters) * 1e3
        print(f"first answer after 'Running on local URL': median {first_ms:.0f} ms "
              f"(runs: {', '.join(f'{f * 1e3:.0f}' for f in firsts)})")  # fmt: skip
        print(f"later answers: median {later_ms:.0f} ms; first/later = {first_ms / later_ms:.2f}")
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
