"""A replica cache may be deleted at any time, even while a refresh writes into it and a
reader then opens (and so creates) an empty docstore at the same path. The follower and
fill_cache must see that the open docstore is no longer the file on disk
(DocStore.on_disk, Build.intact); a file merely existing at the path is not enough. And
the searcher must drop the retriever of the deleted files (retrieval.active)."""

from __future__ import annotations

import shutil
from pathlib import Path

from langchain_core.embeddings import FakeEmbeddings

from askfront.indexing.chroma import ChromaSpec
from askfront.indexing.docstore import DocStore
from askfront.indexing.store import Build, StoreSpec
from askfront.retrieval.active import ActiveRetriever


def test_a_docstore_whose_folder_was_deleted_is_not_on_disk(tmp_path: Path) -> None:
    store = DocStore(tmp_path / "b" / "docstore.sqlite3")
    assert store.on_disk
    shutil.rmtree(tmp_path / "b")
    assert not store.on_disk
    newcomer = DocStore(tmp_path / "b" / "docstore.sqlite3")  # a reader recreates the file
    assert newcomer.on_disk
    assert not store.on_disk, "a new file at the same path is not the one this store has open"


def test_a_build_is_intact_only_with_its_state_and_its_own_docstore(tmp_path: Path) -> None:
    build = Build(StoreSpec(tmp_path), "b1")
    build.write_state(generation=1)
    build.docstore.rows()
    assert build.intact
    shutil.rmtree(build.dir)
    assert not build.intact
    other = Build(StoreSpec(tmp_path), "b1")  # a reader of the same build, after the delete
    other.docstore.rows()
    other.write_state(generation=1)  # an in-flight refresh writes the state again
    assert other.intact
    assert not build.intact


def test_checking_an_unopened_build_creates_no_docstore(tmp_path: Path) -> None:
    build = Build(StoreSpec(tmp_path), "b1")
    build.write_state(generation=1)
    assert not build.intact
    assert not (build.dir / "docstore.sqlite3").exists()


class FakeFollower:
    """The follower's seam as ActiveRetriever uses it: the build to search, and warming."""

    def __init__(self, build: Build) -> None:
        self.current = build
        self.warming = False

    def build(self) -> Build:
        return self.current


def test_a_refilled_cache_gets_a_new_retriever_though_name_and_generation_match(
    tmp_path: Path,
) -> None:
    store = StoreSpec(tmp_path, chroma=ChromaSpec(mode="server"))
    active = ActiveRetriever(store, lambda: FakeEmbeddings(size=4))
    before = Build(store, "b1")
    before.write_state(generation=5)
    follower = FakeFollower(before)
    active._follower = follower  # type: ignore[assignment]
    first = active.current()
    assert first.build is before and active.current() is first  # kept while nothing moved

    shutil.rmtree(before.dir)  # deleted, then filled again: same build name and generation
    follower.current = Build(store, "b1")
    follower.current.write_state(generation=5)
    assert active.current().build is follower.current, "the old retriever keeps the old files"
