"""The report's plots: matplotlib figures (the `eval` extra) as inline SVG."""

from __future__ import annotations

import io
import re
from typing import TYPE_CHECKING

from askfront.core.errors import MissingExtraError
from askfront.evaluation.metrics import JUDGE_METRICS, METRICS
from askfront.evaluation.runner import EvalResult

if TYPE_CHECKING:
    from matplotlib.figure import Figure

_BAR = "#3b6ea5"
_BASELINE_BAR = "#b8c4d0"


def _figure(width: float, height: float) -> Figure:
    try:
        from matplotlib.figure import Figure
    except ImportError as exc:
        raise MissingExtraError("matplotlib", "eval") from exc
    # A bare Figure needs no pyplot and no GUI backend: safe in servers and threads.
    return Figure(figsize=(width, height), layout="constrained")


def _svg(fig: Figure, prefix: str) -> str:
    """The figure as an inline <svg> element, ids prefixed so several plots can share a page."""
    import matplotlib

    buf = io.StringIO()
    with matplotlib.rc_context({"svg.fonttype": "none", "svg.hashsalt": prefix}):
        fig.savefig(buf, format="svg", metadata={"Date": None, "Creator": None})
    svg = buf.getvalue()
    svg = svg[svg.index("<svg") :]  # drop the XML prolog and DOCTYPE (they name URLs)
    svg = re.sub(r'\bid="', f'id="{prefix}-', svg)
    svg = svg.replace("url(#", f"url(#{prefix}-").replace('href="#', f'href="#{prefix}-')
    # Scale with the page: keep the viewBox, drop the fixed size in points.
    return re.sub(r'<svg([^>]*?) width="[^"]*" height="[^"]*"', r"<svg\1", svg, count=1)


def score_names(result: EvalResult) -> list[str]:
    return [n for n in (*METRICS, *JUDGE_METRICS) if n in result.metrics]


def metrics_plot(result: EvalResult, baseline: EvalResult | None = None) -> str:
    """Horizontal bars of the 0-1 metrics (baseline bars beside them), as inline SVG."""
    names = score_names(result)
    fig = _figure(7.5, 0.9 + 0.42 * len(names) * (2 if baseline else 1) ** 0.5)
    ax = fig.subplots()
    ys = list(range(len(names)))[::-1]
    height = 0.38 if baseline else 0.6
    values = [result.metrics.get(n) for n in names]
    offset = height / 2 if baseline else 0.0
    bars = ax.barh(
        [y + offset for y in ys], [v or 0.0 for v in values], height, color=_BAR, label="this run"
    )
    if baseline:
        before = [baseline.metrics.get(n) for n in names]
        ax.barh(
            [y - offset for y in ys],
            [v or 0.0 for v in before],
            height,
            color=_BASELINE_BAR,
            label="baseline",
        )
        ax.legend(loc="lower right", fontsize=8, frameon=False)
    for bar, value in zip(bars, values, strict=True):
        label = "n/a" if value is None else f"{value:.2f}"
        ax.text(
            bar.get_width() + 0.01,
            bar.get_y() + bar.get_height() / 2,
            label,
            va="center",
            fontsize=8,
        )
    ax.set_yticks(ys, names, fontsize=9)
    ax.set_xlim(0, 1.08)
    ax.set_xlabel("score (higher is better, except false_refusal_rate)", fontsize=8)
    ax.spines[["top", "right"]].set_visible(False)
    return _svg(fig, "plot-metrics")


def latency_plot(result: EvalResult) -> str:
    """Histogram of the per-question wall time of `ask`, with p50/p95 marked, as inline SVG."""
    fig = _figure(7.5, 2.8)
    ax = fig.subplots()
    walls = [r.wall_ms for r in result.records]
    if walls:
        from matplotlib.ticker import MaxNLocator

        bins = min(30, max(5, len(walls) // 3))
        ax.hist(walls, bins=bins, color=_BAR)
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))  # counts of questions
        for name, style in (("p50", "--"), ("p95", ":")):
            value = result.metrics.get(f"latency_wall_{name}_ms")
            if value is not None:
                ax.axvline(value, color="#c0392b", linestyle=style, label=f"{name} {value:,.0f} ms")
        ax.legend(fontsize=8, frameon=False)
    else:
        ax.text(0.5, 0.5, "no questions", ha="center", va="center", transform=ax.transAxes)
    ax.set_xlabel("time to answer one question (ms)", fontsize=8)
    ax.set_ylabel("questions", fontsize=8)
    ax.spines[["top", "right"]].set_visible(False)
    return _svg(fig, "plot-latency")
