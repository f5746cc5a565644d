"""One build round and one query run: which workers run, in which order."""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path

from bench.common import PROFILES, Json
from bench.processes import Runner

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
