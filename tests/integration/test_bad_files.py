"""Bad files end to end: each one indexed or reported with its reason, the index still answers."""

from __future__ import annotations

import io
import random
import shutil
import threading
from pathlib import Path
from typing import Any

import pytest
from langchain_core.embeddings import Embeddings
from pypdf import PdfReader, PdfWriter

from askfront.assistant import Assistant, index_spec, store_spec
from askfront.core.config import Settings
from askfront.core.types import IndexReport
from askfront.indexing.store import active_build
from askfront.indexing.sync import sync
from attackutil import LEGION
from attackutil import bulletin as _bulletin
from paths import DEFAULT_ARTICLE, REPO
from reliabilityutil import assert_well_formed as _assert_well_formed

SAMPLE_PDF = (REPO / "tests" / "data" / "docs" / "sample.pdf").read_bytes()


PARAGRAPH_WORDS = ["lantern", "valley", "river", "meadow", "harbor", "orchard", "bridge"]
# One "sentence" over 10,000 lines: no punctuation, and no line starts with a capital.
PARAGRAPH = "\n".join(PARAGRAPH_WORDS[i % 7] for i in range(10_000))
ZERO_WIDTH = (
    "# Bridge notes\nThe Quortle\u200b bridge over the Vell river opened in 1999.\u200d Its "
    "designer, \u202eAmira Haddad\u202c, also drew the \u2067\u0645\u0631\u062d\u0628\u0627\u2069 "
    "tower.\n"
)
DEEP_HTML = (
    "<html><head><title>Glimmerwick</title></head><body>"
    + "<div>" * 10_000
    + "<p>The Glimmerwick lighthouse has 412 steps.</p>"
    + "</div>" * 10_000
    + "</body></html>"
)
# Expected outcome per file: (status, start of the reason).
BAD_FILES = {
    "random.txt": ("failed", "not text: looks binary"),
    "random.md": ("failed", "not text: looks binary"),
    "random.html": ("failed", "not text: looks binary"),
    "random.pdf": ("failed", "corrupt PDF: "),
    "empty.txt": ("failed", "empty file"),
    "truncated.pdf": ("failed", "corrupt PDF: "),
    "encrypted.pdf": ("failed", "encrypted PDF: it needs a password"),
    "invalid-utf8.txt": ("failed", "not valid UTF-8 text"),
    "cp1252.txt": ("added", None),  # not UTF-8 but valid Windows-1252: decoded as such
    "deep.html": ("added", None),
    "zero-width.md": ("added", None),
    "paragraph.txt": ("added", None),
    DEFAULT_ARTICLE.name: ("added", None),
}


def _write_bad_corpus(folder: Path) -> None:
    rng = random.Random(8)
    for suffix in ("txt", "md", "html", "pdf"):
        (folder / f"random.{suffix}").write_bytes(rng.randbytes(4096))
    (folder / "empty.txt").write_bytes(b"")
    (folder / "truncated.pdf").write_bytes(SAMPLE_PDF[: len(SAMPLE_PDF) // 2])
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(SAMPLE_PDF)))
    writer.encrypt(user_password="hunter2", algorithm="AES-256")
    writer.write(folder / "encrypted.pdf")
    # 0x81 is undefined in Windows-1252 too, so no fallback can read it.
    (folder / "invalid-utf8.txt").write_bytes(b"Caf\xc3 broken \x81\xff bytes, then text.")
    (folder / "cp1252.txt").write_bytes(b"Caf\xe9 cr\xe8me was served in Quexville.")
    (folder / "deep.html").write_text(DEEP_HTML, encoding="utf-8")
    (folder / "zero-width.md").write_text(ZERO_WIDTH, encoding="utf-8")
    (folder / "paragraph.txt").write_text(PARAGRAPH, encoding="utf-8")
    shutil.copy(DEFAULT_ARTICLE, folder / DEFAULT_ARTICLE.name)


@pytest.fixture(scope="module")
def bad_corpus(
    tmp_path_factory: pytest.TempPathFactory, real_embeddings: Embeddings
) -> tuple[Settings, IndexReport, Assistant]:
    root = tmp_path_factory.mktemp("bad-files")
    (root / "corpus").mkdir()
    _write_bad_corpus(root / "corpus")
    settings = Settings(corpus_dir=root / "corpus", index_dir=root / "index")
    report = sync(index_spec(settings), embeddings=real_embeddings)
    return settings, report, Assistant(settings, embeddings=real_embeddings)


def test_every_bad_file_is_indexed_or_reported_with_its_reason(bad_corpus: Any) -> None:
    _, report, assistant = bad_corpus
    got = {f.path: f for f in report.files}
    assert set(got) == set(BAD_FILES)
    for path, (status, reason) in BAD_FILES.items():
        assert got[path].status == status, (path, got[path].reason)
        if reason is None:
            assert got[path].chunks > 0 and got[path].reason is None
        else:
            assert (got[path].reason or "").startswith(reason), (path, got[path].reason)
    # The documents list (CLI and Corpus tab) says the same.
    rows = {r.path: r for r in assistant.documents()}
    assert {p for p, r in rows.items() if r.status == "failed"} == {
        p for p, (s, _) in BAD_FILES.items() if s == "failed"
    }


def test_index_stays_queryable_after_bad_files(bad_corpus: Any) -> None:
    _, _, assistant = bad_corpus
    answer = assistant.ask(LEGION)
    assert "20,000" in answer.text and answer.citations[0].source == DEFAULT_ARTICLE.name
    deep = assistant.ask("How many steps does the Glimmerwick lighthouse have?")
    assert "412" in deep.text and deep.citations[0].source == "deep.html"
    for a in (answer, deep):
        _assert_well_formed(assistant, a)


def test_zero_width_and_bidi_characters_survive_into_exact_citations(bad_corpus: Any) -> None:
    _, _, assistant = bad_corpus
    answer = assistant.ask("When did the Quortle bridge open?")
    _assert_well_formed(assistant, answer)
    cited = answer.citations[0]
    assert cited.source == "zero-width.md" and "1999" in cited.quote
    assert "\u200b" in cited.quote and "\u202e" in cited.quote  # kept, not stripped


def test_ten_thousand_line_paragraph_is_chunked_with_exact_offsets(bad_corpus: Any) -> None:
    settings, report, _ = bad_corpus
    store = active_build(store_spec(settings)).docstore
    doc = store.document("paragraph.txt")
    assert doc is not None and doc.text == PARAGRAPH
    chunks = sorted(store.chunks(store.chunk_ids("paragraph.txt")).values(), key=lambda c: c.index)
    assert len(chunks) > 1 and len(chunks) == {f.path: f for f in report.files}[doc.path].chunks
    assert chunks[0].start == 0 and chunks[-1].end == len(doc.text)
    previous_end = 0
    for chunk in chunks:
        assert doc.text[chunk.start : chunk.end] == chunk.text
        assert 0 < chunk.n_tokens <= settings.chunk_tokens
        assert not doc.text[previous_end : chunk.start].strip()  # nothing between chunks lost
        for a, b in chunk.sentences:
            assert chunk.start <= a < b <= chunk.end
        previous_end = chunk.end


def test_a_hanging_loader_times_out_and_the_other_files_are_indexed(
    settings: Settings, real_embeddings: Embeddings, monkeypatch: pytest.MonkeyPatch
) -> None:
    import askfront.corpus.loader

    (settings.corpus_dir / "hangs.md").write_text("# Hangs\nThis file never loads.\n")
    (settings.corpus_dir / "zorblatt.md").write_text(_bulletin(1))
    real_load = askfront.corpus.loader.load_document
    release = threading.Event()

    def load(path: Path, root: Path, **kw: Any) -> Any:
        if Path(path).name == "hangs.md":
            release.wait(30)  # far past the timeout; released at the end of the test
        return real_load(path, root, **kw)

    monkeypatch.setattr(askfront.corpus.loader, "load_document", load)
    try:
        report = sync(
            index_spec(settings.model_copy(update={"file_timeout": 1.0})),
            embeddings=real_embeddings,
        )
    finally:
        release.set()
    got = {f.path: (f.status, f.reason) for f in report.files}
    assert got.pop("hangs.md") == ("failed", "timed out after 1s")
    assert set(got.values()) == {("added", None)} and len(got) == 2
    answer = Assistant(settings, embeddings=real_embeddings).ask(LEGION)
    assert "20,000" in answer.text


@pytest.mark.slow
def test_fifty_megabyte_file_is_rejected_by_the_size_limit(
    settings: Settings, real_embeddings: Embeddings
) -> None:
    line = "The quick brown fox jumps over the lazy dog near the river bank.\n"
    with (settings.corpus_dir / "huge.txt").open("w", encoding="utf-8") as f:
        f.write(line * (50 * 1024 * 1024 // len(line) + 1))
    report = sync(
        index_spec(settings.model_copy(update={"max_file_mb": 10})), embeddings=real_embeddings
    )
    got = {f.path: f for f in report.files}
    assert got["huge.txt"].status == "failed"
    assert got["huge.txt"].reason == "file too large (50.0 MB > limit 10.0 MB)"
    assert got[DEFAULT_ARTICLE.name].status == "added"
