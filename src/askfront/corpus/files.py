"""The files of the corpus folder: which ones are read, and safe names for uploads."""

from __future__ import annotations

import os
import re
import stat
import unicodedata
from pathlib import Path

from askfront.core.errors import ConfigError, DocumentError

SUPPORTED_SUFFIXES = (".txt", ".md", ".markdown", ".html", ".htm", ".pdf")


def iter_corpus(root: Path) -> list[Path]:
    """The supported files under `root`, recursively, sorted by relative path.

    Hidden files and folders (a name starting with ".", e.g. .git) are skipped, and so are
    symlinked folders (os.walk does not follow them, which also rules out loops). Symlinked
    files are listed; `corpus_file_problem` tells the ones that leave the folder.

    Raises:
        ConfigError: if `root` is not a folder.
    """
    root = Path(root)
    if not root.is_dir():
        raise ConfigError(
            f"Corpus folder {root} does not exist. Create it or set ASKFRONT_CORPUS_DIR."
        )
    found: list[Path] = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = [d for d in dirnames if not d.startswith(".")]
        for name in filenames:
            if name.startswith(".") or Path(name).suffix.lower() not in SUPPORTED_SUFFIXES:
                continue
            p = Path(dirpath, name)
            if p.is_file():
                found.append(p)
    return sorted(found, key=lambda p: p.relative_to(root).as_posix())


def display_name(rel: str) -> str:
    """`rel` as printable UTF-8: bytes of a file name that are not UTF-8 (which Python
    keeps as lone surrogates) become `\\xNN`, as in "caf\\xe9.txt"."""
    return os.fsencode(rel).decode("utf-8", "backslashreplace")


def corpus_file_problem(rel: str, path: Path, real_root: Path) -> str | None:
    """Why the corpus file `path` (named `rel`) must not be read, or None if it may be.

    `real_root` is the corpus folder with its symlinks resolved.

    - A name that is not valid UTF-8 cannot be stored, cited or printed as it is.
    - A symlink that resolves outside the corpus folder would index a file the corpus
      owner never put there (say, corpus/leak.txt -> /etc/secret.conf). Links that stay
      inside the folder are followed: they only repeat what is already in the corpus.
      (Linked folders are never entered: see iter_corpus.)
    """
    try:
        rel.encode("utf-8")
    except UnicodeEncodeError:
        return "file name is not valid UTF-8: rename it to index it"
    # Only the file itself can be a link: os.walk does not enter linked folders.
    if path.is_symlink() and leaves_folder(path, real_root):
        return "symlink to a file outside the corpus folder: not read"
    return None


def leaves_folder(path: Path, root: Path) -> bool:
    real, real_root = path.resolve(), root.resolve()
    return real != real_root and real_root not in real.parents


_UNSAFE_CHARS = re.compile(r"[^A-Za-z0-9._-]+")
_MAX_NAME_CHARS = 200


def safe_corpus_path(root: Path, filename: str) -> Path:
    """Where an uploaded file called `filename` may be saved: root / a sanitized base name.

    Rejects names with NUL bytes, absolute paths, ".." parts, empty or hidden names and
    unsupported suffixes. The name is reduced to [A-Za-z0-9._-] (accents folded to ASCII,
    whitespace to "-", anything else to "_") and the suffix is lower-cased.

    Raises:
        DocumentError: with the reason the name is refused.
    """
    if "\x00" in filename:
        raise DocumentError("file name contains a NUL byte")
    name = filename.strip()
    if not name:
        raise DocumentError("empty file name")
    if name.startswith(("/", "\\")) or re.match(r"^[A-Za-z]:", name):
        raise DocumentError("absolute paths are not allowed as file names")
    parts = re.split(r"[/\\]", name)
    if ".." in (p.strip() for p in parts):
        raise DocumentError("file names may not contain '..'")
    base = parts[-1].strip()
    if not base:
        raise DocumentError("empty file name")
    if base.startswith("."):
        raise DocumentError("hidden file names (starting with '.') are not allowed")
    suffix = Path(base).suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise DocumentError(unsupported(suffix))
    stem = base[: -len(suffix)]
    ascii_stem = unicodedata.normalize("NFKD", stem).encode("ascii", "ignore").decode("ascii")
    ascii_stem = re.sub(r"\s+", "-", ascii_stem)
    ascii_stem = _UNSAFE_CHARS.sub("_", ascii_stem).strip("._-")[:_MAX_NAME_CHARS]
    if not ascii_stem:
        raise DocumentError("file name has no letters or digits to keep")
    target = Path(root) / f"{ascii_stem}{suffix}"
    # An existing symlink could still point outside the folder.
    if target.resolve().parent != Path(root).resolve():
        raise DocumentError("file name resolves outside the corpus folder")
    return target


def relative_posix(path: Path, root: Path) -> str:
    for p, r in (
        (Path(os.path.normpath(path.absolute())), Path(os.path.normpath(root.absolute()))),
        (path.resolve(), root.resolve()),
    ):
        try:
            return p.relative_to(r).as_posix()
        except ValueError:
            continue
    raise DocumentError(f"not inside the corpus folder {root}")


def read_bytes(path: Path, max_bytes: int | None) -> bytes:
    try:
        st = path.stat()
        if not stat.S_ISREG(st.st_mode):
            raise DocumentError("not a regular file")
        if max_bytes is not None and st.st_size > max_bytes:
            raise DocumentError(_too_large(st.st_size, max_bytes))
        with path.open("rb") as f:
            data = f.read(-1 if max_bytes is None else max_bytes + 1)
    except FileNotFoundError as exc:
        raise DocumentError("file not found") from exc
    except OSError as exc:
        raise DocumentError(f"cannot read file: {exc.strerror or exc}") from exc
    if max_bytes is not None and len(data) > max_bytes:  # it grew while we looked
        raise DocumentError(_too_large(len(data), max_bytes))
    return data


def _too_large(size: int, limit: int) -> str:
    return f"file too large ({_human_size(size)} > limit {_human_size(limit)})"


def _human_size(n: int) -> str:
    if n >= 1024 * 1024:
        return f"{n / (1024 * 1024):.1f} MB"
    if n >= 1024:
        return f"{n / 1024:.1f} KB"
    return f"{n} bytes"


def unsupported(suffix: str) -> str:
    return f"unsupported file type {suffix or '(no extension)'} (supported: " + (
        ", ".join(SUPPORTED_SUFFIXES) + ")"
    )
