"""Read one corpus file (.txt, .md, .html, .pdf) into a normalized `Document`.

Every failure is a `DocumentError` whose message is a short reason a user can act on
("encrypted PDF: ...", "not text: looks binary", ...); callers prefix it with the file name.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections.abc import Callable
from pathlib import Path

from askfront.core.errors import DocumentError
from askfront.core.types import Document
from askfront.corpus.base import Parsed, has_visible_text, title_from_stem
from askfront.corpus.dateline import dateline
from askfront.corpus.files import (
    SUPPORTED_SUFFIXES,
    leaves_folder,
    read_bytes,
    relative_posix,
    unsupported,
)
from askfront.corpus.html import load_html
from askfront.corpus.pdf import load_pdf
from askfront.corpus.text import load_markdown, load_txt

logger = logging.getLogger(__name__)

_READERS: dict[str, Callable[[bytes, Path], Parsed]] = {
    ".txt": load_txt,
    ".md": load_markdown,
    ".markdown": load_markdown,
    ".html": load_html,
    ".htm": load_html,
    ".pdf": load_pdf,
}


def load_document(path: Path, root: Path, *, max_bytes: int | None = None) -> Document:
    """Read `path` (a file under the corpus folder `root`) as a normalized Document.

    - .txt: the text as is; title from the file name.
    - .md/.markdown: YAML front matter gives title, date, author and url; every other key
      goes to `metadata`. Without a front-matter title, a leading `# Heading` is the title.
      Front matter that fails to parse does not fail the file: the fenced block is dropped,
      the body is loaded, a warning is logged and `metadata["front_matter_error"]` says why
      (a typo in metadata should not hide an article from the index).
    - .html/.htm: main text by trafilatura (falling back to all visible text when it finds
      nothing); title/date/author/url from meta tags.
    - .pdf: the text of each page, joined by a blank line; `pages` maps offsets to pages.

    Raises:
        DocumentError: with a short reason (unsupported type, too large, empty, binary,
            undecodable, corrupt or encrypted PDF, no text).
    """
    path, root = Path(path), Path(root)
    rel = relative_posix(path, root)
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise DocumentError(unsupported(suffix))
    if leaves_folder(path, root):
        raise DocumentError("symlink to a file outside the corpus folder: not read")
    data = read_bytes(path, max_bytes)
    if not data:
        raise DocumentError("empty file")
    try:
        parsed = _READERS[suffix](data, path)
    except DocumentError:
        raise
    except RecursionError as exc:
        raise DocumentError("too deeply nested to read") from exc
    except Exception as exc:  # a safety net: one odd file must never crash an index build
        logger.warning("Unexpected error loading %s", rel, exc_info=True)
        raise DocumentError(f"could not read file ({type(exc).__name__}: {exc})") from exc
    if not has_visible_text(parsed.text):
        raise DocumentError("no text")
    return Document(
        path=rel,
        text=parsed.text,
        sha256=hashlib.sha256(data).hexdigest(),
        title=parsed.title or title_from_stem(path),
        date=parsed.date or dateline(parsed.text),
        author=parsed.author,
        url=parsed.url,
        pages=parsed.pages,
        metadata=parsed.metadata,
    )


def load_document_with_timeout(
    path: Path, root: Path, timeout_s: float, max_bytes: int | None = None
) -> Document:
    """`load_document`, giving up with DocumentError("timed out after Ns") after `timeout_s`.

    The load runs in a daemon thread. A thread cannot be killed, so a load that times out
    keeps running in the background until it ends (it cannot block interpreter exit).
    A process per file could be killed, but forking a process that holds torch and Chroma
    for every file is slow and fragile; the parsers here are bounded by file size, so a
    timeout is a rare pathological case and the thread is the pragmatic choice.
    """
    outcome: list[Document | BaseException] = []

    def work() -> None:
        try:
            outcome.append(load_document(path, root, max_bytes=max_bytes))
        except BaseException as exc:  # handed to the caller's thread below
            outcome.append(exc)

    worker = threading.Thread(target=work, name=f"askfront-load:{Path(path).name}", daemon=True)
    worker.start()
    worker.join(timeout_s)
    if worker.is_alive() or not outcome:
        logger.warning(
            "Loading %s timed out after %gs; it runs on in the background", path, timeout_s
        )
        raise DocumentError(f"timed out after {timeout_s:g}s")
    result = outcome[0]
    if isinstance(result, BaseException):
        raise result
    return result
