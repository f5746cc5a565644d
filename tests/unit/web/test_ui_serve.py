"""Serving the web chat: bind and password checks, the app and its API served in-process."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from attackutil import LEGION as LEGION_QUESTION
from netutil import free_port as _free_port

gr = pytest.importorskip("gradio")

from askfront.core.config import Settings  # noqa: E402
from askfront.core.errors import ConfigError  # noqa: E402
from askfront.web import serve as web_serve  # noqa: E402
from askfront.web.app import build_app  # noqa: E402
from askfront.web.serve import check_bind, launch_options, serve  # noqa: E402
from fakes import FakeAssistant  # noqa: E402
from paths import DEFAULT_ARTICLE  # noqa: E402


# -- binding ---------------------------------------------------------------------------------
@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "::1", "127.0.0.2"])
def test_loopback_hosts_need_no_auth(host: str) -> None:
    assert check_bind(Settings(host=host)) is None


@pytest.mark.parametrize("host", ["0.0.0.0", "192.168.1.5", "example.org", "::"])
def test_public_host_without_auth_is_refused_with_the_way_out(host: str) -> None:
    with pytest.raises(ConfigError) as err:
        check_bind(Settings(host=host))
    assert "ASKFRONT_AUTH=user:password" in str(err.value)
    assert "ASKFRONT_ALLOW_PUBLIC=true" in str(err.value)


def test_public_host_with_auth_passes_it_to_gradio() -> None:
    assert check_bind(Settings(host="0.0.0.0", auth="ann:s3:cret")) == ("ann", "s3:cret")


@pytest.mark.parametrize("auth", ["nocolon", ":pw", "user:"])
def test_malformed_auth_is_a_config_error(auth: str) -> None:
    with pytest.raises(ConfigError, match="user:password"):
        check_bind(Settings(auth=auth))


def test_allow_public_warns_loudly(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="askfront.web.app"):
        assert check_bind(Settings(host="0.0.0.0", allow_public=True)) is None
    assert "WITHOUT a password" in caplog.text


def test_serve_refuses_before_loading_anything(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def explode(*_: Any, **__: Any) -> None:
        raise AssertionError("serve must check the bind address before loading anything")

    monkeypatch.setattr(web_serve, "Assistant", explode)
    monkeypatch.setattr(web_serve, "build_app", explode)
    settings = Settings(host="0.0.0.0", corpus_dir=tmp_path, index_dir=tmp_path / "i")
    with pytest.raises(ConfigError):
        serve(settings)


# -- the app itself, served in-process --------------------------------------------------------
@pytest.fixture
def served(fake_assistant: FakeAssistant) -> Iterator[str]:
    settings = fake_assistant.settings.model_copy(update={"port": _free_port()})
    app = build_app(fake_assistant, settings)
    options = launch_options(settings)
    _, url, _ = app.launch(prevent_thread_lock=True, quiet=True, **options)
    try:
        yield url
    finally:
        app.close()


def test_api_endpoint_answers_through_gradio_client(
    served: str, fake_assistant: FakeAssistant
) -> None:
    from gradio_client import Client

    client = Client(served, verbose=False)
    data = client.predict(LEGION_QUESTION, "[]", api_name="/ask")
    assert isinstance(data, dict)
    assert set(data) >= {"answer", "refused", "citations", "timings_ms", "sentences", "related"}
    quote = data["citations"][0]["quote"]
    assert quote in DEFAULT_ARTICLE.read_text(encoding="utf-8")
    assert data["answer"] == f"{quote} [1]"
    refusal = client.predict("What is the capital of Australia?", api_name="/ask")
    assert refusal["refused"] is True and refusal["answer"] == FakeAssistant.refusal
    broken = client.predict("Q?", "{oops", api_name="/ask")
    assert broken["refused"] is True and "history_json" in broken["notice"]


def test_only_the_ask_endpoint_is_public(served: str) -> None:
    from gradio_client import Client

    endpoints = Client(served, verbose=False).view_api(print_info=False, return_format="dict")
    # The read-only API, which Gradio's MCP server also offers as tools (web.tools).
    assert list(endpoints["named_endpoints"]) == ["/ask", "/search", "/list_documents"]


def test_serve_on_a_taken_port_says_how_to_pick_another(
    fake_assistant: FakeAssistant, served: str
) -> None:
    port = int(served.rstrip("/").rsplit(":", 1)[1])
    settings = fake_assistant.settings.model_copy(update={"port": port})
    with pytest.raises(ConfigError, match="ASKFRONT_PORT"):
        serve(settings, assistant=fake_assistant)


def test_answer_mode_defaults_to_the_configured_backend(fake_assistant: FakeAssistant) -> None:
    for llm, expected in (("fake:llm", "fake:llm"), ("extractive", "extractive")):
        settings = fake_assistant.settings.model_copy(update={"llm": llm})
        app = build_app(fake_assistant, settings)
        (mode,) = [b for b in app.blocks.values() if getattr(b, "elem_id", None) == "mode"]
        assert mode.value == expected
        assert [c[0] for c in mode.choices] == fake_assistant.modes()


def test_auth_protects_the_app_and_the_api(fake_assistant: FakeAssistant) -> None:
    from gradio_client import Client

    settings = fake_assistant.settings.model_copy(
        update={"port": _free_port(), "auth": "ann:s3cret"}
    )
    app = build_app(fake_assistant, settings)
    _, url, _ = app.launch(prevent_thread_lock=True, quiet=True, **launch_options(settings))
    try:
        with pytest.raises(ValueError, match="credentials were not provided"):
            Client(url, verbose=False).predict(LEGION_QUESTION, "[]", api_name="/ask")
        with pytest.raises(ValueError, match="Could not login"):
            Client(url, auth=("ann", "wrong"), verbose=False)
        client = Client(url, auth=("ann", "s3cret"), verbose=False)
        assert client.predict(LEGION_QUESTION, "[]", api_name="/ask")["citations"]
    finally:
        app.close()
