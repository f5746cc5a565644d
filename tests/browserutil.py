"""Shared by the browser tests: a fresh Chromium page on the app, and asking in its chat."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from paths import CHROMIUM

# Every browser test: marked, and skipped where Debian's Chromium is not installed.
BROWSER_MARKS = [
    pytest.mark.browser,
    pytest.mark.e2e,
    pytest.mark.slow,
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason="needs Debian's /usr/bin/chromium (apt install chromium)"
    ),
]
WAIT_MS = 600_000  # a ceiling against hangs, far above any wait on a loaded machine


@contextmanager
def open_page(chromium: Any, url: str) -> Iterator[Any]:
    """A fresh browser session on `url`, once the question box is there. Every URL the page
    requests is in `page.requested`; any JavaScript error fails the test at the end."""
    context = chromium.new_context(viewport={"width": 1400, "height": 1000})
    pg = context.new_page()
    requested: list[str] = []
    errors: list[str] = []
    pg.on("request", lambda request: requested.append(request.url))
    pg.on("pageerror", lambda exc: errors.append(str(exc)))
    pg.requested = requested
    pg.set_default_timeout(WAIT_MS)
    pg.goto(url)
    pg.locator("#question textarea").wait_for()
    yield pg
    context.close()
    assert errors == [], f"JavaScript errors on the page: {errors}"


def ask_in_chat(page: Any, question: str, answer_id: int) -> Any:
    """Ask in the chat and wait for the final answer; returns the answer's message."""
    box = page.locator("#question textarea")
    box.fill(question)
    box.press("Enter")
    # The sources panel is filled once the answer is final.
    page.locator(f'#sources-panel a[href^="#cite-{answer_id}-"]').first.wait_for()
    return page.locator("#chat .message-content").last
