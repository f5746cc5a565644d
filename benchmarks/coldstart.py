"""Cold start of the CLI: process start to the first printed answer, and no-op/one-file syncs.

    python benchmarks/coldstart.py                      # everything, 5 runs each
    python benchmarks/coldstart.py --skip synthetic add # only the default-index rows

Every figure is a fresh interpreter (`python -m askfront.cli ...`, the code `askfront`
runs), timed from spawn to exit with its own peak RSS (`os.wait4`), in an empty working
folder (no `.env`), offline, with the calling shell's ASKFRONT_* variables dropped. The
OS file cache is warm (one untimed run first), as on any second start. Each run records
the 1-minute load average before it: on a shared machine, read the medians next to it.

Whole-process rows:
- `ask --help`; `ask QUESTION --json` on the default index (built here from corpus/);
- `index` with nothing changed (the default index);
- `ask QUESTION --json` at ~100k chunks (benchmarks/synthetic.py builds it, or --synthetic);
- `index` after adding one article to 499 RealTimeQA articles (the 500th, removed and
  synced again untimed between runs); the full build of the 499 is timed once, for the ratio.

In-process rows split the default-index `ask` into stages (median over the same number of
fresh processes), and `python -X importtime` lists the modules its imports spend most on.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
QUESTION = "How many foreigners serve in Ukraine's international legion?"
DATASET = REPO.parent / "shared" / "datasets" / "realtimeqa-2024"
CHILD_ENV = {"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "ANONYMIZED_TELEMETRY": "False"}
# (row, target seconds or None): the targets, as whole processes on 2 cores.
TARGETS = {
    "ask_help": None,
    "ask_default": 1.5,
    "index_noop": 1.5,
    "ask_synthetic": 2.5,
    "index_add_one": 2.0,
}
LABELS = {
    "ask_help": "`askfront ask --help`",
    "ask_default": "`askfront ask QUESTION --json`, default index (11 chunks)",
    "index_noop": "`askfront index`, nothing changed (default index)",
    "ask_synthetic": "`askfront ask QUESTION --json`, synthetic index",
    "index_add_one": "`askfront index` after adding 1 article to 499",
}
Json = dict[str, Any]


def loadavg() -> float:
    try:
        return float(Path("/proc/loadavg").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return float("nan")


class Cli:
    """Runs `python -m askfront.cli ARGS` as a fresh, isolated child process."""

    def __init__(self, work: Path, src: Path | None = None) -> None:
        self.cwd = work / "cwd"
        self.cwd.mkdir(parents=True, exist_ok=True)
        env = {k: v for k, v in os.environ.items() if not k.startswith("ASKFRONT_")}
        if src is not None:  # another checkout's askfront (say, a baseline) wins
            env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(src), env.get("PYTHONPATH")]))
        self.env = {**env, **CHILD_ENV}

    def run(self, args: list[str], *, python_flags: tuple[str, ...] = ()) -> Json:
        """One run: wall seconds, peak RSS (MB), the load average before it, and its output."""
        load = loadavg()
        with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
            started = time.perf_counter()
            proc = subprocess.Popen(
                [sys.executable, *python_flags, "-m", "askfront.cli", *args],
                stdout=out, stderr=err, env=self.env, cwd=self.cwd,
            )  # fmt: skip
            _, status, usage = os.wait4(proc.pid, 0)
            seconds = time.perf_counter() - started
            out.seek(0)
            err.seek(0)
            stdout, stderr = (
                out.read().decode(errors="replace"),
                err.read().decode(errors="replace"),
            )
        code = os.waitstatus_to_exitcode(status)
        if code != 0:
            raise SystemExit(f"askfront {' '.join(args)} exited {code}:\n{stderr[-2000:]}")
        return {
            "seconds": seconds,
            "maxrss_mb": usage.ru_maxrss / 1024.0,
            "load": load,
            "stdout": stdout,
            "stderr": stderr,
        }

    def timed(self, args: list[str], runs: int, between: Any = None) -> Json:
        """`runs` timed runs after one untimed warm-up; `between` runs before each of them."""
        if between:
            between()
        self.run(args)
        samples = []
        for _ in range(runs):
            if between:
                between()
            samples.append({k: v for k, v in self.run(args).items() if k not in ("stdout",)})
        return summarize(samples)


def summarize(samples: list[Json]) -> Json:
    secs = [s["seconds"] for s in samples]
    return {
        "median_s": statistics.median(secs),
        "min_s": min(secs),
        "max_s": max(secs),
        "maxrss_mb": statistics.median(s["maxrss_mb"] for s in samples),
        "load": statistics.median(s["load"] for s in samples),
        "runs": [{k: v for k, v in s.items() if k != "stderr"} for s in samples],
    }


# -- in-process stages (run inside a child by --stages) --------------------------------------
def stages(index: str, question: str) -> None:
    """The cold `ask` path, stage by stage, as cli.ask runs it; prints JSON milliseconds."""
    laps: dict[str, float] = {}
    t = time.perf_counter()

    def lap(name: str) -> None:
        nonlocal t
        now = time.perf_counter()
        laps[name] = (now - t) * 1000.0
        t = now

    import askfront.cli as cli

    lap("import askfront.cli (typer, rich)")
    settings = cli._settings(index_dir=Path(index))
    lap("Settings (pydantic-settings)")
    from askfront.assistant import Assistant

    lap("import askfront.assistant")
    assistant = Assistant(settings)
    lap("Assistant()")
    embeddings = assistant.embeddings
    lap("embedding model (onnxruntime, tokenizer)")
    assistant.retriever()
    lap("open the index (manifest, docstore, BM25)")
    embeddings.embed_query(question)
    lap("first query vector (ONNX session)")
    assistant.answerer()
    lap("answerer (imports)")
    answer = assistant.ask(question)
    lap("ask() (search, answer, first-use imports)")
    from askfront.termtext import to_json

    to_json(answer.to_json())
    lap("JSON")
    laps["chromadb imported"] = float("chromadb" in sys.modules)
    print(json.dumps(laps))


def importtime(cli: Cli, args: list[str], top: int = 14) -> list[tuple[str, float]]:
    """The packages an `askfront ARGS` process spends most import time on (cumulative ms of
    each top-level package, as `python -X importtime` reports it)."""
    res = cli.run(args, python_flags=("-X", "importtime"))
    per: dict[str, float] = {}
    for line in res["stderr"].splitlines():
        m = re.match(r"import time:\s+\d+ \|\s+(\d+) \| ( *)(\S+)", line)
        if m and len(m.group(2)) == 0:  # a module imported at the top level of the tree
            name = m.group(3)
            key = ".".join(name.split(".")[:2]) if name.startswith("askfront") else name
            key = key.split(".")[0] if not key.startswith("askfront") else key
            per[key] = per.get(key, 0.0) + int(m.group(1)) / 1000.0
    return sorted(per.items(), key=lambda kv: -kv[1])[:top]


# -- the indexes ---------------------------------------------------------------------------
def build_default(cli: Cli, work: Path) -> Path:
    index = work / "default-index"
    cli.run(["index", "--corpus", str(REPO / "corpus"), "--index", str(index)])
    return index


def build_synthetic(work: Path, dataset: Path) -> Path:
    """benchmarks/synthetic.py's ~100k-chunk index, in a child process (minutes)."""
    index = work / "synthetic-index"
    code = (
        "import sys; from pathlib import Path; sys.path.insert(0, sys.argv[1]);"
        "import synthetic; from askfront.core.config import Settings;"
        "from askfront.assistant import embedding_spec;"
        "from askfront.indexing.embeddings import get_embeddings;"
        "s = Settings(corpus_dir=Path(sys.argv[3]), index_dir=Path(sys.argv[4]));"
        "c = synthetic.generate(sorted(Path(sys.argv[2]).glob('*.md')), s.corpus_dir, 100000, s);"
        "v, _ = synthetic.make_vectors([x.text for x in c.chunks()],"
        " get_embeddings(embedding_spec(s)), 2000, 0.05);"
        "synthetic.build_askfront_index(s, c, v); print(c.n_chunks)"
    )
    args = [str(HERE), str(dataset / "corpus"), str(work / "synthetic-corpus"), str(index)]
    env = {**os.environ, **CHILD_ENV}
    subprocess.run([sys.executable, "-c", code, *args], check=True, env=env, cwd=work)
    return index


def chunk_count(index: Path) -> int:
    manifest = json.loads((index / "manifest.json").read_text())
    db = index / "builds" / manifest["active"] / "docstore.sqlite3"
    import sqlite3

    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        return int(conn.execute("SELECT COUNT(*) FROM chunks").fetchone()[0])


def add_one(cli: Cli, work: Path, dataset: Path, runs: int) -> Json:
    """Index 499 articles (timed once), then time adding the 500th."""
    articles = sorted((dataset / "corpus").glob("*.md"))
    if len(articles) < 2:
        raise SystemExit(f"{dataset}/corpus/ has no articles (expected RealTimeQA's 500 .md)")
    corpus, index = work / "rtqa-corpus", work / "rtqa-index"
    corpus.mkdir(exist_ok=True)
    for path in articles[:-1]:
        shutil.copy(path, corpus / path.name)
    args = ["index", "--corpus", str(corpus), "--index", str(index), "--json"]
    full = cli.run(args)
    held_out = articles[-1]

    def remove() -> None:
        (corpus / held_out.name).unlink(missing_ok=True)
        cli.run(args)  # untimed: the article's chunks leave the index again
        shutil.copy(held_out, corpus / held_out.name)

    out = cli.timed(args, runs, between=remove)
    out["full_build_s"] = full["seconds"]
    out["articles"] = len(articles) - 1
    return out


def _commit(src: Path) -> str:
    proc = subprocess.run(["git", "-C", str(src), "describe", "--always", "--dirty"],
                          capture_output=True, text=True)  # fmt: skip
    return proc.stdout.strip() or str(src)


# -- report --------------------------------------------------------------------------------
def markdown(results: Json) -> str:
    n = results["runs"]
    lines = [
        f"Whole processes, median of {n} runs (min–max), peak RSS, 1-min load average "
        f"(median over the runs); {results['machine']}, askfront at {results['commit']}.",
        "",
        "| command | wall time | peak RSS | load avg | target | met |",
        "|---|---|---|---|---|---|",
    ]
    for key, label in LABELS.items():
        row = results["whole"].get(key)
        if row is None:
            continue
        if key == "ask_synthetic":
            label += f" ({row['chunks']:,} chunks)"
        target = TARGETS[key]
        med = row["median_s"]
        met = "–" if target is None else ("yes" if med <= target else "**no**")
        extra = ""
        if key == "index_add_one":
            extra = f"; full build of {row['articles']}: {row['full_build_s']:.1f} s"
            extra += f", add = {100 * med / row['full_build_s']:.1f}% of it"
        lines.append(
            f"| {label} | {med:.2f} s ({row['min_s']:.2f}–{row['max_s']:.2f}){extra} "
            f"| {row['maxrss_mb']:.0f} MB | {row['load']:.2f} "
            f"| {'–' if target is None else f'≤ {target} s'} | {met} |"
        )
    if results.get("stages"):
        lines += ["", f"In-process stages of the default-index `ask` (median of {n} processes):",
                  "", "| stage | ms |", "|---|---|"]  # fmt: skip
        for name, ms in results["stages"].items():
            if name != "chromadb imported":
                lines.append(f"| {name} | {ms:.0f} |")
        chroma = "yes" if results["stages"].get("chromadb imported") else "no"
        lines.append(f"| chromadb imported | {chroma} |")
    if results.get("importtime"):
        lines += ["", "`python -X importtime`, default-index `ask`: cumulative ms per package "
                  f"(one run, load {results['importtime_load']:.2f}):", "",
                  "| package | ms |", "|---|---|"]  # fmt: skip
        lines += [f"| {name} | {ms:.0f} |" for name, ms in results["importtime"]]
    return "\n".join(lines)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=5, help="timed runs per row (default 5)")
    ap.add_argument("--dataset", type=Path, default=DATASET, help="RealTimeQA folder")
    ap.add_argument("--synthetic", type=Path, help="an existing synthetic index to reuse")
    ap.add_argument("--skip", nargs="*", default=[], choices=["synthetic", "add", "stages"])
    ap.add_argument("--work", type=Path, help="working folder (default: a temporary one)")
    ap.add_argument("--out", type=Path, help="also write everything measured as JSON here")
    ap.add_argument("--src", type=Path, help="measure the askfront in this src/ folder instead")
    ap.add_argument("--stages", nargs=2, metavar=("INDEX", "QUESTION"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.stages:
        stages(*args.stages)
        return 0
    work = args.work or Path(tempfile.mkdtemp(prefix="askfront-coldstart-"))
    work.mkdir(parents=True, exist_ok=True)
    cli = Cli(work, args.src)
    say = lambda text: print(text, file=sys.stderr, flush=True)  # noqa: E731
    results: Json = {"runs": args.runs, "whole": {}, "machine": f"{os.cpu_count()} cores"}
    results["commit"] = _commit(args.src or REPO / "src")
    say(f"Working in {work}. Building the default index from corpus/ ...")
    default = build_default(cli, work)
    q = ["ask", QUESTION, "--index", str(default), "--json"]
    say("ask --help, ask, no-op index ...")
    results["whole"]["ask_help"] = cli.timed(["ask", "--help"], args.runs)
    results["whole"]["ask_default"] = cli.timed(q, args.runs)
    noop = ["index", "--corpus", str(REPO / "corpus"), "--index", str(default)]
    results["whole"]["index_noop"] = cli.timed(noop, args.runs)
    if "stages" not in args.skip:
        say("in-process stages and -X importtime ...")
        rows = []
        for _ in range(args.runs):
            proc = subprocess.run(
                [sys.executable, __file__, "--stages", str(default), QUESTION],
                capture_output=True, text=True, env=cli.env, cwd=cli.cwd, check=True,
            )  # fmt: skip
            rows.append(json.loads(proc.stdout))
        results["stages"] = {k: statistics.median(r[k] for r in rows) for k in rows[0]}
        results["importtime_load"] = loadavg()
        results["importtime"] = importtime(cli, q)
    if "synthetic" not in args.skip:
        if args.synthetic is None:
            say("Building the ~100k-chunk synthetic index (benchmarks/synthetic.py; minutes) ...")
        syn = args.synthetic or build_synthetic(work, args.dataset)
        say("ask on the synthetic index ...")
        row = cli.timed(["ask", QUESTION, "--index", str(syn), "--json"], args.runs)
        row["chunks"] = chunk_count(syn)
        results["whole"]["ask_synthetic"] = row
    if "add" not in args.skip:
        say(f"Indexing {args.dataset.name} minus one article (minutes), then adding it ...")
        results["whole"]["index_add_one"] = add_one(cli, work, args.dataset, args.runs)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(results, indent=2))
    print(markdown(results))
    if args.work is None:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
