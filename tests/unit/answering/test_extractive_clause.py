"""Concise answers (issue 15, item 3): a long quoted sentence is cut to the clause holding its
answering phrase (clause.py), still verbatim and cited to its exact character span, with
"…" shown outside the quote where the sentence goes on."""

from __future__ import annotations

from collections.abc import Callable

from askfront.answering.extractive import ExtractiveAnswerer
from askfront.answering.extractive.clause import clause_span, clauses
from askfront.answering.extractive.terms import stems
from askfront.core.types import Answer, Passage
from fakes import make_passage, passage_of

LONG = (
    "The ministry, which had been under pressure from relatives for weeks, said on Friday "
    "that at least 14 Nepali nationals have been killed fighting for Russia, and it asked "
    "Moscow to send the others home before the end of the year."
)


def weigh_of(question: str) -> Callable[[frozenset[str]], float]:
    """Weight of a term set: how many of the question's terms it holds."""
    asked = set(stems(question))
    return lambda terms: float(len(asked & terms))


def assert_cited_verbatim(answer: Answer, passages: list[Passage]) -> None:
    by_source = {p.source: p for p in passages}
    for s, c in zip(answer.sentences, answer.citations, strict=True):
        p = by_source[c.source]
        assert p.chunk.text[c.start - p.chunk.start : c.end - p.chunk.start] == c.quote
        assert s.text == c.quote  # the sentence shown is the quote, the "…" outside it
        shown = f"{'…' if s.elided[0] else ''}{c.quote}{'…' if s.elided[1] else ''} [{c.n}]"
        assert shown in answer.text
        if s.answer_span is not None:
            a, b = s.answer_span
            assert 0 <= a < b <= len(s.text)


def test_clauses_cover_the_sentence_and_split_at_commas_semicolons_and_dashes() -> None:
    text = "First part, second part; third — fourth: what a colon introduces stays."
    parts = clauses(text)
    assert "".join(text[s:e] for s, e in parts) == text
    assert [text[s:e].strip(" ,;—") for s, e in parts] == [
        "First part", "second part", "third", "fourth: what a colon introduces stays.",
    ]  # fmt: skip
    # A hyphen inside a word, a comma inside a number: no break.
    assert len(clauses("A well-known figure of 20,000 people.")) == 1


def test_no_break_inside_brackets_or_between_names() -> None:
    assert len(clauses("Samuel Eto'o Fils (]; born 10 March 1981) is a footballer.")) == 1
    assert len(clauses("The debate was held in Des Moines, Iowa on Wednesday.")) == 1
    assert len(clauses("It was held in Iowa, and it went well.")) == 2


def test_the_kept_clause_holds_the_answer_and_the_question_terms() -> None:
    question = "How many Nepali nationals have been killed fighting for Russia?"
    at = LONG.index("at least 14")
    span = clause_span(LONG, (at, at + len("at least 14")), weigh_of(question))
    assert span is not None
    kept = LONG[span[0] : span[1]]
    assert "at least 14" in kept and "killed fighting for Russia" in kept
    assert "relatives" not in kept and "Moscow" not in kept  # the clauses that add nothing
    assert not kept.endswith(",") and kept == kept.strip()


def test_a_clause_grows_until_it_holds_what_the_sentence_matches_of_the_question() -> None:
    # The answer (14) is in one clause, the question's "ministry" and "pressure" in another:
    # the cut keeps both, rather than quoting a number without what it counts.
    question = "How many did the ministry under pressure say were killed?"
    at = LONG.index("at least 14")
    span = clause_span(LONG, (at, at + 11), weigh_of(question))
    kept = LONG[span[0] : span[1]] if span else LONG
    assert "ministry" in kept and "pressure" in kept and "at least 14" in kept


def test_short_sentences_are_quoted_whole() -> None:
    text = "At least 14 Nepalis have been killed, the ministry said."
    at = text.index("At least 14")
    assert clause_span(text, (at, at + 11), weigh_of("How many Nepalis were killed?")) is None


def test_the_answer_quotes_the_clause_cited_to_its_exact_span() -> None:
    passage, _ = make_passage("Nepal is in the news. " + LONG, prefix="Intro line.\n\n")
    answer = ExtractiveAnswerer().answer(
        "How many Nepali nationals have been killed fighting for Russia?", [passage]
    )
    assert not answer.refused, answer.text
    first = answer.citations[0]
    assert "at least 14" in first.quote and first.quote != LONG
    assert len(first.quote.split()) < len(LONG.split())
    sentence = answer.sentences[0]
    assert sentence.elided == (True, True)
    assert answer.text.startswith("…") and f"{first.quote}… [1]" in answer.text
    a, b = sentence.answer_span or (0, 0)
    assert sentence.text[a:b] == "14"  # the answering phrase, moved into the clause
    assert_cited_verbatim(answer, [passage])
    # The JSON carries the cut for a client (the web chat shows the same text).
    assert answer.to_json()["sentences"][0]["elided"] == [True, True]


def test_a_sentence_without_an_answering_phrase_is_quoted_whole() -> None:
    text = (
        "Officials, speaking on condition of anonymity because they were not authorized to "
        "talk, described the talks as difficult but productive, and said more were planned."
    )
    passage = passage_of("The talks went on.", text)
    answer = ExtractiveAnswerer().answer("How did officials describe the talks?", [passage])
    assert not answer.refused, answer.text
    assert answer.citations[0].quote == text
    assert answer.sentences[0].elided == (False, False)
    assert_cited_verbatim(answer, [passage])


def test_a_clause_offering_another_answer_of_the_asked_kind_is_kept() -> None:
    # "How many ...?" with two numbers in two clauses: the marked one is a guess, so the
    # cut may not hide the other.
    question = "How many Nepali nationals have been killed fighting for Russia?"
    at = LONG.index("at least 14")
    weigh = weigh_of(question)
    alone = clause_span(LONG, (at, at + 11), weigh)
    assert alone is not None
    guarded = clause_span(LONG, (at, at + 11), weigh, lambda clause: "relatives" in clause)
    kept = LONG[guarded[0] : guarded[1]] if guarded else LONG
    assert "relatives" in kept and "at least 14" in kept
