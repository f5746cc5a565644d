"""The web chat in real headless Chromium, against `python app.py` over a real index.

The server runs as a subprocess on a free loopback port with its own copy of the corpus
(the default article plus a file full of markup) indexed by the real model and Chroma.
Screenshots go to artifacts/latest/ for a human to look at.
"""

from __future__ import annotations

import shutil
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from langchain_core.embeddings import Embeddings

from askfront.answering.base import REFUSAL_TEXT
from askfront.assistant import index_spec
from askfront.core.config import Settings
from askfront.core.types import IndexReport, Progress
from browserutil import BROWSER_MARKS, WAIT_MS, ask_in_chat, open_page
from fakes import FakeAssistant
from netutil import free_port as _free_port
from netutil import serve_app
from paths import DEFAULT_ARTICLE, REPO

ARTIFACTS = REPO / "artifacts" / "latest"  # gitignored; see browserutil.shot
HOSTILE_NAME = "hostile-markup.txt"
HOSTILE_TEXT = (
    "The Glimmerwick lighthouse keeper logged every storm in a blue notebook. "
    "<script>window.__pwned=1</script> The notebook also held a sketch "
    '<img src=x onerror="window.__pwned=2"> of the Glimmerwick lighthouse lamp.\n'
)
LEGION_QUESTION = "How many foreigners serve in Ukraine's international legion?"

pytestmark = BROWSER_MARKS
sync_api = pytest.importorskip("playwright.sync_api", reason="needs playwright for Python")


@pytest.fixture(scope="module")
def server(
    tmp_path_factory: pytest.TempPathFactory, real_embeddings: Embeddings
) -> Iterator[dict[str, Any]]:
    """`python app.py` serving a freshly indexed copy of the corpus; yields url and paths."""
    from askfront.indexing.sync import sync

    root = tmp_path_factory.mktemp("web")
    corpus = root / "corpus"
    corpus.mkdir()
    shutil.copy(DEFAULT_ARTICLE, corpus / DEFAULT_ARTICLE.name)
    (corpus / HOSTILE_NAME).write_text(HOSTILE_TEXT, encoding="utf-8")
    settings = Settings(corpus_dir=corpus, index_dir=root / "index")
    sync(index_spec(settings), embeddings=real_embeddings)

    with serve_app(settings, root) as app:
        yield {"url": app.url, "corpus": corpus, "root": root, "log": app.log}


@pytest.fixture
def page(chromium: Any, server: dict[str, Any]) -> Iterator[Any]:
    """A fresh browser session on the app (browserutil.open_page)."""
    with open_page(chromium, server["url"]) as pg:
        yield pg


def _api(server: dict[str, Any], question: str) -> dict[str, Any]:
    from gradio_client import Client

    try:
        data = Client(server["url"], verbose=False).predict(question, "[]", api_name="/ask")
    except Exception as exc:
        pytest.fail(f"/ask failed: {exc}\nserver log:\n{server['log'].read_text()[-3000:]}")
    assert isinstance(data, dict)
    return data


def _shot(page: Any, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / name))


def test_answer_streams_in_and_its_citation_opens_the_highlighted_passage(
    page: Any, server: dict[str, Any]
) -> None:
    expected = _api(server, LEGION_QUESTION)
    assert not expected["refused"] and expected["citations"]
    first = expected["citations"][0]

    reply = ask_in_chat(page, LEGION_QUESTION, 0)
    sync_api.expect(reply).to_contain_text("[1]")
    sync_api.expect(reply.locator(".af-card")).to_contain_text("28 Feb 2024")  # its date
    panel = page.locator("#sources-panel")
    sync_api.expect(panel).to_contain_text(first["source"])
    _shot(page, "chat.png")

    reply.locator('a[href="#cite-0-c1"]').first.click()  # the inline marker
    mark = page.locator("#doc-viewer mark#cite-mark")
    sync_api.expect(mark).to_have_text(first["quote"])
    sync_api.expect(mark).to_be_in_viewport()
    viewer = page.locator("#doc-viewer")
    sync_api.expect(viewer).to_contain_text(first["title"])
    _shot(page, "source.png")

    # The same citation from the sources panel opens the same passage.
    page.locator("#new-chat").click()
    sync_api.expect(page.locator("#doc-viewer mark")).to_have_count(0)
    ask_in_chat(page, LEGION_QUESTION, 0)
    panel.locator('a[href="#cite-0-c1"]').click()
    sync_api.expect(mark).to_have_text(first["quote"])


def test_follow_up_question_uses_the_conversation(page: Any) -> None:
    ask_in_chat(page, "Who is Ramchandra Khadka?", 0)
    reply = ask_in_chat(page, "How old is he?", 1)
    sync_api.expect(reply).to_contain_text("37")
    sync_api.expect(page.locator("#chat .message-content")).to_have_count(4)


def test_uploaded_article_is_indexed_and_cited(page: Any, server: dict[str, Any]) -> None:
    article = server["root"] / "zorblatt-festival.md"
    article.write_text(
        '---\ntitle: "The Zorblatt Festival"\ndate: 2024-05-13\n---\n'
        "The Zorblatt Festival took place in Quexville on 12 May 2024. About 4,000 visitors "
        "came to see the giant glass turnips. Mirela Quondam founded it in 1987.\n",
        encoding="utf-8",
    )
    page.get_by_role("tab", name="Corpus").click()
    page.locator("#upload input[type=file]").set_input_files(str(article))
    sync_api.expect(page.locator("#upload-status")).to_contain_text("zorblatt-festival.md")
    assert (server["corpus"] / "zorblatt-festival.md").read_bytes() == article.read_bytes()

    page.locator("#rebuild").click()
    sync_api.expect(page.locator("#rebuild-summary")).to_contain_text("1 added")
    sync_api.expect(page.locator("#report")).to_contain_text("zorblatt-festival.md")
    sync_api.expect(page.locator("#documents")).to_contain_text("The Zorblatt Festival")
    _shot(page, "corpus.png")

    page.get_by_role("tab", name="Chat").click()
    reply = ask_in_chat(page, "Where did the Zorblatt Festival take place?", 0)
    sync_api.expect(reply).to_contain_text("Quexville")
    sync_api.expect(reply).to_contain_text("[1]")
    card = reply.locator(".af-card")
    sync_api.expect(card).to_contain_text("The Zorblatt Festival")
    sync_api.expect(card).to_contain_text("13 May 2024")
    sync_api.expect(page.locator("#sources-panel")).to_contain_text("zorblatt-festival.md")


def test_markup_in_an_article_is_shown_as_text_and_never_runs(page: Any) -> None:
    reply = ask_in_chat(page, "What did the Glimmerwick lighthouse keeper log?", 0)
    sync_api.expect(page.locator("#sources-panel")).to_contain_text(HOSTILE_NAME)
    entry = page.locator("#sources-panel li.af-card", has_text=HOSTILE_NAME).first
    entry.locator("a.af-n").first.click()
    viewer = page.locator("#doc-viewer")
    sync_api.expect(viewer.locator("mark#cite-mark")).to_contain_text("Glimmerwick")
    sync_api.expect(viewer).to_contain_text("<script>window.__pwned=1</script>")
    sync_api.expect(viewer).to_contain_text('<img src=x onerror="window.__pwned=2">')
    assert viewer.locator("img, script").count() == 0
    assert reply.locator("img, script").count() == 0
    _shot(page, "hostile.png")
    # Markup typed into the chat is shown as typed, too.
    typed = 'Is <img src=x onerror="window.__pwned=3"> in the notebook?'
    ask_in_chat(page, typed, 1)
    sync_api.expect(page.locator("#chat")).to_contain_text(typed)
    assert page.locator("#chat img, #chat script").count() == 0
    assert page.evaluate("typeof window.__pwned") == "undefined"


def test_off_topic_question_is_refused(page: Any) -> None:
    reply = ask_in_chat(page, "What is the capital of Australia?", 0)
    sync_api.expect(reply).to_contain_text(REFUSAL_TEXT)
    sync_api.expect(reply).to_contain_text("Related reading (not an answer)")
    # Listed once: under the answer, not again in the panel.
    sync_api.expect(page.locator("#sources-panel")).to_contain_text("listed under the answer")
    assert page.locator('#sources-panel a[href^="#cite-"]').count() == 0


# -- against an in-process app over a FakeAssistant whose rebuild waits for the test ----------
class GatedAssistant(FakeAssistant):
    """A FakeAssistant whose reindex reports progress, then waits until `gate` opens."""

    def __init__(self, settings: Settings) -> None:
        super().__init__(settings)
        self.gate: threading.Event | None = None
        self.entered = threading.Event()

    def reindex(
        self, *, full: bool = False, progress: Progress | None = None, wait: bool = False
    ) -> IndexReport:
        if self.gate is not None:
            if progress:
                progress("Embedding chunks", 1, 3)
            self.entered.set()
            self.gate.wait(WAIT_MS / 1000)
        return super().reindex(full=full, progress=progress, wait=wait)


@pytest.fixture
def gated(settings: Settings, chromium: Any) -> Iterator[tuple[GatedAssistant, Any]]:
    """A GatedAssistant served in-process, and a page on it."""
    from askfront.web.app import build_app
    from askfront.web.serve import launch_options

    assistant = GatedAssistant(settings)
    assistant.reindex()
    assistant.gate = threading.Event()
    live = settings.model_copy(update={"port": _free_port()})
    app = build_app(assistant, live)
    _, url, _ = app.launch(prevent_thread_lock=True, quiet=True, **launch_options(live))
    context = chromium.new_context(viewport={"width": 1400, "height": 1000})
    pg = context.new_page()
    pg.set_default_timeout(WAIT_MS)
    try:
        pg.goto(url)
        yield assistant, pg
    finally:
        assistant.gate.set()
        context.close()
        app.close()


def test_chat_answers_while_a_rebuild_runs(gated: tuple[GatedAssistant, Any]) -> None:
    assistant, page = gated
    assert assistant.gate is not None
    page.get_by_role("tab", name="Corpus").click()
    page.locator("#rebuild").click()
    assert assistant.entered.wait(WAIT_MS / 1000)
    sync_api.expect(page.get_by_text("Embedding chunks").first).to_be_visible()
    _shot(page, "rebuild-progress.png")

    page.get_by_role("tab", name="Chat").click()
    reply = ask_in_chat(page, LEGION_QUESTION, 0)
    sync_api.expect(reply).to_contain_text("[1]")
    # The answer came while the rebuild was still held at the gate.
    assert not assistant.gate.is_set()

    assistant.gate.set()
    page.get_by_role("tab", name="Corpus").click()
    sync_api.expect(page.locator("#rebuild-summary")).to_contain_text("Index synced")


def test_delete_asks_first_and_removes_the_article(
    gated: tuple[GatedAssistant, Any], settings: Settings
) -> None:
    assistant, page = gated
    assert assistant.gate is not None
    assistant.gate.set()  # no waiting in this test
    doomed = settings.corpus_dir / "doomed.md"
    doomed.write_text("# Doomed\nThis article is about to go.", encoding="utf-8")
    assistant.reindex()
    page.reload()
    page.get_by_role("tab", name="Corpus").click()
    page.locator("#documents").get_by_text("doomed.md").click()  # picks it for deletion

    page.once("dialog", lambda dialog: dialog.dismiss())
    page.locator("#delete").click()
    sync_api.expect(page.locator("#rebuild-summary")).to_contain_text("Pick a document")
    assert doomed.exists()

    page.locator("#documents").get_by_text("doomed.md").click()
    page.once("dialog", lambda dialog: dialog.accept())
    page.locator("#delete").click()
    sync_api.expect(page.locator("#rebuild-summary")).to_contain_text("Deleted doomed.md")
    sync_api.expect(page.locator("#documents")).not_to_contain_text("doomed.md")
    assert not doomed.exists()
