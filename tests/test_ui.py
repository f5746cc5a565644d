"""The web chat's behaviour without a browser: helpers, handlers (over FakeAssistant), API."""

from __future__ import annotations

import html
import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import pytest

from netutil import free_port as _free_port

gr = pytest.importorskip("gradio")

from askfront.core.config import Settings  # noqa: E402
from askfront.core.errors import (  # noqa: E402
    ConfigError,
    IndexLockedError,
    IndexNotFoundError,
    QuestionError,
)
from askfront.core.history import parse_history  # noqa: E402
from askfront.core.types import Answer, AnswerSentence, Citation  # noqa: E402
from askfront.corpus.files import safe_corpus_path  # noqa: E402
from askfront.web import serve as web_serve  # noqa: E402
from askfront.web.app import build_app  # noqa: E402
from askfront.web.chat import GENERIC_ERROR, ChatState, WebChat, ask_options  # noqa: E402
from askfront.web.render import (  # noqa: E402
    SOURCES_EMPTY,
    UNSUPPORTED,
    VIEWER_EMPTY,
    md_escape,
    render_answer,
    render_document,
    render_sources,
)
from askfront.web.serve import check_bind, launch_options, serve  # noqa: E402
from conftest import DEFAULT_ARTICLE, FakeAssistant  # noqa: E402

LEGION_QUESTION = "How many foreigners serve in Ukraine's international legion?"


def _citation(n: int = 1, **kw: Any) -> Citation:
    base = dict(
        source="a.md", title="A title", date="2024-02-28", start=0, end=5, quote="Hello", score=0.5
    )
    return Citation(n=n, **{**base, **kw})  # type: ignore[arg-type]


def _final(events: Iterator[tuple[Any, ...]]) -> tuple[Any, ...]:
    *_, last = list(events)
    return last


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


# -- input parsing ---------------------------------------------------------------------------
def test_parse_history_accepts_turns_and_empty() -> None:
    turns = [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello [1]"}]
    assert parse_history(json.dumps(turns), max_chars=1000) == turns
    assert parse_history("", max_chars=1000) == []
    assert parse_history("[]", max_chars=1000) == []


@pytest.mark.parametrize(
    "bad", ["{", '{"role": "user"}', '[{"role": "system", "content": "x"}]', '[{"role": "user"}]']
)
def test_parse_history_rejects_bad_json_with_a_message(bad: str) -> None:
    with pytest.raises(QuestionError, match="history_json"):
        parse_history(bad, max_chars=1000)


def test_ask_options_normalizes_the_settings_panel() -> None:
    assert ask_options("extractive", 7.0, False, ["a.md"], " 2024-02-01 ", "") == {
        "mode": "extractive",
        "top_k": 7,
        "hybrid": False,
        "sources": ["a.md"],
        "date_from": "2024-02-01",
        "date_to": None,
    }
    assert ask_options()["sources"] is None


@pytest.mark.parametrize(
    ("start", "end", "message"),
    [("28/02/2024", "", "YYYY-MM-DD"), ("2024-03-01", "2024-02-01", "empty")],
)
def test_ask_options_rejects_bad_dates(start: str, end: str, message: str) -> None:
    with pytest.raises(QuestionError, match=message):
        ask_options(date_from=start, date_to=end)


# -- rendering -------------------------------------------------------------------------------
def test_md_escape_keeps_markup_literal() -> None:
    escaped = md_escape("<img src=x onerror=alert(1)> *bold* [link](http://x) $5")
    assert "<img" not in escaped
    assert "&lt;img" in escaped
    assert "\\*bold\\*" in escaped
    assert "\\[link\\]\\(http\\://x\\)" in escaped
    assert "\\$5" in escaped


def test_render_answer_links_known_markers_and_names_sources() -> None:
    answer = Answer(
        text="Fact one [1]. Fact two [2]. Not a marker [9].",
        citations=[_citation(1), _citation(2, source="b.md", title=None, date=None)],
    )
    md = render_answer(answer, 4)
    assert "[\\[1\\]](#cite-4-c1)" in md
    assert "[\\[2\\]](#cite-4-c2)" in md
    assert "#cite-4-c9" not in md and "\\[9\\]" in md
    assert "**Sources:** *A title* (2024\\-02\\-28) · *b.md* (undated)" in md


def test_render_answer_lists_each_source_once() -> None:
    answer = Answer(text="x [1] y [2]", citations=[_citation(1), _citation(2)])
    assert render_answer(answer, 0).count("*A title*") == 1


def test_render_answer_flags_unsupported_sentences_and_shows_notice() -> None:
    answer = Answer(
        text="Backed claim [1]. Invented claim [1].",
        citations=[_citation(1)],
        sentences=[
            AnswerSentence("Backed claim [1].", [1]),
            AnswerSentence("Invented claim [1].", [1], supported=False, support_score=0.1),
            AnswerSentence("Rewritten elsewhere.", [], supported=False),
        ],
        notice="The LLM timed out; this is the extractive answer.",
        mode="ollama:x",
    )
    md = render_answer(answer, 0)
    first, second = md.split(UNSUPPORTED, 1)
    assert "Invented claim" in first and "Backed claim" in first
    assert first.index("Invented claim") > first.index("Backed claim")
    assert md.count(UNSUPPORTED) == 2
    assert "“Rewritten elsewhere.”" in second
    assert "The LLM timed out" in md


def test_render_refusal_lists_related_reading_as_links() -> None:
    answer = Answer(
        text="The articles don't say.", refused=True, related=[_citation(1), _citation(2)]
    )
    md = render_answer(answer, 3)
    assert md.startswith("The articles don't say.")
    assert "**Related reading:**" in md
    assert "(#cite-3-r1)" in md and "(#cite-3-r2)" in md
    panel = render_sources(answer, 3)
    assert "Related passages" in panel and 'href="#cite-3-r2"' in panel


def test_render_sources_escapes_and_shows_every_field() -> None:
    c = _citation(1, title="<b>Bold</b> & co", source="x/<y>.md", score=0.81234, page=3)
    panel = render_sources(Answer(text="t [1]", citations=[c]), 2)
    assert 'href="#cite-2-c1"' in panel
    assert "&lt;b&gt;Bold&lt;/b&gt; &amp; co" in panel and "<b>Bold" not in panel
    assert "x/&lt;y&gt;.md" in panel
    assert "2024-02-28" in panel and "0.812" in panel and "page 3" in panel
    assert render_sources(None, 0) == SOURCES_EMPTY


def test_render_document_marks_the_exact_span_and_escapes_everything() -> None:
    text = "<script>x()</script> Before. The cited <i>part</i>. After & more."
    start = text.index("The cited")
    end = text.index(". After") + 1
    c = _citation(start=start, end=end, quote=text[start:end])
    page = render_document(text, "<T>", "2024-01-01", c)
    assert '<mark id="cite-mark">The cited &lt;i&gt;part&lt;/i&gt;.</mark>' in page
    assert "&lt;script&gt;x()&lt;/script&gt;" in page and "<script>" not in page
    assert "&lt;T&gt;" in page and "After &amp; more." in page


def test_render_document_finds_a_moved_quote_or_says_it_is_gone() -> None:
    text = "New intro. The quote."
    moved = render_document(text, None, None, _citation(start=0, end=10, quote="The quote."))
    assert '<mark id="cite-mark">The quote.</mark>' in moved
    gone = render_document(text, None, None, _citation(start=0, end=4, quote="Vanished."))
    assert "cite-mark" not in gone and "no longer in it" in gone


# -- handlers over the fake Assistant --------------------------------------------------------
def test_respond_streams_then_links_citations(fake_assistant: FakeAssistant) -> None:
    chat = WebChat(fake_assistant, fake_assistant.settings)
    events = list(chat.respond(LEGION_QUESTION, [], None, "extractive", 5, True, [], "", ""))
    streamed = [e[1][-1]["content"] for e in events[1:-1]]
    assert streamed and all(s.endswith("▌") for s in streamed)
    box, history, state, panel = events[-1]
    assert box == ""
    assert history[0] == {"role": "user", "content": md_escape(LEGION_QUESTION)}
    reply = history[-1]["content"]
    assert "[\\[1\\]](#cite-0-c1)" in reply and "**Sources:**" in reply
    assert 'href="#cite-0-c1"' in panel
    answer = state.answers[0]
    assert state.turns == [
        {"role": "user", "content": LEGION_QUESTION},
        {"role": "assistant", "content": answer.text},
    ]


def test_follow_up_sends_earlier_turns_and_options(fake_assistant: FakeAssistant) -> None:
    chat = WebChat(fake_assistant, fake_assistant.settings)
    name = DEFAULT_ARTICLE.name
    _, history, state, _ = _final(chat.respond(LEGION_QUESTION, [], None))
    _final(
        chat.respond(
            "And the Nepali recruits?", history, state, "fake:llm", 3, False, [name], "", ""
        )
    )
    second = fake_assistant.calls[-1]
    assert second["history"] == state.turns[:2]
    assert second["mode"] == "fake:llm" and second["top_k"] == 3 and second["hybrid"] is False
    assert second["sources"] == [name]
    assert len(state.answers) == 2


def test_empty_question_is_not_sent(fake_assistant: FakeAssistant) -> None:
    chat = WebChat(fake_assistant, fake_assistant.settings)
    with pytest.warns(UserWarning, match="Type a question"):
        events = list(chat.respond("   ", [], None))
    assert len(events) == 1 and events[0][1] == [] and fake_assistant.calls == []


def test_known_errors_become_the_reply(fake_assistant: FakeAssistant) -> None:
    fake_assistant.fail = IndexNotFoundError("No index yet. Run `askfront index`.")
    chat = WebChat(fake_assistant, fake_assistant.settings)
    with pytest.warns(UserWarning, match="No index yet"):
        _, history, state, _ = _final(chat.respond("Anything?", [], None))
    assert history[-1]["content"] == "⚠ " + md_escape("No index yet. Run `askfront index`.")
    assert state.turns == []  # a failed turn is not sent as history later


def test_unexpected_errors_are_logged_and_shown_briefly(
    fake_assistant: FakeAssistant, caplog: pytest.LogCaptureFixture
) -> None:
    fake_assistant.fail = RuntimeError("secret internals")
    chat = WebChat(fake_assistant, fake_assistant.settings)
    with pytest.warns(UserWarning), caplog.at_level(logging.ERROR, logger="askfront.web.app"):
        _, history, _, _ = _final(chat.respond("Anything?", [], None))
    assert "secret internals" not in history[-1]["content"]
    assert md_escape(GENERIC_ERROR) in history[-1]["content"]
    assert "secret internals" in caplog.text


def test_bad_dates_are_reported_without_asking(fake_assistant: FakeAssistant) -> None:
    chat = WebChat(fake_assistant, fake_assistant.settings)
    with pytest.warns(UserWarning, match="YYYY-MM-DD"):
        _, history, _, _ = _final(chat.respond("Q?", [], None, None, 5, True, [], "soon", ""))
    assert "YYYY\\-MM\\-DD" in history[-1]["content"] and fake_assistant.calls == []


def test_show_citation_opens_the_document_at_the_quote(fake_assistant: FakeAssistant) -> None:
    chat = WebChat(fake_assistant, fake_assistant.settings)
    _, _, state, _ = _final(chat.respond(LEGION_QUESTION, [], None))
    cited = state.answers[0].citations[0]
    page = chat.show_citation(state, "0-c1")
    text = DEFAULT_ARTICLE.read_text(encoding="utf-8")
    assert text[cited.start : cited.end] == cited.quote
    assert f'<mark id="cite-mark">{html.escape(cited.quote)}</mark>' in page
    with pytest.warns(UserWarning, match="earlier chat"):
        assert "earlier chat" in chat.show_citation(ChatState(), "0-c1")
    with pytest.warns(UserWarning, match=r"no citation \[7\]"):
        chat.show_citation(state, "0-c7")


def test_new_chat_forgets_everything(fake_assistant: FakeAssistant) -> None:
    chat = WebChat(fake_assistant, fake_assistant.settings)
    history, state, panel, viewer, box = chat.new_chat()
    assert history == [] and state.turns == [] and state.answers == {}
    assert panel == SOURCES_EMPTY and viewer == VIEWER_EMPTY and box == ""


def test_api_ask_returns_the_json_structure(fake_assistant: FakeAssistant) -> None:
    chat = WebChat(fake_assistant, fake_assistant.settings)
    turns = [{"role": "user", "content": "Earlier"}, {"role": "assistant", "content": "Yes."}]
    data = anyio.run(chat.api_ask, LEGION_QUESTION, json.dumps(turns))
    assert data["refused"] is False and data["citations"][0]["n"] == 1
    assert fake_assistant.calls[-1]["history"] == turns
    refused = anyio.run(chat.api_ask, "Q?", "not json")
    assert refused["refused"] is True and "history_json" in refused["notice"]


def test_api_answers_one_at_a_time_in_arrival_order(fake_assistant: FakeAssistant) -> None:
    """Extractive /ask answers are admitted one at a time, first come, first served."""
    import threading
    import time

    chat = WebChat(fake_assistant, fake_assistant.settings)
    order: list[str] = []
    inside, peak = [0], [0]
    lock = threading.Lock()
    real_ask = fake_assistant.ask

    def slow_ask(question: str, history: Any = ()) -> Any:
        with lock:
            inside[0] += 1
            peak[0] = max(peak[0], inside[0])
            order.append(question)
        time.sleep(0.02)
        with lock:
            inside[0] -= 1
        return real_ask(question, history)

    fake_assistant.ask = slow_ask  # type: ignore[method-assign]

    async def clients() -> None:
        async with anyio.create_task_group() as tg:
            for n in range(6):
                tg.start_soon(chat.api_ask, f"{LEGION_QUESTION} #{n}")
                await anyio.sleep(0.005)  # arrive in order, while the first still runs

    anyio.run(clients)
    assert peak[0] == 1
    assert order == [f"{LEGION_QUESTION} #{n}" for n in range(6)]


# -- corpus management -----------------------------------------------------------------------
def test_uploads_are_saved_under_safe_names(fake_assistant: FakeAssistant, tmp_path: Path) -> None:
    settings = fake_assistant.settings
    chat = WebChat(fake_assistant, settings)
    incoming = tmp_path / "incoming"
    incoming.mkdir()
    good = incoming / "My Notes (draft).md"
    good.write_text("# Notes\nThe Zorblatt Festival took place in Quexville.", encoding="utf-8")
    wrong_type = incoming / "tool.exe"
    wrong_type.write_bytes(b"MZ")
    hidden = incoming / ".secret.md"
    hidden.write_text("x", encoding="utf-8")
    with pytest.warns(UserWarning):
        status = chat.save_uploads([str(good), str(wrong_type), str(hidden)])
    expected = safe_corpus_path(settings.corpus_dir, good.name).name
    assert " " not in expected and "(" not in expected  # the sanitizer's own rules
    saved = sorted(p.name for p in settings.corpus_dir.iterdir())
    assert saved == sorted([DEFAULT_ARTICLE.name, expected])
    assert (settings.corpus_dir / expected).read_bytes() == good.read_bytes()
    assert md_escape(expected) in status and "Rebuild index" in status
    assert "tool.exe was not saved" in status and ".secret.md was not saved" in status


def test_uploads_over_the_limit_are_refused(fake_assistant: FakeAssistant, tmp_path: Path) -> None:
    settings = fake_assistant.settings.model_copy(update={"max_upload_mb": 0.001})
    chat = WebChat(fake_assistant, settings)
    big = tmp_path / "big.txt"
    big.write_text("x" * 5000, encoding="utf-8")
    with pytest.warns(UserWarning, match="upload limit is 0.001 MB"):
        status = chat.save_uploads([str(big)])
    assert "ASKFRONT\\_MAX\\_UPLOAD\\_MB" in status
    assert not (settings.corpus_dir / "big.txt").exists()


def test_rebuild_reports_progress_files_and_documents(fake_assistant: FakeAssistant) -> None:
    settings = fake_assistant.settings
    (settings.corpus_dir / "zorblatt.md").write_text("# Zorblatt\nIt rained.", encoding="utf-8")
    seen: list[tuple[Any, str | None]] = []

    class Recorder:
        def __call__(self, progress: Any, desc: str | None = None, **_: Any) -> None:
            seen.append((progress, desc))

    chat = WebChat(fake_assistant, settings)
    rows, summary, docs, filter_update, delete_update = chat.rebuild(Recorder())  # type: ignore[arg-type]
    assert ["zorblatt.md", "added", 2, ""] in rows
    assert [DEFAULT_ARTICLE.name, "unchanged"] == rows[0][:2]
    assert "1 added" in summary and "1 unchanged" in summary
    assert seen[-1] == ((2, 2), "Embedding chunks")
    assert sorted(r[0] for r in docs) == sorted([DEFAULT_ARTICLE.name, "zorblatt.md"])
    assert sorted(filter_update["choices"]) == sorted(r[0] for r in docs)
    assert delete_update["value"] is None


def test_rebuild_while_locked_says_so(fake_assistant: FakeAssistant) -> None:
    class Locked(FakeAssistant):
        def reindex(self, **_: Any) -> Any:
            raise IndexLockedError("Another rebuild is running; try again when it ends.")

    chat = WebChat(Locked(fake_assistant.settings), fake_assistant.settings)
    with pytest.warns(UserWarning, match="Another rebuild"):
        rows, summary, *_ = chat.rebuild()
    assert rows == [] and "Another rebuild is running" in summary


def test_delete_removes_the_file_and_reindexes(fake_assistant: FakeAssistant) -> None:
    settings = fake_assistant.settings
    (settings.corpus_dir / "old.md").write_text("# Old\nGone soon.", encoding="utf-8")
    fake_assistant.reindex()
    chat = WebChat(fake_assistant, settings)
    rows, summary, docs, *_ = chat.delete("old.md")
    assert not (settings.corpus_dir / "old.md").exists()
    assert ["old.md", "deleted", 0, ""] in rows and "Deleted old.md" in summary
    assert [r[0] for r in docs] == [DEFAULT_ARTICLE.name]
    with pytest.warns(UserWarning, match="not a file"):
        _, summary, *_ = chat.delete("../outside.md")
    assert "not a file" in summary


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
    assert list(endpoints["named_endpoints"]) == ["/ask"]


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
