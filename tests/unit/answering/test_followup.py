"""Deterministic follow-up resolution (used when no LLM condenses questions)."""

from __future__ import annotations

import pytest

from askfront.answering.followup import (
    MAX_CARRIED_WORDS,
    carried_words,
    is_followup,
    looks_dependent,
    proper_words,
    resolve_query,
)
from askfront.core.types import Turn

FIRST = "How many Nepalis have gone to fight for Russia?"


def chat(*questions: str) -> list[Turn]:
    turns: list[Turn] = []
    for q in questions:
        turns.append({"role": "user", "content": q})
        turns.append({"role": "assistant", "content": "More than 200 Nepalis [1]."})
    return turns


def test_the_brief_example_carries_the_topic_in_original_word_forms() -> None:
    resolved = resolve_query("And how much are they paid?", chat(FIRST))
    assert resolved.startswith("And how much are they paid? ")
    carried = resolved.removeprefix("And how much are they paid? ").split()
    # Original forms, not stems ("Nepalis", not "nepali"); generic verbs ("gone") dropped.
    assert carried == ["Nepalis", "fight", "Russia"]


@pytest.mark.parametrize(
    "question",
    [
        "And how much are they paid?",
        "What about India?",
        "How about the Cubans?",
        "How many of them have been killed?",
        "Where did he train?",
        "Why?",
        "What did those countries say?",
        "Is that true?",
    ],
)
def test_dependent_follow_ups_are_detected(question: str) -> None:
    assert looks_dependent(question)
    assert is_followup(question, chat(FIRST))


@pytest.mark.parametrize(
    "question",
    [
        "Who is Ramchandra Khadka?",
        "Which state held a Republican primary this week?",
        "How many foreigners make up Ukraine's international legion?",
        "Who is the team that won the Super Bowl?",
    ],
)
def test_self_contained_questions_are_left_alone(question: str) -> None:
    assert not is_followup(question, chat(FIRST))
    assert resolve_query(question, chat(FIRST)) == question


def test_no_previous_user_turn_means_no_follow_up() -> None:
    q = "And how much are they paid?"
    assert not is_followup(q, [])
    assert not is_followup(q, [{"role": "assistant", "content": "Hello! Ask me anything."}])
    assert resolve_query(q, []) == q


def test_words_the_follow_up_already_has_are_not_repeated() -> None:
    assert "Russia" not in carried_words("And what about Russia's losses?", chat(FIRST))
    assert carried_words("And how many Nepalis died?", chat(FIRST)) == ["fight", "Russia"]


def test_a_new_name_replaces_the_previous_subject() -> None:
    # "What about India?" asks the same of India: Nepalis is replaced, Russia kept.
    assert carried_words("What about India?", chat(FIRST)) == ["fight", "Russia"]


def test_a_chain_of_follow_ups_keeps_the_first_topic() -> None:
    history = chat(FIRST, "And how much are they paid?")
    words = carried_words("What about Indians?", history)
    assert "Russia" in words and "paid" in words
    assert "Nepalis" not in words  # replaced by Indians


def test_the_latest_user_turn_is_the_one_carried() -> None:
    history = chat("Who is Emmanuel Macron?", FIRST)
    assert carried_words("And how much are they paid?", history) == ["Nepalis", "fight", "Russia"]


def test_carried_words_are_capped() -> None:
    long_question = (
        "Which volunteers from Colombia, Cuba, Syria, Nepal, India, Kazakhstan and Kyrgyzstan "
        "joined the legion?"
    )
    assert len(carried_words("And why?", chat(long_question))) == MAX_CARRIED_WORDS


def test_proper_words_finds_names_and_numbers_but_not_sentence_starts() -> None:
    assert proper_words("Who is Ramchandra Khadka?") == ["Ramchandra", "Khadka"]
    assert proper_words("Nepalis fight. Who won the 2022 World Cup?") == ["2022", "World", "Cup"]
    assert proper_words("how do I bake bread?") == []
