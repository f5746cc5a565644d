"""The evaluation report: one self-contained HTML page, and summary rows for the CLI table.

The page loads nothing from anywhere: CSS is inline and the plots are inline SVG drawn by
matplotlib (the `eval` extra). All text from questions, answers and passages is escaped by
Jinja2's autoescaping.
"""

from __future__ import annotations

import logging
import re
from typing import TYPE_CHECKING, Any, NamedTuple

from askfront.core.errors import MissingExtraError
from askfront.evaluation.metrics import metric_info
from askfront.evaluation.plots import latency_plot, metrics_plot, score_names
from askfront.evaluation.runner import EvalResult, QuestionRecord, compare

if TYPE_CHECKING:
    pass

logger = logging.getLogger(__name__)

_BAR = "#3b6ea5"
_BASELINE_BAR = "#b8c4d0"
_LATENCY = re.compile(r"^latency_(.+)_p(?:50|95)_ms$")


class SummaryRow(NamedTuple):
    """One row of the CLI summary table; all cells are display strings."""

    metric: str
    value: str
    baseline: str  # "" without a baseline
    delta: str  # "" without a baseline or when either side is undefined


def format_metric(name: str, value: float | None) -> str:
    if value is None:
        return "n/a"
    if name.startswith("latency_"):
        return f"{value:,.1f} ms"
    return f"{value:.3f}"


def _delta(name: str, value: float | None, before: float | None) -> str:
    if value is None or before is None:
        return ""
    diff = value - before
    return f"{diff:+,.1f} ms" if name.startswith("latency_") else f"{diff:+.3f}"


def summary_rows(result: EvalResult, baseline: EvalResult | None = None) -> list[SummaryRow]:
    """Every aggregate metric as display strings, in the documented order."""
    rows = []
    for name, value in result.metrics.items():
        before = baseline.metrics.get(name) if baseline else None
        rows.append(
            SummaryRow(
                metric=name,
                value=format_metric(name, value),
                baseline=format_metric(name, before) if baseline else "",
                delta=_delta(name, value, before) if baseline else "",
            )
        )
    return rows


# --------------------------------------------------------------------------------------
# The page
# --------------------------------------------------------------------------------------
_TEMPLATE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>askfront evaluation: {{ counts.passed }}/{{ counts.questions }} passed</title>
<style>
body { font: 15px/1.45 system-ui, sans-serif; margin: 0 auto; max-width: 1100px;
       padding: 1.5rem; color: #1f2933; background: #fff; }
h1 { font-size: 1.5rem; margin-bottom: .2rem; }
h2 { font-size: 1.2rem; margin-top: 2.2rem; border-bottom: 1px solid #d9e2ec; }
.meta { color: #52606d; font-size: .85rem; }
.cards { display: flex; gap: 1rem; flex-wrap: wrap; margin: 1rem 0; }
.card { border: 1px solid #d9e2ec; border-radius: 8px; padding: .6rem 1rem; min-width: 8rem; }
.card b { display: block; font-size: 1.4rem; }
figure { margin: 0; }
figure svg { width: 100%; height: auto; max-width: 820px; display: block; }
table { border-collapse: collapse; width: 100%; font-size: .9rem; }
th, td { border-bottom: 1px solid #e4e7eb; padding: .35rem .5rem; text-align: left;
         vertical-align: top; }
th { background: #f5f7fa; }
table.narrow { width: auto; min-width: 24rem; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
.good { color: #1e7b34; } .bad { color: #b42318; }
.badge { display: inline-block; padding: 0 .45rem; border-radius: 4px; font-size: .8rem;
         font-weight: 600; color: #fff; }
.badge.pass { background: #2f855a; } .badge.fail { background: #c53030; }
.badge.ref { background: #718096; }
.history { color: #52606d; font-size: .8rem; margin: .2rem 0; }
blockquote { margin: .3rem 0; padding: .2rem .6rem; border-left: 3px solid #9fb3c8;
             background: #f5f7fa; font-size: .85rem; }
.src { color: #52606d; font-size: .75rem; }
.answer { white-space: pre-wrap; }
</style>
</head>
<body>
<h1>askfront evaluation report</h1>
<p class="meta">
{% for key, value in meta_items %}{{ key }}: {{ value }}{{ " · " if not loop.last }}
{% endfor %}
</p>
<div class="cards">
{% for label, value in cards %}<div class="card">{{ label }}<b>{{ value }}</b></div>{% endfor %}
</div>

<h2>Metrics</h2>
<figure id="plot-metrics">{{ metrics_svg }}</figure>
<table id="metrics-table">
<tr><th>metric</th><th>value</th>{% if baseline %}<th>baseline</th><th>change</th>{% endif %}
<th>meaning</th></tr>
{% for row in metric_rows %}
<tr><td>{{ row.name }}</td><td class="num">{{ row.value }}</td>
{% if baseline %}<td class="num">{{ row.baseline }}</td>
<td class="num {{ row.trend }}">{{ row.delta }}</td>{% endif %}
<td>{{ row.description }}</td></tr>
{% endfor %}
</table>
<p class="meta">{{ counts.questions }} questions ({{ counts.answerable }} answerable,
{{ counts.unanswerable }} unanswerable); retrieval scored on {{ counts.retrieval_scored }}.
Refusals: {{ counts.refusal_tp }} correct, {{ counts.refusal_fp }} false,
{{ counts.refusal_fn }} missed.</p>

<h2>Latency</h2>
<figure id="plot-latency">{{ latency_svg }}</figure>
<table id="latency-table" class="narrow">
<tr><th>stage</th><th>p50</th><th>p95</th></tr>
{% for stage, p50, p95 in latency_rows %}
<tr><td>{{ stage }}</td><td class="num">{{ p50 }}</td><td class="num">{{ p95 }}</td></tr>
{% endfor %}
</table>

{% if by_tag %}
<h2>By tag</h2>
<table id="tags-table">
<tr><th>tag</th><th>questions</th><th>pass rate</th><th>accuracy</th></tr>
{% for tag, row in by_tag %}
<tr><td>{{ tag }}</td><td class="num">{{ row.questions }}</td>
<td class="num">{{ row.pass_rate }}</td><td class="num">{{ row.accuracy }}</td></tr>
{% endfor %}
</table>
{% endif %}

{% if baseline %}
<h2 id="diff">Changes since the baseline</h2>
{% for title, css, items in diff %}
<h3 class="{{ css }}">{{ title }} ({{ items|length }})</h3>
{% if items %}
<table>
<tr><th>id</th><th>question</th><th>before</th><th>now</th></tr>
{% for item in items %}
<tr><td>{{ item.id }}</td><td>{{ item.question }}</td>
<td>{{ item.before }}</td><td>{{ item.now }}</td></tr>
{% endfor %}
</table>
{% else %}<p class="meta">None.</p>{% endif %}
{% endfor %}
{% endif %}

<h2>Questions (failures first)</h2>
<table id="questions">
<tr><th></th><th>question</th><th>gold</th><th>answer and cited passages</th>
<th>F1</th><th>rank</th></tr>
{% for q in questions %}
<tr id="q-{{ q.id }}" class="{{ 'pass' if q.passed else 'fail' }}">
{% set status = 'pass' if q.passed else 'fail' %}
<td><span class="badge {{ status }}">{{ status|upper }}</span>
<div class="src">{{ q.id }}</div></td>
<td>{% for turn in q.history %}
<div class="history">{{ turn.role }}: {{ turn.content }}</div>{% endfor %}
{{ q.question }}</td>
<td>{% if q.answerable %}{{ q.golds|join(" | ") }}{% else %}<i>(unanswerable)</i>{% endif %}</td>
<td>{% if q.refused %}<span class="badge ref">REFUSED</span> {% endif %}
<div class="answer">{{ q.answer }}</div>
{% if q.notice %}<div class="src">notice: {{ q.notice }}</div>{% endif %}
{% for c in q.citations %}<blockquote>[{{ c.n }}] {{ c.quote }}
<div class="src">{{ c.source }}{% if c.title %} — {{ c.title }}{% endif %}</div></blockquote>
{% endfor %}</td>
<td class="num">{{ q.f1 }}</td><td class="num">{{ q.rank }}</td>
</tr>
{% endfor %}
</table>
</body>
</html>
"""


def _environment() -> tuple[Any, Any]:
    """A Jinja2 environment that escapes everything, and the Markup type that opts out."""
    try:
        import jinja2
        import markupsafe
    except ImportError as exc:
        raise MissingExtraError("jinja2", "eval") from exc
    return jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined), markupsafe.Markup


def _trend(name: str, value: float | None, before: float | None) -> str:
    if value is None or before is None or value == before:
        return ""
    better = value > before if metric_info(name).higher_is_better else value < before
    return "good" if better else "bad"


def _outcome(record: QuestionRecord) -> str:
    status = "pass" if record.passed else "fail"
    f1 = record.scores.get("f1")
    return status if f1 is None else f"{status}, F1 {f1:.2f}"


def render_html(result: EvalResult, baseline: EvalResult | None = None) -> str:
    """The whole report as one self-contained HTML page.

    Raises:
        MissingExtraError: if matplotlib (the `eval` extra) is not installed.
    """
    env, markup = _environment()
    metric_rows = []
    for name in score_names(result):
        value = result.metrics.get(name)
        before = baseline.metrics.get(name) if baseline else None
        metric_rows.append(
            {
                "name": name,
                "value": format_metric(name, value),
                "baseline": format_metric(name, before),
                "delta": _delta(name, value, before),
                "trend": _trend(name, value, before),
                "description": metric_info(name).description,
            }
        )
    stages = sorted({hit.group(1) for n in result.metrics if (hit := _LATENCY.match(n))})
    latency_rows = [
        (
            stage,
            format_metric("latency_", result.metrics.get(f"latency_{stage}_p50_ms")),
            format_metric("latency_", result.metrics.get(f"latency_{stage}_p95_ms")),
        )
        for stage in stages
    ]
    diff = []
    if baseline is not None:
        regressed, improved = compare(result, baseline)
        for title, css, ids in (("Regressed", "bad", regressed), ("Improved", "good", improved)):
            items = []
            for qid in ids:
                now, old = result.record(qid), baseline.record(qid)
                assert now is not None and old is not None  # compare only returns shared ids
                items.append(
                    {
                        "id": qid,
                        "question": now.question,
                        "before": _outcome(old),
                        "now": _outcome(now),
                    }
                )
            diff.append((title, css, items))
    # Failures first, otherwise in test-set order (sorted() is stable).
    ordered = sorted(result.records, key=lambda r: r.passed)
    questions = [
        {
            "id": r.id,
            "passed": r.passed,
            "history": r.history,
            "question": r.question,
            "answerable": r.answerable,
            "golds": r.golds,
            "refused": r.refused,
            "answer": r.answer,
            "notice": r.notice,
            "citations": r.citations,
            "f1": format_metric("f1", r.scores.get("f1")),
            "rank": r.first_relevant_rank if r.first_relevant_rank is not None else "—",
        }
        for r in ordered
    ]
    m = result.metrics
    cards = [
        ("passed", f"{result.counts.get('passed', 0)}/{result.counts.get('questions', 0)}"),
        ("accuracy", format_metric("accuracy", m.get("accuracy"))),
        ("refusal F1", format_metric("refusal_f1", m.get("refusal_f1"))),
        ("MRR", format_metric("mrr", m.get("mrr"))),
        ("p95 latency", format_metric("latency_", m.get("latency_wall_p95_ms"))),
    ]
    by_tag = [
        (
            tag,
            {
                "questions": row.get("questions"),
                "pass_rate": format_metric("pass_rate", row.get("pass_rate")),
                "accuracy": format_metric("accuracy", row.get("accuracy")),
            },
        )
        for tag, row in result.by_tag.items()
    ]
    template = env.from_string(_TEMPLATE)
    return str(
        template.render(
            meta_items=[(k, v) for k, v in result.meta.items() if v not in (None, "")],
            counts=result.counts,
            cards=cards,
            # Markup: our own SVG from matplotlib, the only unescaped content on the page.
            metrics_svg=markup(metrics_plot(result, baseline)),
            latency_svg=markup(latency_plot(result)),
            metric_rows=metric_rows,
            latency_rows=latency_rows,
            by_tag=by_tag,
            baseline=baseline is not None,
            diff=diff,
            questions=questions,
        )
    )
