"""The PDF loader: pages and their offsets, titles, encryption, scanned and corrupt files."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from pypdf import PdfReader, PdfWriter
from pypdf.generic import DecodedStreamObject, DictionaryObject, NameObject

from askfront.corpus.loader import load_document
from docutil import DOCS, reason, write


def make_pdf(pages: list[str], *, title: str | None = None) -> bytes:
    """A valid PDF with one Helvetica text line per input line; "" makes a blank page.

    Built with pypdf's own objects: no PDF-writing library is installed, and a content
    stream of Tj operators is all a text page needs.
    """
    writer = PdfWriter()
    font = DictionaryObject(
        {
            NameObject("/Type"): NameObject("/Font"),
            NameObject("/Subtype"): NameObject("/Type1"),
            NameObject("/BaseFont"): NameObject("/Helvetica"),
            NameObject("/Encoding"): NameObject("/WinAnsiEncoding"),
        }
    )
    font_ref = writer._add_object(font)
    for text in pages:
        page = writer.add_blank_page(612, 792)
        ops = ["BT", "/F1 12 Tf", "14 TL", "72 720 Td"]
        for line in text.split("\n") if text else []:
            escaped = line.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
            ops.append(f"({escaped}) Tj T*")
        ops.append("ET")
        stream = DecodedStreamObject()
        stream.set_data("\n".join(ops).encode("cp1252"))
        page[NameObject("/Contents")] = writer._add_object(stream)
        page[NameObject("/Resources")] = DictionaryObject(
            {NameObject("/Font"): DictionaryObject({NameObject("/F1"): font_ref})}
        )
    if title:
        writer.add_metadata({"/Title": title, "/Author": "Report Desk"})
    buf = io.BytesIO()
    writer.write(buf)
    return buf.getvalue()


def encrypt_pdf(data: bytes, user_password: str) -> bytes:
    # RC4 works without the optional `cryptography` package; AES would need it.
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(data)))
    writer.encrypt(user_password=user_password, owner_password="owner", algorithm="RC4-128")
    buf = io.BytesIO()
    writer.write(buf)
    return buf.getvalue()


PAGES = [
    "Page one opens the report.\nIt has two lines (and parentheses).",
    "",
    "Page three: Café prices rose 4%.",
    "The last page closes the report.",
]


def test_pdf_pages_and_offsets(tmp_path: Path) -> None:
    data = make_pdf(PAGES, title="Quarterly Coffee Report")
    doc = load_document(write(tmp_path, "report.pdf", data), tmp_path)
    # pypdf reads back what the generator wrote, page by page.
    reader = PdfReader(io.BytesIO(data))
    expected = [p.extract_text().strip() for p in reader.pages]
    assert expected[0].startswith("Page one opens the report.")
    assert expected[1] == ""
    assert "Café" in expected[2]

    assert [s.page for s in doc.pages] == [1, 2, 3, 4]
    for span, page_text in zip(doc.pages, expected, strict=True):
        assert doc.text[span.start : span.end] == page_text
    assert doc.text == "\n\n".join(expected)
    blank = doc.pages[1]
    assert blank.start == blank.end  # a blank page still gets its span
    third = doc.text.index("Café")
    assert doc.page_at(third) == 3
    assert doc.page_at(doc.text.index("last page")) == 4
    assert doc.page_at(0) == 1
    assert doc.title == "Quarterly Coffee Report"
    assert doc.author == "Report Desk"


def test_committed_pdf_fixture_loads() -> None:
    doc = load_document(DOCS / "sample.pdf", DOCS)
    assert len(doc.pages) == 3
    assert [doc.page_at(doc.text.index(f"page {n}.")) for n in (1, 2, 3)] == [1, 2, 3]


def test_pdf_title_defaults_to_file_name(tmp_path: Path) -> None:
    doc = load_document(write(tmp_path, "annual_report-2023.pdf", make_pdf(["Text."])), tmp_path)
    assert doc.title == "Annual report 2023"


def test_encrypted_pdf_with_empty_user_password_loads(tmp_path: Path) -> None:
    data = encrypt_pdf(make_pdf(["Readable without a password."]), user_password="")
    assert PdfReader(io.BytesIO(data)).is_encrypted
    doc = load_document(write(tmp_path, "open.pdf", data), tmp_path)
    assert doc.text == "Readable without a password."


def test_encrypted_pdf_with_password_is_reported(tmp_path: Path) -> None:
    data = encrypt_pdf(make_pdf(["Secret text."]), user_password="s3cret")
    assert reason(write(tmp_path, "locked.pdf", data), tmp_path).startswith("encrypted PDF")


def test_scanned_pdf_without_text_is_reported(tmp_path: Path) -> None:
    path = write(tmp_path, "scan.pdf", make_pdf(["", ""]))
    assert reason(path, tmp_path) == "PDF has no extractable text (scanned?)"


def test_corrupt_pdf_is_reported(tmp_path: Path) -> None:
    path = write(tmp_path, "bad.pdf", b"%PDF-1.7\nthis is not a pdf body at all\n")
    assert reason(path, tmp_path).startswith("corrupt PDF: ")


@pytest.mark.parametrize(
    "junk", ["about:blank", "Untitled", "Microsoft Word - draft3.docx", "https://example.org/a"]
)
def test_junk_pdf_titles_give_way_to_the_first_heading(tmp_path: Path, junk: str) -> None:
    pages = ["Glass Turnips Win the Fair\nThe fair opened on Monday with glass turnips."]
    doc = load_document(write(tmp_path, "fair.pdf", make_pdf(pages, title=junk)), tmp_path)
    assert doc.title == "Glass Turnips Win the Fair"


def test_a_junk_title_over_a_paragraph_gives_way_to_the_file_name(tmp_path: Path) -> None:
    pages = ["A first line that runs on and on " * 8]  # a paragraph, not a heading
    data = make_pdf(pages, title="about:blank")
    assert load_document(write(tmp_path, "fair_news.pdf", data), tmp_path).title == "Fair news"
