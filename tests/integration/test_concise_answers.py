"""Concise answers (issue 15, item 3) through the real Assistant on the default article: a
long sentence is quoted from the clause holding the answering phrase, the clause cited to
its exact character span in the document, the "…" outside the quote."""

from __future__ import annotations

from typing import Any

import pytest

from askfront.core.types import Answer
from askfront.grounding.markers import strip_markers

# Questions whose answering sentence is long (> 20 words).
QUESTIONS = [
    "Who is the Kremlin spokesman?",
    "How many Nepalis have been killed?",
    "How many Indians were recruited by the Russian military?",
    "How much are Nepalis paid?",
    "Who said nothing should be ruled out?",
    "How many European leaders met in Paris?",
    "How old is Ramchandra Khadka?",
    "Which news network did Ramchandra Khadka talk to?",
]


def document_text(assistant: Any, source: str) -> str:
    doc = assistant.document(source)
    assert doc is not None
    return str(doc.text)


@pytest.fixture(scope="module")
def answers(seed_assistant: Any) -> dict[str, Answer]:
    return {q: seed_assistant.ask(q) for q in QUESTIONS}


def test_clipped_quotes_are_verbatim_and_exactly_cited(
    seed_assistant: Any, answers: dict[str, Answer]
) -> None:
    clipped = 0
    for question, answer in answers.items():
        assert not answer.refused, question
        for s, c in zip(answer.sentences, answer.citations, strict=True):
            text = document_text(seed_assistant, c.source)
            assert text[c.start : c.end] == c.quote, question
            assert s.text == c.quote
            before, after = ("…" if cut else "" for cut in s.elided)
            assert f"{before}{c.quote}{after} [{c.n}]" in answer.text, answer.text
            if any(s.elided):
                clipped += 1
                # The clause is part of a sentence that goes on where "…" says: a clause
                # break is next to it there.
                if s.elided[0]:
                    assert text[: c.start].rstrip()[-1] in ",;—–-", c.quote
                if s.elided[1]:
                    assert text[c.end : c.end + 2].strip()[:1] in ",;—–-", c.quote
                assert s.answer_span is not None
    assert clipped >= 1, "no answer on the default article was cut to a clause"


def test_the_cut_keeps_the_fact_and_shortens_the_answer(answers: dict[str, Answer]) -> None:
    facts = {
        "Who is the Kremlin spokesman?": "Dmitry Peskov",
        "How many Nepalis have been killed?": "14",
        "Which news network did Ramchandra Khadka talk to?": "CNN",  # another name is kept
    }
    for question, fact in facts.items():
        assert fact in strip_markers(answers[question].text), answers[question].text
    words = sorted(len(strip_markers(a.text).split()) for a in answers.values())
    assert words[len(words) // 2] <= 30, words
