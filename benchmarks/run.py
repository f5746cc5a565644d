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
import json
import os
import platform
import shutil
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from bench.common import CHILD_ENV, DEFAULT_DATASET, PROFILES, RESULTS, Json
from bench.dataset import corpus_tokens, load_dataset
from bench.processes import LoadSampler, Runner
from bench.rounds import build_round, query_run
from bench.table import git_commit, markdown, summarize, versions
from bench.workers import worker_main


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
        "corpus_word_pieces": corpus_tokens(data["base"]),
        "held_out": data["held_out"].name,
        "model_load": "excluded: both pipelines load the model before the clock starts",
        "threads": args.threads,
        "machine": {
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
            "python": platform.python_version(),
        },
        "versions": versions(),
        "git_commit": git_commit(),
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
