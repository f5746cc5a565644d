"""Text, Markdown and HTML loaders: metadata, normalization, offsets, decoding, failure reasons.

PDF is in test_pdf_loader.py, corpus listing and upload names in test_corpus_files.py.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from datetime import date, datetime
from pathlib import Path

import pytest

from askfront.core.errors import DocumentError
from askfront.core.types import Document
from askfront.corpus import loader as documents
from askfront.corpus.base import parse_date
from askfront.corpus.loader import load_document, load_document_with_timeout
from docutil import DOCS, reason, write
from paths import REPO

CORPUS = REPO / "corpus"


# -- the default corpus and the committed fixtures -------------------------------------


def test_default_corpus_file_loads_with_metadata() -> None:
    path = CORPUS / "ukraine-foreign-fighters-washington-post-2024-02-28.md"
    doc = load_document(path, CORPUS)
    assert doc.path == path.name
    assert doc.title is not None and doc.title.startswith("Ukraine Foreign Fighters Mostly From")
    assert doc.date == "2024-02-28"
    assert doc.author == "Jonathan Low"
    assert doc.metadata["publication"] == "The Washington Post"
    assert doc.metadata["reporter"] == "Ishaan Tharoor"
    assert doc.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert "20,000 foreigners from over 50 nationalities" in doc.text
    assert not doc.text.startswith("---")
    assert "title:" not in doc.text


def test_markdown_front_matter() -> None:
    doc = load_document(DOCS / "sample.md", DOCS)
    assert doc.title == "Small Modular Reactors Get a Second Look"
    assert doc.date == "2024-02-28"  # from "Feb 28, 2024"
    assert doc.author == "Ada Lovelace, Grace Hopper"
    assert doc.url == "https://example.org/reactors"
    assert doc.metadata == {"source": "example.org", "tags": ["energy", "nuclear"]}
    assert doc.text.startswith("# Ignored heading\n\nUtilities in three states")
    assert doc.pages == ()


def test_text_file_keeps_text_and_gets_title_from_name() -> None:
    path = DOCS / "harbor-dredging_plan.txt"
    doc = load_document(path, DOCS)
    assert doc.title == "Harbor dredging plan"
    assert doc.text == path.read_bytes().decode("utf-8").replace("\r\n", "\n")
    assert "\r" not in doc.text
    assert doc.date is None and doc.author is None and doc.url is None


def test_html_main_text_and_meta_tags() -> None:
    doc = load_document(DOCS / "sample.html", DOCS)
    assert doc.title == "City Opens Its First Night Library"  # og:title beats <title>
    assert doc.author == "Lin Ortega"
    assert doc.date == "2024-03-05"
    assert doc.url == "https://news.example.org/night-library"  # canonical link
    assert "keeping the reading rooms open until two in the morning" in doc.text
    assert "Shift workers and students" in doc.text
    for boilerplate in ("do not index this", "About us", "All rights reserved"):
        assert boilerplate not in doc.text


def test_html_title_and_url_fallbacks(tmp_path: Path) -> None:
    html = (
        "<html><head><title>  Plain\n Title </title>"
        '<meta property="og:url" content="https://a.example/x">'
        '<meta name="date" content="March 3, 2023"></head>'
        "<body><p>Only a short body paragraph here.</p></body></html>"
    )
    doc = load_document(write(tmp_path, "page.htm", html), tmp_path)
    assert doc.title == "Plain Title"
    assert doc.url == "https://a.example/x"
    assert doc.date == "2023-03-03"
    assert doc.text == "Only a short body paragraph here."


def test_html_declared_charset_is_honoured(tmp_path: Path) -> None:
    html = '<html><head><meta charset="iso-8859-1"></head><body><p>Señor Müller</p></body></html>'
    doc = load_document(write(tmp_path, "latin.html", html.encode("iso-8859-1")), tmp_path)
    assert doc.text == "Señor Müller"


def test_html_falls_back_to_visible_text_when_trafilatura_finds_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import trafilatura

    monkeypatch.setattr(trafilatura, "extract", lambda *a, **k: None)
    doc = load_document(DOCS / "sample.html", DOCS)
    assert "City Opens Its First Night Library" in doc.text
    assert "Shift workers and students were the first visitors" in doc.text
    assert "do not index this" not in doc.text  # scripts are never text
    assert "Fallback Title" not in doc.text  # nor is the <head>


# -- normalization and offsets -----------------------------------------------------------


def test_nfc_nbsp_and_newlines_are_normalized(tmp_path: Path) -> None:
    raw = "Cafe\u0301 au lait\u00a0costs 3\u202f€.\r\nNext line\rlast line\u2007here."
    doc = load_document(write(tmp_path, "n.txt", raw), tmp_path)
    assert doc.text == "Café au lait costs 3 €.\nNext line\nlast line here."
    assert "\u0301" not in doc.text and "\u00a0" not in doc.text


def test_zero_width_and_bidi_characters_are_kept(tmp_path: Path) -> None:
    raw = "Zero\u200bwidth and \u202eRTL override\u202c and \u200ejoiner\u200d text."
    doc = load_document(write(tmp_path, "z.md", raw), tmp_path)
    assert doc.text == raw


def test_offsets_are_stable_across_loads_and_line_endings(tmp_path: Path) -> None:
    body = "Alpha beta.\nGamma\u00a0delta — epsilon.\n\nZeta e\u0301ta."
    crlf = write(tmp_path, "crlf.txt", body.replace("\n", "\r\n"))
    lf = write(tmp_path, "lf.txt", body)
    a, b = load_document(crlf, tmp_path), load_document(lf, tmp_path)
    assert a.text == b.text == load_document(lf, tmp_path).text
    assert a.sha256 != b.sha256  # hashes are of the raw bytes
    start = a.text.index("Zeta")
    assert a.text[start : start + len("Zeta éta.")] == "Zeta éta."


def test_path_is_posix_relative_to_root(tmp_path: Path) -> None:
    path = write(tmp_path, "2024/march/brief.txt", "Text.")
    assert load_document(path, tmp_path).path == "2024/march/brief.txt"
    assert reason(path, tmp_path / "2023").startswith("not inside the corpus folder")


# -- decoding ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (b"\xef\xbb\xbfBOM text \xe2\x80\x94 ok", "BOM text — ok"),
        ("UTF-16 text — ok".encode("utf-16"), "UTF-16 text — ok"),
        ("\u201cSmart quotes\u201d caf\u00e9".encode("cp1252"), "“Smart quotes” café"),
    ],
)
def test_encodings(tmp_path: Path, raw: bytes, expected: str) -> None:
    assert load_document(write(tmp_path, "e.txt", raw), tmp_path).text == expected


def test_undecodable_text_is_reported(tmp_path: Path) -> None:
    # \x81 is undefined in cp1252 and \xff\xfe is no UTF-8 sequence; no NUL, so it's "text".
    path = write(tmp_path, "bad.txt", b"Hello \x81\x8d world \xc3\x28 and more words")
    assert reason(path, tmp_path) == "not valid UTF-8 text (tried utf-8, cp1252)"


@pytest.mark.parametrize(
    "raw", [b"PK\x03\x04\x00\x00binary zip header", bytes(range(1, 32)) * 4 + b"some words"]
)
def test_binary_is_rejected(tmp_path: Path, raw: bytes) -> None:
    assert reason(write(tmp_path, "blob.md", raw), tmp_path).startswith("not text: looks binary")


# -- front matter edge cases ---------------------------------------------------------------


def test_invalid_front_matter_loads_body_and_warns(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    raw = "---\ntitle: [unclosed\nauthor: x\n---\nThe body survives a broken header.\n"
    with caplog.at_level(logging.WARNING, logger="askfront.corpus.loader"):
        doc = load_document(write(tmp_path, "broken-header.md", raw), tmp_path)
    assert doc.text == "The body survives a broken header.\n"
    assert doc.title == "Broken header"
    assert "front_matter_error" in doc.metadata
    assert any("invalid front matter" in r.getMessage() for r in caplog.records)


def test_horizontal_rules_are_not_front_matter(tmp_path: Path) -> None:
    raw = "---\nJust a rule, then text.\n---\nMore text.\n"
    doc = load_document(write(tmp_path, "rules.md", raw), tmp_path)
    assert doc.text == raw
    assert doc.metadata == {}


def test_markdown_heading_is_title_without_front_matter(tmp_path: Path) -> None:
    path = write(tmp_path, "x.markdown", "\n# Budget Vote Delayed #\n\nText.")
    assert load_document(path, tmp_path).title == "Budget Vote Delayed"


def test_front_matter_values_are_made_json_safe(tmp_path: Path) -> None:
    raw = (
        "---\nTitle: Upper-case keys work\ndate: 2024-01-05T10:00:00Z\nupdated: 2024-02-01\n"
        "nested: {a: [1, 2, {b: 2020-01-01}]}\n---\nBody.\n"
    )
    doc = load_document(write(tmp_path, "j.md", raw), tmp_path)
    assert doc.title == "Upper-case keys work"
    assert doc.date == "2024-01-05"
    assert doc.metadata == {"updated": "2024-02-01", "nested": {"a": [1, 2, {"b": "2020-01-01"}]}}


def test_yaml_alias_bomb_is_bounded(tmp_path: Path) -> None:
    # "Billion laughs": aliases share objects in YAML but would explode when copied.
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, 9)]
    raw = "---\ntitle: Bomb\n" + "\n".join(lines) + "\nafter: kept\n---\nBody text.\n"
    doc = load_document(write(tmp_path, "bomb.md", raw), tmp_path)
    assert doc.title == "Bomb"
    assert doc.metadata["after"] == "kept"
    assert doc.text == "Body text.\n"
    assert "a8" not in doc.metadata  # too large to copy: dropped
    assert doc.metadata["a0"] == ["x"] * 10
    assert doc.metadata["a2"] == [[["x"] * 10] * 10] * 10


def test_unparseable_date_is_kept_raw(tmp_path: Path) -> None:
    doc = load_document(write(tmp_path, "d.md", "---\ndate: sometime soon\n---\nBody."), tmp_path)
    assert doc.date is None
    assert doc.metadata["date_raw"] == "sometime soon"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (date(2024, 2, 28), "2024-02-28"),
        (datetime(2024, 2, 28, 23, 59), "2024-02-28"),
        ("Feb 28, 2024", "2024-02-28"),
        ("28 February 2024", "2024-02-28"),
        ("2024-02-28T23:30:00-05:00", "2024-02-28"),
        ("2024-02-30", None),
        ("no date here", None),
        ("", None),
        (None, None),
        (True, None),
        ("x" * 500, None),
    ],
)
def test_parse_date(value: object, expected: str | None) -> None:
    assert parse_date(value) == expected


# -- failure reasons --------------------------------------------------------------------


def test_failure_reasons(tmp_path: Path) -> None:
    assert reason(write(tmp_path, "empty.txt", b""), tmp_path) == "empty file"
    assert reason(write(tmp_path, "blank.md", " \n\t\r\n \u200b "), tmp_path) == "no text"
    assert reason(write(tmp_path, "x.docx", "Text"), tmp_path).startswith(
        "unsupported file type .docx"
    )
    assert reason(write(tmp_path, "README", "Text"), tmp_path).startswith(
        "unsupported file type (no extension)"
    )
    assert reason(tmp_path / "missing.txt", tmp_path) == "file not found"
    (tmp_path / "folder.md").mkdir()
    assert reason(tmp_path / "folder.md", tmp_path) == "not a regular file"
    empty_html = "<html><head><script>x=1</script></head><body>  </body></html>"
    assert reason(write(tmp_path, "e.html", empty_html), tmp_path) == "no text"


def test_max_bytes(tmp_path: Path) -> None:
    path = write(tmp_path, "big.txt", "word " * 600_000)  # 3,000,000 bytes
    assert reason(path, tmp_path, max_bytes=1024 * 1024) == "file too large (2.9 MB > limit 1.0 MB)"
    assert reason(path, tmp_path, max_bytes=2000) == "file too large (2.9 MB > limit 2.0 KB)"
    assert len(load_document(path, tmp_path, max_bytes=3_000_000).text) == 3_000_000


# -- timeout wrapper --------------------------------------------------------------------


def test_load_with_timeout_returns_the_document() -> None:
    doc = load_document_with_timeout(DOCS / "sample.md", DOCS, timeout_s=60)
    assert doc == load_document(DOCS / "sample.md", DOCS)


def test_load_with_timeout_passes_errors_through(tmp_path: Path) -> None:
    with pytest.raises(DocumentError, match="empty file"):
        load_document_with_timeout(write(tmp_path, "e.md", b""), tmp_path, timeout_s=60)


def test_load_with_timeout_gives_up(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    release = threading.Event()

    def stuck(path: Path, root: Path, *, max_bytes: int | None = None) -> Document:
        release.wait(30)
        raise DocumentError("released")

    monkeypatch.setattr(documents, "load_document", stuck)
    try:
        with pytest.raises(DocumentError, match=r"^timed out after 0\.05s$"):
            load_document_with_timeout(DOCS / "sample.md", DOCS, timeout_s=0.05)
    finally:
        release.set()
