"""The web chat's session across reloads (the browser's stored copy) and its thumbs up/down
feedback: a JSONL file that `askfront eval` reads as a test set, end to end."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

gr = pytest.importorskip("gradio")

from askfront.core.config import Settings  # noqa: E402
from askfront.core.options import AskOptions  # noqa: E402
from askfront.core.types import Answer, Citation  # noqa: E402
from askfront.evaluation.testset import load_testset  # noqa: E402
from askfront.web.cards import export_markdown, plain_text, short_title  # noqa: E402
from askfront.web.chat import WebChat  # noqa: E402
from askfront.web.filters import corpus_line, filter_chips, refusal_hint  # noqa: E402
from askfront.web.session import KEEP_ANSWERS, ChatState, from_store, to_store  # noqa: E402
from fakes import FakeAssistant  # noqa: E402

LEGION = "How many foreigners serve in Ukraine's international legion?"


def _final(events: Any) -> Any:
    *_, last = events
    return last


def test_the_stored_session_comes_back_whole(fake_assistant: FakeAssistant) -> None:
    chat = WebChat(fake_assistant, fake_assistant.settings)
    _, history, state, _ = _final(chat.respond(LEGION, [], None))
    _, history, state, _ = _final(chat.respond("And the Nepali recruits?", history, state))
    stored = json.loads(json.dumps(chat.store(history, state)))  # as the browser keeps it
    again, restored, panel = chat.restore(stored)
    assert again == history
    assert restored.turns == state.turns and restored.questions == state.questions
    assert restored.message_ids == state.message_ids and restored.next_id == 2
    assert [c.quote for c in restored.answers[0].citations] == [
        c.quote for c in state.answers[0].citations
    ]
    assert 'href="#cite-1-c1"' in panel  # the latest answer's sources
    assert "<mark" in chat.show_citation(restored, "0-c1")  # its citations still open


@pytest.mark.parametrize("stored", [None, "junk", {"v": 99}, {"v": 1, "chat": 3}])
def test_an_unreadable_stored_session_is_a_fresh_chat(stored: Any) -> None:
    chat, state = from_store(stored)
    assert chat == [] and state.answers == {} and state.turns == []


def test_the_browser_keeps_only_the_latest_answers() -> None:
    state, chat = ChatState(), []
    for i in range(KEEP_ANSWERS + 5):
        chat += [{"role": "user", "content": f"q{i}"}, {"role": "assistant", "content": f"a{i}"}]
        state.answers[i] = Answer(text=f"a{i}")
        state.questions[i] = f"q{i}"
        state.message_ids[len(chat) - 1] = i
    again, restored = from_store(to_store(chat, state))
    assert sorted(restored.answers) == list(range(5, KEEP_ANSWERS + 5))
    assert again[0] == {"role": "user", "content": "q5"}
    assert restored.message_ids[1] == 5  # indexes follow the shortened chat


def test_copy_and_export_give_plain_text_with_numbered_sources() -> None:
    title = "Ukraine Foreign Fighters Mostly From US, Europe, Motivated By Ideals. More words"
    c = Citation(1, "a.md", title, "2024-02-28", 0, 9, "It cost $2,000.", 0.8)
    answer = Answer(text="It cost $2,000 [1].", citations=[c])
    assert (
        short_title(title, "a.md")
        == "Ukraine Foreign Fighters Mostly From US, Europe, Motivated By Ideals"
    )
    assert plain_text(answer) == (
        "It cost $2,000 [1].\n\nSources:\n"
        "[1] Ukraine Foreign Fighters Mostly From US, Europe, Motivated By Ideals "
        "(28 Feb 2024), a.md: “It cost $2,000.”"
    )
    md = export_markdown([("What did *it* cost?", answer)])
    assert "## Q: What did \\*it\\* cost?" in md and "It cost $2,000 [1]." in md
    assert "**Sources**" in md and "- [1] Ukraine Foreign Fighters" in md


def test_filters_show_as_chips_and_explain_a_refusal() -> None:
    options = AskOptions(sources=["a.md"], date_from="2025-01-01")
    assert "only a.md" in filter_chips(options) and "from 1 Jan 2025" in filter_chips(options)
    assert filter_chips(AskOptions()) == "" and refusal_hint(AskOptions()) is None
    hint = refusal_hint(options)
    assert hint is not None and "from 1 Jan 2025" in hint and "Clear the filters" in hint


def test_the_corpus_in_one_line(fake_assistant: FakeAssistant) -> None:
    fake_assistant.reindex()
    assert corpus_line(fake_assistant.documents()) == "1 article, 28 Feb 2024"
    assert corpus_line([]).startswith("No articles indexed yet")


def test_a_refusal_under_a_filter_says_the_filter_may_be_why(
    fake_assistant: FakeAssistant,
) -> None:
    chat = WebChat(fake_assistant, fake_assistant.settings)
    q = "What is the capital of Australia?"
    _, history, _, _ = _final(chat.respond(q, [], None, None, 5, True, [], "2025-01-01", None))
    assert "A filter is on (from 1 Jan 2025)" in history[-1]["content"]


# -- end to end: the real model and index, the eval CLI ---------------------------------------
@pytest.mark.e2e
@pytest.mark.slow
def test_thumbs_become_a_test_set_that_askfront_eval_runs(
    seed_assistant: Any, seed_index: Settings, tmp_path: Path
) -> None:
    feedback = tmp_path / "feedback.jsonl"
    settings = seed_index.model_copy(update={"feedback_file": feedback})
    chat = WebChat(seed_assistant, settings)
    _, history, state, _ = _final(chat.respond(LEGION, [], None))
    _, history, state, _ = _final(chat.respond("What is the capital of Australia?", history, state))
    _, history, state, _ = _final(
        chat.respond("How much are Nepali recruits paid?", history, state)
    )
    assert state.answers[1].refused and not state.answers[0].refused
    chat.rate(state, 1, True)  # the answer on the legion: right
    chat.rate(state, 3, True)  # the refusal: right too
    chat.rate(state, 5, False)  # the Nepali pay: wrong, say
    lines = [json.loads(line) for line in feedback.read_text(encoding="utf-8").splitlines()]
    assert [line["rating"] for line in lines] == ["up", "up", "down"]
    assert lines[0]["question"] == LEGION and lines[0]["answerable"] is True
    assert "20,000" in lines[0]["answers"][0] and "[1]" not in lines[0]["answers"][0]
    assert lines[1]["answerable"] is False and lines[1]["answers"] == []
    assert lines[2]["history"] == state.asked_with[2] and "answers" not in lines[2]

    items = load_testset(feedback)  # the thumbs-down is skipped until it has an answer
    assert [i.question for i in items] == [LEGION, "What is the capital of Australia?"]

    out = tmp_path / "eval.json"
    proc = subprocess.run(
        [sys.executable, "-m", "askfront.cli", "eval", str(feedback), "--index",
         str(seed_index.index_dir), "--json", str(out)],
        capture_output=True, text=True,
        env={**os.environ, "ASKFRONT_CORPUS_DIR": str(seed_index.corpus_dir)},
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    metrics = json.loads(out.read_text())["metrics"]
    assert metrics["accuracy"] == 1.0 and metrics["refusal_f1"] == 1.0, metrics

    # Writing the right answer into the thumbs-down line makes it a case too.
    lines[2]["answers"], lines[2]["answerable"] = ["$2,000"], True
    feedback.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
    assert len(load_testset(feedback)) == 3
