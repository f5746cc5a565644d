"""The web chat's behaviour without a browser: input parsing, WebChat's handlers, the corpus tab.

Handlers run over conftest's FakeAssistant. Rendering is in test_ui_render.py; binding and
the app served in-process are in test_ui_serve.py.
"""

from __future__ import annotations

import html
import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import pytest

from attackutil import LEGION as LEGION_QUESTION

gr = pytest.importorskip("gradio")

from askfront.core.errors import IndexLockedError, IndexNotFoundError, QuestionError  # noqa: E402
from askfront.core.history import parse_history  # noqa: E402
from askfront.core.options import AskOptions  # noqa: E402
from askfront.corpus.files import safe_corpus_path  # noqa: E402
from askfront.web.chat import GENERIC_ERROR, ChatState, WebChat, ask_options  # noqa: E402
from askfront.web.render import SOURCES_EMPTY, VIEWER_EMPTY, md_escape  # noqa: E402
from fakes import FakeAssistant  # noqa: E402
from paths import DEFAULT_ARTICLE  # noqa: E402


def _final(events: Iterator[tuple[Any, ...]]) -> tuple[Any, ...]:
    *_, last = list(events)
    return last


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
    assert ask_options("extractive", 7.0, False, ["a.md"], " 2024-02-01 ", "") == AskOptions(
        mode="extractive", top_k=7, hybrid=False, sources=("a.md",), date_from="2024-02-01"
    )
    assert ask_options().sources is None
    assert ask_options("", 0, None, [], "", "") == AskOptions()


@pytest.mark.parametrize(
    ("start", "end", "message"),
    [("28/02/2024", "", "YYYY-MM-DD"), ("2024-03-01", "2024-02-01", "empty")],
)
def test_ask_options_rejects_bad_dates(start: str, end: str, message: str) -> None:
    with pytest.raises(QuestionError, match=message):
        ask_options(None, None, None, None, start, end)
    with pytest.raises(QuestionError, match=message):
        AskOptions(date_from=start, date_to=end)


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
    assert 'href="#cite-0-c1"' in reply and '<li class="af-card">' in reply
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
    assert second["sources"] == (name,)
    assert len(state.answers) == 2


def test_empty_question_is_not_sent(fake_assistant: FakeAssistant) -> None:
    chat = WebChat(fake_assistant, fake_assistant.settings)
    with pytest.warns(UserWarning, match="Type a question"):
        events = list(chat.respond("   ", [], None))
    assert len(events) == 1 and events[0][1] == [] and fake_assistant.calls == []


def test_known_errors_become_the_reply(fake_assistant: FakeAssistant) -> None:
    fake_assistant.fail = IndexNotFoundError("No index yet. Run `askfront index`.")
    chat = WebChat(fake_assistant, fake_assistant.settings)
    _, history, state, _ = _final(chat.respond("Anything?", [], None))  # no toast as well
    assert history[-1]["content"] == "⚠ " + md_escape("No index yet. Run `askfront index`.")
    assert state.turns == []  # a failed turn is not sent as history later


def test_unexpected_errors_are_logged_and_shown_briefly(
    fake_assistant: FakeAssistant, caplog: pytest.LogCaptureFixture
) -> None:
    fake_assistant.fail = RuntimeError("secret internals")
    chat = WebChat(fake_assistant, fake_assistant.settings)
    with caplog.at_level(logging.ERROR, logger="askfront.web.app"):
        _, history, _, _ = _final(chat.respond("Anything?", [], None))
    assert "secret internals" not in history[-1]["content"]
    assert md_escape(GENERIC_ERROR) in history[-1]["content"]
    assert "secret internals" in caplog.text


def test_bad_dates_are_reported_without_asking(fake_assistant: FakeAssistant) -> None:
    chat = WebChat(fake_assistant, fake_assistant.settings)
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
    history, state, panel, viewer, box, stored, _ = chat.new_chat()
    assert stored is None
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
    rows, summary, docs, filter_update, delete_update, corpus = chat.rebuild(Recorder())  # type: ignore[arg-type]
    assert ["zorblatt.md", "added", 2, ""] in rows
    assert [DEFAULT_ARTICLE.name, "unchanged"] == rows[0][:2]
    assert "1 added" in summary and "1 unchanged" in summary
    assert seen[-1] == ((2, 2), "Embedding chunks")
    assert sorted(r[0] for r in docs) == sorted([DEFAULT_ARTICLE.name, "zorblatt.md"])
    assert sorted(filter_update["choices"]) == sorted(r[0] for r in docs)
    assert delete_update["value"] is None
    assert corpus.startswith("2 articles, ")  # the corpus line above the chat


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
