"""The embeddings wrapper a sync writes through (its own module: it subclasses LangChain's
Embeddings, whose import a no-op sync or a plain `askfront ask` does not need)."""

from __future__ import annotations

from langchain_core.embeddings import Embeddings


class Recorder(Embeddings):
    """Passes embedding calls through, keeping the vectors of the current batch.

    The docstore stores a copy of each chunk's vector, so search can score keyword-only
    hits without asking Chroma. LangChain's index() embeds inside the vector store, so this
    is where the vectors can be seen. Chunks index() skips (already embedded by a run that
    crashed before its docstore write) get no copy; search falls back to Chroma for them.
    """

    def __init__(self, inner: Embeddings) -> None:
        self.inner = inner
        self.seen: dict[str, list[float]] = {}

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        vectors = self.inner.embed_documents(texts)
        self.seen.update(zip(texts, vectors, strict=True))
        return vectors

    def embed_query(self, text: str) -> list[float]:
        return self.inner.embed_query(text)
