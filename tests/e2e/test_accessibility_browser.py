"""Accessibility of the web chat in real headless Chromium: an axe-core scan (the npm
package pinned in tests/axe, installed by `make install-test` with `npm ci`) of the empty
chat, an answer with citations and the Corpus tab, failing on any serious or critical
violation; and the keyboard alone asks a question and opens a citation."""

from __future__ import annotations

import json
from typing import Any

import pytest

from browserutil import BROWSER_MARKS, ask_in_chat, open_page
from paths import REPO

pytestmark = BROWSER_MARKS
sync_api = pytest.importorskip("playwright.sync_api", reason="needs playwright for Python")

AXE = REPO / "tests" / "axe" / "node_modules" / "axe-core" / "axe.min.js"
BLOCKING = ("serious", "critical")


@pytest.fixture
def server(default_app: Any) -> Any:
    """The session's shared `python app.py` over the default article (conftest)."""
    return default_app


def _violations(page: Any) -> list[dict[str, Any]]:
    """axe-core's serious and critical violations on the page as it is now."""
    if not AXE.is_file():  # a failure, not a skip: the scan is part of `make test`
        pytest.fail(f"{AXE} is missing: run `npm ci` in tests/axe (make install-test does).")
    # Settle first: a message fading in is measured at a blended, lower contrast.
    page.wait_for_function("document.getAnimations().every(a => a.playState !== 'running')")
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.add_script_tag(path=str(AXE))
    found = page.evaluate(
        "async () => (await axe.run(document, {resultTypes: ['violations']})).violations"
        ".map(v => ({id: v.id, impact: v.impact, help: v.help,"
        " nodes: v.nodes.map(n => n.target.join(' ')).slice(0, 5)}))"
    )
    return [v for v in found if v["impact"] in BLOCKING]


def test_axe_finds_no_serious_violations_on_the_chat_an_answer_and_the_corpus_tab(
    chromium: Any, server: Any
) -> None:
    with open_page(chromium, server.url) as page:
        report = {"empty chat": _violations(page)}
        reply = ask_in_chat(page, "How much are Nepali recruits paid?", 0)
        sync_api.expect(reply.locator("a.af-n").first).to_be_visible()
        sync_api.expect(page.locator("#export")).to_be_enabled()  # the answer's last step
        report["answer with citations"] = _violations(page)
        reply.locator('a[href="#cite-0-c1"]').first.click()
        sync_api.expect(page.locator("#doc-viewer mark#cite-mark")).to_be_visible()
        report["open citation"] = _violations(page)
        page.get_by_role("tab", name="Corpus").click()
        sync_api.expect(page.locator("#documents")).to_be_visible()
        report["corpus tab"] = _violations(page)
    assert all(not found for found in report.values()), json.dumps(report, indent=1)


def test_controls_have_meaningful_names(chromium: Any, server: Any) -> None:
    with open_page(chromium, server.url) as page:
        sync_api.expect(page.get_by_role("textbox", name="Question")).to_be_visible()
        for name in ("Ask", "New chat", "Export chat (Markdown)", "Settings"):
            sync_api.expect(page.get_by_role("button", name=name, exact=True)).to_have_count(1)
        reply = ask_in_chat(page, "How much are Nepali recruits paid?", 0)
        names = [link.evaluate("e => e.textContent") for link in reply.locator("a.af-n").all()]
        assert names and all(", source: Ukraine Foreign Fighters" in n for n in names), names


def test_the_keyboard_alone_asks_and_opens_a_citation(chromium: Any, server: Any) -> None:
    with open_page(chromium, server.url) as page:
        box = page.locator("#question textarea")
        sync_api.expect(box).to_be_focused()  # autofocus: type straight away
        page.keyboard.type("How much are Nepali recruits paid?")
        page.keyboard.press("Enter")
        page.locator("#chat button.af-copy").first.wait_for()
        # Tab onwards from the box and back round the page until the first [n] has focus.
        for _ in range(80):
            page.keyboard.press("Tab")
            if page.evaluate("document.activeElement.matches('a.af-n')"):
                break
        else:
            pytest.fail("Tab never reached a [n] link")
        sync_api.expect(page.locator("#af-preview")).to_be_visible()  # its preview, on focus
        page.keyboard.press("Enter")
        sync_api.expect(page.locator("#doc-viewer mark#cite-mark")).to_be_in_viewport()
        page.keyboard.press("Escape")
        sync_api.expect(page.locator("#af-preview")).to_be_hidden()
