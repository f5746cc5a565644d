"""askfront at 100k / 300k / 1M chunks in the server-mode deployment: one `chroma run`,
the index built into it, a replica `askfront serve` started with an empty cache.

    .venv/bin/python benchmarks/scale.py --chunks 100000 300000 1000000

Per size, in a fresh temporary folder:
- corpus: synthetic.generate recombines RealTimeQA sentences into new articles (not timed
  as build: it is the stand-in for a user's folder);
- build: every chunk embedded with the `fast` profile (real static-model vectors, no
  shortcut), written to Chroma, the docstore and BM25 by synthetic.build_askfront_index,
  and published for replicas; chunks/s over the whole build;
- ask(): `Assistant.ask` in a child process on the indexer's folder, over the questions
  (5 warm-up), p50 and p95;
- replica: `askfront serve` with only the Chroma address and an empty cache folder; cold
  start = launch to the first /ask answer (dense search from Chroma while the cache fills,
  askfront.indexing.follow); 20 answers, peak RSS (VmHWM); then the time until the cache
  is full (hybrid search; at most --full-wait s), 20 more answers and peak RSS again;
- disk: the Chroma server's folder, the indexer's folder and the replica's cache.

Writes JSON to --out and prints a Markdown table. Loopback only.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
DATASET = HERE.parent.parent / "shared" / "datasets" / "realtimeqa-2024"
ENV = {"HF_HUB_OFFLINE": "1", "ANONYMIZED_TELEMETRY": "False", "PYTHONUNBUFFERED": "1",
       "GRADIO_ANALYTICS_ENABLED": "False", "ASKFRONT_EMBEDDING_PROFILE": "fast"}  # fmt: skip
EMBED_SLICE = 10_000  # model2vec forks workers above 10k texts: slower here, and it turns
# off the tokenizer's own threads for the rest of the process


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _maxrss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _du(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) if path.exists() else 0


def _questions(dataset: Path, n: int) -> list[str]:
    rows = [json.loads(line) for line in (dataset / "testset.jsonl").read_text().splitlines()]
    return [r["question"] for r in rows if r.get("question")][:n]


def _wait_port(port: int, timeout: float = 120) -> None:
    import socket

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"nothing listens on {port} after {timeout} s")


def _settings(root: Path, port: int) -> Any:
    from askfront.core.config import Settings

    return Settings(corpus_dir=root / "corpus", index_dir=root / "indexer",
                    chroma_mode="server", chroma_port=port, embedding_profile="fast")  # fmt: skip


def build(root: Path, chunks: int, port: int, dataset: Path) -> dict[str, Any]:
    """The child that generates the corpus and builds the index (peak RSS is its own)."""
    import synthetic
    from askfront.indexing.embeddings import get_embeddings

    settings = _settings(root, port)
    t = time.perf_counter()
    corpus = synthetic.generate(sorted((dataset / "corpus").glob("*.md")), settings.corpus_dir,
                                chunks, settings)  # fmt: skip
    out: dict[str, Any] = {"chunks": corpus.n_chunks, "documents": len(corpus.documents),
                           "generate_s": time.perf_counter() - t,
                           "peak_rss_mb_after_generate": _maxrss_mb()}  # fmt: skip
    from askfront.assistant import embedding_spec

    embeddings = get_embeddings(embedding_spec(settings))
    embeddings.embed_query("warm up")  # model load excluded, as in run.py
    t = time.perf_counter()
    texts = [c.text for c in corpus.chunks()]
    import numpy as np

    # In slices: embed_documents returns Python lists (LangChain's API), 1M x 256 floats
    # of which would take ~8 GB at once.
    vectors = np.empty((len(texts), len(embeddings.embed_query("x"))), dtype=np.float32)
    for a in range(0, len(texts), EMBED_SLICE):
        vectors[a : a + EMBED_SLICE] = embeddings.embed_documents(texts[a : a + EMBED_SLICE])
    del texts
    out["embed_s"] = time.perf_counter() - t
    out["peak_rss_mb_after_embed"] = _maxrss_mb()
    out["stages"] = synthetic.build_askfront_index(settings, corpus, vectors)
    out["build_s"] = time.perf_counter() - t
    out["chunks_per_s"] = corpus.n_chunks / out["build_s"]
    out["peak_rss_mb"] = _maxrss_mb()
    return out


def ask(root: Path, port: int, questions: list[str]) -> dict[str, Any]:
    """The child that times Assistant.ask on the indexer's folder."""
    from askfront.assistant import Assistant

    assistant = Assistant(_settings(root, port))
    for q in questions[:5]:
        assistant.ask(q)
    times = []
    stages: dict[str, list[float]] = {}
    for q in questions:
        t = time.perf_counter()
        answer = assistant.ask(q)
        times.append((time.perf_counter() - t) * 1000)
        for name, ms in (answer.timings or {}).items():  # the profile: per-stage medians
            stages.setdefault(name, []).append(float(ms))
    times.sort()
    return {"n": len(times), "p50_ms": statistics.median(times),
            "p95_ms": times[int(0.95 * (len(times) - 1))],
            "stage_p50_ms": {k: statistics.median(v) for k, v in stages.items()},
            "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}  # fmt: skip


def _post(url: str, question: str) -> dict[str, Any]:
    body = json.dumps({"data": [question, "[]"]}).encode()
    req = urllib.request.Request(f"{url}gradio_api/run/ask", body,
                                 {"Content-Type": "application/json"})  # fmt: skip
    with urllib.request.urlopen(req, timeout=600) as resp:
        return dict(json.loads(resp.read())["data"][0])


def replica(root: Path, port: int, questions: list[str], full_wait: float) -> dict[str, Any]:
    """An `askfront serve` replica from an empty cache: cold start (launch to the first
    answer, which comes from Chroma's dense search while the cache fills), peak RSS while
    warming, then time until the cache is full (at most `full_wait` s) and peak RSS after."""
    cache, empty = root / "replica-cache", root / "replica-corpus"
    empty.mkdir(exist_ok=True)
    web = _free_port()
    url = f"http://127.0.0.1:{web}/"
    env = {**os.environ, **ENV, "ASKFRONT_CHROMA_MODE": "server",
           "ASKFRONT_CHROMA_PORT": str(port), "ASKFRONT_INDEX_DIR": str(cache),
           "ASKFRONT_CORPUS_DIR": str(empty)}  # fmt: skip
    log = (root / "replica.log").open("wb")
    t = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "askfront.cli", "serve", "--port", str(web)],
                            env=env, cwd=root, stdout=log, stderr=log)  # fmt: skip
    try:
        while True:
            if proc.poll() is not None:
                raise SystemExit(f"the replica exited: {(root / 'replica.log').read_text()}")
            try:
                first = _post(url, questions[0])
                break
            except OSError:
                time.sleep(0.5)
        out: dict[str, Any] = {"cold_start_s": time.perf_counter() - t,
                               "first_answer_cited": bool(first.get("citations"))}  # fmt: skip
        out["first_notice"] = first.get("notice")
        for q in questions[1:21]:
            _post(url, q)
        out["peak_rss_mb_warming"] = _hwm_mb(proc.pid)
        # Then until the first fill is done (BM25 built: state.json written) and 20 more
        # answers, now hybrid: the steady state's memory.
        deadline = time.perf_counter() + full_wait
        while not list((cache / "replica" / "builds").glob("*/state.json")):
            if proc.poll() is not None or time.perf_counter() > deadline:
                out["cache_full_s"] = None
                break
            time.sleep(1)
        else:
            out["cache_full_s"] = time.perf_counter() - t
            for q in questions[21:41]:
                _post(url, q)
        out["peak_rss_mb"] = _hwm_mb(proc.pid)
        out["cache_bytes"] = _du(cache)
        return out
    finally:
        proc.terminate()
        proc.wait(timeout=120)


NICE = 0  # --nice: the build and ask children's niceness on a shared machine


def _hwm_mb(pid: int) -> float:
    status = Path(f"/proc/{pid}/status").read_text()
    hwm = next(line for line in status.splitlines() if line.startswith("VmHWM"))
    return int(hwm.split()[1]) / 1024


def _child(fn: str, *args: str) -> dict[str, Any]:
    # The replica never runs niced: at nice 15 on a loaded machine Gradio's launch-time
    # check of its own port timed out.
    done = subprocess.run([sys.executable, __file__, "--child", fn, *args],
                          env={**os.environ, **ENV}, capture_output=True, text=True,
                          preexec_fn=lambda: os.nice(NICE))  # fmt: skip
    if done.returncode:
        raise SystemExit(f"{fn} failed:\n{done.stderr[-3000:]}")
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def measure(
    chunks: int,
    dataset: Path,
    questions: list[str],
    full_wait: float,
    save: Callable[[dict[str, Any]], None],
) -> dict[str, Any]:
    """One size; `save` gets the partial result after each phase, so a run stopped at 1M
    (hours long) keeps its build and ask figures."""
    root = Path(tempfile.mkdtemp(prefix=f"askfront-scale-{chunks}-"))
    port = _free_port()
    exe = Path(sys.executable).parent / "chroma"
    chroma = subprocess.Popen(
        [str(exe if exe.exists() else "chroma"), "run", "--path", str(root / "chroma"),
         "--port", str(port), "--host", "127.0.0.1"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        _wait_port(port)
        out = {"target_chunks": chunks, "build": _child("build", str(root), str(chunks),
                                                        str(port), str(dataset))}  # fmt: skip
        save(out)
        qfile = root / "questions.json"
        qfile.write_text(json.dumps(questions))
        out["ask"] = _child("ask", str(root), str(port), str(qfile))
        save(out)
        out["replica"] = replica(root, port, questions, full_wait)
        out["disk_bytes"] = {"chroma": _du(root / "chroma"), "indexer": _du(root / "indexer"),
                             "replica_cache": out["replica"]["cache_bytes"]}  # fmt: skip
        return out
    finally:
        chroma.terminate()
        chroma.wait(timeout=120)
        shutil.rmtree(root, ignore_errors=True)


def table(results: list[dict[str, Any]]) -> str:
    rows = ["| chunks | build s | chunks/s | ask() p50 ms | ask() p95 ms | serve peak RSS MB "
            "(warming / full) | replica cold start s | replica cache full s "
            "| disk MB (Chroma + indexer + replica cache) |",
            "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"]  # fmt: skip
    for r in results:
        b, a, rep, d = r["build"], r["ask"], r["replica"], r["disk_bytes"]
        full = rep.get("cache_full_s")
        rows.append(
            f"| {b['chunks']:,} | {b['build_s']:.0f} | {b['chunks_per_s']:.0f} "
            f"| {a['p50_ms']:.0f} | {a['p95_ms']:.0f} "
            f"| {rep['peak_rss_mb_warming']:.0f} / {rep['peak_rss_mb']:.0f} "
            f"| {rep['cold_start_s']:.1f} | {'not reached' if full is None else f'{full:.0f}'} "
            f"| {sum(d.values()) / 1e6:.0f} ({d['chroma'] / 1e6:.0f} + "
            f"{d['indexer'] / 1e6:.0f} + {d['replica_cache'] / 1e6:.0f}) |"
        )
    return "\n".join(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chunks", type=int, nargs="+", default=[100_000, 300_000, 1_000_000])
    parser.add_argument("--dataset", type=Path, default=DATASET)
    parser.add_argument("--questions", type=int, default=100)
    parser.add_argument("--out", type=Path, default=HERE / "results" / "scale.json")
    parser.add_argument("--full-wait", type=float, default=900,
                        help="longest wait (s) for a replica's first fill to complete")  # fmt: skip
    parser.add_argument("--nice", type=int, default=0, help="niceness of the build/ask children")
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    global NICE
    NICE = args.nice
    if args.child:
        fn, *rest = args.child
        if fn == "build":
            res = build(Path(rest[0]), int(rest[1]), int(rest[2]), Path(rest[3]))
        else:
            res = ask(Path(rest[0]), int(rest[1]), json.loads(Path(rest[2]).read_text()))
        print(json.dumps(res))
        return
    if not (args.dataset / "testset.jsonl").is_file():
        raise SystemExit(f"No data set at {args.dataset} (expected corpus/*.md, testset.jsonl).")
    questions = _questions(args.dataset, args.questions)
    machine = {"cpus": os.cpu_count(), "platform": platform.platform(),
               "load_avg_start": os.getloadavg()}  # fmt: skip
    results: list[dict[str, Any]] = []
    args.out.parent.mkdir(parents=True, exist_ok=True)

    def save(partial: dict[str, Any]) -> None:
        body = {"machine": machine, "results": results, "in_progress": partial}
        args.out.write_text(json.dumps(body, indent=2))

    for n in args.chunks:
        results.append(measure(n, args.dataset, questions, args.full_wait, save))
        args.out.write_text(json.dumps({"machine": machine, "results": results}, indent=2))
        print(table(results), flush=True)
    machine["load_avg_end"] = os.getloadavg()
    args.out.write_text(json.dumps({"machine": machine, "results": results}, indent=2))


if __name__ == "__main__":
    main()
