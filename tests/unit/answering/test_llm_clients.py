"""The real ChatOpenAI and ChatOllama clients against local HTTP servers; the backend registry."""

from __future__ import annotations

import json
import sys
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import pytest

from askfront.answering import prompt as P
from askfront.answering.base import Answerer
from askfront.answering.llm import LLMAnswerer
from askfront.answering.registry import BACKENDS, BackendOptions, get_answerer, register_backend
from askfront.assistant import backend_options
from askfront.core.config import Settings
from askfront.core.errors import ConfigError, MissingExtraError
from askfront.core.types import Passage
from fakes import BagOfWordsEmbeddings, LeadSentenceAnswerer, recording_model
from llmutil import (
    answerer,
    passages_fixture,  # noqa: F401 (the fixture `passages`)
    run,
)
from netutil import free_port as _free_port
from netutil import http_server

# --- unreachable and slow servers, and real streaming, through the real clients ------------


@pytest.mark.parametrize(
    ("spec", "base"),
    [("openai:gpt-4o-mini", "http://127.0.0.1:{}/v1"), ("ollama:llama3", "http://127.0.0.1:{}")],
)
def test_unreachable_server_falls_back_with_clear_notice(
    spec: str, base: str, passages: list[Passage], lead_answerer: LeadSentenceAnswerer
) -> None:
    url = base.format(_free_port())  # bound then closed: nothing listens there
    settings = Settings(llm=spec, llm_base_url=url, llm_timeout=5)
    a = get_answerer(
        settings.llm,
        backend_options(settings),
        extractive=lead_answerer,
        embeddings=BagOfWordsEmbeddings(),
    )
    deltas, final = run(a.stream("How big is the legion?", passages))
    assert deltas == [] and final.mode == "extractive" and lead_answerer.calls == 1
    assert final.notice is not None
    assert final.notice.startswith(f"LLM backend {spec} unreachable at {url} (")
    assert "refused" in final.notice.lower()
    assert final.notice.endswith("showing the extractive answer instead.")


@pytest.mark.parametrize(
    ("spec", "suffix"), [("openai:slow-model", "/v1"), ("ollama:slow-model", "")]
)
def test_slow_server_times_out_and_falls_back(
    spec: str, suffix: str, passages: list[Passage], lead_answerer: LeadSentenceAnswerer
) -> None:
    release = threading.Event()

    def stall(handler: BaseHTTPRequestHandler, body: dict[str, Any]) -> None:
        release.wait(10)  # longer than the client's timeout; released at teardown
        handler.send_response(500)
        handler.end_headers()

    with http_server(stall) as (url, bodies):
        settings = Settings(llm=spec, llm_base_url=url + suffix, llm_timeout=0.5)
        a = get_answerer(
            settings.llm,
            backend_options(settings),
            extractive=lead_answerer,
            embeddings=BagOfWordsEmbeddings(),
        )
        _, final = run(a.stream("How big is the legion?", passages))
        release.set()
    assert len(bodies) == 1  # no retries
    assert final.mode == "extractive" and final.notice is not None
    assert final.notice.startswith(f"LLM backend {spec} timed out at {url}{suffix} (")


def _sse(handler: BaseHTTPRequestHandler, pieces: list[str]) -> None:
    handler.send_response(200)
    handler.send_header("Content-Type", "text/event-stream")
    handler.end_headers()
    for piece in [*pieces, None]:
        choice = {"index": 0, "delta": {"content": piece} if piece else {}}
        choice["finish_reason"] = None if piece else "stop"
        data = {"id": "c1", "object": "chat.completion.chunk", "created": 0, "model": "m",
                "choices": [choice]}  # fmt: skip
        handler.wfile.write(f"data: {json.dumps(data)}\n\n".encode())
        handler.wfile.flush()
    handler.wfile.write(b"data: [DONE]\n\n")


def _ndjson(handler: BaseHTTPRequestHandler, pieces: list[str]) -> None:
    handler.send_response(200)
    handler.send_header("Content-Type", "application/x-ndjson")
    handler.end_headers()
    for piece in [*pieces, ""]:
        line = {"model": "m", "created_at": "2024-02-28T00:00:00Z",
                "message": {"role": "assistant", "content": piece}, "done": not piece}  # fmt: skip
        if not piece:
            line |= {"done_reason": "stop", "eval_count": len(pieces), "prompt_eval_count": 9}
        handler.wfile.write((json.dumps(line) + "\n").encode())
        handler.wfile.flush()


@pytest.mark.parametrize(
    ("spec", "suffix", "speak"),
    [("openai:tiny", "/v1", _sse), ("ollama:tiny", "", _ndjson)],
)
def test_real_clients_stream_from_a_local_server(
    spec: str,
    suffix: str,
    speak: Callable[[BaseHTTPRequestHandler, list[str]], None],
    passages: list[Passage],
    lead_answerer: LeadSentenceAnswerer,
) -> None:
    pieces = ["At least 50 ", "American citizens ", "have been killed ", "in Ukraine [1]."]
    with http_server(lambda h, body: speak(h, pieces)) as (url, bodies):
        settings = Settings(llm=spec, llm_base_url=url + suffix, llm_max_tokens=77)
        a = get_answerer(
            settings.llm,
            backend_options(settings),
            extractive=lead_answerer,
            embeddings=BagOfWordsEmbeddings(),
        )
        assert isinstance(a, LLMAnswerer) and a.name == spec
        deltas, final = run(a.stream("How many Americans died?", passages))
    assert deltas == pieces
    assert final.mode == spec and final.sentences[0].supported and lead_answerer.calls == 0
    (body,) = bodies
    assert body["model"] == "tiny" and body["stream"] is True
    if spec.startswith("openai"):
        assert body["path"] == "/v1/chat/completions" and body["max_tokens"] == 77
    else:
        assert body["path"] == "/api/chat" and body["options"]["num_predict"] == 77
    sent = body["messages"][-1]["content"]
    assert P.PASSAGES_OPEN in sent and "How many Americans died?" in sent


# --- registry ------------------------------------------------------------------------------


def test_extractive_spec_returns_the_extractive_answerer(
    lead_answerer: LeadSentenceAnswerer,
) -> None:
    s = Settings()
    assert (
        get_answerer(s.llm, backend_options(s), extractive=lead_answerer, embeddings=None)
        is lead_answerer
    )
    assert (
        get_answerer("extractive", backend_options(s), extractive=lead_answerer, embeddings=None)
        is lead_answerer
    )


def test_unknown_backend_lists_valid_ones(lead_answerer: LeadSentenceAnswerer) -> None:
    with pytest.raises(ConfigError) as err:
        get_answerer("gpt4all:foo", BackendOptions(), extractive=lead_answerer, embeddings=None)
    assert "gpt4all:foo" in str(err.value)
    for valid in ("extractive", "ollama:MODEL", "openai:MODEL", "local:MODEL"):
        assert valid in str(err.value)


@pytest.mark.parametrize("spec", ["ollama:", "openai: ", "local:"])
def test_backend_without_model_is_a_config_error(
    spec: str, lead_answerer: LeadSentenceAnswerer
) -> None:
    with pytest.raises(ConfigError, match="needs a model"):
        get_answerer(spec, BackendOptions(), extractive=lead_answerer, embeddings=None)


def test_register_backend(
    lead_answerer: LeadSentenceAnswerer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("askfront.answering.registry.BACKENDS", dict(BACKENDS))
    made: list[str] = []

    def factory(
        arg: str, options: BackendOptions, *, extractive: Answerer, embeddings: Any
    ) -> Answerer:
        made.append(arg)
        return answerer(recording_model("x"), extractive)

    register_backend("fake", factory, example="fake:name")
    a = get_answerer("fake:some:model", BackendOptions(), extractive=lead_answerer, embeddings=None)
    assert isinstance(a, LLMAnswerer) and made == ["some:model"]


def test_missing_client_package_names_the_extra(
    lead_answerer: LeadSentenceAnswerer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "langchain_ollama", None)  # import now fails
    with pytest.raises(MissingExtraError, match=r"askfront\[llm\]"):
        get_answerer("ollama:llama3", BackendOptions(), extractive=lead_answerer, embeddings=None)


def test_local_path_errors(tmp_path: Path, lead_answerer: LeadSentenceAnswerer) -> None:
    def local(arg: str) -> None:
        get_answerer(f"local:{arg}", BackendOptions(), extractive=lead_answerer, embeddings=None)

    with pytest.raises(ConfigError, match="No local model"):
        local(str(tmp_path / "missing.gguf"))
    (tmp_path / "notes.txt").write_text("hi")
    with pytest.raises(ConfigError, match=r"not a \.gguf file"):
        local(str(tmp_path / "notes.txt"))
    (tmp_path / "a.gguf").write_bytes(b"x")
    (tmp_path / "b.gguf").write_bytes(b"x")
    with pytest.raises(ConfigError, match="several GGUF files"):
        local(str(tmp_path))
    with pytest.raises(ConfigError, match="Could not load"):
        local(str(tmp_path / "a.gguf"))  # not really a GGUF file
