"""What every format reader shares: the parsed result, and decoding and tidying the text.

Text policy: the loaded text is kept verbatim except for three normalizations, so that
offsets stay meaningful: newlines (\\r\\n, \\r -> \\n), Unicode NFC, and non-breaking spaces
to plain spaces (`askfront.core.text.normalize_text`). Zero-width and bidi control characters
are kept as they are.
"""

from __future__ import annotations

import codecs
import logging
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from askfront.core.errors import DocumentError
from askfront.core.text import normalize_text
from askfront.core.types import PageSpan

logger = logging.getLogger(__name__)

# C0 control bytes other than tab, newline, vertical tab, form feed, carriage return, escape.
_CONTROL_BYTES = bytes([*range(0x00, 0x09), 0x0E, 0x0F, *range(0x10, 0x1B), *range(0x1C, 0x20)])
_CONTROL_BYTES += b"\x7f"
_MAX_CONTROL_RATIO = 0.05  # more control bytes than this and it is not a text file
_MAX_TITLE_CHARS = 300


@dataclass
class Parsed:
    """What a format loader found; `text` is already normalized."""

    text: str
    title: str | None = None
    date: str | None = None
    author: str | None = None
    url: str | None = None
    pages: tuple[PageSpan, ...] = ()
    metadata: dict[str, Any] = field(default_factory=dict)


def decode(data: bytes, declared: str | None = None) -> str:
    """Bytes to str: a BOM wins; else UTF-8, the declared charset, then cp1252.

    The legacy fallbacks are tried only when the bytes look like text (no NUL bytes, few
    control bytes): a binary file never gets decoded into mojibake.
    """
    if data.startswith(codecs.BOM_UTF8):
        skip = len(codecs.BOM_UTF8)
        return _decode_as(data[skip:], "utf-8", "not valid UTF-8 text", skip)
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return _decode_as(data, "utf-16", "not valid UTF-16 text")
    if b"\x00" in data:
        raise DocumentError("not text: looks binary (contains NUL bytes)")
    controls = len(data) - len(data.translate(None, _CONTROL_BYTES))
    if controls > _MAX_CONTROL_RATIO * len(data):
        raise DocumentError("not text: looks binary (many control bytes)")
    tried = ["utf-8"]
    if declared:
        try:
            codecs.lookup(declared)
            tried.append(declared)
        except LookupError:
            logger.debug("Unknown declared charset %r", declared)
    if "cp1252" not in tried:
        tried.append("cp1252")
    for encoding in tried:
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        if encoding != "utf-8":
            logger.info("Not UTF-8; decoded as %s", encoding)
        return text
    raise DocumentError(f"not valid UTF-8 text (tried {', '.join(tried)})")


def _decode_as(data: bytes, encoding: str, reason: str, skipped: int = 0) -> str:
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as exc:  # the offset a hex editor would show
        raise DocumentError(f"{reason} (byte {exc.start + skipped})") from exc


def clean(text: str) -> str:
    """Newlines to \\n, then NFC and plain spaces: the only changes made to document text."""
    return normalize_text(text.replace("\r\n", "\n").replace("\r", "\n"))


def has_visible_text(text: str) -> bool:
    # Whitespace and format characters (zero-width, bidi marks, BOM) alone are "no text".
    return any(not c.isspace() and unicodedata.category(c) != "Cf" for c in text)


def tidy(value: object) -> str | None:
    """A one-line metadata string (title, author), or None when empty."""
    if value is None:
        return None
    if isinstance(value, list | tuple):
        value = ", ".join(str(v) for v in value if v is not None)
    text = " ".join(normalize_text(str(value)).split())
    return text[:_MAX_TITLE_CHARS] or None


def title_from_stem(path: Path) -> str:
    """ "ukraine-foreign_fighters" -> "Ukraine foreign fighters"."""
    words = re.sub(r"[-_.\s]+", " ", path.stem).strip()
    return (words[:1].upper() + words[1:]) if words else path.name


def parse_date(value: object) -> str | None:
    """An ISO YYYY-MM-DD date from a date/datetime or a string like "Feb 28, 2024"; else None."""
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bool) or not isinstance(value, str | int):
        return None
    text = str(value).strip()
    if not text or len(text) > 100:  # dateutil is slow on long junk
        return None
    m = re.match(r"^(\d{4})-(\d{2})-(\d{2})(?!\d)", text)
    if m:
        try:
            return date(int(m[1]), int(m[2]), int(m[3])).isoformat()
        except ValueError:
            return None
    from dateutil import parser as dateparser

    try:
        # A fixed default so that missing parts never come from today's date.
        return dateparser.parse(text, default=datetime(2000, 1, 1)).date().isoformat()
    except (ValueError, OverflowError):
        return None


def short_reason(exc: BaseException) -> str:
    return " ".join(str(exc).split())[:150] or type(exc).__name__
