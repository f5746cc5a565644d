"""Issue 13's attacks that need a browser (items 6, 7, 13, 15), in real headless Chromium
against `python app.py` over a real index (attack_server.py)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from attack_server import (
    DOOMED_LOCK,
    TOAST_NAME,
    TOAST_PORT,
    TOAST_QUESTION,
    URL_QUESTIONS,
    AttackServer,
    LockHolder,
)
from browserutil import BROWSER_MARKS, WAIT_MS, ask_in_chat, open_page

pytestmark = BROWSER_MARKS
sync_api = pytest.importorskip("playwright.sync_api", reason="needs playwright for Python")


@pytest.fixture
def page(chromium: Any, attack_server: AttackServer) -> Iterator[Any]:
    """A fresh browser session on the app (browserutil.open_page)."""
    with open_page(chromium, attack_server.url) as pg:
        yield pg


def _api(attack_server: AttackServer, question: str) -> dict[str, Any]:
    response = httpx.post(
        f"{attack_server.url}gradio_api/run/ask",
        json={"data": [question, "[]"]},
        timeout=WAIT_MS / 1000,
    )
    assert response.status_code == 200, response.text
    return dict(response.json()["data"][0])


def test_the_examples_still_ask(page: Any) -> None:
    """An example asks at once, through the queue like a typed question."""
    from askfront.web.app import EXAMPLES

    page.get_by_text(EXAMPLES[1], exact=True).first.click()
    page.locator("#chat button.af-copy").first.wait_for()
    sync_api.expect(page.locator("#chat .message-content").first).to_have_text(EXAMPLES[1])


# == 7. A file name in a toast is text =======================================================
def test_a_deleted_documents_name_in_a_toast_loads_nothing(
    page: Any, attack_server: AttackServer
) -> None:
    page.get_by_role("tab", name="Corpus").click()
    sync_api.expect(page.locator("#documents")).to_contain_text(TOAST_NAME)  # as text
    assert page.locator("#documents img").count() == 0
    page.get_by_role("tab", name="Chat").click()
    reply = ask_in_chat(page, TOAST_QUESTION, 0)
    sync_api.expect(page.locator("#sources-panel")).to_contain_text(TOAST_NAME)
    (attack_server.corpus / TOAST_NAME).unlink()
    attack_server.reindex()  # another process drops it from the index

    reply.locator('a[href="#cite-0-c1"]').first.click()  # the inline marker (a card has one too)
    toast = page.locator(".toast-body", has_text="no longer in the index")
    sync_api.expect(toast).to_contain_text(TOAST_NAME)  # shown as written
    assert toast.locator("img").count() == 0
    assert page.locator("#doc-viewer img").count() == 0
    fetched = [url for url in page.requested if f":{TOAST_PORT}" in url]
    assert fetched == []


# == 15. Quotes with bare URLs stay verbatim text ===========================================
@pytest.mark.parametrize("question", URL_QUESTIONS)
def test_a_quote_with_a_url_is_shown_verbatim(
    page: Any, attack_server: AttackServer, question: str
) -> None:
    expected = _api(attack_server, question)
    assert expected["citations"], expected
    quotes = [c["quote"] for c in expected["citations"]]
    assert any("@" in q or "://" in q for q in quotes), quotes  # the case this is about
    reply = ask_in_chat(page, question, 0)
    text = reply.inner_text()
    for quote in quotes:
        assert quote in text
    assert "\\" not in text
    assert reply.locator('a[href^="http"], a[href^="mailto"]').count() == 0
    shown = page.locator("#sources-panel .af-quote").all_inner_texts()
    assert [s.strip("“”") for s in shown] == quotes


# == 13. Delete while another process holds the index lock ===================================
def test_delete_in_the_ui_under_a_held_lock_then_after_it(
    page: Any, attack_server: AttackServer
) -> None:
    doomed = attack_server.corpus / DOOMED_LOCK
    holder = LockHolder(attack_server.corpus.parent / "index")
    try:
        page.get_by_role("tab", name="Corpus").click()
        _delete(page, DOOMED_LOCK)
        summary = page.locator("#rebuild-summary")
        sync_api.expect(summary).to_contain_text(f"{DOOMED_LOCK} was not deleted")
        assert doomed.exists()
        sync_api.expect(page.locator("#documents")).to_contain_text(DOOMED_LOCK)
    finally:
        holder.release()
    _delete(page, DOOMED_LOCK)
    sync_api.expect(page.locator("#rebuild-summary")).to_contain_text(f"Deleted {DOOMED_LOCK}")
    sync_api.expect(page.locator("#documents")).not_to_contain_text(DOOMED_LOCK)
    assert not doomed.exists()


def _delete(page: Any, name: str) -> None:
    page.locator("#documents").get_by_text(name).click()  # picks it for deletion
    page.once("dialog", lambda dialog: dialog.accept())
    page.locator("#delete").click()


# == 6. An upload saved through the page leaves no temporary copy ===========================
def test_a_saved_upload_leaves_no_temporary_copy(page: Any, attack_server: AttackServer) -> None:
    article = attack_server.corpus.parent / "zorblatt-notes.md"
    article.write_text("# Zorblatt notes\nThe turnips were glass.\n", encoding="utf-8")
    page.get_by_role("tab", name="Corpus").click()
    page.locator("#upload input[type=file]").set_input_files(str(article))
    sync_api.expect(page.locator("#upload-status")).to_contain_text("zorblatt-notes.md")
    assert (attack_server.corpus / "zorblatt-notes.md").read_bytes() == article.read_bytes()
    # Gradio 6.31's gr.File preprocessing also leaves one empty tmpXXXX file per upload
    # (File._process_single_file opens a NamedTemporaryFile it never uses); askfront cannot
    # tell it from an upload still streaming in, so it stays (0 bytes).
    # The chat's export (askfront-conversation.md, refreshed after each answer of the earlier
    # tests) is Gradio's cached copy of a download, not an upload.
    left = [
        p
        for p in attack_server.uploads.rglob("*")
        if p.is_file() and p.stat().st_size and p.name != "askfront-conversation.md"
    ]
    assert left == [], json.dumps([str(p) for p in left])
