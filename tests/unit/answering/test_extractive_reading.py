"""How the extractive answerer reads questions and sentences: answer types, stems, rarity, names."""

from __future__ import annotations

import pytest

from askfront.answering.extractive import ExtractiveAnswerer, terms
from askfront.answering.extractive.question import answer_type
from askfront.answering.extractive.sentence import sentence_info
from askfront.answering.extractive.terms import rarity, stems

# --- question reading ------------------------------------------------------------------
from fakes import passage_of


@pytest.mark.parametrize(
    ("question", "kind"),
    [
        ("How many Nepalis have been killed?", "number"),
        ("How much are Nepalis paid?", "money"),
        ("What monthly salary attracts poor Nepalis?", "money"),
        ("What death toll do the authorities report?", "number"),
        ("What percentage of the legion is American?", "percent"),
        ("When did Russia invade Ukraine?", "date"),
        ("In which year did the war start?", "date"),
        ("Who is the Kremlin spokesman?", "person"),
        ("Who is Ramchandra Khadka?", "other"),  # a description, not another name
        ("Where was the man from Kashmir training?", "place"),
        ("Which country sent the most fighters?", "place"),
        ("Which news agency traced the journeys of Cubans?", "entity"),
        ("What did Macron say?", "other"),
        ("The war began in 2022. Who leads the legion?", "person"),  # the last question counts
    ],
)
def test_answer_type_detection(question: str, kind: str) -> None:
    assert answer_type(question) == kind


def test_terms_normalize_the_forms_articles_vary() -> None:
    assert stems("Macron chose the 37-year-old") == ["macron", "choos", "37", "year", "old"]
    assert stems("the 13th state") == ["13", "state"]
    assert stems("U.S. troops, US aid, United States") == stems(
        "America troops, America aid, America"
    )
    assert stems("killed, dead, salary") == ["die", "die", "pay"]


def test_without_wordfreq_every_word_is_equally_rare(monkeypatch: pytest.MonkeyPatch) -> None:
    rarity.cache_clear()
    monkeypatch.setattr(terms, "_zipf", lambda: None)
    try:
        assert rarity("people") == rarity("listeria") == 1.0
    finally:
        rarity.cache_clear()
    monkeypatch.undo()
    assert rarity("people") < rarity("listeria")


# --- hand-made passages --------------------------------------------------------------


def test_day_and_month_names_are_not_names() -> None:
    # "Monday" is capitalized but answers "when", not "which airline".
    assert sentence_info("Officials met on Monday in January.").names == frozenset()
    monday = "Federal officials grounded the planes with loose bolts on Monday."
    united = "Later, United Airlines grounded its planes after finding loose bolts."
    answer = ExtractiveAnswerer().answer(
        "Which airline grounded its planes over loose bolts?", [passage_of(monday, united)]
    )
    assert [c.quote for c in answer.citations] == [united]


def test_the_best_sentence_alone_answers() -> None:
    question = "Which airline found loose bolts on its grounded planes?"
    first = "Inspectors at Alaska Airlines found loose bolts on several of its grounded planes."
    again = (
        "The loose bolts turned up on planes Alaska Airlines had grounded since Friday's blowout."
    )
    rival = "Another carrier, United, also found loose bolts on its grounded planes."
    passages = [passage_of(first, again, source="a.md"), passage_of(rival, source="b.md", rank=2)]
    answerer = ExtractiveAnswerer(max_sentences=2)
    scores = {c.text: c.score for c in answerer.analyze(question, passages).candidates}
    assert scores[first] > scores[again] > scores[rival]
    # No padding with repeats or rivals: the one sentence that holds the answer, with the
    # answering phrase marked.
    answer = answerer.answer(question, passages)
    assert [c.quote for c in answer.citations] == [first]
    span = answer.sentences[0].answer_span
    assert span is not None and first[span[0] : span[1]] == "Alaska Airlines"
    described = answerer.answer("What did Alaska Airlines find on its grounded planes?", passages)
    assert [c.quote for c in described.citations] == [first]
