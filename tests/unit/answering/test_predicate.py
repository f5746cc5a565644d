"""The predicate check (answering/extractive/predicate.py): what a question asks about its
names ("buried", "arrested") must be stated where its answer is quoted from, and a negated
question needs a negated sentence."""

from __future__ import annotations

import pytest

from askfront.answering.extractive import ExtractiveAnswerer, Thresholds
from askfront.answering.extractive.predicate import NEGATION, Predicate
from askfront.core.types import Passage
from fakes import passage_of

NEPAL = passage_of(
    "Nepal's government asked Moscow to send back hundreds of its nationals.",
    "According to officials in Kathmandu, more than 200 Nepalis went to the front and at "
    "least 14 have been killed.",
    "Ramchandra Khadka, a 37-year-old veteran, was born in Dhading and returned home in 2023.",
    source="nepal.md",
    dense=0.7,  # close on the dense side, as an on-topic distractor is
)
OTHER = passage_of(
    "Police arrested three recruiters in Kathmandu on Monday.", source="police.md", rank=2
)
ON = {"predicate_missing": 0.3, "predicate_relax": 1.1}  # no dense vouching: close by design


def ask(question: str, passages: list[Passage], **changes: float) -> bool:
    """Whether the answerer answers (True) or refuses."""
    return not ExtractiveAnswerer().with_thresholds(**changes).answer(question, passages).refused


@pytest.mark.parametrize(
    "question",
    [
        "How many Nepalis have been arrested?",  # the article counts deaths, not arrests
        "Where was Ramchandra Khadka buried?",  # it gives his birthplace
    ],
)
def test_a_question_about_an_unstated_attribute_is_refused_with_the_check(question: str) -> None:
    assert ask(question, [NEPAL])  # off (the default): the names and the dense side pass it
    assert not ask(question, [NEPAL], **ON)
    assert ask(question, [NEPAL], **{**ON, "predicate_relax": 0.6})  # the dense side vouches


@pytest.mark.parametrize(
    "question",
    [
        "How many Nepalis have been killed?",
        "Where was Ramchandra Khadka born?",
        "How many Nepalis died?",  # "killed" ~ "died": the stems the answerer folds
        "Where was Ramchandra Khadka borrn?",  # a typo is judged by nobody, not refused
    ],
)
def test_a_stated_attribute_is_answered_with_the_check(question: str) -> None:
    assert ask(question, [NEPAL], **ON)


def test_the_sentence_scope_wants_the_attribute_next_to_the_answer() -> None:
    """ "arrested" is in another article: neither scope lets the Nepal article answer; with
    the article scope a term elsewhere in the same article counts."""
    question = "How many Nepalis did Ramchandra Khadka see arrested?"
    for scope in (0.0, 1.0):
        assert not ask(question, [NEPAL, OTHER], **ON, predicate_scope=scope)
    split = passage_of(
        "More than 200 Nepalis went to the front and at least 14 have been killed.",
        "The weather was cold.",
        "The officials in Kathmandu also counted the nationals who had returned.",
        "Some were arrested at the border on their way back.",
        source="nepal.md",
        dense=0.7,
    )
    question = "How many Nepalis have been arrested or killed?"
    analysis = ExtractiveAnswerer().analyze(question, [split])
    killed = next(c for c in analysis.candidates if "14" in c.text)
    near = Predicate(analysis, Thresholds(predicate_missing=0.3, predicate_scope=0.0))
    article = Predicate(analysis, Thresholds(predicate_missing=0.3, predicate_scope=1.0))
    assert near.missing(killed) > 0 and article.missing(killed) == 0


def test_the_missing_share_is_weighted_and_off_by_default() -> None:
    analysis = ExtractiveAnswerer().analyze("Where was Ramchandra Khadka buried?", [NEPAL])
    candidate = next(c for c in analysis.candidates if "Dhading" in c.text)
    assert Predicate(analysis, Thresholds(**ON)).missing(candidate) == 1.0
    assert Predicate(analysis, Thresholds()).missing(candidate) == 0.0  # 1.1: off
    assert Predicate(analysis, Thresholds())(candidate)


def test_a_negated_question_needs_a_negated_sentence() -> None:
    question = "How many Nepalis have not been killed?"
    assert ask(question, [NEPAL], predicate_negation=0.0)
    assert not ask(question, [NEPAL])  # on by default
    negated = passage_of(
        "At least 14 Nepalis have been killed, and 186 have not been killed or wounded.",
        source="nepal.md",
        dense=0.7,
    )
    assert ask(question, [negated])


@pytest.mark.parametrize(
    ("text", "negated"),
    [
        ("he never returned", True),
        ("they didn’t realize", True),
        ("it was not the case", True),
        ("the nations noted it", False),
        ("nothing should be ruled out", False),
        ("the not-for-profit company", False),
    ],
)
def test_negations_are_whole_words(text: str, negated: bool) -> None:
    assert bool(NEGATION.search(text)) is negated
