"""How the web chat renders answers, sources and documents: links, flags, escaping."""

from __future__ import annotations

from typing import Any

import pytest

gr = pytest.importorskip("gradio")

from askfront.core.types import Answer, AnswerSentence, Citation  # noqa: E402
from askfront.web.render import (  # noqa: E402
    SOURCES_EMPTY,
    UNSUPPORTED,
    md_escape,
    render_answer,
    render_document,
    render_sources,
)


def _citation(n: int = 1, **kw: Any) -> Citation:
    base = dict(
        source="a.md", title="A title", date="2024-02-28", start=0, end=5, quote="Hello", score=0.5
    )
    return Citation(n=n, **{**base, **kw})  # type: ignore[arg-type]


# -- rendering -------------------------------------------------------------------------------
def test_md_escape_keeps_markup_literal() -> None:
    escaped = md_escape("<img src=x onerror=alert(1)> *bold* [link](http://x) $5")
    assert "<img" not in escaped
    assert "&lt;img" in escaped
    assert "\\*bold\\*" in escaped
    assert "\\[link\\]\\(http\\://x\\)" in escaped
    assert "\\$5" in escaped


def test_render_answer_links_known_markers_and_names_sources() -> None:
    answer = Answer(
        text="Fact one [1]. Fact two [2]. Not a marker [9].",
        citations=[_citation(1), _citation(2, source="b.md", title=None, date=None)],
    )
    md = render_answer(answer, 4)
    # Each [n] names its source for screen readers and previews its passage on hover.
    assert '<a class="af-n" href="#cite-4-c1" title="Hello">[1]' in md
    assert '<span class="af-sr">, source: A title</span>' in md
    assert 'href="#cite-4-c2"' in md and '<span class="af-sr">, source: b.md</span>' in md
    assert "#cite-4-c9" not in md and "\\[9\\]" in md
    # Cards: title, date as words, file; "undated" without a date; no raw scores.
    assert "28 Feb 2024" in md and "undated" in md and "0.5" not in md


def test_render_answer_lists_each_source_once() -> None:
    answer = Answer(text="x [1] y [2]", citations=[_citation(1), _citation(2)])
    md = render_answer(answer, 0)
    assert md.count('<li class="af-card">') == 1 and md.count(">A title</strong>") == 1
    assert 'href="#cite-0-c1"' in md and 'href="#cite-0-c2"' in md


def test_render_answer_carries_its_plain_text_for_copy() -> None:
    answer = Answer(text="Cost is $2,000 [1].", citations=[_citation(1, quote="It costs $2,000.")])
    md = render_answer(answer, 0)
    plain = md.split('<span class="af-plain">', 1)[1].split("</span>", 1)[0]
    assert "\n" not in plain  # one line: a blank line would end the HTML block
    assert plain.replace("&#10;", "\n") == (
        "Cost is $2,000 [1].\n\nSources:\n[1] A title (28 Feb 2024), a.md: “It costs $2,000.”"
    )


def test_render_answer_flags_unsupported_sentences_and_shows_notice() -> None:
    answer = Answer(
        text="Backed claim [1]. Invented claim [1].",
        citations=[_citation(1)],
        sentences=[
            AnswerSentence("Backed claim [1].", [1]),
            AnswerSentence("Invented claim [1].", [1], supported=False, support_score=0.1),
            AnswerSentence("Rewritten elsewhere.", [], supported=False),
        ],
        notice="The LLM timed out; this is the extractive answer.",
        mode="ollama:x",
    )
    md = render_answer(answer, 0)
    first, second = md.split(UNSUPPORTED, 1)
    assert "Invented claim" in first and "Backed claim" in first
    assert first.index("Invented claim") > first.index("Backed claim")
    assert md.count(UNSUPPORTED) == 2
    assert "“Rewritten elsewhere.”" in second
    assert "The LLM timed out" in md


def test_render_refusal_lists_related_reading_once() -> None:
    answer = Answer(
        text="The articles don't say.", refused=True, related=[_citation(1), _citation(2)]
    )
    md = render_answer(answer, 3, hint="A filter is on (from 1 Jan 2025).")
    assert md.startswith("The articles don't say.")
    assert "Related reading (not an answer)" in md
    assert 'href="#cite-3-r1"' in md and 'href="#cite-3-r2"' in md
    assert "A filter is on (from 1 Jan 2025)." in md
    panel = render_sources(answer, 3)  # not listed a second time
    assert "cite-3-r" not in panel and "listed under the answer" in panel


def test_render_sources_escapes_and_shows_every_field() -> None:
    c = _citation(1, title="<b>Bold</b> & co", source="x/<y>.md", score=0.81234, page=3)
    panel = render_sources(Answer(text="t [1]", citations=[c]), 2)
    assert 'href="#cite-2-c1"' in panel
    assert "&lt;b&gt;Bold&lt;/b&gt; &amp; co" in panel and "<b>Bold" not in panel
    assert "x/&lt;y&gt;.md" in panel
    assert "28 Feb 2024" in panel and "p. 3" in panel
    assert "0.81" not in panel and "score" not in panel
    assert render_sources(None, 0) == SOURCES_EMPTY


def test_render_document_marks_the_exact_span_and_escapes_everything() -> None:
    text = "<script>x()</script> Before. The cited <i>part</i>. After & more."
    start = text.index("The cited")
    end = text.index(". After") + 1
    c = _citation(start=start, end=end, quote=text[start:end])
    page = render_document(text, "<T>", "2024-01-01", c)
    assert '<mark id="cite-mark">The cited &lt;i&gt;part&lt;/i&gt;.</mark>' in page
    assert "&lt;script&gt;x()&lt;/script&gt;" in page and "<script>" not in page
    assert "&lt;T&gt;" in page and "After &amp; more." in page


def test_render_document_finds_a_moved_quote_or_says_it_is_gone() -> None:
    text = "New intro. The quote."
    moved = render_document(text, None, None, _citation(start=0, end=10, quote="The quote."))
    assert '<mark id="cite-mark">The quote.</mark>' in moved
    gone = render_document(text, None, None, _citation(start=0, end=4, quote="Vanished."))
    assert "cite-mark" not in gone and "no longer in it" in gone
