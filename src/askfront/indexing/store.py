"""The index folder and its builds: Chroma (vectors), a docstore (texts, offsets, file
status) and BM25, plus the manifest that says which build answers.

Layout of `index_dir`:

    manifest.json           which build is active (written atomically)
    chroma/                 embedded Chroma PersistentClient (absent in server mode)
    builds/<build>/         one build per embedding-model + chunk-settings combination
        state.json          what built it, and the BM25 generation in use
        docstore.sqlite3    documents (normalized text, metadata, sha256) and chunks
        records.sqlite3     LangChain indexing-API record manager
        bm25-<gen>/         keyword index over the build's chunks
    .lock                   held by the one process that writes

A full rebuild writes a new build next to the active one and switches manifest.json only
when it is complete, so readers keep answering from the previous build meanwhile.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from askfront.core.errors import IndexNotFoundError, StoreUnavailableError
from askfront.indexing.chroma import ChromaSpec, chroma_client
from askfront.indexing.docstore import DocStore

if TYPE_CHECKING:
    import chromadb
    from langchain_chroma import Chroma
    from langchain_core.embeddings import Embeddings

logger = logging.getLogger(__name__)

MANIFEST = "manifest.json"


@dataclass(frozen=True)
class StoreSpec:
    """Where an index lives (the Assistant builds it from the settings)."""

    index_dir: Path
    collection: str = "askfront"  # prefix of the builds' Chroma collection names
    chroma: ChromaSpec = field(default_factory=ChromaSpec)


def write_json_atomic(path: Path, data: dict[str, Any]) -> None:
    """Write JSON so that a crash leaves either the old file or the new one, never half."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "w") as f:
            json.dump(data, f, indent=2)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def read_json(path: Path) -> dict[str, Any] | None:
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        logger.warning("Ignoring unreadable %s: %s", path, exc)
        return None


def date_int(date: str | None) -> int:
    """20240228 for "2024-02-28"; 0 when unknown (Chroma filters compare numbers only)."""
    if not date or len(date) < 10:
        return 0
    try:
        return int(date[:10].replace("-", ""))
    except ValueError:
        return 0


class Build:
    """One build of the index: a Chroma collection plus its docstore and BM25 files."""

    def __init__(self, store: StoreSpec, name: str) -> None:
        self.store = store
        self.name = name
        self.dir = store.index_dir / "builds" / name
        self._docstore: DocStore | None = None
        self._client: chromadb.ClientAPI | None = None

    @property
    def state_path(self) -> Path:
        return self.dir / "state.json"

    def state(self) -> dict[str, Any]:
        return read_json(self.state_path) or {}

    def write_state(self, **updates: Any) -> None:
        state = self.state()
        state.update(updates)
        write_json_atomic(self.state_path, state)

    @property
    def docstore(self) -> DocStore:
        if self._docstore is None:
            self._docstore = DocStore(self.dir / "docstore.sqlite3")
        return self._docstore

    @property
    def intact(self) -> bool:
        """Whether the folder still holds this build's state and the docstore it has open.
        Checked without opening the docstore: opening it would create an empty one."""
        if not self.state_path.is_file():
            return False
        if self._docstore is None:
            return (self.dir / "docstore.sqlite3").is_file()
        return self._docstore.on_disk

    @property
    def client(self) -> chromadb.ClientAPI:
        if self.store.chroma.mode == "embedded":
            # The process-wide client, so that reset_chroma_client reaches every build.
            return chroma_client(self.store.chroma, self.store.index_dir)
        if self._client is None:
            self._client = chroma_client(self.store.chroma, self.store.index_dir)
        return self._client

    def collection(self) -> chromadb.Collection:
        """The raw Chroma collection (for lean queries). Never Chroma's default embedder."""
        try:
            return self.client.get_or_create_collection(
                self.name, embedding_function=None, configuration={"hnsw": {"space": "cosine"}}
            )
        except StoreUnavailableError:
            raise
        except Exception as exc:
            raise StoreUnavailableError(
                f"Chroma collection {self.name} unavailable: {exc}"
            ) from exc

    def vectorstore(self, embeddings: Embeddings) -> Chroma:
        """The same collection through langchain-chroma, for the indexing API."""
        from langchain_chroma import Chroma

        return Chroma(
            collection_name=self.name,
            embedding_function=embeddings,
            client=self.client,
            collection_configuration={"hnsw": {"space": "cosine"}},
        )

    def record_manager_url(self) -> str:
        return f"sqlite:///{(self.dir / 'records.sqlite3').resolve()}"

    def bm25_dir(self) -> Path | None:
        gen = self.state().get("bm25")
        return self.dir / gen if gen else None

    def close(self) -> None:
        if self._docstore is not None:
            self._docstore.close()
            self._docstore = None

    def destroy(self) -> None:
        """Delete this build's collection and files (after another build became active)."""
        self.close()
        try:
            self.client.delete_collection(self.name)
            if self.store.chroma.mode == "server":
                from askfront.indexing.replica import delete_published

                delete_published(self.client, self.name)
        except Exception as exc:  # already gone, or server down: files still go
            logger.info("Could not delete collection %s: %s", self.name, exc)
        shutil.rmtree(self.dir, ignore_errors=True)


def active_build(store: StoreSpec) -> Build:
    """The build that queries use.

    Raises:
        IndexNotFoundError: if no index has been built yet.
    """
    manifest = read_json(store.index_dir / MANIFEST)
    if not manifest or not manifest.get("active"):
        raise IndexNotFoundError(
            f"No index in {store.index_dir}/. Build it with `askfront index` "
            "(or `make run`), which reads the corpus folder."
        )
    build = Build(store, manifest["active"])
    if not build.state_path.is_file():
        raise IndexNotFoundError(
            f"The index in {store.index_dir}/ is incomplete (no {build.state_path.name}). "
            "Run `askfront index --full` to rebuild it."
        )
    return build


def activate(store: StoreSpec, build: Build) -> None:
    """Make `build` the one queries use (an atomic manifest write)."""
    write_json_atomic(
        store.index_dir / MANIFEST, {"active": build.name, "switched_at": time.time()}
    )
