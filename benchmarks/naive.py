"""The baseline askfront is measured against: the textbook LangChain RAG indexing pipeline.

Load the .md files (front matter stripped), RecursiveCharacterTextSplitter(1000, 200),
HuggingFaceEmbeddings over the same bundled all-MiniLM-L6-v2, Chroma.from_documents into a
persistent folder, then similarity_search(q, k=5). No change tracking, no keyword index,
no docstore: what a tutorial would write.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

if TYPE_CHECKING:
    from langchain_chroma import Chroma
    from langchain_core.documents import Document
    from langchain_core.embeddings import Embeddings

CHUNK_SIZE = 1000  # characters, the LangChain tutorial defaults
CHUNK_OVERLAP = 200
COLLECTION = "langchain"  # langchain_chroma's default collection name


def make_embeddings(model_path: Path) -> Embeddings:
    from langchain_huggingface import HuggingFaceEmbeddings

    return HuggingFaceEmbeddings(
        model_name=str(model_path),
        model_kwargs={"device": "cpu"},
        encode_kwargs={"normalize_embeddings": True},
    )


def load_documents(paths: Sequence[Path]) -> list[Document]:
    """One LangChain Document per file, front matter stripped; metadata["source"] is the
    file name (what the testset's gold `sources` list)."""
    import frontmatter
    from langchain_core.documents import Document

    docs = []
    for path in paths:
        post = frontmatter.load(str(path))
        docs.append(Document(page_content=post.content, metadata={"source": path.name}))
    return docs


def split(docs: Sequence[Document]) -> list[Document]:
    from langchain_text_splitters import RecursiveCharacterTextSplitter

    splitter = RecursiveCharacterTextSplitter(chunk_size=CHUNK_SIZE, chunk_overlap=CHUNK_OVERLAP)
    return splitter.split_documents(list(docs))


def client_settings() -> Any:
    import chromadb.config

    return chromadb.config.Settings(anonymized_telemetry=False)


def build(
    paths: Sequence[Path], embeddings: Embeddings, persist_dir: Path
) -> tuple[Chroma, list[Document]]:
    """The whole naive indexing pipeline: files -> chunks -> vectors -> persisted Chroma.

    Returns the store and the chunks it embedded.
    """
    from langchain_chroma import Chroma

    chunks = split(load_documents(paths))
    db = Chroma.from_documents(
        chunks,
        embeddings,
        persist_directory=str(persist_dir),
        client_settings=client_settings(),
    )
    return db, chunks


def add_files(db: Chroma, paths: Sequence[Path]) -> int:
    """What the naive pipeline can do with a new file: embed and append it (no dedup)."""
    chunks = split(load_documents(paths))
    db.add_documents(chunks)
    return len(chunks)


def open_store(persist_dir: Path, embeddings: Embeddings) -> Chroma:
    from langchain_chroma import Chroma

    return Chroma(
        collection_name=COLLECTION,
        embedding_function=embeddings,
        persist_directory=str(persist_dir),
        client_settings=client_settings(),
    )


def search(db: Chroma, query: str, k: int = 5) -> list[Document]:
    return db.similarity_search(query, k=k)


def search_by_vector(db: Chroma, embeddings: Embeddings, query: str, k: int = 5) -> list[Document]:
    """embed_query + similarity_search_by_vector: the same work as search(), split so a
    store filled with precomputed vectors can be queried the same way."""
    return db.similarity_search_by_vector(embeddings.embed_query(query), k=k)
