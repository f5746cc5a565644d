"""The HTML evaluation report: content, escaping, self-containment, and a real browser look."""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Any

import pytest

from askfront.core.errors import MissingExtraError
from askfront.core.types import Answer, AnswerSentence, Chunk, Citation, Passage
from askfront.evaluation.report import render_html, summary_rows
from askfront.evaluation.runner import EvalResult, score_answer
from askfront.evaluation.testset import EvalItem
from paths import REPO

EVIL = "<script>alert('pwned')</script>"


def _answer(text: str, quote: str, *, refused: bool = False, ms: float = 100.0) -> Answer:
    chunk = Chunk("a#1", "a.md", 0, quote, 0, len(quote))
    return Answer(
        text=text,
        refused=refused,
        citations=[] if refused else [Citation(1, "a.md", "Title <i>", None, 0, 5, quote, 0.9)],
        sentences=[] if refused else [AnswerSentence(text, [1])],
        passages=[Passage(chunk=chunk)],
        timings={"retrieve_ms": ms / 2, "total_ms": ms},
    )


def make_result(*, wrong_fico: bool = True) -> EvalResult:
    """Three questions: one passes, one fails with hostile text everywhere, one refusal."""
    items = [
        EvalItem(
            id="pay", question="How much are they paid?", answers=["$2,000"], sources=["a.md"]
        ),
        EvalItem(
            id="fico",
            question=f"Who is the Slovak PM? {EVIL}",
            answers=["Robert Fico"],
            sources=["a.md"],
            history=[{"role": "user", "content": f"Earlier <b>question</b> {EVIL}"}],  # type: ignore[list-item]
        ),
        EvalItem(id="oz", question="Capital of Australia?", answers=[], answerable=False),
    ]
    fico_text = f"It was {EVIL} Macron. [1]" if wrong_fico else "Robert Fico. [1]"
    answers = [
        _answer("They earn $2,000 a month. [1]", "a salary at $2,000 a month", ms=80.0),
        _answer(fico_text, f"quoted <img src=x onerror=alert(1)> {EVIL}", ms=120.0),
        _answer("The articles don't say.", "", refused=True, ms=40.0),
    ]
    records = [
        score_answer(item, answer, wall_ms=answer.timings["total_ms"])
        for item, answer in zip(items, answers, strict=True)
    ]
    return EvalResult.from_records(records, {"testset": "hand-made", "llm": "extractive"})


def test_report_shows_metrics_plots_and_questions_failures_first() -> None:
    html = render_html(make_result())
    assert html.startswith("<!DOCTYPE html>")
    assert html.count("<svg") == 2
    assert 'id="plot-metrics"' in html and 'id="plot-latency"' in html
    for name in ("accuracy", "refusal_f1", "mrr", "citation_precision"):
        assert f"<td>{name}</td>" in html
    assert "<td>total</td>" in html and "<td>retrieve</td>" in html  # latency stages
    # Rows: the failing "fico" first, then passes in test-set order.
    order = re.findall(r'<tr id="q-([^"]+)"', html)
    assert order == ["fico", "pay", "oz"]
    assert "REFUSED" in html and "(unanswerable)" in html
    assert "a salary at $2,000 a month" in html  # cited passage shown
    assert "2/3" in html  # passed count card


def test_report_escapes_everything_from_answers_questions_and_passages() -> None:
    html = render_html(make_result())
    assert "<script" not in html  # the page has no scripts of its own either
    assert "&lt;script&gt;alert(" in html
    assert "<img" not in html and "&lt;img src=x onerror=alert(1)&gt;" in html
    assert "<b>question</b>" not in html and "&lt;b&gt;question&lt;/b&gt;" in html
    assert "Title <i>" not in html


def test_report_is_self_contained() -> None:
    html = render_html(make_result(), baseline=make_result(wrong_fico=False))
    # Nothing is loaded from elsewhere: no src/href to a URL, no <link>, no CSS url(http...).
    assert not re.search(r"""(?:src|href)\s*=\s*["']?\s*(?:https?:)?//""", html, re.I)
    assert "<link" not in html.lower()
    assert not re.search(r"url\(\s*['\"]?(?!#)", html)
    assert "@import" not in html


def test_report_with_baseline_lists_regressed_and_improved() -> None:
    baseline = make_result(wrong_fico=False)  # "fico" passed in the baseline
    html = render_html(make_result(), baseline=baseline)
    diff = html[html.index('id="diff"') : html.index('id="questions"')]
    regressed = diff[diff.index("Regressed") : diff.index("Improved")]
    assert "fico" in regressed and "pass" in regressed and "fail" in regressed
    assert "None." in diff[diff.index("Improved") :]  # nothing improved
    html_back = render_html(baseline, baseline=make_result())
    improved = html_back[html_back.index("Improved") : html_back.index('id="questions"')]
    assert "fico" in improved
    assert "baseline" in html and "change" in html


def test_summary_rows() -> None:
    result = make_result()
    rows = summary_rows(result)
    assert [r.metric for r in rows] == list(result.metrics)
    by_name = {r.metric: r for r in rows}
    # accuracy: "pay" 1, "fico" 0 -> 0.5; refusal: one unanswerable, refused -> recall 1
    assert by_name["accuracy"].value == "0.500"
    assert by_name["refusal_recall"].value == "1.000"
    assert by_name["refusal_precision"].value == "1.000"
    assert by_name["false_refusal_rate"].value == "0.000"
    # total_ms 80, 120, 40 -> p50 80
    assert by_name["latency_total_p50_ms"].value == "80.0 ms"
    assert by_name["accuracy"].baseline == "" and by_name["accuracy"].delta == ""
    with_base = {r.metric: r for r in summary_rows(result, make_result(wrong_fico=False))}
    assert with_base["accuracy"].baseline == "1.000"
    assert with_base["accuracy"].delta == "-0.500"


def test_report_of_an_empty_result_renders() -> None:
    html = render_html(EvalResult.from_records([]))
    assert html.count("<svg") == 2 and "no questions" in html
    assert all(r.value == "n/a" for r in summary_rows(EvalResult.from_records([])))


def test_report_without_matplotlib_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)  # import now fails
    with pytest.raises(MissingExtraError, match=r"askfront\[eval\]"):
        render_html(make_result())


@pytest.mark.browser
def test_report_in_headless_chromium(chromium: Any, tmp_path: Path) -> None:
    """Opens the report in Chromium (the conftest fixture skips when it is missing)."""
    page_file = tmp_path / "report.html"
    page_file.write_text(
        render_html(make_result(), baseline=make_result(wrong_fico=False)), encoding="utf-8"
    )
    requests: list[str] = []
    dialogs: list[str] = []
    out = REPO / "artifacts" / "eval-report.png"
    page = chromium.new_page(viewport={"width": 1200, "height": 900})
    try:
        page.on("request", lambda r: requests.append(r.url))
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        page.goto(page_file.as_uri())
        page.wait_for_load_state("load")
        for plot in ("#plot-metrics svg", "#plot-latency svg"):
            svg = page.locator(plot)
            assert svg.is_visible(), plot
            box = svg.bounding_box()
            assert box is not None and box["width"] > 300 and box["height"] > 100, plot
            # The bars are drawn: matplotlib paths inside the visible SVG.
            assert svg.locator("path").count() > 5, plot
        assert page.locator("#questions tr.fail").count() == 1
        assert page.title().startswith("askfront evaluation")
        out.parent.mkdir(exist_ok=True)
        page.screenshot(path=str(out), full_page=True)
    finally:
        page.close()
    assert out.stat().st_size > 10_000
    assert dialogs == []  # the hostile <script> never ran
    assert all(url.startswith(("file:", "data:", "about:")) for url in requests), requests
