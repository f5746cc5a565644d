"""The summary rows, medians and ratios, and the Markdown table."""

from __future__ import annotations

import os
import statistics
import subprocess
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from bench.common import REPO, Json


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


def versions() -> Json:
    from importlib.metadata import PackageNotFoundError, version

    out: Json = {}
    for pkg in ("chromadb", "langchain-core", "langchain-chroma", "sentence-transformers",
                "torch", "bm25s", "gradio"):  # fmt: skip
        try:
            out[pkg] = version(pkg)
        except PackageNotFoundError:
            out[pkg] = None
    return out


def git_commit() -> str | None:
    try:
        return subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True,
            check=True,
        ).stdout.strip()  # fmt: skip
    except (OSError, subprocess.CalledProcessError):
        return None
