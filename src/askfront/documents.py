"""Load corpus files (.txt, .md, .html, .pdf) into normalized `Document`s.

Every failure is a `DocumentError` whose message is a short reason a user can act on
("encrypted PDF: ...", "not text: looks binary", ...); callers prefix it with the file name.

Text policy: the loaded text is kept verbatim except for three normalizations, so that
offsets stay meaningful: newlines (\\r\\n, \\r -> \\n), Unicode NFC, and non-breaking spaces
to plain spaces (`askfront.textutil.normalize_text`). Zero-width and bidi control characters
are kept as they are.
"""

from __future__ import annotations

import codecs
import hashlib
import io
import logging
import os
import re
import stat
import threading
import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from askfront.errors import ConfigError, DocumentError
from askfront.textutil import normalize_text
from askfront.types import Document, PageSpan

logger = logging.getLogger(__name__)

SUPPORTED_SUFFIXES = (".txt", ".md", ".markdown", ".html", ".htm", ".pdf")

# C0 control bytes other than tab, newline, vertical tab, form feed, carriage return, escape.
_CONTROL_BYTES = bytes([*range(0x00, 0x09), 0x0E, 0x0F, *range(0x10, 0x1B), *range(0x1C, 0x20)])
_CONTROL_BYTES += b"\x7f"
_MAX_CONTROL_RATIO = 0.05  # more control bytes than this and it is not a text file
_PAGE_SEPARATOR = "\n\n"
_MAX_TITLE_CHARS = 300
_METADATA_BUDGET = 10_000  # values copied per front-matter key (YAML aliases can nest deeply)


@dataclass
class _Parsed:
    """What a format loader found; `text` is already normalized."""

    text: str
    title: str | None = None
    date: str | None = None
    author: str | None = None
    url: str | None = None
    pages: tuple[PageSpan, ...] = ()
    metadata: dict[str, Any] = field(default_factory=dict)


# -- public API -----------------------------------------------------------------------------


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
    rel = _relative_posix(path, root)
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise DocumentError(_unsupported(suffix))
    if _leaves_folder(path, root):
        raise DocumentError("symlink to a file outside the corpus folder: not read")
    data = _read_bytes(path, max_bytes)
    if not data:
        raise DocumentError("empty file")
    try:
        parsed = _LOADERS[suffix](data, path)
    except DocumentError:
        raise
    except RecursionError as exc:
        raise DocumentError("too deeply nested to read") from exc
    except Exception as exc:  # a safety net: one odd file must never crash an index build
        logger.warning("Unexpected error loading %s", rel, exc_info=True)
        raise DocumentError(f"could not read file ({type(exc).__name__}: {exc})") from exc
    if not _has_visible_text(parsed.text):
        raise DocumentError("no text")
    return Document(
        path=rel,
        text=parsed.text,
        sha256=hashlib.sha256(data).hexdigest(),
        title=parsed.title or _title_from_stem(path),
        date=parsed.date,
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
    if path.is_symlink() and _leaves_folder(path, real_root):
        return "symlink to a file outside the corpus folder: not read"
    return None


def _leaves_folder(path: Path, root: Path) -> bool:
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
        raise DocumentError(_unsupported(suffix))
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


# -- reading and decoding ---------------------------------------------------------------


def _relative_posix(path: Path, root: Path) -> str:
    for p, r in (
        (Path(os.path.normpath(path.absolute())), Path(os.path.normpath(root.absolute()))),
        (path.resolve(), root.resolve()),
    ):
        try:
            return p.relative_to(r).as_posix()
        except ValueError:
            continue
    raise DocumentError(f"not inside the corpus folder {root}")


def _read_bytes(path: Path, max_bytes: int | None) -> bytes:
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


def _unsupported(suffix: str) -> str:
    return f"unsupported file type {suffix or '(no extension)'} (supported: " + (
        ", ".join(SUPPORTED_SUFFIXES) + ")"
    )


def _decode(data: bytes, declared: str | None = None) -> str:
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


def _clean(text: str) -> str:
    """Newlines to \\n, then NFC and plain spaces: the only changes made to document text."""
    return normalize_text(text.replace("\r\n", "\n").replace("\r", "\n"))


def _has_visible_text(text: str) -> bool:
    # Whitespace and format characters (zero-width, bidi marks, BOM) alone are "no text".
    return any(not c.isspace() and unicodedata.category(c) != "Cf" for c in text)


def _tidy(value: object) -> str | None:
    """A one-line metadata string (title, author), or None when empty."""
    if value is None:
        return None
    if isinstance(value, list | tuple):
        value = ", ".join(str(v) for v in value if v is not None)
    text = " ".join(normalize_text(str(value)).split())
    return text[:_MAX_TITLE_CHARS] or None


def _title_from_stem(path: Path) -> str:
    """ "ukraine-foreign_fighters" -> "Ukraine foreign fighters"."""
    words = re.sub(r"[-_.\s]+", " ", path.stem).strip()
    return (words[:1].upper() + words[1:]) if words else path.name


# -- formats ------------------------------------------------------------------------------


def _load_txt(data: bytes, path: Path) -> _Parsed:
    return _Parsed(text=_clean(_decode(data)))


_H1 = re.compile(r"\A\s*#[ \t]+(.+?)[ \t#]*$", re.MULTILINE)


def _load_markdown(data: bytes, path: Path) -> _Parsed:
    import frontmatter

    text = _decode(data).replace("\r\n", "\n").replace("\r", "\n")
    meta: dict[str, Any] = {}
    error: str | None = None
    # YAML only: a JSON handler would take a markdown file whose first line is "{".
    handler = frontmatter.YAMLHandler()
    if handler.detect(text.lstrip()):
        try:
            fm, body = handler.split(text.lstrip())
        except ValueError:  # an opening fence without a closing one: plain markdown
            fm, body = None, text
        if fm is not None:
            try:
                loaded = handler.load(fm)
            except Exception as exc:  # YAMLError, or ValueError from a constructor
                error = _short(exc)
                logger.warning("%s: invalid front matter, loading the body only: %s", path, error)
                text = body
            else:
                if isinstance(loaded, dict):
                    meta, text = loaded, body
                # else: "---" was a horizontal rule, not front matter; keep all the text
        text = text.lstrip("\n")

    parsed = _Parsed(text=_clean(text))
    lowered = {str(k).lower(): k for k in meta}
    core: dict[str, Any] = {}
    for name, keys in (
        ("title", ("title",)),
        ("date", ("date",)),
        ("author", ("author", "authors")),
        ("url", ("url",)),
    ):
        for key in keys:
            if key in lowered:
                core[name] = meta.pop(lowered[key])
                break
    parsed.title = _tidy(core.get("title"))
    parsed.author = _tidy(core.get("author"))
    parsed.url = _tidy(core.get("url"))
    parsed.date = parse_date(core.get("date"))
    if core.get("date") is not None and parsed.date is None:
        meta["date_raw"] = str(core["date"])[:100]
    parsed.metadata = _plain_metadata(meta, path)
    if error:
        parsed.metadata["front_matter_error"] = error
    if parsed.title is None:
        m = _H1.match(parsed.text[:2000])
        if m:
            parsed.title = _tidy(m.group(1))
    return parsed


class _TooBig(Exception):
    pass


def _plain_metadata(meta: dict[Any, Any], path: Path) -> dict[str, Any]:
    """JSON-safe copy of front matter; values too big or nested to copy are dropped."""
    out: dict[str, Any] = {}
    for key, value in meta.items():
        try:
            out[str(key)] = _plain(value, [_METADATA_BUDGET], 0)
        except _TooBig:
            logger.warning("%s: front matter key %r is too large; skipped", path, key)
    return out


def _plain(value: Any, budget: list[int], depth: int) -> Any:
    budget[0] -= 1
    if budget[0] < 0 or depth > 20:
        raise _TooBig
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, date):  # datetime too
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): _plain(v, budget, depth + 1) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [_plain(v, budget, depth + 1) for v in value]
    return str(value)[:1000]


def _load_html(data: bytes, path: Path) -> _Parsed:
    from bs4.dammit import EncodingDetector

    declared = EncodingDetector.find_declared_encoding(data[:4096], is_html=True)
    html = _decode(data, declared)
    text = _html_main_text(html, path) or _html_all_text(html)
    parsed = _Parsed(text=_clean(text))
    _html_meta(html, parsed)
    return parsed


def _html_main_text(html: str, path: Path) -> str:
    import trafilatura

    try:
        return trafilatura.extract(html, include_comments=False, include_tables=True) or ""
    except RecursionError:
        logger.info("%s: too deeply nested for trafilatura; using all visible text", path)
    except Exception:  # lxml/trafilatura raise assorted errors on malformed markup
        logger.info("%s: trafilatura failed; using all visible text", path, exc_info=True)
    return ""


def _html_all_text(html: str) -> str:
    """Visible text of the whole page, one line per block (the fallback extractor)."""
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(html, "lxml")
    for tag in soup(["script", "style", "noscript", "template", "head"]):
        tag.decompose()
    lines = (line.strip() for line in soup.get_text("\n").splitlines())
    return "\n".join(line for line in lines if line)


def _html_meta(html: str, parsed: _Parsed) -> None:
    from bs4 import BeautifulSoup, SoupStrainer, Tag

    head = BeautifulSoup(html, "lxml", parse_only=SoupStrainer(["title", "meta", "link"]))
    meta: dict[str, str] = {}
    for tag in head.find_all("meta"):
        if not isinstance(tag, Tag):
            continue
        key = tag.get("property") or tag.get("name") or tag.get("itemprop")
        content = tag.get("content")
        if isinstance(key, str) and isinstance(content, str) and content.strip():
            meta.setdefault(key.strip().lower(), content.strip())
    canonical = None
    for link in head.find_all("link"):
        rel = link.get("rel") if isinstance(link, Tag) else None
        rels = rel if isinstance(rel, list) else [rel]
        href = link.get("href") if isinstance(link, Tag) else None
        if "canonical" in rels and isinstance(href, str) and href.strip():
            canonical = href.strip()
            break
    title_tag = head.find("title")

    def first(*keys: str) -> str | None:
        return next((meta[k] for k in keys if k in meta), None)

    parsed.title = _tidy(
        first("og:title", "twitter:title")
        or (title_tag.get_text() if title_tag is not None else None)
    )
    parsed.author = _tidy(first("author", "article:author", "dc.creator", "dcterms.creator"))
    parsed.url = _tidy(first("og:url") or canonical)
    for key in (
        "article:published_time",
        "og:published_time",
        "date",
        "pubdate",
        "publishdate",
        "datepublished",
        "dc.date",
        "dcterms.date",
        "dcterms.created",
    ):
        parsed.date = parse_date(meta.get(key))
        if parsed.date:
            break


def _load_pdf(data: bytes, path: Path) -> _Parsed:
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
        raise DocumentError(f"corrupt PDF: {_short(exc)}") from exc

    texts: list[str] = []
    for i in range(n_pages):
        try:
            page_text = reader.pages[i].extract_text() or ""
        except Exception as exc:  # one damaged page should not lose the others
            logger.warning("%s: page %d unreadable (%s); skipped", path, i + 1, _short(exc))
            page_text = ""
        texts.append(_clean(page_text).strip())

    pages: list[PageSpan] = []
    offset = 0
    for i, page_text in enumerate(texts):
        if i:
            offset += len(_PAGE_SEPARATOR)
        pages.append(PageSpan(page=i + 1, start=offset, end=offset + len(page_text)))
        offset += len(page_text)
    text = _PAGE_SEPARATOR.join(texts)
    if not _has_visible_text(text):
        raise DocumentError("PDF has no extractable text (scanned?)")

    parsed = _Parsed(text=text, pages=tuple(pages))
    try:
        info = reader.metadata
        if info is not None:
            parsed.title = _tidy(info.title)
            parsed.author = _tidy(info.author)
            parsed.date = parse_date(info.creation_date)
    except Exception as exc:  # a damaged info dictionary only costs us the metadata
        logger.info("%s: unreadable PDF metadata (%s)", path, _short(exc))
    return parsed


def _short(exc: BaseException) -> str:
    return " ".join(str(exc).split())[:150] or type(exc).__name__


_LOADERS = {
    ".txt": _load_txt,
    ".md": _load_markdown,
    ".markdown": _load_markdown,
    ".html": _load_html,
    ".htm": _load_html,
    ".pdf": _load_pdf,
}
