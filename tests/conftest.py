"""Shared fixtures: the real model and seed index, temporary corpora, fakes, Chromium.

The test doubles live in fakes.py, the paths in paths.py (which also sets the offline
environment: nothing imported here loads huggingface_hub or chromadb before it).
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from langchain_core.embeddings import Embeddings

from askfront.assistant import Assistant, embedding_spec, index_spec
from askfront.core.config import Settings
from attack_server import attack_server  # noqa: F401 (issue 13's attack server, a fixture)
from fakes import BagOfWordsEmbeddings, CountingEmbeddings, FakeAssistant, LeadSentenceAnswerer
from paths import CHROMIUM, CHROMIUM_ARGS, DATASETS, DEFAULT_ARTICLE, TESTS

# Markers from the folder a test lives in, never by hand: unit/ mirrors src and needs no
# model; integration/ runs the real model and Chroma; e2e/ the browser, the load and the CLI.
FOLDER_MARKERS = {"integration": ("e2e",), "e2e": ("e2e",)}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        try:
            folder = item.path.relative_to(TESTS).parts[0]
        except ValueError:  # a test outside tests/
            continue
        for name in FOLDER_MARKERS.get(folder, ()):
            item.add_marker(name)


@pytest.fixture(scope="session")
def realtimeqa() -> Path:
    """The RealTimeQA 2024 folder (corpus/, testset.jsonl); skips the test when absent."""
    folder = DATASETS / "realtimeqa-2024"
    if not (folder / "testset.jsonl").is_file():
        pytest.skip(f"{folder} is not present on this machine")
    return folder


@pytest.fixture(scope="session")
def real_embeddings() -> Embeddings:
    """The bundled all-MiniLM-L6-v2, loaded once per test session."""
    from askfront.indexing.embeddings import get_embeddings

    return get_embeddings(embedding_spec(Settings()))


@pytest.fixture
def counting_embeddings(real_embeddings: Embeddings) -> CountingEmbeddings:
    return CountingEmbeddings(real_embeddings)


@pytest.fixture
def corpus_dir(tmp_path: Path) -> Path:
    """A temporary copy of the default corpus."""
    folder = tmp_path / "corpus"
    folder.mkdir()
    shutil.copy(DEFAULT_ARTICLE, folder / DEFAULT_ARTICLE.name)
    return folder


@pytest.fixture
def settings(tmp_path: Path, corpus_dir: Path) -> Settings:
    return Settings(corpus_dir=corpus_dir, index_dir=tmp_path / "index")


@pytest.fixture(scope="session")
def seed_index(tmp_path_factory: pytest.TempPathFactory, real_embeddings: Embeddings) -> Settings:
    """The default corpus indexed once per session with the real model and Chroma (read-only)."""
    from askfront.indexing.sync import sync

    root = tmp_path_factory.mktemp("seed")
    (root / "corpus").mkdir()
    shutil.copy(DEFAULT_ARTICLE, root / "corpus" / DEFAULT_ARTICLE.name)
    s = Settings(corpus_dir=root / "corpus", index_dir=root / "index")
    sync(index_spec(s), embeddings=real_embeddings)
    return s


@pytest.fixture(scope="session")
def seed_assistant(seed_index: Settings, real_embeddings: Embeddings) -> Assistant:
    return Assistant(seed_index, embeddings=real_embeddings)


@pytest.fixture(scope="session")
def default_app(
    tmp_path_factory: pytest.TempPathFactory, real_embeddings: Embeddings
) -> Iterator[object]:
    """`python app.py` over a real index of the default article (a netutil.AppProcess; its
    feedback file is feedback.jsonl beside its log), started once per session: each start
    costs an interpreter, the model and a warm-up. Shared by the test modules that only ask
    and read; a test that changes the corpus, the index or the server starts its own."""
    from browserutil import served_default_corpus

    with served_default_corpus(tmp_path_factory.mktemp("default-app"), real_embeddings) as app:
        yield app


@pytest.fixture
def fake_assistant(settings: Settings) -> FakeAssistant:
    """A FakeAssistant over a temporary copy of the default corpus, already 'indexed'."""
    assistant = FakeAssistant(settings)
    assistant.reindex()
    return assistant


@pytest.fixture
def bow_embeddings() -> BagOfWordsEmbeddings:
    return BagOfWordsEmbeddings()


@pytest.fixture
def lead_answerer() -> LeadSentenceAnswerer:
    return LeadSentenceAnswerer()


@pytest.fixture(scope="module")
def chromium() -> Iterator[object]:
    """Headless Chromium driven by Playwright (a playwright Browser), one per test module.

    Skips when /usr/bin/chromium or Playwright is missing.
    """
    if not CHROMIUM.exists():
        pytest.skip("needs Debian's /usr/bin/chromium (apt install chromium)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="needs playwright for Python")
    from browserutil import WAIT_MS

    # expect() assertions have their own 5 s default, apart from the pages' timeout: on a
    # loaded machine a rebuild or a restored chat takes longer, and the test failed.
    sync_api.expect.set_options(timeout=WAIT_MS)
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()
