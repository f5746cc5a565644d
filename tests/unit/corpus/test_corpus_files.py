"""Corpus files and names: listing a corpus folder, and the safe names uploads are saved under."""

from __future__ import annotations

from pathlib import Path

import pytest

from askfront.core.errors import ConfigError, DocumentError
from askfront.corpus.files import SUPPORTED_SUFFIXES, iter_corpus, safe_corpus_path
from docutil import DOCS, write

# -- corpus listing ----------------------------------------------------------------------


def test_iter_corpus(tmp_path: Path) -> None:
    for name in [
        "b.md",
        "A.TXT",
        "sub/deeper/c.PDF",
        "sub/d.htm",
        "sub/e.markdown",
        "z.html",
        ".hidden.md",
        ".git/config.md",
        "sub/.cache/f.txt",
        "notes.docx",
        "image.png",
    ]:
        write(tmp_path, name, "x")
    (tmp_path / "folder.md").mkdir()
    found = [p.relative_to(tmp_path).as_posix() for p in iter_corpus(tmp_path)]
    assert found == ["A.TXT", "b.md", "sub/d.htm", "sub/deeper/c.PDF", "sub/e.markdown", "z.html"]


def test_iter_corpus_missing_folder(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        iter_corpus(tmp_path / "nope")


def test_committed_fixtures_are_a_corpus() -> None:
    names = [p.name for p in iter_corpus(DOCS)]
    assert names == ["harbor-dredging_plan.txt", "sample.html", "sample.md", "sample.pdf"]
    assert {Path(n).suffix for n in names} <= set(SUPPORTED_SUFFIXES)


# -- upload names -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("filename", "expected"),
    [
        ("report.pdf", "report.pdf"),
        ("My Report (final).PDF", "My-Report-_final.pdf"),
        ("Résumé – été.md", "Resume-ete.md"),
        ("C-fakepath/notes.txt", "notes.txt"),
        ("uploads\\sub\\page.html", "page.html"),
        ("  spaced   name .txt ", "spaced-name.txt"),
        ("a" * 300 + ".md", "a" * 200 + ".md"),
    ],
)
def test_safe_corpus_path_accepts(tmp_path: Path, filename: str, expected: str) -> None:
    target = safe_corpus_path(tmp_path, filename)
    assert target == tmp_path / expected
    assert target.resolve().parent == tmp_path.resolve()


@pytest.mark.parametrize(
    ("filename", "why"),
    [
        ("../etc/passwd.txt", "'..'"),
        ("docs/../../x.md", "'..'"),
        ("..\\x.md", "'..'"),
        ("/etc/passwd.txt", "absolute"),
        ("\\\\server\\share\\x.md", "absolute"),
        ("C:\\Users\\x.md", "absolute"),
        ("bad\x00name.txt", "NUL"),
        ("", "empty"),
        ("   ", "empty"),
        ("dir/", "empty"),
        (".env.txt", "hidden"),
        ("sub/.secret.md", "hidden"),
        ("payload.exe", "unsupported file type .exe"),
        ("noext", "unsupported file type (no extension)"),
        ("???.md", "no letters or digits"),
    ],
)
def test_safe_corpus_path_rejects(tmp_path: Path, filename: str, why: str) -> None:
    with pytest.raises(DocumentError, match=None) as info:
        safe_corpus_path(tmp_path, filename)
    assert why in str(info.value)


def test_safe_corpus_path_refuses_symlink_out_of_root(tmp_path: Path) -> None:
    root = tmp_path / "corpus"
    root.mkdir()
    outside = write(tmp_path, "outside.md", "x")
    (root / "evil.md").symlink_to(outside)
    with pytest.raises(DocumentError, match="outside the corpus folder"):
        safe_corpus_path(root, "evil.md")
