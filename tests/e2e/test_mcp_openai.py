"""The MCP server and the OpenAI-compatible API, driven by their official client libraries
(the `mcp` SDK, `openai`) over loopback, against the whole server (web.serve.running) on
the real index of the default corpus."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from typing import Any

import pytest

from askfront.assistant import Assistant
from netutil import free_port

pytest.importorskip("gradio")
openai = pytest.importorskip("openai")
pytest.importorskip("mcp")

from askfront.web.serve import running  # noqa: E402

pytestmark = pytest.mark.slow

PAID = "How much are Nepali recruits paid?"
TOKEN = "ann:s3cret"


@pytest.fixture(scope="module")
def server(seed_assistant: Assistant) -> Iterator[str]:
    settings = seed_assistant.settings.model_copy(update={"port": free_port()})
    assistant = Assistant(settings, embeddings=seed_assistant.embeddings)
    with running(assistant, settings) as served:
        yield served.url


@pytest.fixture(scope="module")
def locked(seed_assistant: Assistant) -> Iterator[str]:
    """The same server with ASKFRONT_AUTH set."""
    settings = seed_assistant.settings.model_copy(update={"port": free_port(), "auth": TOKEN})
    assistant = Assistant(settings, embeddings=seed_assistant.embeddings)
    with running(assistant, settings) as served:
        yield served.url


def _check_citations(assistant: Assistant, citations: list[dict[str, Any]]) -> None:
    assert citations
    for c in citations:
        doc = assistant.document(c["source"])
        assert doc is not None and doc.text[c["start"] : c["end"]] == c["quote"]


# -- MCP -------------------------------------------------------------------------------------
async def _mcp(url: str, calls: list[tuple[str, dict[str, Any]]], token: str | None = None) -> Any:
    from mcp import ClientSession
    from mcp.client.streamable_http import streamablehttp_client

    headers = {"Authorization": f"Bearer {token}"} if token else None
    async with (
        streamablehttp_client(f"{url}gradio_api/mcp/", headers=headers) as (read, write, _),
        ClientSession(read, write) as session,
    ):
        await session.initialize()
        tools = await session.list_tools()
        results = [await session.call_tool(name, args) for name, args in calls]
        return tools.tools, results


def test_mcp_lists_the_read_only_tools_and_answers_with_citations(
    server: str, seed_assistant: Assistant
) -> None:
    calls = [
        ("ask", {"question": PAID}),
        ("search", {"query": "Nepali recruits salary", "k": 3}),
        ("list_documents", {}),
        ("search", {"query": "recruits", "k": 500}),
    ]
    tools, (asked, searched, listed, bad_k) = asyncio.run(_mcp(server, calls))
    by_name = {t.name: t for t in tools}
    assert set(by_name) == {"ask", "search", "list_documents"}  # no write tools
    assert "cited" in by_name["ask"].description and "search" in by_name["ask"].description
    assert set(by_name["search"].inputSchema["properties"]) == {
        "query", "k", "sources", "date_from", "date_to",
    }  # fmt: skip
    assert by_name["search"].inputSchema["required"] == ["query"]

    assert not asked.isError
    answer = json.loads(asked.content[0].text)
    assert answer["refused"] is False and "[1]" in answer["answer"]
    _check_citations(seed_assistant, answer["citations"])

    assert not searched.isError
    passages = json.loads(searched.content[0].text)["passages"]
    assert 1 <= len(passages) <= 3
    for p in passages:
        doc = seed_assistant.document(p["source"])
        assert doc is not None and doc.text[p["start"] : p["end"]] == p["text"]

    documents = json.loads(listed.content[0].text)["documents"]
    assert [d["path"] for d in documents] == [r.path for r in seed_assistant.documents()]

    assert bad_k.isError and "k must be a whole number from 1 to 50" in bad_k.content[0].text


def test_mcp_follow_up_and_filters(server: str) -> None:
    history = json.dumps([{"role": "user", "content": PAID}, {"role": "assistant", "content": "x"}])
    calls = [
        ("ask", {"question": "And who recruits them?", "history_json": history}),
        ("search", {"query": "recruits", "sources": ["no-such-article.md"]}),
        ("search", {"query": "recruits", "date_from": "tomorrow"}),
    ]
    _, (follow_up, none, bad_date) = asyncio.run(_mcp(server, calls))
    assert not follow_up.isError and "answer" in json.loads(follow_up.content[0].text)
    assert json.loads(none.content[0].text)["passages"] == []
    assert bad_date.isError and "YYYY-MM-DD" in bad_date.content[0].text


# -- OpenAI ----------------------------------------------------------------------------------
def _client(url: str, key: str = "unused") -> Any:
    return openai.OpenAI(base_url=f"{url}v1", api_key=key, max_retries=0, timeout=300)


def test_openai_client_gets_a_cited_answer(server: str, seed_assistant: Assistant) -> None:
    client = _client(server)
    assert [m.id for m in client.models.list()] == ["askfront", "askfront-extractive"]
    reply = client.chat.completions.create(
        model="askfront", messages=[{"role": "user", "content": PAID}]
    )
    content = reply.choices[0].message.content
    answer, sources = content.split("\n\nSources:\n")
    assert "[1]" in answer and sources.startswith("[1] ")
    citations = reply.model_extra["citations"]
    _check_citations(seed_assistant, citations)
    assert all(f"[{c['n']}]" in sources and c["quote"] in sources for c in citations)
    assert reply.model_extra["askfront"]["refused"] is False


def test_openai_client_gets_the_same_answer_streamed(server: str) -> None:
    client = _client(server)
    messages = [{"role": "user", "content": PAID}]
    whole = client.chat.completions.create(model="askfront-extractive", messages=messages)
    chunks = list(
        client.chat.completions.create(model="askfront-extractive", messages=messages, stream=True)
    )
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert len(chunks) >= 3
    assert text == whole.choices[0].message.content
    assert chunks[-1].choices[0].finish_reason == "stop"
    assert chunks[-1].model_extra["citations"] == whole.model_extra["citations"]


def test_openai_follow_up_uses_earlier_messages(server: str) -> None:
    client = _client(server)
    first = client.chat.completions.create(
        model="askfront", messages=[{"role": "user", "content": PAID}]
    )
    follow = client.chat.completions.create(
        model="askfront",
        messages=[
            {"role": "system", "content": "You are helpful."},  # ignored
            {"role": "user", "content": [{"type": "text", "text": PAID}]},
            {"role": "assistant", "content": first.choices[0].message.content},
            {"role": "user", "content": "Who recruits them?"},
        ],
    )
    assert follow.choices[0].message.content


def test_openai_bad_requests_get_clear_errors(server: str) -> None:
    client = _client(server)
    with pytest.raises(openai.NotFoundError, match="GET /v1/models lists askfront"):
        client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "Q"}])
    with pytest.raises(openai.BadRequestError, match="last message must be the user"):
        client.chat.completions.create(
            model="askfront", messages=[{"role": "assistant", "content": "Q"}]
        )
    history = [{"role": "user", "content": "x" * 15_000}, {"role": "assistant", "content": "y"}]
    with pytest.raises(openai.BadRequestError, match="ASKFRONT_MAX_HISTORY_CHARS"):
        client.chat.completions.create(
            model="askfront", messages=[*history, *history, {"role": "user", "content": PAID}]
        )
    with pytest.raises(openai.APIStatusError, match="the limit is") as err:
        client.chat.completions.create(
            model="askfront", messages=[{"role": "user", "content": "x" * 400_000}]
        )
    assert err.value.status_code == 413
    long = client.chat.completions.create(
        model="askfront", messages=[{"role": "user", "content": "why " * 1000}]
    )
    assert long.model_extra["askfront"]["refused"] is True
    assert "ASKFRONT_MAX_QUESTION_CHARS" in long.choices[0].message.content


def test_the_guard_covers_the_api_routes(server: str) -> None:
    import httpx

    body = {"model": "askfront", "messages": [{"role": "user", "content": PAID}]}
    url = f"{server}v1/chat/completions"
    evil = httpx.post(url, json=body, headers={"Origin": "https://evil.example"}, timeout=60)
    assert evil.status_code == 403 and "ASKFRONT_ALLOWED_HOSTS" in evil.text
    rebound = httpx.post(url, json=body, headers={"Host": "evil.example"}, timeout=60)
    assert rebound.status_code == 400
    mcp = httpx.post(f"{server}gradio_api/mcp/", json={}, headers={"Host": "evil.example"})
    assert mcp.status_code == 400
    page = {"Origin": "https://evil.example"}
    assert httpx.post(f"{server}gradio_api/mcp/", json={}, headers=page).status_code == 403


# -- auth ------------------------------------------------------------------------------------
def test_with_auth_both_apis_refuse_an_unauthenticated_call(locked: str) -> None:
    import httpx

    for key in ("unused", "ann:wrong"):
        with pytest.raises(openai.AuthenticationError, match="ASKFRONT_AUTH"):
            _client(locked, key).chat.completions.create(
                model="askfront", messages=[{"role": "user", "content": PAID}]
            )
        with pytest.raises(openai.AuthenticationError):
            _client(locked, key).models.list()
    with pytest.raises(BaseException) as err:  # the SDK raises it inside a task group
        asyncio.run(_mcp(locked, [("ask", {"question": PAID})]))
    assert "401 Unauthorized" in repr(err.value)
    refused = httpx.post(f"{locked}gradio_api/mcp/", json={}, timeout=60)
    assert refused.status_code == 401
    # The page keeps Gradio's login form, and its API its login.
    assert httpx.get(locked, timeout=60).status_code == 200
    body = {"data": [PAID, "[]"], "session_hash": "x"}
    api = httpx.post(f"{locked}gradio_api/run/ask", json=body, timeout=60)
    assert api.status_code == 401


def test_with_auth_the_token_opens_both_apis(locked: str) -> None:
    reply = _client(locked, TOKEN).chat.completions.create(
        model="askfront", messages=[{"role": "user", "content": PAID}]
    )
    assert reply.model_extra["citations"]
    _, (asked,) = asyncio.run(_mcp(locked, [("ask", {"question": PAID})], token=TOKEN))
    assert not asked.isError and json.loads(asked.content[0].text)["citations"]


def test_a_body_without_a_length_is_still_bounded(server: str) -> None:
    import httpx

    def chunks() -> Any:  # sent chunked: no Content-Length for the gate to read
        yield b'{"model": "askfront", "messages": [{"role": "user", "content": "'
        for _ in range(100):
            yield b"x" * 10_000
        yield b'"}]}'

    for path in ("v1/chat/completions", "gradio_api/mcp/"):
        refused = httpx.post(f"{server}{path}", content=chunks(), timeout=60)
        assert refused.status_code == 413, path
        assert "ASKFRONT_MAX_QUESTION_CHARS" in refused.json()["error"]["message"]


def test_openai_as_of_reads_relative_dates(server: str) -> None:
    client = _client(server)
    asked = [{"role": "user", "content": "Which articles were published last week?"}]
    week = client.chat.completions.create(
        model="askfront", messages=asked, extra_body={"as_of": "2024-03-04"}
    )
    text = week.choices[0].message.content or ""
    assert "from 2024-02-26 to 2024-03-03" in text and week.model_extra["citations"]
    later = client.chat.completions.create(
        model="askfront", messages=asked, extra_body={"as_of": "2024-06-01"}
    )
    assert "from 2024-05-20 to 2024-05-26" in (later.choices[0].message.content or "")
    assert not later.model_extra["citations"]
    with pytest.raises(openai.BadRequestError, match="YYYY-MM-DD"):
        client.chat.completions.create(
            model="askfront", messages=asked, extra_body={"as_of": "next Tuesday"}
        )
