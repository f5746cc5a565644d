"""askfront vs the naive LangChain pipeline, measured side by side in one run.

    .venv/bin/python benchmarks/run.py                 # full run (~25 min on 2 cores)
    .venv/bin/python benchmarks/run.py --quick         # ~3 min: 60 articles, 1 run, 10k chunks

Every measurement runs in a fresh temporary index folder, in a child process (a fresh
interpreter: peak RSS is that process's own, cold starts are real). Embedding models are
loaded before the clock starts, for both pipelines. Each figure is the median over
`--runs` runs, and each askfront/naive ratio is computed within a run and then the median
taken: the machine is shared and noisy, so ratios are the figures to trust.

Prints a Markdown table and writes JSON to benchmarks/results/ (git-ignored). See README.md.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
DEFAULT_DATASET = REPO.parent / "shared" / "datasets" / "realtimeqa-2024"
RESULTS = HERE / "results"
sys.path.insert(0, str(HERE))  # naive.py and synthetic.py sit next to this script

CHILD_ENV = {
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "ANONYMIZED_TELEMETRY": "False",
    "TOKENIZERS_PARALLELISM": "false",
    "PYTHONUNBUFFERED": "1",
}
PROFILES = {
    "default": {},  # MiniLM as int8 ONNX, the setting's default
    "torch": {"ASKFRONT_EMBEDDING_BACKEND": "torch"},  # MiniLM in fp32 via sentence-transformers
    "fast": {"ASKFRONT_EMBEDDING_PROFILE": "fast"},
}
WORKER_TIMEOUT = 3600.0

Json = dict[str, Any]


# -- small helpers --------------------------------------------------------------------------


def _now() -> float:
    return time.perf_counter()


def _maxrss_mb() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # KiB on Linux


def _cpu_s() -> float:
    """CPU seconds of this process, all threads: less sensitive than wall time to other
    processes competing for the cores (though torch's spinning threads still inflate it)."""
    import resource

    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _latency(values: Sequence[float]) -> Json:
    from askfront.evaluation.metrics import percentile

    return {
        "n": len(values),
        "p50": percentile(values, 50),
        "p95": percentile(values, 95),
        "mean": statistics.fmean(values) if values else None,
    }


def _rate(hits: Sequence[bool]) -> float | None:
    from askfront.evaluation.metrics import mean_defined

    return mean_defined(float(h) for h in hits)


def _contains_answer(text: str, answers: Sequence[str]) -> bool:
    """`askfront eval`'s accuracy: a SQuAD-normalized gold answer, as whole words."""
    from askfront.evaluation.metrics import answer_accuracy

    return answer_accuracy(text, answers) == 1.0


def _count_tokens(texts: Sequence[str]) -> int:
    from askfront.assistant import embedding_spec
    from askfront.core.config import Settings
    from askfront.indexing.embeddings import get_tokenizer

    tok = get_tokenizer(embedding_spec(Settings()))
    total = 0
    for start in range(0, len(texts), 512):
        encs = tok.encode_batch(list(texts[start : start + 512]), add_special_tokens=False)
        total += sum(len(e.ids) for e in encs)
    return total


def _settings(corpus: str | Path, index: str | Path) -> Any:
    from askfront.core.config import Settings

    return Settings(corpus_dir=Path(corpus), index_dir=Path(index))


# -- workers: each runs in its own child process --------------------------------------------


def _askfront_queries(
    settings: Any, embeddings: Any, questions: Sequence[Json], warmup: int, retrieval: bool = True
) -> Json:
    """Retrieval alone (hybrid and dense-only) and whole extractive answers, per question."""
    from askfront.assistant import Assistant
    from askfront.evaluation.metrics import passes
    from askfront.grounding.markers import strip_markers
    from askfront.retrieval.base import SearchOptions

    assistant = Assistant(settings, embeddings=embeddings)
    retriever = assistant.retriever()
    options = {
        "hybrid": SearchOptions(top_k=5, hybrid=True),
        "dense": SearchOptions(top_k=5, hybrid=False),
    }
    modes = list(options) if retrieval else []
    for q in questions[:warmup]:
        for mode in modes:
            retriever.search(q["question"], options[mode])
        assistant.ask(q["question"])
    lat: dict[str, list[float]] = {m: [] for m in [*modes, "ask"]}
    hits: dict[str, list[bool]] = {m: [] for m in modes}
    answer_in_top5: list[bool] = []  # hybrid: a gold answer string in the top-5 chunks' text
    correct: list[bool] = []
    refused = 0
    for q in questions:
        gold = set(q["sources"])
        for mode in modes:
            t = _now()
            result = retriever.search(q["question"], options[mode])
            lat[mode].append((_now() - t) * 1000)
            hits[mode].append(any(p.source in gold for p in result.passages))
            if mode == "hybrid":
                text = " ".join(p.chunk.text for p in result.passages)
                answer_in_top5.append(_contains_answer(text, q["answers"]))
        t = _now()
        answer = assistant.ask(q["question"])
        lat["ask"].append((_now() - t) * 1000)
        scored = "" if answer.refused else strip_markers(answer.text)
        correct.append(passes(scored, answer.refused, q["answers"], answerable=True))
        refused += answer.refused
    out: Json = {f"{m}_ms": _latency(v) for m, v in lat.items()}
    out.update({f"{m}_hit5": _rate(h) for m, h in hits.items()})
    out["hybrid_answer_hit5"] = _rate(answer_in_top5)
    out["ask_accuracy"] = _rate(correct)
    out["ask_refused"] = refused
    out["questions"] = len(questions)
    return out


def _naive_queries(
    db: Any, embeddings: Any, questions: Sequence[Json], warmup: int, by_vector: bool = False
) -> Json:
    import naive

    def search(q: str) -> list[Any]:
        if by_vector:
            return naive.search_by_vector(db, embeddings, q)
        return naive.search(db, q)

    for q in questions[:warmup]:
        search(q["question"])
    lat: list[float] = []
    hits: list[bool] = []
    answer_in_top5: list[bool] = []
    for q in questions:
        t = _now()
        docs = search(q["question"])
        lat.append((_now() - t) * 1000)
        hits.append(any(d.metadata.get("source") in set(q["sources"]) for d in docs))
        text = " ".join(d.page_content for d in docs)
        answer_in_top5.append(_contains_answer(text, q["answers"]))
    return {
        "search_ms": _latency(lat),
        "hit5": _rate(hits),
        "answer_hit5": _rate(answer_in_top5),
        "questions": len(questions),
    }


def worker_askfront_build(spec: Json) -> Json:
    """Full build of the base corpus, one-article incremental add, no-op re-sync."""
    from askfront.assistant import embedding_spec, index_spec, store_spec
    from askfront.indexing.embeddings import get_embeddings
    from askfront.indexing.store import active_build
    from askfront.indexing.sync import sync

    settings = _settings(spec["corpus"], spec["index"])
    out: Json = {}
    t = _now()
    emb = get_embeddings(embedding_spec(settings))
    emb.embed_documents(["warm up the model"])
    out["model_load_s"] = _now() - t
    out["rss_model_mb"] = _maxrss_mb()

    t, cpu = _now(), _cpu_s()
    report = sync(index_spec(settings), embeddings=emb)
    out["build_s"] = _now() - t
    out["build_cpu_s"] = _cpu_s() - cpu
    out["rss_build_mb"] = _maxrss_mb()
    out["build_failed_files"] = report.counts["failed"]
    out["files"] = report.counts["added"]
    _, texts, _, _ = active_build(store_spec(settings)).docstore.all_chunk_texts()
    out["chunks"] = len(texts)
    out["chunk_tokens"] = _count_tokens(texts)

    # Add the held-out article, then (to repeat the measurement) delete and add it again.
    held_out = Path(spec["held_out"])
    target = Path(spec["corpus"]) / held_out.name
    adds: list[float] = []
    deletes: list[float] = []
    out["incremental_counts"] = []
    out["incremental_chunks"] = []
    for i in range(spec["incremental_repeats"]):
        if i:
            target.unlink()
            t = _now()
            sync(index_spec(settings), embeddings=emb)
            deletes.append(_now() - t)
        shutil.copy(held_out, target)
        t = _now()
        report = sync(index_spec(settings), embeddings=emb)
        adds.append(_now() - t)
        out["incremental_counts"].append(report.counts)
        out["incremental_chunks"].append(report.chunks_embedded)
    out["incremental_s"] = statistics.median(adds)
    out["incremental_all_s"] = adds
    out["delete_s"] = statistics.median(deletes) if deletes else None

    t = _now()
    report = sync(index_spec(settings), embeddings=emb)
    out["noop_s"] = _now() - t
    out["noop_chunks"] = report.chunks_embedded
    out["rss_end_mb"] = _maxrss_mb()
    return out


def worker_naive_build(spec: Json) -> Json:
    """The naive pipeline: full build, then an append of the held-out article."""
    import naive
    from askfront.indexing.embeddings import bundled_model_path

    out: Json = {}
    t = _now()
    emb = naive.make_embeddings(bundled_model_path())
    emb.embed_documents(["warm up the model"])
    out["model_load_s"] = _now() - t
    out["rss_model_mb"] = _maxrss_mb()

    paths = sorted(Path(spec["corpus"]).glob("*.md"))
    t, cpu = _now(), _cpu_s()
    db, chunks = naive.build(paths, emb, Path(spec["index"]))
    out["build_s"] = _now() - t
    out["build_cpu_s"] = _cpu_s() - cpu
    out["rss_build_mb"] = _maxrss_mb()
    out["files"] = len(paths)
    out["chunks"] = len(chunks)
    out["chunk_tokens"] = _count_tokens([c.page_content for c in chunks])

    t = _now()
    out["append_chunks"] = naive.add_files(db, [Path(spec["held_out"])])
    out["append_s"] = _now() - t
    out["rss_end_mb"] = _maxrss_mb()
    return out


def worker_synthetic_build(spec: Json) -> Json:
    """Generate the synthetic corpus and write both pipelines' stores with the same vectors."""
    import synthetic
    from askfront.assistant import embedding_spec
    from askfront.indexing.embeddings import get_embeddings

    settings = _settings(spec["corpus"], spec["index"])
    out: Json = {}
    t = _now()
    corpus = synthetic.generate(
        [Path(p) for p in spec["sources"]], Path(spec["corpus"]), spec["target_chunks"], settings
    )
    out["generate_s"] = _now() - t
    out["articles"] = len(corpus.documents)
    out["chunks"] = corpus.n_chunks
    texts = [c.text for c in corpus.chunks()]
    out["chunk_tokens"] = _count_tokens(texts)
    emb = get_embeddings(embedding_spec(settings))
    vectors, out["vectors"] = synthetic.make_vectors(
        texts, emb, spec["real_vectors"], spec["sigma"]
    )
    out["askfront_write"] = synthetic.build_askfront_index(settings, corpus, vectors)
    out["naive_write_s"] = synthetic.build_naive_store(Path(spec["naive_index"]), corpus, vectors)
    return out


def worker_askfront_query(spec: Json) -> Json:
    """A fresh process answering from an existing index: latency and peak memory."""
    from askfront.assistant import embedding_spec
    from askfront.indexing.embeddings import get_embeddings

    settings = _settings(spec["corpus"], spec["index"])
    out: Json = {}
    t = _now()
    emb = get_embeddings(embedding_spec(settings))
    emb.embed_query("warm up the model")
    out["model_load_s"] = _now() - t
    out["queries"] = _askfront_queries(settings, emb, spec["questions"], spec["warmup"])
    out["rss_end_mb"] = _maxrss_mb()
    return out


def worker_naive_query(spec: Json) -> Json:
    import naive
    from askfront.indexing.embeddings import bundled_model_path

    out: Json = {}
    emb = naive.make_embeddings(bundled_model_path())
    emb.embed_query("warm up the model")
    db = naive.open_store(Path(spec["index"]), emb)
    out["queries"] = _naive_queries(
        db, emb, spec["questions"], spec["warmup"], by_vector=spec["by_vector"]
    )
    out["rss_end_mb"] = _maxrss_mb()
    return out


def worker_throughput(spec: Json) -> Json:
    """Build throughput of one embedding profile/backend (set through ASKFRONT_* env)."""
    from askfront.assistant import embedding_spec, index_spec, store_spec
    from askfront.core.config import Settings
    from askfront.indexing.embeddings import fingerprint, get_embeddings
    from askfront.indexing.store import active_build
    from askfront.indexing.sync import sync

    settings = _settings(spec["corpus"], spec["index"])
    out: Json = {"profile": spec["profile"]}
    fields = [var.removeprefix("ASKFRONT_").lower() for var in PROFILES[spec["profile"]]]
    missing = [f for f in fields if f not in Settings.model_fields]
    if missing:
        out["unsupported"] = f"askfront has no {', '.join(missing)} setting"
        return out
    if fields:
        baseline = settings.model_copy(update={f: Settings.model_fields[f].default for f in fields})
        if fingerprint(embedding_spec(settings)) == fingerprint(embedding_spec(baseline)):
            # Vectors of two models never share a fingerprint, so an equal one means the
            # setting changes nothing: it would measure the default model again.
            out["unsupported"] = f"{', '.join(fields)} does not change the embedding model"
            return out
    t = _now()
    try:
        emb = get_embeddings(embedding_spec(settings))
        emb.embed_documents(["warm up the model"])
    except Exception as exc:  # report n/a with the reason instead of failing the whole run
        out["unsupported"] = f"{type(exc).__name__}: {exc}"[:300]
        return out
    out["model_load_s"] = _now() - t
    t = _now()
    report = sync(index_spec(settings), embeddings=emb)
    out["build_s"] = _now() - t
    _, texts, _, _ = active_build(store_spec(settings)).docstore.all_chunk_texts()
    out["chunks"] = len(texts)
    out["chunk_tokens"] = _count_tokens(texts)
    out["failed_files"] = report.counts["failed"]
    q = _askfront_queries(settings, emb, spec["questions"], warmup=0)
    out["hybrid_hit5"] = q["hybrid_hit5"]
    out["dense_hit5"] = q["dense_hit5"]
    out["rss_end_mb"] = _maxrss_mb()
    return out


WORKERS: dict[str, Callable[[Json], Json]] = {
    "askfront-build": worker_askfront_build,
    "naive-build": worker_naive_build,
    "synthetic-build": worker_synthetic_build,
    "askfront-query": worker_askfront_query,
    "naive-query": worker_naive_query,
    "throughput": worker_throughput,
}


def worker_main(name: str, spec_path: Path) -> int:
    import logging

    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    spec = json.loads(spec_path.read_text())
    result = WORKERS[name](spec)
    Path(spec["result"]).write_text(json.dumps(result, indent=2))
    return 0


# -- the parent: child processes and their measurements -------------------------------------


@dataclass
class Child:
    seconds: float
    returncode: int
    maxrss_mb: float


class Runner:
    """Starts child processes in a scratch folder with a clean, offline environment."""

    def __init__(
        self, root: Path, verbose: bool, load_clients: int = 0, load_per_client: int = 0
    ) -> None:
        self.root = root
        self.load_clients = load_clients
        self.load_per_client = load_per_client
        self.logs = root / "logs"
        self.logs.mkdir(parents=True, exist_ok=True)
        self.verbose = verbose
        self.counter = 0
        # ASKFRONT_* from the caller's shell would skew the comparison; only ours apply.
        base = {k: v for k, v in os.environ.items() if not k.startswith("ASKFRONT_")}
        self.env = {**base, **CHILD_ENV}
        self.cwd = root / "cwd"  # no .env file here
        self.cwd.mkdir(exist_ok=True)
        self.askfront = Path(sys.executable).parent / "askfront"

    def log_path(self, name: str) -> Path:
        self.counter += 1
        return self.logs / f"{self.counter:03d}-{name}.log"

    def child(
        self,
        args: Sequence[str],
        log: Path,
        *,
        stdout: Path | None = None,
        env: dict[str, str] | None = None,
        timeout: float = WORKER_TIMEOUT,
    ) -> Child:
        """Run a child to completion; wall time, exit code and its own peak RSS (wait4)."""
        with open(log, "ab") as err, open(stdout or log, "ab") as out:
            started = _now()
            proc = subprocess.Popen(
                list(args), stdout=out, stderr=err, env={**self.env, **(env or {})}, cwd=self.cwd
            )
            timer = threading.Timer(timeout, proc.kill)
            timer.start()
            try:
                _, status, usage = os.wait4(proc.pid, 0)
            finally:
                timer.cancel()
            seconds = _now() - started
        proc.returncode = os.waitstatus_to_exitcode(status)
        return Child(seconds, proc.returncode, usage.ru_maxrss / 1024.0)

    def worker(self, name: str, spec: Json, env: dict[str, str] | None = None) -> Json:
        log = self.log_path(name)
        spec_path = log.with_suffix(".spec.json")
        result_path = log.with_suffix(".result.json")
        spec_path.write_text(json.dumps({**spec, "result": str(result_path)}))
        self._say(f"  {name} ...")
        child = self.child(
            [sys.executable, str(Path(__file__).resolve()), "--worker", name, str(spec_path)],
            log,
            env=env,
        )
        if child.returncode != 0 or not result_path.is_file():
            tail = log.read_text(errors="replace")[-2000:]
            raise RuntimeError(f"worker {name} failed (exit {child.returncode}):\n{tail}")
        result: Json = json.loads(result_path.read_text())
        result["process_s"] = child.seconds
        result["process_maxrss_mb"] = child.maxrss_mb
        self._say(f"  {name} done in {child.seconds:.1f} s")
        return result

    def cold_ask(self, index: Path, question: str) -> Json:
        """`askfront ask QUESTION --index DIR --json` from a fresh process, wall time."""
        log = self.log_path("cold-ask")
        out = log.with_suffix(".json")
        child = self.child(
            [str(self.askfront), "ask", question, "--index", str(index), "--json"],
            log,
            stdout=out,
            timeout=600,
        )
        try:
            data = json.loads(out.read_text())
        except ValueError:
            data = {}
        if child.returncode != 0 or "answer" not in data:
            tail = log.read_text(errors="replace")[-500:]
            return {"error": f"exit {child.returncode}: {tail}"}
        return {"seconds": child.seconds, "maxrss_mb": child.maxrss_mb, "answer": data["answer"]}

    def serve(self, index: Path, corpus: Path, questions: Sequence[str]) -> Json:
        """Start `askfront serve`, time until / answers 200 and the first /ask API answer."""
        if importlib.util.find_spec("askfront.web.app") is None:
            return {"error": "n/a (ui not available)"}
        try:
            from gradio_client import Client
        except ImportError:
            return {"error": "n/a (gradio_client not installed; pip install -e '.[test]')"}
        port = _free_port()
        url = f"http://127.0.0.1:{port}/"
        log = self.log_path("serve")
        out: Json = {}
        with open(log, "ab") as f:
            started = _now()
            proc = subprocess.Popen(
                [
                    str(self.askfront),
                    "serve",
                    "--index",
                    str(index),
                    "--corpus",
                    str(corpus),
                    "--port",
                    str(port),
                ],
                stdout=f,
                stderr=subprocess.STDOUT,
                env=self.env,
                cwd=self.cwd,
            )
            try:
                while not _http_ok(url):
                    if proc.poll() is not None:
                        tail = log.read_text(errors="replace")[-500:]
                        return {"error": f"n/a (serve exited with {proc.returncode}): {tail}"}
                    if _now() - started > 300:
                        return {"error": "n/a (serve did not answer HTTP within 300 s)"}
                    time.sleep(0.05)
                out["http_200_s"] = _now() - started
                client = Client(url, verbose=False)
                t = _now()
                first = client.predict(questions[0], "[]", api_name="/ask")
                out["first_answer_s"] = _now() - started
                out["first_api_call_s"] = _now() - t
                if not isinstance(first, dict) or "answer" not in first:
                    return {**out, "error": f"unexpected /ask result: {str(first)[:200]}"}
                warm = []
                for q in questions[1:6]:
                    t = _now()
                    client.predict(q, "[]", api_name="/ask")
                    warm.append((_now() - t) * 1000)
                out["warm_api_ms"] = _latency(warm)
                if self.load_clients:
                    import load

                    self._say(f"  load: {self.load_clients} concurrent /ask clients ...")
                    out["load"] = load.run_load(
                        url,
                        questions,
                        clients=self.load_clients,
                        per_client=self.load_per_client,
                        deadline_s=300,
                    )
                out["peak_rss_mb"] = _vm_hwm_mb(proc.pid)
            finally:
                proc.terminate()
                try:
                    proc.wait(20)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
        return out

    def _say(self, text: str) -> None:
        if self.verbose:
            print(text, file=sys.stderr, flush=True)


class LoadSampler(threading.Thread):
    """Samples the 1-minute load average while the benchmark runs: the machine is shared,
    and figures taken under load are only comparable as same-run ratios."""

    def __init__(self, every: float = 5.0) -> None:
        super().__init__(daemon=True)
        self.every = every
        self.samples: list[float] = []
        self._stop_event = threading.Event()

    def run(self) -> None:
        while not self._stop_event.is_set():
            self.samples.append(os.getloadavg()[0])
            self._stop_event.wait(self.every)

    def stop(self) -> Json:
        self._stop_event.set()
        got = self.samples or [os.getloadavg()[0]]
        return {"min": min(got), "median": statistics.median(got), "max": max(got)}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _http_ok(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as resp:
            return bool(resp.status == 200)
    except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
        return False


def _vm_hwm_mb(pid: int) -> float | None:
    """Peak resident set size of a running process (Linux /proc)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024.0
    except OSError:
        return None
    return None


# -- dataset selection ----------------------------------------------------------------------


def load_dataset(folder: Path, articles: int, max_questions: int | None) -> Json:
    """Pick `articles` articles (the gold sources of as many questions as fit, then the rest
    in name order), the held-out one (the last by name, added incrementally) and the
    questions with a gold source among them."""
    corpus = folder / "corpus"
    testset = folder / "testset.jsonl"
    if not corpus.is_dir() or not testset.is_file():
        raise SystemExit(
            f"Benchmark dataset not found: expected {corpus}/ and {testset}. Point --dataset "
            "at a RealTimeQA-style folder (corpus/*.md + testset.jsonl)."
        )
    all_files = {p.name: p for p in sorted(corpus.glob("*.md"))}
    questions = [json.loads(line) for line in testset.read_text().splitlines() if line.strip()]
    picked: dict[str, None] = {}
    if articles >= len(all_files):
        picked = dict.fromkeys(all_files)
    else:
        # Questions with fewer gold sources first: more questions fit in a small corpus.
        for q in sorted(questions, key=lambda q: len(q["sources"])):
            new = [s for s in q["sources"] if s in all_files and s not in picked]
            if len(picked) + len(new) <= articles:
                picked.update(dict.fromkeys(new))
        for name in all_files:
            if len(picked) >= articles:
                break
            picked.setdefault(name)
    names = sorted(picked)
    if len(names) < 2:
        raise SystemExit("The benchmark needs at least 2 articles (one is added incrementally).")
    chosen = set(names)
    usable = [
        q for q in questions if q.get("answerable", True) and chosen.intersection(q["sources"])
    ]
    if max_questions:
        usable = usable[:max_questions]
    if not usable:
        raise SystemExit("No question in testset.jsonl has a gold source among the articles.")
    return {
        "base": [all_files[n] for n in names[:-1]],
        "held_out": all_files[names[-1]],
        "questions": usable,
    }


def _corpus_tokens(paths: Sequence[Path]) -> int:
    import frontmatter

    return _count_tokens([frontmatter.load(str(p)).content for p in paths])


# -- one run and the summary ----------------------------------------------------------------


def build_round(b: int, args: argparse.Namespace, data: Json, runner: Runner) -> Json:
    """Both pipelines build the base corpus into fresh folders, back to back; askfront then
    adds the held-out article. Also the profile builds. The indexes are kept for queries."""
    out: Json = {"round": b}
    bdir = runner.root / f"build{b}"
    corpus, naive_corpus = bdir / "corpus", bdir / "naive-corpus"
    corpus.mkdir(parents=True)
    for p in data["base"]:
        shutil.copy(p, corpus / p.name)
    shutil.copytree(corpus, naive_corpus)
    common = {"held_out": str(data["held_out"])}
    af_spec = {
        **common,
        "corpus": str(corpus),
        "index": str(bdir / "index"),
        "incremental_repeats": args.incremental_repeats,
    }
    nv_spec = {**common, "corpus": str(naive_corpus), "index": str(bdir / "naive")}
    # Alternate who goes first, so slow drift of the machine's load favours neither.
    if b % 2 == 0:
        out["askfront"] = runner.worker("askfront-build", af_spec)
        out["naive"] = runner.worker("naive-build", nv_spec)
    else:
        out["naive"] = runner.worker("naive-build", nv_spec)
        out["askfront"] = runner.worker("askfront-build", af_spec)
    out["paths"] = {
        "corpus": str(corpus),
        "index": str(bdir / "index"),
        "naive": str(bdir / "naive"),
    }

    if "profiles" not in args.skip:
        subset = data["base"][: args.profile_articles]
        names = {p.name for p in subset}
        questions = [q for q in data["questions"] if names.intersection(q["sources"])]
        out["profiles"] = {}
        for name in args.profiles:
            pdir = bdir / f"profile-{name}"
            (pdir / "corpus").mkdir(parents=True)
            for p in subset:
                shutil.copy(p, pdir / "corpus" / p.name)
            spec = {
                "corpus": str(pdir / "corpus"),
                "index": str(pdir / "index"),
                "questions": questions,
                "profile": name,
            }
            try:
                out["profiles"][name] = runner.worker("throughput", spec, env=PROFILES[name])
            except RuntimeError as exc:
                out["profiles"][name] = {"unsupported": str(exc)[-300:]}
            shutil.rmtree(pdir, ignore_errors=True)
    return out


def query_run(r: int, args: argparse.Namespace, data: Json, runner: Runner, built: Json) -> Json:
    """Fresh processes querying the built indexes: latency, quality, memory, cold starts."""
    out: Json = {"run": r}
    paths = built["paths"]
    q_spec = {"questions": data["questions"], "warmup": args.warmup}
    pairs = [
        (
            "askfront",
            "askfront-query",
            {**q_spec, "corpus": paths["corpus"], "index": paths["index"]},
        ),
        ("naive", "naive-query", {**q_spec, "index": paths["naive"], "by_vector": False}),
    ]
    syn = built.get("synthetic")
    if syn:
        pairs += [
            ("synthetic_askfront", "askfront-query",
             {**q_spec, "corpus": syn["corpus"], "index": syn["index"]}),
            ("synthetic_naive", "naive-query",
             {**q_spec, "index": syn["naive_index"], "by_vector": True}),
        ]  # fmt: skip
    if r % 2:  # alternate the order, as for builds
        pairs = [pairs[i ^ 1] for i in range(len(pairs))]
    for key, worker, spec in pairs:
        out[key] = runner.worker(worker, spec)

    first_q = data["questions"][0]["question"]
    if "cold" not in args.skip:
        runner._say("  cold start: askfront ask ...")
        out["cold_ask"] = runner.cold_ask(Path(paths["index"]), first_q)
        if syn:
            out["cold_ask_synthetic"] = runner.cold_ask(Path(syn["index"]), first_q)
    if "serve" not in args.skip:
        runner._say("  serve: askfront serve ...")
        index, corpus = (syn["index"], syn["corpus"]) if syn else (paths["index"], paths["corpus"])
        out["serve"] = runner.serve(
            Path(index), Path(corpus), [q["question"] for q in data["questions"]]
        )
        out["serve"]["index"] = "synthetic" if syn else "realtimeqa"
    return out


def _get(d: Any, path: str) -> Any:
    for key in path.split("."):
        if not isinstance(d, dict) or key not in d:
            return None
        d = d[key]
    return d


def _median(values: Sequence[float | None]) -> float | None:
    got = [float(v) for v in values if isinstance(v, int | float)]
    return statistics.median(got) if got else None


Getter = Callable[[Json], float | None]


def _div(a: float | None, b: float | None) -> float | None:
    return a / b if a is not None and b else None


@dataclass
class Row:
    section: str
    label: str
    askfront: Getter | None
    naive: Getter | None = None
    unit: str = ""
    target: str = ""
    # Judged on the summary: (askfront median, naive median, ratio median) -> met?
    check: Callable[[float | None, float | None, float | None], bool | None] | None = None
    ratio: bool = True
    scope: str = "query"  # read from the query runs, the build rounds, or the synthetic build
    # The label of another row: its askfront median is passed to `check` instead of naive's.
    versus: str | None = None


def _p(path: str) -> Getter:
    return lambda run: _get(run, path)


def _tps(side: str, tokens: str) -> Getter:
    return lambda run: _div(_get(run, tokens), _get(run, f"{side}.build_s"))


def rows(corpus_tokens: int) -> list[Row]:
    def corpus_tps(side: str) -> Getter:
        return lambda run: _div(corpus_tokens, _get(run, f"{side}.build_s"))

    def le(limit: float) -> Callable[[float | None, float | None, float | None], bool | None]:
        return lambda a, n, r: None if a is None else a <= limit

    def ge(limit: float) -> Callable[[float | None, float | None, float | None], bool | None]:
        return lambda a, n, r: None if a is None else a >= limit

    def pct_of_build(run: Json) -> float | None:
        return _div(_get(run, "askfront.incremental_s"), _get(run, "askfront.build_s"))

    b, i, q, s, c, w = (
        "Full build",
        "Incremental",
        "Queries (RealTimeQA)",
        "Scale (synthetic)",
        "Cold start",
        "Web chat (synthetic)",
    )
    default_hit5 = "hit@5 (askfront hybrid)"

    def within(points: float) -> Callable[[float | None, float | None, float | None], bool | None]:
        return lambda a, base, r: None if a is None or base is None else a >= base - points

    return [
        Row(b, "full build", _p("askfront.build_s"), _p("naive.build_s"), "s",
            "naive/askfront ≥ 1.5×", lambda a, n, r: None if r is None else r <= 1 / 1.5,
            scope="build"),
        Row(b, "full build, CPU time (all threads)", _p("askfront.build_cpu_s"),
            _p("naive.build_cpu_s"), "s", scope="build"),
        Row(b, "chunks", _p("askfront.chunks"), _p("naive.chunks"), scope="build"),
        Row(b, "chunks/s", _tps("askfront", "askfront.chunks"), _tps("naive", "naive.chunks"),
            scope="build"),
        Row(b, "embedded word pieces/s", _tps("askfront", "askfront.chunk_tokens"),
            _tps("naive", "naive.chunk_tokens"), scope="build"),
        Row(b, "corpus word pieces/s", corpus_tps("askfront"), corpus_tps("naive"),
            scope="build"),
        Row(b, "peak RSS, indexing process", _p("askfront.rss_build_mb"),
            _p("naive.rss_build_mb"), "MB", scope="build"),
        Row(b, "full build, `fast` profile (static model)", _p("profiles.fast.build_s"),
            _p("naive.build_s"), "s", "naive/askfront ≥ 10×",
            lambda a, n, r: None if r is None else r <= 1 / 10, scope="build"),
        Row(b, "full build, `torch` backend (fp32 MiniLM)", _p("profiles.torch.build_s"),
            _p("naive.build_s"), "s", scope="build"),
        Row(b, "hit@5 hybrid, `fast` profile", _p("profiles.fast.hybrid_hit5"),
            None, "", "≥ default − 0.02", within(0.02),
            scope="build", versus=default_hit5),
        Row(i, "add 1 article (vs naive full rebuild)", _p("askfront.incremental_s"),
            _p("naive.build_s"), "s", "≤ 2 s", le(2.0), scope="build"),
        Row(i, "add 1 article / askfront full build", pct_of_build, None, "%", "≤ 2%",
            lambda a, n, r: None if a is None else a <= 0.02, ratio=False, scope="build"),
        Row(i, "delete 1 article", _p("askfront.delete_s"), None, "s", scope="build"),
        Row(i, "naive: append 1 article (no change tracking)", None, _p("naive.append_s"), "s",
            scope="build"),
        Row(i, "no-op re-sync", _p("askfront.noop_s"), None, "s", scope="build"),
        Row(q, "retrieval p50 (askfront hybrid)", _p("askfront.queries.hybrid_ms.p50"),
            _p("naive.queries.search_ms.p50"), "ms"),
        Row(q, "retrieval p95 (askfront hybrid)", _p("askfront.queries.hybrid_ms.p95"),
            _p("naive.queries.search_ms.p95"), "ms"),
        Row(q, "retrieval p50 (askfront dense-only)", _p("askfront.queries.dense_ms.p50"),
            _p("naive.queries.search_ms.p50"), "ms"),
        Row(q, "ask() p50 (extractive answer)", _p("askfront.queries.ask_ms.p50"), None, "ms"),
        Row(q, "ask() p95 (extractive answer)", _p("askfront.queries.ask_ms.p95"), None, "ms"),
        Row(q, default_hit5, _p("askfront.queries.hybrid_hit5"),
            _p("naive.queries.hit5"), "", "≥ 0.95", ge(0.95)),
        Row(q, "hit@5 (askfront dense-only)", _p("askfront.queries.dense_hit5"),
            _p("naive.queries.hit5"), "", "≥ 0.95", ge(0.95)),
        Row(q, "gold answer string in the top 5 chunks (hybrid)",
            _p("askfront.queries.hybrid_answer_hit5"), _p("naive.queries.answer_hit5"), ""),
        Row(q, "answer accuracy (gold string in ask() answer)",
            _p("askfront.queries.ask_accuracy"), None, "", "≥ 0.7", ge(0.7)),
        Row(s, "chunks in the index", _p("chunks"), _p("chunks"), ratio=False,
            scope="synthetic"),
        Row(s, "retrieval p50", _p("synthetic_askfront.queries.hybrid_ms.p50"),
            _p("synthetic_naive.queries.search_ms.p50"), "ms"),
        Row(s, "retrieval p95", _p("synthetic_askfront.queries.hybrid_ms.p95"),
            _p("synthetic_naive.queries.search_ms.p95"), "ms"),
        Row(s, "ask() p50", _p("synthetic_askfront.queries.ask_ms.p50"), None, "ms",
            "≤ 30 ms", le(30.0)),
        Row(s, "ask() p95", _p("synthetic_askfront.queries.ask_ms.p95"), None, "ms",
            "≤ 80 ms", le(80.0)),
        Row(s, "peak RSS, asking process", _p("synthetic_askfront.process_maxrss_mb"),
            _p("synthetic_naive.process_maxrss_mb"), "MB", "≤ 1536 MB", le(1536.0)),
        Row(s, "peak RSS, `askfront serve` after 6 answers", _p("serve.peak_rss_mb"), None,
            "MB", "≤ 1536 MB", le(1536.0)),
        Row(c, "`askfront ask --json`, RealTimeQA index", _p("cold_ask.seconds"), None, "s",
            "≤ 5 s", le(5.0)),
        Row(c, "`askfront ask --json`, synthetic index", _p("cold_ask_synthetic.seconds"), None,
            "s", "≤ 5 s", le(5.0)),
        Row(c, "`askfront serve`: until HTTP 200", _p("serve.http_200_s"), None, "s"),
        Row(c, "`askfront serve`: until first /ask answer", _p("serve.first_answer_s"), None,
            "s"),
        Row(c, "`askfront serve`: warm /ask API call p50", _p("serve.warm_api_ms.p50"), None,
            "ms"),
        Row(w, "concurrent /ask clients", _p("serve.load.clients"), None, ratio=False),
        Row(w, "answers per second, all clients", _p("serve.load.answers_per_s"), None,
            ratio=False),
        Row(w, "answer latency p50", _p("serve.load.p50_ms"), None, "ms", ratio=False),
        Row(w, "answer latency p95", _p("serve.load.p95_ms"), None, "ms", "≤ 1000 ms",
            le(1000.0), ratio=False),
        Row(w, "failed requests", _p("serve.load.errors"), None, "", "0", le(0),
            ratio=False),
    ]  # fmt: skip


def summarize(
    builds: Sequence[Json], runs: Sequence[Json], synthetic: Json | None, corpus_tokens: int
) -> list[Json]:
    sources = {"build": builds, "query": runs, "synthetic": [synthetic] if synthetic else []}
    table = []
    for row in rows(corpus_tokens):
        got = sources[row.scope]
        a = _median([row.askfront(r) for r in got]) if row.askfront else None
        n = _median([row.naive(r) for r in got]) if row.naive else None
        ratio = None
        if row.ratio and row.askfront and row.naive:
            ratio = _median([_div(row.askfront(r), row.naive(r)) for r in got])
        table.append((row, a, n, ratio))
    medians = {row.label: a for row, a, _, _ in table}
    out = []
    for row, a, n, ratio in table:
        base = medians.get(row.versus) if row.versus else n
        met = row.check(a, base, ratio) if row.check else None
        out.append({
            "section": row.section, "metric": row.label, "unit": row.unit, "askfront": a,
            "naive": n, "ratio": ratio, "target": row.target, "met": met,
        })  # fmt: skip
    return out


def _fmt(v: float | None, unit: str = "") -> str:
    if v is None:
        return "n/a"
    if unit == "%":
        return f"{v * 100:.2f}%"
    if abs(v) >= 1000:
        return f"{v:,.0f}"
    if abs(v) >= 100:
        return f"{v:.0f}"
    if abs(v) >= 10:
        return f"{v:.1f}"
    return f"{v:.3g}" if unit in ("", "ms") and abs(v) < 1 else f"{v:.2f}"


def markdown(
    summary: Sequence[Json], builds: Sequence[Json], runs: Sequence[Json], meta: Json
) -> str:
    lines = [
        f"Medians of {meta['build_rounds']} build round(s) and {meta['runs']} query run(s) · "
        f"articles: {meta['articles']} ({meta['articles'] - 1} built + 1 added) · "
        f"questions: {meta['questions']} · "
        f"synthetic chunks: {meta.get('synthetic_chunks', 'skipped')}",
        "",
        "| section | metric | askfront | naive | askfront/naive | target | met |",
        "|---|---|---:|---:|---:|---|---|",
    ]
    for row in summary:
        unit = row["unit"]
        suffix = f" {unit}" if unit and unit != "%" else ""
        met = {True: "✅ met", False: "❌ not met", None: ""}[row["met"]]
        if row["target"] and row["met"] is None:
            met = "n/a"
        a, n = (
            "–" if row[side] is None else _fmt(row[side], unit) + suffix
            for side in ("askfront", "naive")
        )
        ratio = "–" if row["ratio"] is None else _fmt(row["ratio"])
        lines.append(
            f"| {row['section']} | {row['metric']} | {a} | {n} | {ratio} | {row['target']} "
            f"| {met} |"
        )
    lines += _profile_lines(builds, meta)
    lines += _notes(runs, meta)
    return "\n".join(lines)


def _profile_lines(runs: Sequence[Json], meta: Json) -> list[str]:
    names = sorted({n for r in runs for n in (r.get("profiles") or {})})
    if not names:
        return []
    lines = [
        "",
        f"Embedding profiles (askfront full build of {meta['profile_articles']} articles):",
        "",
        "| profile | build s | chunks/s | word pieces/s | hit@5 hybrid | hit@5 dense |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for name in names:
        got = [r["profiles"][name] for r in runs if name in (r.get("profiles") or {})]
        reason = next((g["unsupported"] for g in got if "unsupported" in g), None)
        if reason:
            lines.append(f"| {name} | n/a: {reason.splitlines()[-1][:160]} | | | | |")
            continue
        build = _median([g.get("build_s") for g in got])
        cps = _median([_div(g.get("chunks"), g.get("build_s")) for g in got])
        tps = _median([_div(g.get("chunk_tokens"), g.get("build_s")) for g in got])
        h = _median([g.get("hybrid_hit5") for g in got])
        d = _median([g.get("dense_hit5") for g in got])
        lines.append(
            f"| {name} | {_fmt(build)} | {_fmt(cps)} | {_fmt(tps)} | {_fmt(h)} | {_fmt(d)} |"
        )
    return lines


def _notes(runs: Sequence[Json], meta: Json) -> list[str]:
    notes = []
    syn = meta.get("synthetic")
    if syn:
        v = syn["vectors"]
        notes.append(
            f"Synthetic index: {syn['chunks']:,} chunks in {syn['articles']:,} articles of "
            f"recombined RealTimeQA sentences; {v['real_vectors']:,} real MiniLM vectors, "
            f"{v['perturbed_vectors']:,} perturbed copies (σ={v['sigma']} per component, "
            f"mean cosine to origin {v['mean_cosine_to_origin']:.2f}). Naive: same vectors, "
            "queried with embed_query + similarity_search_by_vector."
        )
    for key in ("serve", "cold_ask", "cold_ask_synthetic"):
        errors = {str(r[key]["error"])[:200] for r in runs if "error" in (r.get(key) or {})}
        notes += [f"{key}: {e}" for e in errors]
    load = meta["load_average"]
    notes.append(
        f"1-minute load average during the benchmark: median {load['median']:.1f} "
        f"(min {load['min']:.1f}, max {load['max']:.1f}) on {os.cpu_count()} CPUs"
        + (f"; torch/OpenMP threads: {meta['threads']}" if meta.get("threads") else "")
        + "."
    )
    return ["", *[f"- {n}" for n in notes]] if notes else []


def _versions() -> Json:
    from importlib.metadata import PackageNotFoundError, version

    out: Json = {}
    for pkg in ("chromadb", "langchain-core", "langchain-chroma", "sentence-transformers",
                "torch", "bm25s", "gradio"):  # fmt: skip
        try:
            out[pkg] = version(pkg)
        except PackageNotFoundError:
            out[pkg] = None
    return out


def _git_commit() -> str | None:
    try:
        return subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True,
            check=True,
        ).stdout.strip()  # fmt: skip
    except (OSError, subprocess.CalledProcessError):
        return None


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    p.add_argument(
        "--dataset",
        type=Path,
        default=DEFAULT_DATASET,
        help="folder with corpus/*.md and testset.jsonl [%(default)s]",
    )
    p.add_argument(
        "--runs", type=int, default=None, help="query runs (fresh processes); medians [3]"
    )
    p.add_argument(
        "--build-rounds",
        type=int,
        default=None,
        help="full builds of each pipeline, from scratch; medians [3; ~5 min each on 2 cores]",
    )
    p.add_argument(
        "--incremental-repeats",
        type=int,
        default=None,
        help="times the held-out article is added (deleted in between); median [3]",
    )
    p.add_argument(
        "--articles",
        type=int,
        default=None,
        help="articles to use; the last is added incrementally [500]",
    )
    p.add_argument("--questions", type=int, default=None, help="cap on questions [all]")
    p.add_argument(
        "--synthetic-chunks",
        type=int,
        default=None,
        help="chunks in the synthetic index; 0 skips it [100000]",
    )
    p.add_argument(
        "--synthetic-real",
        type=int,
        default=None,
        help="synthetic chunks that get real MiniLM vectors [2000]",
    )
    p.add_argument(
        "--sigma",
        type=float,
        default=0.05,
        help="per-component noise of the perturbed synthetic vectors [0.05]",
    )
    p.add_argument(
        "--profiles",
        default="fast",
        help="other embedding profiles to build, like the default, in every round: "
        f"comma list of {', '.join(PROFILES)} [%(default)s]",
    )
    p.add_argument(
        "--profile-articles",
        type=int,
        default=None,
        help="articles in the profile builds [all the built ones; fewer makes the profile "
        "rows' ratios to the naive build meaningless]",
    )
    p.add_argument(
        "--load-clients",
        type=int,
        default=50,
        help="concurrent /ask clients against `askfront serve` [%(default)s]",
    )
    p.add_argument(
        "--load-per-client",
        type=int,
        default=None,
        help="questions each load client asks, one after another [20]",
    )
    p.add_argument("--warmup", type=int, default=None, help="warm-up questions [5]")
    p.add_argument(
        "--threads",
        type=int,
        default=None,
        help="OMP_NUM_THREADS for every child, both pipelines [torch's default]",
    )
    p.add_argument("--skip", default="", help="comma list: cold,serve,load,profiles,synthetic")
    p.add_argument(
        "--quick",
        action="store_true",
        help="60 articles, 1 run, 40 questions, 10k synthetic chunks (~3 min)",
    )
    p.add_argument(
        "--out", type=Path, default=None, help="JSON output [benchmarks/results/bench-<time>.json]"
    )
    p.add_argument(
        "--workdir", type=Path, default=None, help="scratch folder [a new temporary folder]"
    )
    p.add_argument("--keep", action="store_true", help="keep the scratch indexes")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress on stderr")
    p.add_argument("--worker", nargs=2, metavar=("NAME", "SPEC"), help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    quick = args.quick
    defaults = {
        "runs": 1 if quick else 3,
        "build_rounds": 1 if quick else 3,
        "incremental_repeats": 2 if quick else 3,
        "articles": 60 if quick else 500,
        "questions": 40 if quick else None,
        "synthetic_chunks": 10_000 if quick else 100_000,
        "synthetic_real": 200 if quick else 2000,
        "load_per_client": 4 if quick else 20,
        "warmup": 3 if quick else 5,
    }
    for key, value in defaults.items():
        if getattr(args, key) is None:
            setattr(args, key, value)
    args.skip = {s.strip() for s in args.skip.split(",") if s.strip()}
    args.profiles = [s.strip() for s in args.profiles.split(",") if s.strip()]
    unknown = set(args.profiles) - set(PROFILES)
    if unknown:
        p.error(f"unknown profiles: {', '.join(sorted(unknown))} (have {', '.join(PROFILES)})")
    if min(args.runs, args.build_rounds, args.incremental_repeats) < 1 or args.articles < 2:
        p.error("--runs, --build-rounds and --incremental-repeats must be ≥ 1; --articles ≥ 2")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if args.worker:
        return worker_main(args.worker[0], Path(args.worker[1]))
    for key, value in CHILD_ENV.items():
        os.environ.setdefault(key, value)
    data = load_dataset(args.dataset, args.articles, args.questions)
    started = time.time()
    scratch = args.workdir or Path(tempfile.mkdtemp(prefix="askfront-bench-"))
    scratch.mkdir(parents=True, exist_ok=True)
    runner = Runner(
        scratch,
        verbose=not args.quiet,
        load_clients=0 if "load" in args.skip else args.load_clients,
        load_per_client=args.load_per_client,
    )
    if args.threads:
        runner.env.update(OMP_NUM_THREADS=str(args.threads), MKL_NUM_THREADS=str(args.threads))
    meta: Json = {
        "command": " ".join([Path(sys.executable).name, *sys.argv]),
        "runs": args.runs,
        "build_rounds": args.build_rounds,
        "profile_articles": len(data["base"][: args.profile_articles]),
        "articles": len(data["base"]) + 1,
        "questions": len(data["questions"]),
        "corpus_word_pieces": _corpus_tokens(data["base"]),
        "held_out": data["held_out"].name,
        "model_load": "excluded: both pipelines load the model before the clock starts",
        "threads": args.threads,
        "machine": {
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
            "python": platform.python_version(),
        },
        "versions": _versions(),
        "git_commit": _git_commit(),
    }
    builds: list[Json] = []
    runs: list[Json] = []
    sampler = LoadSampler()
    sampler.start()
    try:
        syn: Json | None = None
        if args.synthetic_chunks and "synthetic" not in args.skip:
            runner._say(f"Synthetic index of ~{args.synthetic_chunks:,} chunks ...")
            sdir = scratch / "synthetic"
            syn = {
                "corpus": str(sdir / "corpus"),
                "index": str(sdir / "index"),
                "naive_index": str(sdir / "naive"),
            }
            meta["synthetic"] = runner.worker("synthetic-build", {
                **syn,
                "sources": [str(p) for p in [*data["base"], data["held_out"]]],
                "target_chunks": args.synthetic_chunks,
                "real_vectors": args.synthetic_real,
                "sigma": args.sigma,
            })  # fmt: skip
            meta["synthetic_chunks"] = meta["synthetic"]["chunks"]
        for b in range(args.build_rounds):
            runner._say(f"Build round {b + 1}/{args.build_rounds}")
            builds.append(build_round(b, args, data, runner))
        built = {"paths": builds[0]["paths"], "synthetic": syn}
        for r in range(args.runs):
            runner._say(f"Query run {r + 1}/{args.runs}")
            runs.append(query_run(r, args, data, runner, built))
    finally:
        if not args.keep and args.workdir is None:
            shutil.rmtree(scratch, ignore_errors=True)
        meta["load_average"] = sampler.stop()
    meta["wall_s"] = time.time() - started
    summary = summarize(builds, runs, meta.get("synthetic"), meta["corpus_word_pieces"])
    print(markdown(summary, builds, runs, meta))
    out = args.out or RESULTS / f"bench-{time.strftime('%Y%m%d-%H%M%S')}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    result = {"meta": meta, "summary": summary, "builds": builds, "runs": runs}
    out.write_text(json.dumps(result, indent=2))
    runner._say(f"\nWrote {out} ({meta['wall_s'] / 60:.1f} min)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
