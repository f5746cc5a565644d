"""The offline extractive answerer: verbatim quotes, right sentences, honest refusals.

Passages are real chunks of the default article (the real sentence splitter and chunker
with the bundled model's tokenizer); retrieval is simulated by BM25 over those chunks, so
refusal cases get the closest passages there are, as the real pipeline would give them.
How questions and words are read, on hand-made passages, is in test_extractive_reading.py.
"""

from __future__ import annotations

import re
from dataclasses import replace

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from askfront.answering.base import REFUSAL_TEXT
from askfront.answering.extractive import ExtractiveAnswerer
from askfront.answering.extractive.calibration import CARRIED_WEIGHT
from askfront.answering.extractive.compose import opening_mark
from askfront.answering.extractive.terms import rarity
from askfront.answering.followup import resolve_query
from askfront.core.types import Answer, Turn
from extractive_corpus import Corpus
from paths import DEFAULT_ARTICLE


@pytest.fixture(scope="module")
def corpus() -> Corpus:
    return Corpus()


@pytest.fixture(scope="module")
def answerer() -> ExtractiveAnswerer:
    return ExtractiveAnswerer()


def ask(
    corpus: Corpus,
    answerer: ExtractiveAnswerer,
    question: str,
    history: list[Turn] | None = None,
    dense: float | None = None,
) -> Answer:
    history = history or []
    passages = corpus.retrieve(resolve_query(question, history), dense=dense)
    return answerer.answer(question, passages, history)


def assert_verbatim(answer: Answer, corpus: Corpus) -> None:
    """Every quote is the document text at its offsets, and the answer is only quotes."""
    for c in answer.citations + answer.related:
        assert corpus.doc.text[c.start : c.end] == c.quote
        assert c.source == corpus.doc.path and c.title == corpus.doc.title
    # A sentence closing a quote it does not open is shown after its opening mark; a clause
    # cut from a long sentence (clause.py) with "…" where the sentence goes on.
    if not answer.refused:
        expected = " ".join(
            f"{opening_mark(c.quote)}{'…' if s.elided[0] else ''}{c.quote}"
            f"{'…' if s.elided[1] else ''} [{c.n}]"
            for s, c in zip(answer.sentences, answer.citations, strict=True)
        )
        assert answer.text == expected
        assert [c.n for c in answer.citations] == list(range(1, len(answer.citations) + 1))
        assert [s.text for s in answer.sentences] == [c.quote for c in answer.citations]
        assert all(s.supported and s.citations == [c.n] for s, c in zip(
            answer.sentences, answer.citations, strict=True))  # fmt: skip


FACTS = [
    ("How many foreigners are in Ukraine's international legion?", "20,000"),
    ("How much are Nepalis paid?", "$2,000 a month"),
    ("Who is Ramchandra Khadka?", "returned to Nepal after sustaining injuries"),
    ("Who is the Kremlin spokesman?", "Dmitry Peskov"),
    ("How many American citizens have been killed fighting for Ukraine?", "At least 50"),
    ("How many Nepalis have been killed?", "at least 14 have been killed"),
    ("How many Indians were recruited by the Russian military?", "at least 100 Indians"),
    ("Who said nothing should be ruled out?", "Emmanuel Macron"),
    ("Who is the Slovak Prime Minister?", "Robert Fico"),
    ("How many European leaders met in Paris?", "25 European leaders"),
    ("Where was the Indian man from Kashmir training?", "Mariupol"),
    ("Which countries' nationals have been deployed on the Russian side?", "Syria, Cuba"),
    ("What did Putin's decree do?", "fast-tracking citizenship"),
    ("Who funded spy bases across Ukraine?", "CIA"),
    ("How old is Ramchandra Khadka?", "37"),
]


@pytest.mark.parametrize(("question", "expected"), FACTS)
def test_picks_the_sentence_that_answers(
    corpus: Corpus, answerer: ExtractiveAnswerer, question: str, expected: str
) -> None:
    answer = ask(corpus, answerer, question)
    assert not answer.refused, answer.text
    # The answer leads with the best sentence: the expected fact is in the first quote.
    assert expected in answer.citations[0].quote
    assert_verbatim(answer, corpus)
    assert answer.mode == "extractive"
    assert 1 <= len(answer.citations) <= 2


OFF_TOPIC = [
    "What is the capital of Australia?",
    "Who won the 2022 World Cup?",
    "How do I bake sourdough bread?",
    "Who is Elon Musk?",
]
NEAR_MISSES = [
    "How many Chinese nationals fight for Russia?",  # Nepal, India, Cuba, Syria, not China
    "What is the salary of Chinese fighters in Ukraine?",
    "What is the population of Nepal?",  # Nepal is there, its population is not
    "Who is the president of Colombia?",  # Colombia and presidents, never together
    "How much does Russia pay Cuban fighters?",  # only Nepalis' pay is given
    "When will the war end?",
]


@pytest.mark.parametrize("question", OFF_TOPIC + NEAR_MISSES)
def test_refuses_when_the_closest_passages_do_not_answer(
    corpus: Corpus, answerer: ExtractiveAnswerer, question: str
) -> None:
    answer = ask(corpus, answerer, question)
    assert answer.refused, answer.text
    assert answer.text.startswith(REFUSAL_TEXT)
    assert answer.citations == [] and answer.sentences == []
    # Related reading: the closest passages, each quoted by its best sentence.
    assert 1 <= len(answer.related) <= 3
    assert [c.n for c in answer.related] == list(range(1, len(answer.related) + 1))
    assert len({(c.start, c.end) for c in answer.related}) == len(answer.related)
    assert_verbatim(answer, corpus)


def test_refusal_names_the_missing_term(corpus: Corpus, answerer: ExtractiveAnswerer) -> None:
    answer = ask(corpus, answerer, "How many Chinese nationals fight for Russia?")
    assert answer.refused and "“Chinese”" in answer.text


def test_a_rare_name_is_answered_even_if_the_dense_side_finds_it_far(
    corpus: Corpus, answerer: ExtractiveAnswerer
) -> None:
    answer = ask(corpus, answerer, "Who is Ramchandra Khadka?", dense=0.05)
    assert not answer.refused
    assert "Ramchandra Khadka, 37" in answer.citations[0].quote


def test_the_dense_side_vouches_for_weakly_covered_descriptions(corpus: Corpus) -> None:
    # "report" is paraphrased ("documented") and the question asks for no kind of token.
    # With the strong-coverage path closed, only a close dense match can vouch for it.
    question = "What did the Hindu report?"
    answerer = ExtractiveAnswerer().with_thresholds(strong_coverage=0.99)
    assert ask(corpus, answerer, question, dense=None).refused
    assert ask(corpus, answerer, question, dense=0.2).refused
    vouched = ask(corpus, answerer, question, dense=0.7)
    assert not vouched.refused and "The Hindu" in vouched.citations[0].quote


def test_the_name_threshold_decides_the_near_miss(corpus: Corpus) -> None:
    question = "How many Chinese nationals fight for Russia?"
    # The claim check (support.py) refuses it too: both off, a Nepal sentence is quoted.
    lax = ExtractiveAnswerer().with_thresholds(min_name_coverage=0, claim_support=0)
    assert not ask(corpus, lax, question).refused
    assert ask(corpus, lax.with_thresholds(min_name_coverage=0.7), question).refused
    assert ask(corpus, lax.with_thresholds(claim_support=0.75), question).refused


def test_no_passages_is_an_honest_refusal(answerer: ExtractiveAnswerer) -> None:
    answer = answerer.answer("How many foreigners are in the legion?", [])
    assert answer.refused and answer.text == REFUSAL_TEXT
    assert answer.related == [] and answer.citations == []


def test_a_question_without_content_words_is_refused(
    corpus: Corpus, answerer: ExtractiveAnswerer
) -> None:
    answer = answerer.answer("What is it?", corpus.retrieve("foreign fighters"))
    assert answer.refused


def test_follow_up_uses_the_previous_turn_at_lower_weight(corpus: Corpus) -> None:
    history: list[Turn] = [
        {"role": "user", "content": "How many Nepalis have gone to fight for Russia?"},
        {"role": "assistant", "content": "More than 200 Nepalis [1]."},
    ]
    answerer = ExtractiveAnswerer()
    answer = ask(corpus, answerer, "And how much are they paid?", history)
    assert not answer.refused and "$2,000" in answer.citations[0].quote
    assert_verbatim(answer, corpus)

    flat = ExtractiveAnswerer(idf=lambda term: 1.0)
    passages = corpus.retrieve("Nepalis paid")
    weights = flat.analyze("And how much are they paid?", passages, history).weights
    # Weight = role x IDF (flat here) x the word's general rarity.
    assert weights["pay"] == pytest.approx(rarity("paid"))  # "paid": the base form's stem
    assert weights["nepali"] == pytest.approx(CARRIED_WEIGHT * rarity("nepalis"))
    assert set(weights) == {"pay", "nepali", "fight", "russia"}


def test_without_history_the_follow_up_has_no_topic(corpus: Corpus) -> None:
    answer = ExtractiveAnswerer().answer(
        "How many of them have been killed?", corpus.retrieve("killed")
    )
    history: list[Turn] = [{"role": "user", "content": "How many Nepalis went to fight?"}]
    resolved = ExtractiveAnswerer().answer(
        "How many of them have been killed?",
        corpus.retrieve(resolve_query("How many of them have been killed?", history)),
        history,
    )
    assert not resolved.refused and "14" in resolved.citations[0].quote
    assert answer.refused or "14" not in answer.citations[0].quote


def test_near_duplicate_sentences_are_quoted_once(corpus: Corpus) -> None:
    # The article states the legion's size twice in almost the same words.
    answer = ask(corpus, ExtractiveAnswerer(max_sentences=3), "How many foreigners are in "
                 "Ukraine's international legion?")  # fmt: skip
    assert sum("20,000 foreigners" in c.quote for c in answer.citations) == 1


def test_at_most_two_sentences_and_never_beyond_max_sentences(corpus: Corpus) -> None:
    # The shortest cited answer: one sentence, or two when a rival scores as well (never
    # three, however many max_sentences allows) ...
    question = "What did Macron say?"
    assert len(ask(corpus, ExtractiveAnswerer(max_sentences=3), question).citations) <= 2
    assert len(ask(corpus, ExtractiveAnswerer(max_sentences=1), question).citations) == 1
    # ... a second one only for a second question, and never beyond max_sentences.
    both = "Who are the foreign fighters on Russia's side and why did they join?"
    assert len(ask(corpus, ExtractiveAnswerer(max_sentences=1), both).citations) <= 1
    with pytest.raises(ValueError):
        ExtractiveAnswerer(max_sentences=0)


def test_stream_yields_sentences_then_the_answer(
    corpus: Corpus, answerer: ExtractiveAnswerer
) -> None:
    question = "What did Macron say?"
    passages = corpus.retrieve(question)
    events = list(answerer.stream(question, passages))
    final = events[-1]
    assert isinstance(final, Answer) and not final.refused
    deltas = events[:-1]
    assert all(isinstance(d, str) for d in deltas)
    assert len(deltas) == len(final.sentences) >= 1
    assert "".join(str(d) for d in deltas) == final.text


def test_overlapping_chunks_do_not_quote_a_sentence_twice(corpus: Corpus) -> None:
    passages = corpus.retrieve("Who said nothing should be ruled out?")
    twice = [passages[0], replace(passages[0], rank=2), *passages[1:]]
    answer = ExtractiveAnswerer(max_sentences=3).answer(
        "What did Macron say about ruling things out?", twice
    )
    spans = [(c.start, c.end) for c in answer.citations]
    assert len(spans) == len(set(spans))


# --- never invent: whatever the question and passages, the answer is only quotes --------

_VOCAB = sorted(set(re.findall(r"[A-Za-z][\w’'-]+", DEFAULT_ARTICLE.read_text(encoding="utf-8"))))
_WORDS = st.sampled_from([*_VOCAB, "how", "many", "who", "what", "when", "Chinese", "bread"])


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    words=st.lists(_WORDS, min_size=1, max_size=12),
    picks=st.lists(st.integers(min_value=0, max_value=50), min_size=0, max_size=5),
    dense=st.one_of(st.none(), st.floats(min_value=-1.0, max_value=1.0)),
)
def test_never_invents_text(
    corpus: Corpus, words: list[str], picks: list[int], dense: float | None
) -> None:
    chunks = [corpus.chunks[i % len(corpus.chunks)] for i in picks]
    passages = [corpus.passage(c, r + 1, dense) for r, c in enumerate(chunks)]
    question = " ".join(words) + "?"
    answer = ExtractiveAnswerer().answer(question, passages)
    texts = [p.chunk.text for p in passages]
    if answer.refused:
        assert answer.citations == [] and answer.text.startswith(REFUSAL_TEXT)
    else:
        for s in answer.sentences:
            assert any(s.text in t for t in texts)
    assert_verbatim(answer, corpus)


# --- answer() is compose(analyze()) ----------------------------------------------------


def test_answer_is_compose_of_analyze(corpus: Corpus, answerer: ExtractiveAnswerer) -> None:
    question = "How many Nepalis have been killed?"
    passages = corpus.retrieve(question)
    direct = answerer.answer(question, passages)
    analysis = answerer.analyze(question, passages)
    assert answerer.compose(analysis, passages).text == direct.text
    # Thresholds act in decide() only: a stricter copy refuses from the same analysis.
    strict = answerer.with_thresholds(strong_coverage=2.0, weak_coverage=2.0)
    assert strict.compose(analysis, passages).refused
    assert analysis.features()["answerable"] is False
