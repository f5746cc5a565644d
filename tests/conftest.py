"""Shared fixtures. Sections are owned by the module they serve; keep each one self-contained."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

# --- core fixtures ---
from langchain_core.embeddings import Embeddings

from askfront.config import Settings

REPO = Path(__file__).resolve().parent.parent
DEFAULT_ARTICLE = REPO / "corpus" / "ukraine-foreign-fighters-washington-post-2024-02-28.md"
DATASET = REPO.parent / "shared" / "datasets" / "realtimeqa-2024"


class CountingEmbeddings(Embeddings):
    """The real model, counting how many texts it embeds (to prove incremental indexing)."""

    def __init__(self, inner: Embeddings) -> None:
        self.inner = inner
        self.documents = 0

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        self.documents += len(texts)
        return self.inner.embed_documents(texts)

    def embed_query(self, text: str) -> list[float]:
        return self.inner.embed_query(text)


@pytest.fixture(scope="session")
def real_embeddings() -> Embeddings:
    """The bundled all-MiniLM-L6-v2, loaded once per test session."""
    from askfront.embeddings import get_embeddings

    return get_embeddings(Settings())


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
    from askfront.indexer import sync

    root = tmp_path_factory.mktemp("seed")
    (root / "corpus").mkdir()
    shutil.copy(DEFAULT_ARTICLE, root / "corpus" / DEFAULT_ARTICLE.name)
    s = Settings(corpus_dir=root / "corpus", index_dir=root / "index")
    sync(s, embeddings=real_embeddings)
    return s


@pytest.fixture(scope="session")
def seed_assistant(seed_index: Settings, real_embeddings: Embeddings):  # type: ignore[no-untyped-def]
    from askfront.assistant import Assistant

    return Assistant(seed_index, embeddings=real_embeddings)
