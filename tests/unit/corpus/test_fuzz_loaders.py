"""Hostile and random input for the loaders, and properties of the sentence splitter.

A loader may only ever return a Document or raise DocumentError with a known reason; the
catch-all "could not read file" reason means a parser failed in a way we did not map.
"""

from __future__ import annotations

import hashlib
import io
import os
import unicodedata
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from pypdf import PdfReader, PdfWriter

from askfront.core.errors import DocumentError
from askfront.core.text import normalize_text, split_sentences
from askfront.core.types import Document
from askfront.corpus.files import SUPPORTED_SUFFIXES
from askfront.corpus.loader import load_document
from paths import DATA

DOCS = DATA / "docs"
SAMPLE_PDF = (DOCS / "sample.pdf").read_bytes()

FUZZ = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)

KNOWN_REASONS = (
    "empty file",
    "no text",
    "not text: looks binary",
    "not valid UTF-8 text",
    "not valid UTF-16 text",
    "corrupt PDF",
    "encrypted PDF",
    "PDF has no extractable text",
    "too deeply nested",
)


def load_outcome(path: Path, root: Path) -> Document | DocumentError:
    """Load and check the invariants that hold for any outcome."""
    try:
        doc = load_document(path, root)
    except DocumentError as exc:
        assert str(exc).startswith(KNOWN_REASONS), str(exc)
        return exc
    assert doc.path == path.relative_to(root).as_posix()
    assert doc.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert doc.text.strip()
    assert "\r" not in doc.text and "\u00a0" not in doc.text
    assert normalize_text(doc.text) == doc.text
    previous_end = 0
    for n, span in enumerate(doc.pages, start=1):
        assert span.page == n
        assert previous_end <= span.start <= span.end <= len(doc.text)
        previous_end = span.end
    return doc


def expected_text(raw: str) -> str:
    """What a .txt holding `raw` (written as UTF-8) must load as."""
    raw = raw.removeprefix("\ufeff")  # a leading U+FEFF is read as a byte order mark
    return normalize_text(raw.replace("\r\n", "\n").replace("\r", "\n"))


# -- random bytes ---------------------------------------------------------------------------

PREFIXES = [b"", b"%PDF-1.7\n", b"---\n", b"<html><body>", b"\xef\xbb\xbf", b"\xff\xfe", b"# "]


@FUZZ
@given(
    prefix=st.sampled_from(PREFIXES),
    body=st.binary(max_size=3000),
    suffix=st.sampled_from(SUPPORTED_SUFFIXES),
)
@example(prefix=b"", body=b"", suffix=".pdf")
@example(prefix=b"\xff\xfe", body=b"\x00\xd8", suffix=".txt")  # lone UTF-16 surrogate
@example(prefix=b"---\n", body=b"a: [\n---\nbody", suffix=".md")
def test_random_bytes_never_escape(tmp_path: Path, prefix: bytes, body: bytes, suffix: str) -> None:
    path = tmp_path / f"random{suffix}"
    path.write_bytes(prefix + body)
    load_outcome(path, tmp_path)


@FUZZ
@given(
    edits=st.lists(st.tuples(st.integers(0, len(SAMPLE_PDF) - 1), st.integers(0, 255)), max_size=6),
    keep=st.integers(1, len(SAMPLE_PDF)),
)
def test_damaged_pdf_never_escapes(tmp_path: Path, edits: list[tuple[int, int]], keep: int) -> None:
    data = bytearray(SAMPLE_PDF)
    for pos, value in edits:
        data[pos] = value
    path = tmp_path / "damaged.pdf"
    path.write_bytes(bytes(data[:keep]))
    load_outcome(path, tmp_path)


# -- random text ----------------------------------------------------------------------------

TRICKY = [
    "\n", "\r\n", "\r", "\t", " ", "\u00a0", "\u202f", "\u2007",  # newlines and spaces
    "\u200b", "\u200c", "\u200d", "\u200e", "\u200f", "\u202e", "\u202c", "\ufeff",  # invisible
    "\u0301", "\u0308", "\u0327", "e", "A", "\u1100", "\u1161",  # combining, Hangul jamo
]  # fmt: skip
TEXT = st.lists(
    st.one_of(
        st.sampled_from(TRICKY),
        # Control characters other than tab/newlines are out: they mark a file as binary.
        st.characters(blacklist_categories=("Cs", "Cc")),
    ),
    max_size=400,
).map("".join)


@FUZZ
@given(raw=TEXT, suffix=st.sampled_from([".txt", ".md"]))
@example(raw="e\u0301\u202e\u200b", suffix=".txt")
@example(raw="\ufeff\ufeffx", suffix=".txt")
@example(raw="\u200b\u200e \n", suffix=".md")
def test_text_is_loaded_verbatim_up_to_normalization(tmp_path: Path, raw: str, suffix: str) -> None:
    if suffix == ".md" and raw.lstrip().startswith("---"):
        raw = "x" + raw  # front matter is tested elsewhere
    path = tmp_path / f"t{suffix}"
    path.write_bytes(raw.encode("utf-8"))
    outcome = load_outcome(path, tmp_path)
    want = expected_text(raw)
    # Only whitespace and invisible format characters (category Cf) count as "no text".
    visible = any(not c.isspace() and unicodedata.category(c) != "Cf" for c in want)
    if isinstance(outcome, DocumentError):
        assert str(outcome) in ("empty file", "no text")
        assert not visible
    else:
        assert visible
        assert outcome.text == want


@pytest.mark.parametrize("suffix", SUPPORTED_SUFFIXES)
def test_empty_file(tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"empty{suffix}"
    path.write_bytes(b"")
    with pytest.raises(DocumentError, match=r"^empty file$"):
        load_document(path, tmp_path)


@pytest.mark.parametrize(
    ("raw", "result"),
    [
        (b"caf\xe9 au lait", "café au lait"),  # latin-1/cp1252 text
        ("café".encode()[:-1], "cafÃ"),  # a cut-off UTF-8 sequence falls back to cp1252
        (b"\x81\x8d\x8f\x90\x9d junk \xc3\x28", "not valid UTF-8 text (tried utf-8, cp1252)"),
        (b"\xef\xbb\xbfBOM then invalid \xff", "not valid UTF-8 text (byte 20)"),
        (b"\xff\xfeA\x00\x00\xd8", "not valid UTF-16 text (byte 4)"),
    ],
)
def test_invalid_utf8(tmp_path: Path, raw: bytes, result: str) -> None:
    path = tmp_path / "enc.txt"
    path.write_bytes(raw)
    try:
        got = load_document(path, tmp_path).text
    except DocumentError as exc:
        got = str(exc)
    assert got == result


# -- sizes and shapes -----------------------------------------------------------------------


@pytest.mark.slow
def test_fifty_megabyte_text_file(tmp_path: Path) -> None:
    path = tmp_path / "huge.txt"
    line = "The quick brown fox jumps over the lazy dog near the river bank.\n"
    size = 50 * 1024 * 1024
    with path.open("w", encoding="utf-8") as f:
        f.write(line * (size // len(line)))
    assert os.path.getsize(path) > 49 * 1024 * 1024

    with pytest.raises(DocumentError, match=r"^file too large \(50\.0 MB > limit 20\.0 MB\)$"):
        load_document(path, tmp_path, max_bytes=20 * 1024 * 1024)
    doc = load_document(path, tmp_path, max_bytes=64 * 1024 * 1024)
    assert len(doc.text) == os.path.getsize(path)
    assert doc.text.startswith(line) and doc.text.endswith(line)


@pytest.mark.parametrize(
    "html",
    [
        "<div>" * 10_000 + "<p>Deep text survives.</p>" + "</div>" * 10_000,
        "<b>" * 50_000 + "Deep text survives.",  # never closed
        "<table><tr><td>" * 3_000 + "Deep text survives.",
    ],
    ids=["nested-divs", "unclosed-bold", "nested-tables"],
)
def test_deeply_nested_html(tmp_path: Path, html: str) -> None:
    path = tmp_path / "deep.html"
    path.write_text(f"<html><head><title>Deep</title></head><body>{html}</body></html>")
    doc = load_outcome(path, tmp_path)
    assert isinstance(doc, Document)
    assert "Deep text survives." in doc.text
    assert doc.title == "Deep"


@pytest.mark.parametrize("fraction", [0.02, 0.25, 0.5, 0.75, 0.9, 0.99])
def test_truncated_pdf(tmp_path: Path, fraction: float) -> None:
    path = tmp_path / "truncated.pdf"
    path.write_bytes(SAMPLE_PDF[: int(len(SAMPLE_PDF) * fraction)])
    with pytest.raises(DocumentError, match=r"^corrupt PDF: "):
        load_document(path, tmp_path)


@pytest.mark.parametrize("algorithm", ["RC4-40", "RC4-128"])
def test_encrypted_pdf(tmp_path: Path, algorithm: str) -> None:
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(SAMPLE_PDF)))
    writer.encrypt(user_password="hunter2", algorithm=algorithm)
    path = tmp_path / "locked.pdf"
    writer.write(path)
    with pytest.raises(DocumentError, match=r"^encrypted PDF: it needs a password"):
        load_document(path, tmp_path)


def test_ten_thousand_line_paragraph(tmp_path: Path) -> None:
    text = "\n".join(f"line {i} of one long paragraph, with no full stop" for i in range(10_000))
    path = tmp_path / "paragraph.md"
    path.write_text(text)
    doc = load_document(path, tmp_path)
    assert doc.text == text
    spans = split_sentences(doc.text)
    assert spans and spans[0][0] == 0 and spans[-1][1] == len(text)
    assert_sentence_spans(doc.text, spans, 0, len(text))


# -- the sentence splitter --------------------------------------------------------------


def assert_sentence_spans(text: str, spans: list[tuple[int, int]], lo: int, hi: int) -> None:
    previous = lo
    for a, b in spans:
        assert previous <= a < b <= hi, (a, b)
        assert not text[a].isspace() and not text[b - 1].isspace()
        previous = b
    # Every non-blank character of the range belongs to some sentence.
    covered = sum(b - a for a, b in spans)
    starts = [lo] + [b for _, b in spans]
    ends = [a for a, _ in spans] + [hi]
    gaps = [text[x:y] for x, y in zip(starts, ends, strict=True)]
    assert all(not g.strip() for g in gaps)
    assert covered + sum(len(g) for g in gaps) == hi - lo


PIECES = [*"..!?…\"'”’)]([“‘ \n\t\r\u00a0\u200bAaZz1", "U.S. ", "Dr. ", "e.g.", "\n\n"]
SENTENCE_TEXT = st.lists(
    st.one_of(st.sampled_from(PIECES), st.characters(codec="utf-8")), max_size=200
).map("".join)


@settings(max_examples=300, deadline=None)
@given(text=SENTENCE_TEXT, data=st.data())
@example(text="Dr. Smith went home. He slept!  Then? …\n\nNew para", data=None)
def test_split_sentences_properties(text: str, data: st.DataObject | None) -> None:
    assert_sentence_spans(text, split_sentences(text), 0, len(text))
    if data is not None:
        lo = data.draw(st.integers(0, len(text)), label="start")
        hi = data.draw(st.integers(lo, len(text)), label="end")
        assert_sentence_spans(text, split_sentences(text, lo, hi), lo, hi)
