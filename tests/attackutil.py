"""Helpers shared by the issue-13 indexing tests: the real CLI in a subprocess, and what
each store of the active build holds."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from typing import Any

from askfront.assistant import store_spec
from askfront.core.config import Settings
from askfront.indexing.store import active_build

LEGION = "How many foreigners serve in Ukraine's international legion?"


def bulletin(i: int) -> str:
    return (
        f"---\ntitle: Bulletin {i}\n---\nThe village of Vell{i} counted {100 + i} lanterns on "
        f"festival night. Bulletin {i} calls it a record for the valley.\n"
    )


def env(settings: Settings, **extra: str) -> dict[str, str]:
    return {**os.environ, "ASKFRONT_CORPUS_DIR": str(settings.corpus_dir),
            "ASKFRONT_INDEX_DIR": str(settings.index_dir), **extra}  # fmt: skip


def cli(settings: Settings, *args: str, **extra: str) -> subprocess.CompletedProcess[str]:
    """`askfront ARGS` with the settings' folders (and ASKFRONT_* values in `extra`)."""
    return subprocess.run(
        [sys.executable, "-m", "askfront.cli", *args], env=env(settings, **extra),
        capture_output=True, text=True, timeout=600,
    )  # fmt: skip


def index_json(settings: Settings, *args: str) -> dict[str, Any]:
    proc = cli(settings, "index", "--json", *args)
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    data: dict[str, Any] = json.loads(proc.stdout)
    return data


def store_ids(settings: Settings) -> dict[str, set[str]]:
    """The chunk ids each store of the active build holds."""
    from langchain_classic.indexes import SQLRecordManager

    build = active_build(store_spec(settings))
    with sqlite3.connect(build.dir / "docstore.sqlite3") as conn:
        docstore = {r[0] for r in conn.execute("SELECT id FROM chunks")}
    records = SQLRecordManager(build.name, db_url=build.record_manager_url())
    folder = build.bm25_dir()
    assert folder is not None
    bm25_ids = json.loads((folder / "chunks.json").read_text())["ids"]
    assert len(bm25_ids) == len(set(bm25_ids))
    return {
        "docstore": docstore,
        "chroma": set(build.collection().get(include=[])["ids"]),
        "records": set(records.list_keys()),
        "bm25": set(bm25_ids),
    }


def assert_stores_agree(settings: Settings) -> set[str]:
    ids = store_ids(settings)
    docstore = ids["docstore"]
    for name, held in ids.items():
        assert held == docstore, (
            f"{name}: {len(held - docstore)} extra, {len(docstore - held)} missing chunk ids"
        )
    return docstore
