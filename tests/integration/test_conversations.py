"""The conversations of issue 15, replayed through the real Assistant (bundled embedding
model, real Chroma in a temp folder, the default corpus): each turn gets a cited, on-point
answer or an honest refusal, and a refused turn never poisons the ones after it."""

from __future__ import annotations

from typing import Any

import pytest

from askfront.answering.extractive.sentence import is_fragment
from askfront.core.types import Answer, Turn


def replay(assistant: Any, *questions: str) -> list[Answer]:
    """Ask `questions` in one chat, each with the turns before it as history."""
    history: list[Turn] = []
    answers = []
    for q in questions:
        answer = assistant.ask(q, history)
        answers.append(answer)
        history += [{"role": "user", "content": q}, {"role": "assistant", "content": answer.text}]
    return answers


def assert_cited(answer: Answer) -> None:
    assert not answer.refused, answer.text
    assert answer.citations, answer.text
    for c in answer.citations:
        sentence = whole_sentence(answer, c.source, c.start, c.end)
        assert not is_fragment(sentence, c.title), f"quoted a headline or byline: {c.quote!r}"


def whole_sentence(answer: Answer, source: str, start: int, end: int) -> str:
    """The sentence a quote comes from: itself, or the one a clause was cut from."""
    for p in answer.passages:
        for s, e in p.chunk.sentences if p.source == source else ():
            if s <= start and end <= e:
                return p.chunk.text[s - p.chunk.start : e - p.chunk.start]
    raise AssertionError(f"no retrieved sentence holds {source} {start}-{end}")


@pytest.mark.parametrize(
    "question", ["Summarize the article", "What is this article about?", "Give me the key points"]
)
def test_overviews_are_answered_from_the_lede(seed_assistant: Any, question: str) -> None:
    (answer,) = replay(seed_assistant, question)
    assert not answer.refused and answer.citations
    assert "volunteers from the US" in answer.citations[0].quote


def test_latest_news_on_the_war_is_answered(seed_assistant: Any) -> None:
    (answer,) = replay(seed_assistant, "What's the latest news on the war?")
    assert not answer.refused and answer.citations


def test_why_quotes_the_motive_not_the_headline(seed_assistant: Any) -> None:
    (answer,) = replay(seed_assistant, "Why do foreigners fight for Ukraine?")
    assert_cited(answer)
    assert "because they oppose Russia" in answer.citations[0].quote
    assert len(answer.citations) == 1  # one sentence holds the answer
    span = answer.sentences[0].answer_span
    assert span is not None and answer.sentences[0].text[span[0] :].startswith("because")


def test_where_russias_fighters_come_from_is_not_a_headline(seed_assistant: Any) -> None:
    (answer,) = replay(seed_assistant, "Where do Russia's foreign fighters come from?")
    assert_cited(answer)
    quote = answer.citations[0].quote
    assert "Syria" in quote or "global south" in quote, quote


def test_who_and_why_on_russias_side_quotes_no_fragments(seed_assistant: Any) -> None:
    (answer,) = replay(
        seed_assistant, "Who are the foreign fighters on Russia's side and why did they join?"
    )
    assert_cited(answer)
    assert len(answer.citations) <= 2


def test_a_refused_question_does_not_poison_a_summary(seed_assistant: Any) -> None:
    refused, summary = replay(
        seed_assistant, "What is the capital of Australia?", "summarize the article"
    )
    assert refused.refused and not refused.citations
    assert not summary.refused and summary.citations
    assert "Australia" not in summary.text


def test_a_refused_question_in_french_does_not_poison_the_next(seed_assistant: Any) -> None:
    _, answer = replay(
        seed_assistant, "Combien d'Américains sont morts en Ukraine ?", "how many americans died"
    )
    assert_cited(answer)
    assert "50 American" in answer.citations[0].quote
    assert "Combien" not in answer.text


def test_a_follow_up_on_deaths_quotes_the_deaths_only(seed_assistant: Any) -> None:
    legion, killed = replay(
        seed_assistant,
        "How many foreigners make up Ukraine's international legion?",
        "How many of them were killed?",
    )
    assert_cited(legion)
    assert "20,000" in legion.citations[0].quote
    assert_cited(killed)
    assert len(killed.citations) == 1  # not the legion count plus the Nepali deaths
    assert "killed" in killed.citations[0].quote


def test_a_follow_up_about_pay_is_answered(seed_assistant: Any) -> None:
    _, paid = replay(
        seed_assistant,
        "How many Nepalis have gone to fight for Russia?",
        "And how much are they paid?",
    )
    assert_cited(paid)
    span = paid.sentences[0].answer_span
    assert span is not None and paid.sentences[0].text[span[0] : span[1]] == "$2,000"


def test_a_refusal_names_no_carried_words_and_lists_each_article_once(
    seed_assistant: Any,
) -> None:
    _, refused = replay(
        seed_assistant, "How many Nepalis have gone to fight for Russia?", "What about Australia?"
    )
    assert refused.refused
    assert "Nepalis" not in refused.text and "Russia" not in refused.text
    sources = [c.source for c in refused.related]
    assert len(sources) == len(set(sources))
