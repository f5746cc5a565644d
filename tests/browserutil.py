"""Shared by the browser tests: a fresh Chromium page on the app, and asking in its chat."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
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
def open_page(chromium: Any, url: str, **context_options: Any) -> Iterator[Any]:
    """A fresh browser session on `url`, once the question box is there. Every URL the page
    requests is in `page.requested`; any JavaScript error fails the test at the end.
    `context_options` go to Playwright's new_context (a phone's viewport, permissions)."""
    options = {"viewport": {"width": 1400, "height": 1000}, **context_options}
    context = chromium.new_context(**options)
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
    # A final answer (cited or refused) ends with its Copy button; answer ids count from 0
    # in a chat, as the buttons do.
    page.locator("#chat button.af-copy").nth(answer_id).wait_for()
    return page.locator("#chat .message-content").last


@contextmanager
def served_default_corpus(root: Path, embeddings: Any) -> Iterator[Any]:
    """`python app.py` over a fresh index of the default article in `root`, its feedback
    file at root/feedback.jsonl; yields the netutil.AppProcess."""
    from askfront.assistant import index_spec
    from askfront.core.config import Settings
    from askfront.indexing.sync import sync
    from netutil import serve_app
    from paths import DEFAULT_ARTICLE

    corpus = root / "corpus"
    corpus.mkdir()
    shutil.copy(DEFAULT_ARTICLE, corpus / DEFAULT_ARTICLE.name)
    settings = Settings(corpus_dir=corpus, index_dir=root / "index")
    sync(index_spec(settings), embeddings=embeddings)
    extra = {"ASKFRONT_FEEDBACK_FILE": str(root / "feedback.jsonl")}
    with serve_app(settings, root, extra) as app:
        yield app


def shot(page: Any, name: str) -> None:
    """A screenshot in artifacts/latest/ (gitignored), for a human.

    Not artifacts/ itself: the before-*/after-* screenshots committed there are a record of
    one change, and a test run must not rewrite tracked files.
    """
    from paths import REPO

    folder = REPO / "artifacts" / "latest"
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(folder / name))
