"""PDF: the text of each page, joined by a blank line; `pages` maps offsets to pages."""

from __future__ import annotations

import io
import logging
import re
from pathlib import Path

from askfront.core.errors import DocumentError
from askfront.core.types import PageSpan
from askfront.corpus.base import Parsed, clean, has_visible_text, parse_date, short_reason, tidy

logger = logging.getLogger(__name__)

_PAGE_SEPARATOR = "\n\n"
# Titles that name the tool or the blank page a PDF was printed from, not the article:
# a browser's "about:blank" or URL, "Untitled", "Microsoft Word - draft.docx", a file name.
_JUNK_TITLE = re.compile(
    r"(?i)^(about:blank|untitled( document)?|document\d*|microsoft (word|powerpoint|excel) - .*"
    r"|https?://\S*|[^ ]+\.(pdf|docx?|odt|rtf|html?|txt))$"
)
_HEADING_CHARS = 150  # a first line longer than this is a paragraph, not a heading


def _title(meta_title: str | None, text: str) -> str | None:
    """The PDF's own title, unless it is junk; then the first line, if it reads as a
    heading; else None (the file name is used, as without a title)."""
    if not meta_title or not _JUNK_TITLE.match(meta_title.strip()):
        return meta_title
    for line in text.splitlines():
        line = " ".join(line.split())
        if line:
            return line if len(line) <= _HEADING_CHARS and not _JUNK_TITLE.match(line) else None
    return None


def load_pdf(data: bytes, path: Path) -> Parsed:
    from pypdf import PdfReader
    from pypdf.errors import DependencyError

    # pypdf raises all sorts of exceptions (KeyError, ValueError, zlib errors, ...) on
    # damaged files, so anything it throws while parsing counts as "corrupt".
    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            try:
                if not reader.decrypt(""):
                    raise DocumentError(
                        "encrypted PDF: it needs a password; add an unprotected copy instead"
                    )
            except DependencyError as exc:
                raise DocumentError(
                    "encrypted PDF (AES): install the 'cryptography' package to read it"
                ) from exc
        n_pages = len(reader.pages)
    except DocumentError:
        raise
    except RecursionError as exc:
        raise DocumentError("corrupt PDF: structure nested too deeply") from exc
    except Exception as exc:
        raise DocumentError(f"corrupt PDF: {short_reason(exc)}") from exc

    texts: list[str] = []
    for i in range(n_pages):
        try:
            page_text = reader.pages[i].extract_text() or ""
        except Exception as exc:  # one damaged page should not lose the others
            logger.warning("%s: page %d unreadable (%s); skipped", path, i + 1, short_reason(exc))
            page_text = ""
        texts.append(clean(page_text).strip())

    pages: list[PageSpan] = []
    offset = 0
    for i, page_text in enumerate(texts):
        if i:
            offset += len(_PAGE_SEPARATOR)
        pages.append(PageSpan(page=i + 1, start=offset, end=offset + len(page_text)))
        offset += len(page_text)
    text = _PAGE_SEPARATOR.join(texts)
    if not has_visible_text(text):
        raise DocumentError("PDF has no extractable text (scanned?)")

    parsed = Parsed(text=text, pages=tuple(pages))
    try:
        info = reader.metadata
        if info is not None:
            parsed.title = _title(tidy(info.title), text)
            parsed.author = tidy(info.author)
            parsed.date = parse_date(info.creation_date)
    except Exception as exc:  # a damaged info dictionary only costs us the metadata
        logger.info("%s: unreadable PDF metadata (%s)", path, short_reason(exc))
    return parsed
