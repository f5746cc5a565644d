"""Answer checks shared by the reliability tests: a well-formed answer, what a reader sees."""

from __future__ import annotations

from askfront.assistant import Assistant
from askfront.core.types import Answer


def assert_well_formed(assistant: Assistant, answer: Answer) -> None:
    """The documented JSON structure, a non-empty text, and every quote exact."""
    data = answer.to_json()
    assert set(data) >= {"answer", "refused", "citations", "timings_ms", "sentences", "notice"}
    assert answer.text.strip()
    assert answer.refused or answer.citations
    for c in answer.citations + answer.related:
        doc = assistant.document(c.source)
        assert doc is not None and doc.text[c.start : c.end] == c.quote


def gist(answer: Answer) -> tuple[str, bool, list[str]]:
    """What a reader sees of an answer: its text, whether it refused, and what it quotes."""
    return answer.text, answer.refused, [c.quote for c in answer.citations]
