"""The question-kind classifier (askfront.answering.kinds) and the date phrases it reads
(askfront.answering.dates): unit tests, no model, no index."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from askfront.answering.dates import DateRange, parse_dates
from askfront.answering.kinds import (
    COLLECTION,
    FACT,
    LATEST,
    OLDEST,
    OVERVIEW,
    classify,
    read_question,
    topic_of,
)
from askfront.core.types import Turn
from paths import DATA

SEED = DATA / "seed_testset.jsonl"
COLLECTION_SET = DATA / "collection_testset.jsonl"

# --- collection questions -------------------------------------------------------------
LISTS = [
    ("Which articles do you have?", ""),
    ("What articles are there?", ""),
    ("What's in the collection?", ""),
    ("List all documents.", ""),
    ("Show me the articles.", ""),
    ("What topics do the articles cover?", ""),
    ("Which articles are about Nepal?", "Nepal"),
    ("Which article mentions Macron?", "Macron"),
    ("Do you have any articles on Nepal?", "Nepal"),
    ("Is there an article about cricket?", "cricket"),
    ("Are there any news stories about the harbor?", "harbor"),
    ("Show me all articles about the war", "war"),
    ("Find articles discussing remittances", "remittances"),
    ("Which documents mention the FBI?", "FBI"),
    ("Articles about the 2024 election", "2024 election"),
    ("Which of the articles discuss Kharkiv?", "Kharkiv"),
    ("Do you have anything on Nepal?", "Nepal"),
    ("Can you list the documents in the index?", ""),
]


@pytest.mark.parametrize(("question", "topic"), LISTS)
def test_lists_of_articles(question: str, topic: str) -> None:
    intent = read_question(question)
    assert intent.kind == COLLECTION
    assert not intent.count and intent.order is None
    assert intent.topic == topic


@pytest.mark.parametrize(
    ("question", "topic"),
    [
        ("How many articles are in the collection?", ""),
        ("How many articles do you have?", ""),
        ("How many articles mention Nepal?", "Nepal"),
        ("How many news articles are about the war?", "war"),
        ("How many documents do you have about Ukraine?", "Ukraine"),
        ("What is the number of articles about Boeing?", "Boeing"),
        ("How many articles?", ""),
    ],
)
def test_counts_of_articles(question: str, topic: str) -> None:
    intent = read_question(question)
    assert (intent.kind, intent.count, intent.topic) == (COLLECTION, True, topic)


@pytest.mark.parametrize(
    ("question", "order", "topic", "plural"),
    [
        ("What is the latest article?", LATEST, "", False),
        ("What's the newest article about Nepal?", LATEST, "Nepal", False),
        ("Which is the most recent story about Nepal?", LATEST, "Nepal", False),
        ("What's the oldest article about the war?", OLDEST, "war", False),
        ("Which article was published first?", OLDEST, "", False),
        ("Which article is the oldest?", OLDEST, "", False),
        ("Which story about Nepal is the newest?", LATEST, "Nepal", False),
        ("What is the newest piece about the war?", LATEST, "war", False),
        ("Show me the earliest article on Kharkiv", OLDEST, "Kharkiv", False),
        ("What are the recent articles about Nepal?", LATEST, "Nepal", True),
        ("Which articles were published most recently?", LATEST, "", True),
    ],
)
def test_latest_and_oldest(question: str, order: str, topic: str, plural: bool) -> None:
    intent = read_question(question)
    assert intent.kind == COLLECTION
    assert (intent.order, intent.topic, intent.plural) == (order, topic, plural)


@pytest.mark.parametrize(
    ("question", "start", "end", "topic"),
    [
        ("Articles from February 2024", "2024-02-01", "2024-02-29", ""),
        ("Which articles were published in 2023?", "2023-01-01", "2023-12-31", ""),
        ("Which articles are from Feb 28, 2024?", "2024-02-28", "2024-02-28", ""),
        ("Any articles about Nepal since March 2024?", "2024-03-01", None, "Nepal"),
        ("Which articles were published before March 2024?", None, "2024-02-29", ""),
        ("How many articles were published after 2024-02-08?", "2024-02-09", None, ""),
        (
            "Show me all articles about the war between 2024-01-01 and 2024-03-01",
            "2024-01-01",
            "2024-03-01",
            "war",
        ),
    ],
)
def test_articles_from_dates(question: str, start: str | None, end: str | None, topic: str) -> None:
    intent = read_question(question)
    assert intent.kind == COLLECTION
    assert intent.dates is not None
    assert (intent.dates.start, intent.dates.end, intent.topic) == (start, end, topic)


def test_a_month_without_a_year_means_that_month_of_any_year() -> None:
    dates = read_question("Which articles were published in March?").dates
    assert dates is not None and dates.months == (3, 3)
    assert dates.holds("2023-03-31") and dates.holds("2024-03-01")
    assert not dates.holds("2024-04-01") and not dates.holds(None)


def test_mentioning_is_not_the_same_as_being_about() -> None:
    assert read_question("Which articles mention Nepal?").mentions
    assert not read_question("Which articles are about Nepal?").mentions


# --- overviews ------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("question", "topic", "plural", "order"),
    [
        ("What is this article about?", "", False, None),
        ("What is the article about?", "", False, None),
        ("What are these articles about?", "", True, None),
        ("Give me an overview of the article.", "", False, None),
        ("Give me an overview of the articles about Russia", "Russia", True, None),
        ("Summarize the latest news on Nepal", "Nepal", False, LATEST),
        ("Summarise the article", "", False, None),
        ("What are the main points of the article?", "", False, None),
        ("Key facts about Macron", "Macron", False, None),
        ("What does the article say about Macron?", "Macron", False, None),
        ("Tell me about the tulip festival", "tulip festival", False, None),
        ("What's the latest on the harbor?", "harbor", False, LATEST),
        ("Any news about the harbor?", "harbor", True, None),
        ("What is the latest article about?", "", False, LATEST),
        ("Give me the gist of the oldest article", "", False, OLDEST),
        ("Brief me on the Kharkiv blackout", "Kharkiv blackout", False, None),
        ("What is the article about Luke Littler about?", "Luke Littler", False, None),
        ("What's the story on the harbor strike about?", "harbor strike", False, None),
    ],
)
def test_overviews(question: str, topic: str, plural: bool, order: str | None) -> None:
    intent = read_question(question)
    assert intent.kind == OVERVIEW
    assert (intent.topic, intent.plural, intent.order) == (topic, plural, order)


# --- fact questions stay fact questions -------------------------------------------------
@pytest.mark.parametrize(
    "question",
    [
        "How many Nepalis have gone to fight?",
        "How many Nepalis have gone to fight for Russia?",
        "How many documents were classified?",
        "Which documents did the FBI seize?",
        "How many stories does the Empire State Building have?",
        "How many articles of impeachment were filed?",
        "How many articles does the Constitution have?",
        "Which article of the constitution was invoked?",
        "Which article guaranteed freedom of speech?",
        "How many articles were in the Treaty?",
        "Which news agency traced the journeys of Cubans who went to fight for Russia?",
        "What news network did he speak to?",
        "Who is the Slovak prime minister mentioned in the article?",
        "Who reported the story for the Washington Post?",
        "According to the article, how many foreigners serve in the legion?",
        "What was the latest death toll?",
        "Who finished last on Sunday?",
        "When was the first iPhone released?",
        "What is the name of the latest iPhone?",
        "How many reports of bird flu were there in March 2024?",
        "What did Macron say?",
        "Who broke the news about the merger?",
        "Did Macron say anything about troops?",
        "Which one was older, the bridge or the tower?",
    ],
)
def test_fact_questions_are_not_collection_questions(question: str) -> None:
    assert read_question(question).kind == FACT
    assert classify(question).kind == FACT


def test_every_seed_question_is_a_fact_question() -> None:
    """The seed set asks only for facts (with follow-ups): none of it may be rerouted."""
    for line in SEED.read_text(encoding="utf-8").splitlines():
        item = json.loads(line)
        assert classify(item["question"], item.get("history", [])).kind == FACT, item["id"]


def test_topic_keeps_names_that_look_like_framing() -> None:
    assert topic_of("Which articles are about Key Largo?") == "Key Largo"
    assert topic_of("Which articles do you have?") == ""


# --- follow-ups -----------------------------------------------------------------------
def _history(*questions: str) -> list[Turn]:
    turns: list[Turn] = []
    for q in questions:
        turns += [{"role": "user", "content": q}, {"role": "assistant", "content": "…"}]
    return turns


def test_a_bare_follow_up_keeps_the_kind_and_topic() -> None:
    history = _history("Which articles are about Nepal?")
    latest = classify("And the latest one?", history)
    assert (latest.kind, latest.order, latest.topic, latest.plural) == (
        COLLECTION,
        LATEST,
        "Nepal",
        False,
    )
    count = classify("How many are there?", history)
    assert (count.kind, count.count, count.topic) == (COLLECTION, True, "Nepal")
    swapped = classify("What about Ukraine?", history)
    assert (swapped.kind, swapped.topic) == (COLLECTION, "Ukraine")
    dated = classify("And from February 2024?", history)
    assert dated.topic == "Nepal" and dated.dates is not None
    assert dated.dates.start == "2024-02-01"


def test_one_of_the_articles_named_before() -> None:
    history = _history("Which articles are about Kharkiv?")
    older = classify("Which one is older?", history)
    assert (older.kind, older.order, older.topic) == (COLLECTION, OLDEST, "Kharkiv")
    first = classify("Summarize the first one", history)
    assert (first.kind, first.order, first.topic) == (OVERVIEW, OLDEST, "Kharkiv")


def test_a_chain_of_follow_ups_keeps_the_first_topic() -> None:
    history = _history("How many articles are about the war?", "And the latest one?")
    oldest = classify("And the oldest?", history)
    assert (oldest.kind, oldest.order, oldest.topic) == (COLLECTION, OLDEST, "war")
    about = classify("What is it about?", history)
    assert (about.kind, about.order, about.topic, about.recalled) == (
        OVERVIEW,
        LATEST,
        "war",
        True,
    )


def test_this_article_after_a_fact_question_is_the_article_that_answered() -> None:
    history = _history("How many Nepalis serve with Russian forces?")
    intent = classify("What is this article about?", history)
    assert intent.kind == OVERVIEW and intent.recalled
    assert "Nepalis" in intent.topic and "Russian" in intent.topic


def test_the_article_after_a_question_about_one_is_that_article() -> None:
    history = _history("What is the latest article about Nepal?")
    intent = classify("Summarize the article", history)
    assert (intent.kind, intent.order, intent.topic) == (OVERVIEW, LATEST, "Nepal")
    assert classify("Summarize the article").topic == ""


def test_a_fact_follow_up_to_a_collection_question_stays_a_fact_question() -> None:
    history = _history("Which articles are about Nepal?")
    assert classify("And how many Nepalis were killed?", history).kind == FACT
    assert classify("Who is the foreign minister?", history).kind == FACT


def test_a_standalone_collection_question_ignores_history() -> None:
    history = _history("How many Nepalis serve with Russian forces?")
    intent = classify("What is the latest article?", history)
    assert (intent.kind, intent.topic, intent.recalled) == (COLLECTION, "", False)


# --- dates ----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("in February 2024", DateRange("2024-02-01", "2024-02-29")),
        ("from 2023", DateRange("2023-01-01", "2023-12-31")),
        ("on 28 February 2024", DateRange("2024-02-28", "2024-02-28")),
        ("dated 2024-02-28", DateRange("2024-02-28", "2024-02-28")),
        ("from January to March", DateRange(months=(1, 3))),
        ("from January 2024 to March 2024", DateRange("2024-01-01", "2024-03-31")),
        ("since Feb. 2024", DateRange(start="2024-02-01")),
    ],
)
def test_date_phrases(text: str, expected: DateRange) -> None:
    found, rest = parse_dates(f"articles {text}")
    assert found is not None
    assert (found.start, found.end, found.months) == (expected.start, expected.end, expected.months)
    assert rest == "articles"


@pytest.mark.parametrize(
    "text", ["articles about the 2024 election", "before marching", "in February 31, 2024"]
)
def test_no_date_where_there_is_none(text: str) -> None:
    found, _ = parse_dates(text)
    assert found is None


@pytest.mark.dataset
def test_no_question_of_the_shared_sets_is_rerouted(realtimeqa: Path) -> None:
    """The RealTimeQA and HotpotQA dev questions are all fact questions."""
    for folder in (realtimeqa, realtimeqa.parent / "hotpotqa-dev-300"):
        path = folder / "testset.jsonl"
        if not path.is_file():
            continue
        for line in path.read_text(encoding="utf-8").splitlines():
            item = json.loads(line)
            assert classify(item["question"], item.get("history", [])).kind == FACT, item["id"]
