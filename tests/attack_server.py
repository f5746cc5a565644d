"""One `python app.py` over a small hostile corpus and a real index, for issue 13's attacks.

Shared (session scope) by test_attacks_web.py, test_attacks_uploads.py and
test_attacks_browser.py. Each test that changes something changes only its own file, so the
order of the tests does not matter.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from langchain_core.embeddings import Embeddings

from askfront.assistant import index_spec
from askfront.core.config import Settings
from netutil import free_port, serve_app
from paths import DEFAULT_ARTICLE

LEGION = "How many foreigners serve in Ukraine's international legion?"
WAIT_S = 600  # a ceiling against hangs, far above any wait on a loaded machine
URL_ARTICLE = "vellmar-archive.txt"
URL_TEXT = (
    "The Vellmar archive opened a new reading room in March. The Vellmar archive published "
    "the harbour scan at https://example.org/files/raw-image.png for every reader. Its "
    "director, Ilse Marrow, wrote to archive-news@example.org about the scan. Visitors can "
    "also read www.vellmar-archive.example.org/notes before they come.\n"
)
URL_QUESTIONS = [
    "Whom did Ilse Marrow write to about the scan?",
    "Where did the Vellmar archive publish the harbour scan?",
]
# A file name that is HTML: shown unescaped, the browser fetches //127.0.0.1:<port>/b.png.
TOAST_PORT = free_port()
TOAST_NAME = f"r<img src=\\\\127.0.0.1:{TOAST_PORT}\\b.png>.txt"
TOAST_TEXT = "The Quorvath bell rang twelve times at the Quorvath harvest festival.\n"
TOAST_QUESTION = "How many times did the Quorvath bell ring?"
DOOMED_FN = "doomed-by-fn-index.txt"  # what the cross-site requests try to delete
DOOMED_LOCK = "doomed-under-lock.txt"  # deleted in the UI while another process holds the lock
STALE_PART = ".stale-notes.md.part"  # left by a server killed while saving an upload
NOT_OURS = [".notes.part", "notes.md.part", ".keep.md.part.bak"]  # not askfront's pattern


class LockHolder:
    """Another process holding the real index lock until `release()`."""

    SCRIPT = (
        "import sys\nfrom pathlib import Path\nfrom askfront.indexing.lock import index_lock\n"
        "with index_lock(Path(sys.argv[1])):\n    print('held', flush=True)\n    sys.stdin.read()\n"
    )

    def __init__(self, index_dir: Path) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-c", self.SCRIPT, str(index_dir)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.proc.stdout is not None and self.proc.stdout.readline() == "held\n"

    def release(self) -> None:
        if self.proc.poll() is None:
            assert self.proc.stdin is not None
            self.proc.stdin.close()
            self.proc.wait(timeout=900)


@dataclass
class AttackServer:
    url: str
    port: int
    corpus: Path
    uploads: Path  # GRADIO_TEMP_DIR
    env: dict[str, str]
    log: Path

    def client(self, **kwargs: Any) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=600, **kwargs)

    def log_size(self) -> int:
        return len(self.log.read_text(encoding="utf-8", errors="replace"))

    def log_since(self, offset: int) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")[offset:]

    def reindex(self) -> None:
        """`askfront index` over the served corpus and index, as another process would."""
        cli = Path(sys.executable).with_name("askfront")
        done = subprocess.run(
            [str(cli), "index"], env=self.env, capture_output=True, text=True, timeout=900
        )
        assert done.returncode == 0, done.stderr


@pytest.fixture(scope="session")
def attack_server(
    tmp_path_factory: pytest.TempPathFactory, real_embeddings: Embeddings
) -> Iterator[AttackServer]:
    from askfront.indexing.sync import sync

    root = tmp_path_factory.mktemp("attack")
    corpus = root / "corpus"
    corpus.mkdir()
    shutil.copy(DEFAULT_ARTICLE, corpus / DEFAULT_ARTICLE.name)
    (corpus / URL_ARTICLE).write_text(URL_TEXT, encoding="utf-8")
    (corpus / TOAST_NAME).write_text(TOAST_TEXT, encoding="utf-8")
    for name in (DOOMED_FN, DOOMED_LOCK):
        (corpus / name).write_text(f"The {name} article is about zebras.\n", encoding="utf-8")
    settings = Settings(corpus_dir=corpus, index_dir=root / "index")
    sync(index_spec(settings), embeddings=real_embeddings)
    for name in [STALE_PART, *NOT_OURS]:
        (corpus / name).write_text("half an upload", encoding="utf-8")
    uploads = root / "uploads"
    with serve_app(settings, root, extra_env={"GRADIO_TEMP_DIR": str(uploads)}) as app:
        port = int(app.url.rstrip("/").rsplit(":", 1)[1])
        yield AttackServer(app.url, port, corpus, uploads, app.env, app.log)
