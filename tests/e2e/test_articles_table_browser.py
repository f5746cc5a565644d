"""The matching-articles table of a collection answer sorts by a header click, in
Chromium, with the page's own script (web/assets/app.js) and the real renderer."""

from __future__ import annotations

from typing import Any

from askfront.core.types import Answer
from askfront.web.app import asset
from askfront.web.render import render_articles
from browserutil import BROWSER_MARKS

pytestmark = BROWSER_MARKS

ROWS = [
    {"date": "2024-03-06", "title": "Budget", "source": "b.txt", "first_mention": "Ada's office"},
    {"date": None, "title": "Undated", "source": "u.md", "first_mention": "Ada again"},
    {"date": "2024-03-11", "title": "Dredging", "source": "d.md", "first_mention": "ADA"},
    {"date": "2024-03-04", "title": "Vote", "source": "v.md", "first_mention": "Ada Quist"},
]


def _column(page: Any, col: int) -> list[str]:
    cells = page.locator(f".af-articles tbody tr td:nth-child({col + 1})")
    return [c.strip() for c in cells.all_inner_texts()]


def test_a_header_sorts_the_matching_articles(chromium: Any) -> None:
    table = render_articles(Answer("4 of 9 articles mention “Ada”.", articles=ROWS))
    page = chromium.new_page()
    page.set_content(f"<main>{table}</main>")
    page.evaluate(f"({asset('app.js')})()")  # as launch(js=...) runs it
    date = page.get_by_role("button", name="Date")
    date.click()
    assert _column(page, 0) == ["4 Mar 2024", "6 Mar 2024", "11 Mar 2024", "undated"]
    assert page.locator("th").first.get_attribute("aria-sort") == "ascending"
    date.press("Enter")  # a keyboard user sorts the same way; again reverses it
    assert _column(page, 0) == ["11 Mar 2024", "6 Mar 2024", "4 Mar 2024", "undated"]
    page.get_by_role("button", name="Title").click()
    assert _column(page, 1) == ["Budget", "Dredging", "Undated", "Vote"]
    assert page.locator("th").nth(1).get_attribute("aria-sort") == "ascending"
    assert page.locator("th").first.get_attribute("aria-sort") == "none"
    page.close()
