"""The web chat's warm start: before the server says it is running, it has answered once
(benchmarks/web_first_answer.py measures what that saves)."""

from __future__ import annotations

import pytest

pytest.importorskip("gradio")

from askfront.core.config import Settings
from askfront.web.serve import WARM_UP_QUESTION, _warm_up
from fakes import FakeAssistant


def test_warm_up_answers_one_searching_question(fake_assistant: FakeAssistant) -> None:
    fake_assistant.retriever = lambda: None  # type: ignore[method-assign,assignment,return-value]
    _warm_up(fake_assistant)
    assert [c["question"] for c in fake_assistant.calls] == [WARM_UP_QUESTION]
    assert fake_assistant.calls[0]["mode"] == "extractive"  # never a slow or paid LLM call


def test_warm_up_without_an_index_only_warns(
    settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    unindexed = FakeAssistant(settings)
    _warm_up(unindexed)  # no index built: the server still starts
    assert "No index" in caplog.text and "Build it in the Corpus tab" in caplog.text
    assert unindexed.calls == []
