"""Shared by the document tests: the committed fixtures folder, write(), a load's reason()."""

from __future__ import annotations

from pathlib import Path

import pytest

from askfront.core.errors import DocumentError
from askfront.corpus.loader import load_document

DOCS = Path(__file__).parent / "data" / "docs"


def write(root: Path, name: str, content: bytes | str) -> Path:
    path = root / name
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, str):
        path.write_bytes(content.encode("utf-8"))
    else:
        path.write_bytes(content)
    return path


def reason(path: Path, root: Path, **kwargs: int) -> str:
    with pytest.raises(DocumentError) as info:
        load_document(path, root, **kwargs)
    return str(info.value)
