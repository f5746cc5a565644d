"""Files on their way into the corpus: the partial copies of a save, and Gradio's temporary
upload files, which both must not outlive the save."""

from __future__ import annotations

import logging
import re
import shutil
from pathlib import Path

from askfront.corpus.files import SUPPORTED_SUFFIXES

logger = logging.getLogger(__name__)

# An upload is copied to ".<name>.part" beside its target, then renamed, so a running
# rebuild never reads half a file (the indexer skips hidden files). <name> is what
# corpus.files.safe_corpus_path allows: [A-Za-z0-9._-], not hidden, a supported suffix.
_PARTIAL = re.compile(r"\.(?P<name>[A-Za-z0-9_-][A-Za-z0-9._-]*)\.part")


def partial_path(target: Path) -> Path:
    return target.with_name(f".{target.name}.part")


def copy_into(source: Path, target: Path) -> None:
    """Copy `source` to `target` through its partial file; the partial never stays behind.

    Raises:
        OSError: if the copy fails (the disk is full, ...); `target` is then unchanged.
    """
    partial = partial_path(target)
    try:
        shutil.copyfile(source, partial)
        partial.replace(target)
    finally:
        partial.unlink(missing_ok=True)


def _is_ours(path: Path) -> bool:
    match = _PARTIAL.fullmatch(path.name)
    return match is not None and Path(match["name"]).suffix.lower() in SUPPORTED_SUFFIXES


def remove_partials(root: Path) -> list[str]:
    """Delete the partial copies left in `root` by a server killed while saving an upload;
    returns their names. Only askfront's own ".<name>.part" files, only at the top level
    (where uploads are saved), never through a symlink."""
    if not root.is_dir():
        return []
    removed = []
    for path in sorted(root.iterdir()):
        if _is_ours(path) and path.is_file() and not path.is_symlink():
            try:
                path.unlink()
            except OSError as exc:
                logger.warning("Could not remove %s, left by an interrupted upload: %s", path, exc)
                continue
            removed.append(path.name)
    if removed:
        logger.warning(
            "Removed %d partial upload(s) left in %s by an interrupted save: %s",
            len(removed),
            root,
            ", ".join(removed),
        )
    return removed


def discard_upload(path: Path) -> None:
    """Delete one of Gradio's temporary upload files, and its folder once empty (Gradio keeps
    each upload in a folder named by its hash)."""
    try:
        path.unlink(missing_ok=True)
        path.parent.rmdir()
    except OSError:
        pass  # the folder holds another upload of the same content, or is gone already
