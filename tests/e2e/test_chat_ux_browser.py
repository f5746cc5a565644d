"""Issue 17 in real headless Chromium against `python app.py` over a real index of the
default article: the side panel and the phone's bottom sheet, source cards and previews,
copy and export, a reload that keeps the chat, thumbs saved as JSONL, filter chips, the
empty state. Screenshots (after-*.png) go to artifacts/latest/ for a human to look at."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from browserutil import BROWSER_MARKS, ask_in_chat, open_page, shot

pytestmark = BROWSER_MARKS
sync_api = pytest.importorskip("playwright.sync_api", reason="needs playwright for Python")

NEPAL = "How much are Nepali recruits paid?"
LEGION = "How many foreigners serve in Ukraine's international legion?"
DESKTOP = {"viewport": {"width": 1280, "height": 900}}
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}


@pytest.fixture
def server(default_app: Any) -> Any:
    """The session's shared `python app.py` over the default article (conftest)."""
    return default_app


def _page(chromium: Any, server: Any, options: dict[str, Any]) -> Any:
    return open_page(chromium, server.url, **options)


def _in_view(page: Any, selector: str) -> bool:
    return bool(
        page.locator(selector).first.evaluate(
            "e => { const r = e.getBoundingClientRect(); "
            "return r.height > 0 && r.top >= 0 && r.bottom <= window.innerHeight; }"
        )
    )


def test_desktop_citation_opens_beside_the_chat_and_only_the_viewer_scrolls(
    chromium: Any, server: Any
) -> None:
    with _page(chromium, server, DESKTOP) as page:
        sync_api.expect(page.locator("#corpus-line")).to_contain_text("1 article")
        shot(page, "after-desktop-empty.png")
        reply = ask_in_chat(page, NEPAL, 0)
        page.mouse.move(0, 0)
        shot(page, "after-desktop-answer.png")
        chat_box = page.locator("#chat").bounding_box()
        panel_box = page.locator("#side-panel").bounding_box()
        assert panel_box["x"] >= chat_box["x"] + chat_box["width"]  # beside, not below

        reply.locator('a[href="#cite-0-c1"]').first.click()
        document_tab = page.get_by_role("tab", name="Document")
        sync_api.expect(document_tab).to_have_attribute("aria-selected", "true")
        mark = page.locator("#doc-viewer mark#cite-mark")
        sync_api.expect(mark).to_be_in_viewport()
        # The article box scrolled, the page did not: the question box stays in sight.
        page.wait_for_function("document.querySelector('.af-doc-text').scrollTop > 0")
        assert page.evaluate("window.scrollY") == 0
        assert _in_view(page, "#question textarea") and _in_view(page, "#cite-mark")
        page.mouse.move(0, 0)
        shot(page, "after-desktop-citation.png")


def test_phone_citation_opens_a_bottom_sheet_with_a_way_back(chromium: Any, server: Any) -> None:
    with _page(chromium, server, PHONE) as page:
        sync_api.expect(page.locator("#corpus-line")).to_contain_text("1 article")
        shot(page, "after-phone-empty.png")
        reply = ask_in_chat(page, NEPAL, 0)
        sheet = page.locator("#side-panel")
        sync_api.expect(sheet).to_be_hidden()  # closed until a citation opens it
        shot(page, "after-phone-answer.png")
        link = reply.locator('a[href="#cite-0-c1"]').first
        link.tap()
        sync_api.expect(sheet).to_be_visible()
        mark = page.locator("#doc-viewer mark#cite-mark")
        sync_api.expect(mark).to_be_in_viewport()
        back = page.get_by_role("button", name="← Back to the answer")
        sync_api.expect(back).to_be_focused()
        shot(page, "after-phone-citation.png")
        back.tap()
        sync_api.expect(sheet).to_be_hidden()
        sync_api.expect(link).to_be_focused()  # back where the reader was
        sync_api.expect(link).to_be_in_viewport()


def test_source_cards_show_each_article_once_and_links_preview_their_passage(
    chromium: Any, server: Any
) -> None:
    with _page(chromium, server, DESKTOP) as page:
        reply = ask_in_chat(page, LEGION, 0)
        cards = reply.locator("li.af-card")
        sync_api.expect(cards).to_have_count(1)  # one article, however many citations
        card = cards.first
        sync_api.expect(card).to_contain_text("Ukraine Foreign Fighters Mostly From US")
        sync_api.expect(card).not_to_contain_text("Want the Money")  # the short title
        sync_api.expect(card).to_contain_text("28 Feb 2024")
        sync_api.expect(card).to_contain_text("ukraine-foreign-fighters-washington-post")
        assert not re.search(
            r"score|\d\.\d{3}", reply.inner_text() + page.locator("#sources-panel").inner_text()
        )

        link = reply.get_by_role("link", name=re.compile(r"^\[1\] ?, source: Ukraine Foreign"))
        sync_api.expect(link.first).to_be_visible()
        quote = card.locator(".af-quote").first.inner_text().strip("“”…")
        link.first.hover()
        preview = page.locator("#af-preview")
        sync_api.expect(preview).to_be_visible()
        sync_api.expect(preview).to_contain_text(quote[:60])
        page.mouse.move(0, 0)
        sync_api.expect(preview).to_be_hidden()
        link.first.focus()  # the keyboard's way to the same preview
        sync_api.expect(preview).to_be_visible()


def test_copy_gives_plain_text_and_export_gives_markdown(chromium: Any, server: Any) -> None:
    options = {**DESKTOP, "permissions": ["clipboard-read", "clipboard-write"]}
    with _page(chromium, server, options) as page:
        reply = ask_in_chat(page, NEPAL, 0)
        reply.get_by_role("button", name="Copy answer").click()
        sync_api.expect(reply.get_by_role("button", name="Copied")).to_be_visible()
        copied = page.evaluate("navigator.clipboard.readText()")
        assert "$2,000 a month" in copied and "[1]" in copied
        assert "\nSources:\n[1] Ukraine Foreign Fighters" in copied
        assert "\\" not in copied and "cite-" not in copied and "<" not in copied

        export = page.locator("#export")
        sync_api.expect(export).to_be_enabled()
        with page.expect_download() as download:
            export.click()
        text = Path(download.value.path()).read_text(encoding="utf-8")
        assert text.startswith("# askfront conversation")
        assert f"## Q: {NEPAL}" in text and "**Sources**" in text and "- [1] Ukraine" in text


def test_a_reload_keeps_the_chat_and_thumbs_are_saved(chromium: Any, server: Any) -> None:
    feedback = server.log.parent / "feedback.jsonl"
    with _page(chromium, server, DESKTOP) as page:
        ask_in_chat(page, NEPAL, 0)
        # Stored once the answer is final (the same step enables the export).
        sync_api.expect(page.locator("#export")).to_be_enabled()
        page.reload()
        page.locator("#question textarea").wait_for()
        reply = page.locator("#chat .message-content").last
        sync_api.expect(reply).to_contain_text("$2,000 a month")
        reply.locator('a[href="#cite-0-c1"]').first.click()  # its citations still open
        sync_api.expect(page.locator("#doc-viewer mark#cite-mark")).to_contain_text("$2,000")

        before = feedback.read_text().count("\n") if feedback.exists() else 0
        page.locator("#chat").get_by_role("button", name="Like").last.click()
        sync_api.expect(page.get_by_text("your feedback is saved")).to_be_visible()
        lines = feedback.read_text(encoding="utf-8").splitlines()
        assert len(lines) == before + 1
        line = json.loads(lines[-1])
        assert line["rating"] == "up" and line["question"] == NEPAL
        assert "$2,000" in line["answers"][0]


def test_filters_show_as_chips_and_a_refusal_says_why(chromium: Any, server: Any) -> None:
    with _page(chromium, server, DESKTOP) as page:
        page.get_by_role("button", name="Settings").click()
        date_from = page.get_by_role("textbox", name="From date (YYYY-MM-DD)")
        sync_api.expect(
            page.get_by_role("button", name="From date: pick from a calendar")
        ).to_be_visible()
        date_from.fill("2025-01-01")
        date_from.press("Enter")
        chips = page.locator("#filter-chips")
        sync_api.expect(chips).to_contain_text("from 1 Jan 2025")
        page.get_by_role("button", name="Settings").click()
        shot(page, "after-desktop-filter.png")
        reply = ask_in_chat(page, LEGION, 0)
        sync_api.expect(reply).to_contain_text("A filter is on (from 1 Jan 2025)")
        sync_api.expect(reply).to_contain_text("Clear the filters")

        page.get_by_role("button", name="Settings").click()
        page.get_by_role("button", name="Clear filters").click()
        sync_api.expect(chips.locator(".af-chip")).to_have_count(0)


def test_the_empty_chat_says_what_is_loaded_and_examples_ask(chromium: Any, server: Any) -> None:
    from askfront.web.app import EXAMPLES

    with _page(chromium, server, DESKTOP) as page:
        sync_api.expect(page.locator("#corpus-line")).to_have_text("1 article, 28 Feb 2024")
        page.get_by_text(EXAMPLES[0], exact=True).first.click()
        page.locator("#chat button.af-copy").first.wait_for()
        sync_api.expect(page.locator("#chat .message-content").last).to_contain_text("20,000")
        # New chat is a quiet button; Ask is the one primary action.
        assert "primary" in (page.locator("#ask").get_attribute("class") or "")
        assert "primary" not in (page.locator("#new-chat").get_attribute("class") or "")
