"""What a cold `askfront` process imports and loads (benchmarks/coldstart.py times it).

No timing here: each test runs a real CLI command in a fresh interpreter and checks which
heavy packages it imported (sys.modules), so a module-level import that creeps back fails.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from langchain_core.embeddings import Embeddings

from askfront.assistant import index_spec
from askfront.core.config import Settings
from askfront.indexing import bm25
from askfront.indexing.store import active_build
from askfront.indexing.sync import sync
from askfront.retrieval.base import SearchOptions
from askfront.retrieval.hybrid import Retriever
from paths import REPO

pytestmark = pytest.mark.slow


QUESTION = "How many foreigners serve in Ukraine's international legion?"
HEAVY = ["chromadb", "torch", "sentence_transformers", "langchain_classic", "sqlalchemy",
         "langchain_core", "bm25s", "onnxruntime", "gradio", "transformers"]  # fmt: skip
RUN = """
import json, sys
heavy = json.loads(sys.argv[2])
sys.argv = ["askfront", *json.loads(sys.argv[1])]
from askfront.cli import main
try:
    main()
except SystemExit as exc:
    code = exc.code
else:
    code = 0
print("\\nIMPORTED " + json.dumps([code, sorted(m for m in heavy if m in sys.modules)]))
"""


def _cli(*args: str, cwd: Path) -> tuple[str, set[str]]:
    """Run `askfront ARGS` in a fresh interpreter: its output, and the HEAVY it imported."""
    proc = subprocess.run(
        [sys.executable, "-c", RUN, json.dumps(list(args)), json.dumps(HEAVY)],
        capture_output=True, text=True, cwd=cwd, timeout=600,
    )  # fmt: skip
    out, _, tail = proc.stdout.rpartition("\nIMPORTED ")
    assert tail, proc.stdout[-2000:] + proc.stderr[-2000:]
    code, imported = json.loads(tail)
    assert code in (0, None), out[-2000:] + proc.stderr[-2000:]
    return out, set(imported)


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The default corpus indexed by `askfront index` (corpus folder, index folder)."""
    root = tmp_path_factory.mktemp("cold")
    corpus = root / "corpus"
    corpus.mkdir()
    shutil.copy(next((REPO / "corpus").glob("*.md")), corpus)
    out, _ = _cli("index", "--corpus", str(corpus), "--index", str(root / "index"), cwd=root)
    assert "1 added" in out
    return corpus, root / "index"


def test_help_imports_nothing_heavy(tmp_path: Path) -> None:
    out, imported = _cli("ask", "--help", cwd=tmp_path)
    assert "Usage: askfront ask" in out
    assert imported == set()


def test_noop_index_needs_neither_chroma_nor_the_indexing_api(built: tuple[Path, Path]) -> None:
    corpus, index = built
    out, imported = _cli("index", "--corpus", str(corpus), "--index", str(index), "--json",
                         cwd=index.parent)  # fmt: skip
    report = json.loads(out)
    assert report["counts"]["unchanged"] == 1 and report["chunks_embedded"] == 0
    assert imported == set(), "a no-op sync reads state.json, the docstore and file hashes only"


def test_ask_on_a_small_index_does_not_import_chromadb(built: tuple[Path, Path]) -> None:
    _, index = built
    out, imported = _cli("ask", QUESTION, "--index", str(index), "--json", cwd=index.parent)
    answer = json.loads(out)
    assert "20,000" in answer["answer"] and answer["citations"]
    # Dense search ran over the docstore's vector copies; BM25 and the query encoder loaded.
    assert "chromadb" not in imported and "torch" not in imported
    assert {"bm25s", "onnxruntime"} <= imported


@pytest.fixture(scope="module")
def collection_build(tmp_path_factory: pytest.TempPathFactory, real_embeddings: Embeddings):  # type: ignore[no-untyped-def]
    root = tmp_path_factory.mktemp("collection")
    shutil.copytree(REPO / "tests" / "data" / "collection", root / "corpus")
    settings = Settings(corpus_dir=root / "corpus", index_dir=root / "index")
    sync(index_spec(settings), embeddings=real_embeddings)
    return active_build(index_spec(settings).store)


@pytest.mark.parametrize(
    "question", ["drone factories in Ukraine", "remittances to Nepal", "who won the chess club"]
)
def test_stored_copies_rank_as_chroma_does(
    collection_build,
    real_embeddings: Embeddings,
    question: str,  # type: ignore[no-untyped-def]
) -> None:
    """The exact scan that replaces Chroma on small builds finds Chroma's candidates."""
    retriever = Retriever(collection_build, real_embeddings)
    chunks, copies = collection_build.docstore.counts()
    assert chunks == copies > 5
    small = retriever._small_build(chunks)
    assert small is not None and retriever._small_build(chunks - 1) is None
    qvec = np.asarray(real_embeddings.embed_query(question), dtype=np.float32)
    for sources in (set(), {"nepal-remittances-record-2024-03-05.md", "chess-club-champion.md"}):
        ours = small.query(qvec, chunks, sources, 0, 0)
        where = {"source": {"$in": sorted(sources)}} if sources else None
        theirs = retriever.collection.query(
            query_embeddings=[qvec.tolist()], n_results=chunks, where=where, include=["distances"]
        )
        assert ours["ids"][0][:5] == theirs["ids"][0][:5]
        assert set(ours["ids"][0]) == set(theirs["ids"][0])
        np.testing.assert_allclose(ours["distances"][0], theirs["distances"][0], atol=2e-3)
    # And search() itself, which takes this path for builds this small.
    found = retriever.search(question, SearchOptions(top_k=3))
    assert len(found.passages) == 3 and retriever._stored is small


def test_bm25_is_memory_mapped_and_scores_as_loaded(collection_build) -> None:  # type: ignore[no-untyped-def]
    index = bm25.load(collection_build.bm25_dir())
    assert isinstance(index.retriever.scores["data"], np.memmap)
    import bm25s

    in_memory = bm25s.BM25.load(str(collection_build.bm25_dir()), mmap=False)
    for query in ("Nepal remittances record", "drone factory", "tulip"):
        ids = index.retriever.get_tokens_ids(bm25.content_terms(query))
        np.testing.assert_array_equal(
            index.retriever.get_scores_from_ids(ids), in_memory.get_scores_from_ids(ids)
        )


def test_bm25_rebuild_reuses_saved_terms_and_scores_the_same(
    collection_build,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,  # type: ignore[no-untyped-def]
) -> None:
    """Adding an article stems only its own chunks; the rebuilt index is the same."""
    ids, texts, sources, _ = collection_build.docstore.all_chunk_texts()
    dates = [0] * len(ids)
    bm25.build(tmp_path / "fresh", ids, texts, sources, dates)
    calls: list[str] = []
    real = bm25.content_terms
    monkeypatch.setattr(bm25, "content_terms", lambda t: calls.append(t) or real(t))
    new_text = "A brand new article about tulip growers in Nepal."
    bm25.build(tmp_path / "next", [*ids, "new"], [*texts, new_text], [*sources, "new.md"],
               [*dates, 0], previous=tmp_path / "fresh")  # fmt: skip
    assert calls == [new_text]
    monkeypatch.undo()
    bm25.build(tmp_path / "scratch", [*ids, "new"], [*texts, new_text], [*sources, "new.md"],
               [*dates, 0])  # fmt: skip
    for name in ("data.csc.index.npy", "indices.csc.index.npy", "indptr.csc.index.npy"):
        np.testing.assert_array_equal(
            np.load(tmp_path / "next" / name), np.load(tmp_path / "scratch" / name)
        )
    assert (tmp_path / "next" / "vocab.index.json").read_text() == (
        tmp_path / "scratch" / "vocab.index.json"
    ).read_text()
