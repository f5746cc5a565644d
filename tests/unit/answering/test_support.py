"""The claim check (answering/extractive/support.py): a question's names and numbers must
be stated where its answer is quoted from, with numbers by value and names by stem."""

from __future__ import annotations

from dataclasses import replace

import pytest

from askfront.answering.extractive import ExtractiveAnswerer
from askfront.answering.extractive.support import Support, claims, numbers_in
from askfront.core.types import Chunk, Passage

ON = {"claim_support": 0.5, "claim_share": 1.0, "claim_near": 0.0, "claim_relax": 1.1}


def article(
    source: str, *sentences: str, dense: float = 0.5, title: str | None = None, index: int = 0
) -> Passage:
    """One chunk of an article holding `sentences`, as retrieval returns it."""
    text = " ".join(sentences)
    spans, start = [], 0
    for s in sentences:
        spans.append((start, start + len(s)))
        start += len(s) + 1
    chunk = Chunk(f"{source}#{index}", source, index, text, 0, len(text), sentences=tuple(spans))
    return Passage(chunk, title or source, "2024-01-10", 1.0 / 61, dense, None, 1)


NEPAL = article(
    "nepal.md",
    "Nepal's government asked Moscow to send back hundreds of its nationals.",
    "According to officials in Kathmandu, more than 2,000 Nepalis went to the front and at "
    "least 14 have been killed.",
    "Ramchandra Khadka, a 37-year-old veteran, returned home in 2023 after his injuries.",
)


@pytest.mark.parametrize(
    ("text", "numbers"),
    [
        ("more than 2,000 Nepalis", {"2000"}),
        ("2000 of them", {"2000"}),
        ("a 37-year-old veteran", {"37"}),
        ("in the 1990s, $2.5 million", {"1990", "2.5"}),
        ("Aug. 15-18, 2024", {"15", "18", "2024"}),
        ("no numbers here", set()),
        ("the Clade 1b variant, the 49ers, the 15th, a 737", {"15", "737"}),  # names: 1b
    ],
)
def test_numbers_are_read_by_value(text: str, numbers: set[str]) -> None:
    assert numbers_in(text) == numbers


def _analysis(question: str, passages: list[Passage]):  # type: ignore[no-untyped-def]
    return ExtractiveAnswerer().analyze(question, passages)


def test_claims_are_the_name_phrases_and_numbers_asked() -> None:
    got = claims(_analysis("How many Nepalis did Ramchandra Khadka see killed in 2023?", [NEPAL]))
    assert [c.text for c in got] == ["Nepalis", "Ramchandra Khadka", "2023"]
    assert got[1].terms == {"ramchandra", "khadka"} and got[2].number == "2023"
    assert all(c.weight > 0 for c in got)


def test_a_question_without_names_or_numbers_has_no_claims() -> None:
    assert claims(_analysis("why did they go to the front?", [NEPAL])) == []


@pytest.mark.parametrize(
    ("question", "stated"),
    [
        ("How many Nepalis have been killed?", True),
        ("How many Cubans have been killed?", False),  # a name the passage does not state
        ("When did Ramchandra Khadka return home?", True),
        ("When did Khadka return home?", True),  # a name part
        # The unstated part is the rarer one (local IDF): less than half the weight stated.
        ("When did Ramchandra Thapa return home?", False),
        ("When did Bishnu Thapa return home?", False),
        ("Did more than 2000 Nepalis go to the front?", True),  # "2,000" in the passage
        ("Did more than 3,000 Nepalis go to the front?", False),
        ("Where did the 37-year-old veteran return in 2023?", True),
        ("Where did the 37-year-old veteran return in 2019?", False),  # a swapped year
    ],
)
def test_each_claim_must_be_stated_in_the_passage(question: str, stated: bool) -> None:
    analysis = _analysis(question, [NEPAL])
    check = Support(analysis, replace(ExtractiveAnswerer().thresholds, **ON))
    assert all(check(c) is stated for c in analysis.candidates)


def test_the_check_is_off_at_zero_support() -> None:
    analysis = _analysis("How many Cubans have been killed?", [NEPAL])
    check = Support(analysis, replace(ExtractiveAnswerer().thresholds, claim_support=0.0))
    assert check.claims == [] and all(check(c) for c in analysis.candidates)


def test_near_claims_must_be_next_to_the_sentence() -> None:
    far = article(
        "far.md",
        "Ramchandra Khadka spoke to CNN.",
        "The weather in the capital was cold.",
        "Officials said the number of recruits had doubled.",
        "Most of the recruits were sent to the front within weeks.",
    )
    analysis = _analysis("How fast were Ramchandra Khadka's fellow recruits sent?", [far])
    th = replace(ExtractiveAnswerer().thresholds, **{**ON, "claim_near": 1.0})
    check = Support(analysis, th)
    by_text = {c.text: check(c) for c in analysis.candidates}
    assert by_text["The weather in the capital was cold."] is True  # Khadka next to it
    assert by_text["Most of the recruits were sent to the front within weeks."] is False
    assert check.share(analysis.candidates[-1], near=False) == 1.0


def test_a_close_passage_may_miss_part_of_the_claims_when_relaxed() -> None:
    analysis = _analysis("How many Nepalis and Cubans have been killed?", [NEPAL])
    strict = Support(analysis, replace(ExtractiveAnswerer().thresholds, **ON))
    relaxed = Support(
        analysis, replace(ExtractiveAnswerer().thresholds, **{**ON, "claim_relax": 0.4})
    )
    killed = next(c for c in analysis.candidates if "killed" in c.text)
    assert strict(killed) is False
    # dense 0.5 >= claim_relax: the share needed falls to min_name_coverage (0.7) x 1.0,
    # and the passage states one of two claims of similar weight: still refused unless
    # that share is enough.
    share = relaxed.share(killed, near=False)
    assert relaxed(killed) is (share >= ExtractiveAnswerer().thresholds.min_name_coverage)


def test_the_answerer_refuses_a_swapped_name_with_the_check_on() -> None:
    answerer = ExtractiveAnswerer().with_thresholds(**ON)
    assert answerer.answer("How many Cubans have been killed?", [NEPAL]).refused
    answer = answerer.answer("How many Nepalis have been killed?", [NEPAL])
    assert not answer.refused and "14" in answer.text


def test_the_calendar_is_not_a_claim() -> None:
    got = claims(_analysis("What did Ramchandra Khadka say on Sunday, Jan. 7?", [NEPAL]))
    assert [c.text for c in got] == ["Ramchandra Khadka"]


def test_an_article_states_its_title_its_year_and_its_other_passages() -> None:
    first = article("khadka.md", "Ramchandra Khadka went to Russia for the money.")
    second = article(
        "khadka.md",
        "He returned to Nepal with injuries.",
        title="The Nepali Legion: Recruits Come Home",
        index=1,
    )
    th = replace(ExtractiveAnswerer().thresholds, **ON)
    for question in (
        "When did Ramchandra Khadka return to Nepal?",  # his name is in the other chunk
        "Who returned from the Nepali Legion to Nepal?",  # in the title
        "Who returned to Nepal in 2024?",  # the article's year (2024-01-10)
    ):
        analysis = _analysis(question, [first, second])
        returned = next(c for c in analysis.candidates if "returned" in c.text)
        assert Support(analysis, th)(returned), question
    analysis = _analysis("Who returned to Nepal in 2022?", [first, second])
    returned = next(c for c in analysis.candidates if "returned" in c.text)
    assert not Support(analysis, th)(returned)


def test_a_two_hop_question_may_state_its_names_in_an_article_naming_this_one() -> None:
    actor = article(
        "molina.md",
        "Alfred Molina is an English actor known for his role in Raiders of the Lost Ark.",
        title="Alfred Molina",
    )
    film = article(
        "lodger.md",
        "The Lodger is a 2009 thriller film starring Alfred Molina and Hope Davis.",
        title="The Lodger",
    )
    question = "Which actor known for Raiders of the Lost Ark starred in The Lodger?"
    analysis = _analysis(question, [actor, film])
    known = next(c for c in analysis.candidates if "Raiders" in c.text)
    th = replace(ExtractiveAnswerer().thresholds, **ON)
    assert Support(analysis, replace(th, claim_bridge=1.0))(known)
    assert not Support(analysis, replace(th, claim_bridge=0.0))(known)
    # Without the article naming it, "The Lodger" is stated nowhere around the sentence.
    alone = _analysis(question, [actor])
    assert not Support(alone, replace(th, claim_bridge=1.0))(alone.candidates[0])
