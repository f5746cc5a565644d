"""Questions about the collection and overviews, end to end through the real Assistant
(bundled model, Chroma) over a small corpus of dated articles written here; and the
answerers' list bounds and routing with stand-ins."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pytest
from langchain_core.embeddings import Embeddings

from askfront.answering.articles import Article, articles_about
from askfront.answering.base import Answerer
from askfront.answering.collection import LIST_LIMIT, CollectionAnswerer
from askfront.answering.overview import OverviewAnswerer, summarize
from askfront.assistant import Assistant
from askfront.core.config import Settings
from askfront.core.errors import IndexNotFoundError
from askfront.core.types import Answer, Chunk, DocumentRecord, Passage, Turn
from askfront.evaluation.runner import run_eval
from askfront.evaluation.testset import load_testset
from fakes import make_passage
from paths import DATA

ARTICLES = {
    "lighthouse-storm-2024-01-05.md": (
        "Storm damages Pelican Point lighthouse",
        "2024-01-05",
        "A winter storm tore the lantern room off the Pelican Point lighthouse on Thursday, "
        "leaving the 140-year-old tower dark for the first time since 1884.\n\n"
        "Waves up to nine metres high struck the headland overnight, the coast guard said. "
        "Nobody was hurt, but the keeper's cottage was flooded.\n\n"
        "The county has asked the state for emergency money to repair the lighthouse.",
    ),
    "lighthouse-reopens-2024-02-14.md": (
        "Pelican Point lighthouse to reopen after repairs",
        "2024-02-14",
        "The Pelican Point lighthouse will reopen to visitors in May after a $2.3 million "
        "repair paid for by the state, county officials said on Wednesday.\n\n"
        "Engineers fitted a new lantern room made in Scotland and an LED lamp that can be "
        "seen 40 kilometres out to sea.\n\n"
        "The keeper's cottage will become a small museum about the storm.",
    ),
    "bakery-prize-2024-02-21.md": (
        "Family bakery wins national bread prize",
        "2024-02-21",
        "A family bakery in Orchard Street won the national sourdough prize on Tuesday, "
        "beating 300 bakeries from across the country.\n\n"
        "The bakery's owner, Lena Marsh, said the winning loaf uses flour milled on a farm "
        "twelve kilometres from the shop.\n\n"
        "The prize comes with a year of free flour and a visit from the judges' school.",
    ),
    "rail-strike-2024-03-02.md": (
        "Rail workers walk out over pay",
        "2024-03-02",
        "Rail workers across the region went on strike on Saturday after talks on a new pay "
        "deal broke down, cancelling almost every train.\n\n"
        "The union wants a raise of 9 percent; the rail company has offered 4 percent.\n\n"
        "Commuters crowded onto buses, and roads into the city were jammed for hours.",
    ),
    "rail-deal-2024-03-20.md": (
        "Rail strike ends with a pay deal",
        "2024-03-20",
        "The rail strike ended on Wednesday after the union accepted a pay raise of 6 "
        "percent over two years, and trains will run again from Thursday.\n\n"
        "Union members voted 71 percent in favour of the deal.\n\n"
        "The rail company said the strike had cost it about $14 million in lost fares.",
    ),
    "reading-challenge.md": (
        "Library reading challenge sets a record",
        None,
        "Children in the city read more than 40,000 books in the library's summer reading "
        "challenge, the most since it began.\n\n"
        "Each child who read six books received a medal at a ceremony in the town hall.",
    ),
}


def _article(title: str, date: str | None, body: str) -> str:
    front = f'title: "{title}"\n' + (f"date: {date}\n" if date else "")
    return f"---\n{front}---\n{body}\n"


@pytest.fixture(scope="module")
def assistant(tmp_path_factory: pytest.TempPathFactory, real_embeddings: Embeddings) -> Assistant:
    root = tmp_path_factory.mktemp("collection")
    corpus = root / "corpus"
    corpus.mkdir()
    for name, (title, date, body) in ARTICLES.items():
        (corpus / name).write_text(_article(title, date, body), encoding="utf-8")
    a = Assistant(Settings(corpus_dir=corpus, index_dir=root / "index"), embeddings=real_embeddings)
    a.reindex()
    return a


def _checked(assistant: Assistant, answer: Answer) -> Answer:
    """Every citation (and related passage) quotes its document exactly."""
    for c in [*answer.citations, *answer.related]:
        doc = assistant.document(c.source)
        assert doc is not None
        assert doc.text[c.start : c.end] == c.quote, c
    return answer


def _ask(assistant: Assistant, question: str, history: Sequence[Turn] = ()) -> Answer:
    return _checked(assistant, assistant.ask(question, history))


def _sources(answer: Answer) -> list[str]:
    return list(dict.fromkeys(c.source for c in answer.citations))


def _title(source: str) -> str:
    return ARTICLES[source][0]


# --- collection questions, end to end -----------------------------------------------------
@pytest.mark.e2e
def test_list_every_article_newest_first_each_cited_by_its_opening(assistant: Assistant) -> None:
    answer = _ask(assistant, "Which articles do you have?")
    assert not answer.refused and answer.mode == "collection"
    assert "6 articles" in answer.text and "2024-01-05 to 2024-03-20" in answer.text
    dated = sorted((d, s) for s, (_, d, _) in ARTICLES.items() if d)
    expected = [s for _, s in reversed(dated)] + ["reading-challenge.md"]
    assert _sources(answer) == expected  # newest first, the undated one last
    for c in answer.citations:
        doc = assistant.document(c.source)
        assert doc is not None and _title(c.source) in answer.text
        # The citation opens the article: its first sentence.
        assert c.start == 0 and doc.text[: c.end] == c.quote
    assert [s.citations for s in answer.sentences] == [[n] for n in range(1, 7)]


@pytest.mark.e2e
def test_count_the_collection(assistant: Assistant) -> None:
    answer = _ask(assistant, "How many articles are in the collection?")
    assert "holds 6 articles" in answer.text and len(answer.citations) == 6


@pytest.mark.e2e
@pytest.mark.parametrize(
    ("question", "expected"),
    [
        (
            "Which articles are about the lighthouse?",
            {"lighthouse-storm-2024-01-05.md", "lighthouse-reopens-2024-02-14.md"},
        ),
        (
            "How many articles are about the rail strike?",
            {"rail-strike-2024-03-02.md", "rail-deal-2024-03-20.md"},
        ),
        ("Do you have any articles on sourdough?", {"bakery-prize-2024-02-21.md"}),
    ],
)
def test_articles_about_a_topic(assistant: Assistant, question: str, expected: set[str]) -> None:
    answer = _ask(assistant, question)
    assert not answer.refused
    assert set(_sources(answer)) == expected
    assert f"{len(expected)} article" in answer.text
    assert all(_title(s) in answer.text for s in expected)


@pytest.mark.e2e
def test_no_article_about_a_topic_is_a_refusal_with_related_reading(assistant: Assistant) -> None:
    answer = _ask(assistant, "Which articles are about cricket?")
    assert answer.refused and not answer.citations
    assert answer.text == "No article in the collection is about “cricket”."
    assert answer.related  # the closest passages, one per article
    assert len({c.source for c in answer.related}) == len(answer.related)


@pytest.mark.e2e
def test_latest_and_oldest(assistant: Assistant) -> None:
    latest = _ask(assistant, "What is the latest article?")
    assert _sources(latest) == ["rail-deal-2024-03-20.md"]
    assert "The latest article is “Rail strike ends with a pay deal” (2024-03-20)" in latest.text
    assert "1 undated article left out" in latest.text
    oldest = _ask(assistant, "What's the oldest article about the rail strike?")
    assert _sources(oldest) == ["rail-strike-2024-03-02.md"]
    assert "went on strike on Saturday" in oldest.text  # its lead, quoted


@pytest.mark.e2e
def test_articles_from_a_month(assistant: Assistant) -> None:
    answer = _ask(assistant, "Articles from February 2024")
    assert _sources(answer) == ["bakery-prize-2024-02-21.md", "lighthouse-reopens-2024-02-14.md"]
    none = _ask(assistant, "Which articles were published in June 2024?")
    assert none.refused and "June 2024" in none.text


@pytest.mark.e2e
def test_follow_ups_keep_the_topic(assistant: Assistant) -> None:
    first = "Which articles are about the lighthouse?"
    history: list[Turn] = [
        {"role": "user", "content": first},
        {"role": "assistant", "content": _ask(assistant, first).text},
    ]
    latest = _ask(assistant, "And the latest one?", history)
    assert _sources(latest) == ["lighthouse-reopens-2024-02-14.md"]
    history += [
        {"role": "user", "content": "And the latest one?"},
        {"role": "assistant", "content": latest.text},
    ]
    about = _ask(assistant, "What is it about?", history)
    assert about.mode == "overview"
    assert _sources(about) == ["lighthouse-reopens-2024-02-14.md"]
    assert "reopen to visitors in May" in about.text


@pytest.mark.e2e
def test_fact_questions_still_go_to_the_extractive_answerer(assistant: Assistant) -> None:
    answer = _ask(assistant, "How much did the lighthouse repair cost?")
    assert answer.mode == "extractive" and "$2.3 million" in answer.text
    assert answer.query == "How much did the lighthouse repair cost?"


@pytest.mark.e2e
def test_collection_answers_stream_then_end_with_the_answer(assistant: Assistant) -> None:
    events = list(assistant.ask_stream("How many articles mention the strike?"))
    assert isinstance(events[-1], Answer)
    assert "".join(e for e in events[:-1] if isinstance(e, str)) == events[-1].text


# --- overviews, end to end ---------------------------------------------------------------
@pytest.mark.e2e
def test_overview_of_the_latest_news_on_a_topic(assistant: Assistant) -> None:
    answer = _ask(assistant, "Summarize the latest news on the rail strike")
    assert answer.mode == "overview" and not answer.refused
    assert _sources(answer) == ["rail-deal-2024-03-20.md"]
    assert 2 <= len(answer.citations) <= 3
    assert answer.citations[0].quote.startswith("The rail strike ended on Wednesday")  # the lead
    starts = [c.start for c in answer.citations]
    assert starts == sorted(starts)  # quoted in the article's order
    assert all(f"{c.quote} [{c.n}]" in answer.text for c in answer.citations)


@pytest.mark.e2e
def test_overview_of_several_articles_says_which(assistant: Assistant) -> None:
    answer = _ask(assistant, "Give me an overview of the articles about the lighthouse")
    assert set(_sources(answer)) == {
        "lighthouse-storm-2024-01-05.md",
        "lighthouse-reopens-2024-02-14.md",
    }
    assert answer.text.startswith("From 2 articles about “lighthouse”:")
    assert all(_title(s) in answer.text for s in _sources(answer))


@pytest.mark.e2e
def test_key_facts_about_a_topic_quote_sentences_that_hold_it(assistant: Assistant) -> None:
    answer = _ask(assistant, "Key facts about the sourdough prize")
    assert _sources(answer) == ["bakery-prize-2024-02-21.md"]
    assert "national sourdough prize" in answer.citations[0].quote


@pytest.mark.e2e
def test_a_topic_that_only_names_the_article_gets_the_whole_article(assistant: Assistant) -> None:
    answer = _ask(assistant, "What is the article about the bakery prize about?")
    assert answer.mode == "overview" and _sources(answer) == ["bakery-prize-2024-02-21.md"]
    assert answer.text.startswith("Overview of")  # not "What ... says about"
    assert answer.citations[0].quote.startswith("A family bakery in Orchard Street")  # the lead
    topical = _ask(assistant, "Key facts about the sourdough prize")  # not in the title
    assert "says about" in topical.text


@pytest.mark.e2e
def test_the_article_among_many_asks_which_one(assistant: Assistant) -> None:
    answer = _ask(assistant, "What is the article about?")
    assert not answer.refused and "holds 6 articles" in answer.text
    assert len(answer.citations) == 3


@pytest.mark.e2e
def test_overview_without_a_match_is_refused(assistant: Assistant) -> None:
    answer = _ask(assistant, "Summarize the news about volcanoes")
    assert answer.refused and "volcanoes" in answer.text


@pytest.mark.e2e
@pytest.mark.slow
def test_the_collection_test_set_through_the_real_assistant(
    tmp_path: Path, real_embeddings: Embeddings
) -> None:
    """tests/data/collection_testset.jsonl over tests/data/collection: a floor, not the
    measured figure, and every citation of every answer quotes its article exactly."""
    settings = Settings(corpus_dir=DATA / "collection", index_dir=tmp_path / "index")
    a = Assistant(settings, embeddings=real_embeddings)
    a.reindex()
    items = load_testset(DATA / "collection_testset.jsonl")
    assert len(items) >= 30
    result = run_eval(a, items)
    assert result.metrics["pass_rate"] is not None and result.metrics["pass_rate"] >= 0.8
    assert result.metrics["refusal_f1"] is not None and result.metrics["refusal_f1"] >= 0.8
    for record in result.records:
        for c in record.citations:
            doc = a.document(c["source"])
            assert doc is not None and doc.text[c["start"] : c["end"]] == c["quote"]


def test_collection_question_without_an_index_is_actionable(tmp_path: Path) -> None:
    settings = Settings(corpus_dir=tmp_path / "corpus", index_dir=tmp_path / "index")
    with pytest.raises(IndexNotFoundError):
        Assistant(settings).ask("Which articles do you have?")


# --- routing and bounds, with stand-ins ---------------------------------------------------
class _Generative(Answerer):
    name = "fake-llm"
    generative = True

    def answer(
        self, question: str, passages: Sequence[Passage], history: Sequence[Turn] = ()
    ) -> Answer:
        return Answer(text="written")


def test_routing_by_kind_and_capability(tmp_path: Path) -> None:
    a = Assistant(Settings(corpus_dir=tmp_path, index_dir=tmp_path / "index"))
    llm = _Generative()
    collection = a.route("How many articles are about Nepal?", [], llm)
    assert collection is not None and isinstance(collection[0], CollectionAnswerer)
    # A generative backend writes overviews itself; the extractive default does not.
    assert a.route("Summarize the article", [], llm) is None
    extractive = a.route("Summarize the article", [], a.answerer("extractive"))
    assert extractive is not None and isinstance(extractive[0], OverviewAnswerer)
    assert a.route("How many Nepalis have gone to fight?", [], llm) is None


class _Library:
    """A collection of `n` one-sentence articles, dated one day apart."""

    def __init__(self, n: int) -> None:
        self.texts = {
            f"a{i:02d}.md": f"Article number {i} reports on the harbour in full sentences."
            for i in range(n)
        }

    def documents(self) -> list[DocumentRecord]:
        return [
            DocumentRecord(s, f"Title {s}", f"2024-01-{i + 1:02d}", "x", 1, "indexed")
            for i, s in enumerate(self.texts)
        ]

    def article_passages(self, source: str) -> list[Passage]:
        text = self.texts[source]
        chunk = Chunk(f"{source}:0", source, 0, text, 0, len(text), sentences=((0, len(text)),))
        return [Passage(chunk, f"Title {source}", None)]


def test_long_lists_are_bounded_and_say_how_many_more() -> None:
    answer = CollectionAnswerer(_Library(LIST_LIMIT + 5)).answer("Which articles do you have?", [])
    assert len(answer.citations) == LIST_LIMIT
    assert answer.text.endswith("…and 5 more.")
    assert answer.citations[0].source == f"a{LIST_LIMIT + 4:02d}.md"  # newest first


def test_an_article_that_only_mentions_the_topic_is_not_about_it() -> None:
    about, _ = make_passage(
        "Nepal's army recruits were sent home. Nepal asked Moscow.", source="n.md"
    )
    passing, _ = make_passage("Trade talks stalled; Nepal was mentioned once.", source="t.md")
    found = articles_about("Nepal", [about, passing], {"n.md": 1, "t.md": 12})
    assert [(a.source, a.about) for a in found] == [("n.md", True), ("t.md", False)]
    assert articles_about("cricket", [about, passing], {}) == []


def test_summary_prefers_the_lead_and_skips_the_title_line() -> None:
    text = (
        "Harbour dredging plan approved\n\n"
        "The city approved a plan to dredge the harbour so that larger ships can dock there. "
        "Work on the harbour will start in May and take two years to finish. "
        "A local bakery sold out of bread on Tuesday morning again."
    )
    p, _ = make_passage(text, source="h.md", title="Harbour dredging plan approved")
    picked = summarize([p], p.title, {}, 2)
    assert [s.text for s in picked] == [
        "The city approved a plan to dredge the harbour so that larger ships can dock there.",
        "Work on the harbour will start in May and take two years to finish.",
    ]


def test_articles_are_labelled_with_title_and_date() -> None:
    assert Article("a.md", "T", None).label == "“T” (undated)"
    assert Article("a.md", None, "2024-01-02").label == "“a.md” (2024-01-02)"
