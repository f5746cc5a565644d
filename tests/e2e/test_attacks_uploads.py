"""Issue 13's upload attacks (items 6, 14): caps, temporary files, partial files, proxy names."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from askfront.core.config import Settings
from attack_server import NOT_OURS, STALE_PART, WAIT_S, AttackServer
from fakes import FakeAssistant
from netutil import free_port, serve_app

gr = pytest.importorskip("gradio")


# == 14. Partial uploads left by a killed server =================================================
def test_a_partial_upload_left_by_a_killed_server_is_removed_at_start(
    attack_server: AttackServer,
) -> None:
    assert not (attack_server.corpus / STALE_PART).exists()
    for name in NOT_OURS:  # only askfront's own ".<name>.part" files
        assert (attack_server.corpus / name).exists(), name
    assert "Removed 1 partial upload" in attack_server.log.read_text(encoding="utf-8")


def test_a_failed_save_leaves_no_partial_file(
    fake_assistant: FakeAssistant, tmp_path: Path
) -> None:
    from askfront.web.chat import WebChat

    upload = tmp_path / "article.md"
    upload.write_text("# An article\n", encoding="utf-8")
    corpus = fake_assistant.settings.corpus_dir
    (corpus / "article.md").mkdir()  # a folder in the way: the save's rename fails
    (corpus / "article.md" / "inside.txt").write_text("x", encoding="utf-8")
    status = WebChat(fake_assistant, fake_assistant.settings).save_uploads([str(upload)])
    assert "article.md was not saved" in status
    assert [p.name for p in corpus.iterdir() if p.name.endswith(".part")] == []


# == 6. Upload caps and temporary files (in-process servers, real HTTP) =========================
@pytest.fixture
def upload_server(
    settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Callable[..., tuple[str, Path]]]:
    """Starts the real Gradio app over a FakeAssistant with the given settings; returns its
    URL and its upload folder (GRADIO_TEMP_DIR)."""
    from askfront.web.app import build_app
    from askfront.web.serve import launch_options

    apps: list[Any] = []

    def start(**overrides: Any) -> tuple[str, Path]:
        folder = tmp_path / f"uploads-{len(apps)}"
        monkeypatch.setenv("GRADIO_TEMP_DIR", str(folder))
        live = settings.model_copy(update={"port": free_port(), **overrides})
        assistant = FakeAssistant(live)
        app = build_app(assistant, live)
        apps.append(app)
        _, url, _ = app.launch(prevent_thread_lock=True, quiet=True, **launch_options(live))
        return url, folder

    yield start
    for app in apps:
        app.close()


def _files(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if p.is_file()] if folder.exists() else []


def _upload(url: str, files: list[tuple[str, bytes]], **kwargs: Any) -> httpx.Response:
    parts = [("files", (name, data)) for name, data in files]
    return httpx.post(f"{url}gradio_api/upload", files=parts, timeout=WAIT_S, **kwargs)


MB = 1024 * 1024
CAPS = {"max_upload_files": 3, "max_upload_mb": 1.0, "max_upload_total_mb": 2.0}


def test_too_many_files_in_one_upload_are_refused(
    upload_server: Callable[..., tuple[str, Path]],
) -> None:
    url, folder = upload_server(**CAPS)
    response = _upload(url, [(f"f{i}.txt", b"x" * 100) for i in range(4)])
    assert response.status_code == 413
    assert "more than 3 files" in response.text and "ASKFRONT_MAX_UPLOAD_FILES" in response.text
    assert _files(folder) == []  # Gradio removed the files it had begun
    assert _upload(url, [(f"f{i}.txt", b"x" * 100) for i in range(3)]).status_code == 200


def test_an_upload_past_the_total_cap_is_refused(
    upload_server: Callable[..., tuple[str, Path]],
) -> None:
    url, folder = upload_server(**CAPS)
    three = [(f"f{i}.txt", b"x" * (9 * MB // 10)) for i in range(3)]  # 2.7 MB, each < 1 MB
    response = _upload(url, three)
    assert response.status_code == 413 and "ASKFRONT_MAX_UPLOAD_TOTAL_MB" in response.text

    def stream() -> Iterator[bytes]:  # no Content-Length: counted as it streams in
        for name in ("a.txt", "b.txt", "c.txt"):
            yield b"--b\r\nContent-Disposition: form-data; name=files; filename=%s\r\n\r\n" % (
                name.encode()
            )
            for _ in range(9):
                yield b"x" * (MB // 10)
            yield b"\r\n"
        yield b"--b--\r\n"

    chunked = httpx.post(
        f"{url}gradio_api/upload",
        content=stream(),
        headers={"Content-Type": "multipart/form-data; boundary=b"},
        timeout=WAIT_S,
    )
    assert chunked.status_code == 413 and "ASKFRONT_MAX_UPLOAD_TOTAL_MB" in chunked.text
    assert _files(folder) == []


def test_uploads_held_at_once_are_capped(upload_server: Callable[..., tuple[str, Path]]) -> None:
    url, folder = upload_server(**CAPS)
    first = [("a.txt", b"x" * (9 * MB // 10)), ("b.txt", b"y" * (9 * MB // 10))]
    assert _upload(url, first).status_code == 200  # held, never saved to the corpus
    second = _upload(url, [("c.txt", b"z" * (9 * MB // 10))])
    assert second.status_code == 413 and "can take 0.2 MB more" in second.text
    assert len(_files(folder)) == 2


def test_uploads_never_saved_are_deleted_after_a_while(
    upload_server: Callable[..., tuple[str, Path]],
) -> None:
    url, _ = upload_server(upload_cache_seconds=1)
    response = _upload(url, [("orphan.txt", b"never saved to the corpus")])
    assert response.status_code == 200
    (held,) = [Path(p) for p in response.json()]
    deadline = time.monotonic() + WAIT_S
    while held.exists() and time.monotonic() < deadline:
        time.sleep(0.5)
    assert not held.exists()


def test_stopping_the_server_deletes_its_uploads(settings: Settings, tmp_path: Path) -> None:
    uploads = tmp_path / "gradio-uploads"
    with serve_app(settings, tmp_path, extra_env={"GRADIO_TEMP_DIR": str(uploads)}) as app:
        response = _upload(app.url, [("left.txt", b"uploaded, never saved")])
        assert response.status_code == 200
        (held,) = [Path(p) for p in response.json()]
        assert held.exists()
    assert not held.exists()  # `kill` (SIGTERM) stops it as Ctrl+C does


def test_allowed_hosts_admits_a_proxy_name(upload_server: Callable[..., tuple[str, Path]]) -> None:
    url, _ = upload_server(allowed_hosts="askfront.example, *.lan.example")
    for host in ("askfront.example", "box.lan.example:8443"):
        assert httpx.get(url, headers={"Host": host}, timeout=WAIT_S).status_code == 200
    assert httpx.get(url, headers={"Host": "lan.example.evil"}, timeout=WAIT_S).status_code == 400
    # A proxy at https://askfront.example (port 443) in front of askfront's own port.
    ok = {"Host": "askfront.example", "Origin": "https://askfront.example"}
    assert _upload(url, [("a.txt", b"x")], headers=ok).status_code == 200
