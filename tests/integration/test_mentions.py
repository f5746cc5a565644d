"""Questions about the whole collection (issue 16): exhaustive mention search, dates that
mean something (datelines, relative dates against an as-of date) and their scores in
`askfront eval`. End to end through the real Assistant (bundled model, Chroma, BM25) over
articles written here, the default article's hand-written set (CI gates on it), and the
RealTimeQA acceptance run (a quality gate; skipped without the data set)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest
from langchain_core.embeddings import Embeddings

from askfront.answering.dates import parse_dates, resolve
from askfront.answering.kinds import OLDEST, read_question
from askfront.assistant import Assistant, index_spec
from askfront.core.config import Settings
from askfront.core.errors import QuestionError
from askfront.core.options import AskOptions
from askfront.corpus.dateline import dateline
from askfront.evaluation.collection import answer_count, collection_scores
from askfront.evaluation.runner import run_eval
from askfront.evaluation.testset import load_testset
from askfront.indexing.sync import sync
from askfront.retrieval.mentions import phrase_pattern
from paths import REPO

DEFAULT_SET = REPO / "tests" / "data" / "collection_default.jsonl"
REALTIMEQA_SET = REPO / "tests" / "data" / "collection_realtimeqa.jsonl"
GOALS = ("list_recall", "list_precision", "count_correct", "latest_correct", "first_correct",
         "range_correct")  # fmt: skip

ARTICLES = {
    "harbor-vote-2024-03-04.md": '---\ntitle: "Harbor vote set"\ndate: 2024-03-04\n---\n'
    "The council will vote on the harbor plan on Friday. Mayor Ada Quist backs the plan.\n\n"
    "Critics of the Quist-backed plan say it costs too much.\n",
    "harbor-dredging.md": '---\ntitle: "Dredging starts"\ndate: 2024-03-11\n---\n'
    "Dredging of the harbor began on Monday.\n\nMAYOR ADA QUIST cut the ribbon at the pier.\n",
    "budget-dateline.txt": "RIVERTON, March 6, 2024 — The city budget grew by 4 percent.\n\n"
    "Councillors thanked Ada Quist's office for the plan. Nobody mentioned the harbor.\n",
    "quistian-essay.md": '---\ntitle: "An essay"\n---\n'
    "A quistian mood fell over the town; ada quist in lower case is not her name.\n",
    "bakery.md": '---\ntitle: "Bakery wins prize"\ndate: 2024-02-20\n---\n'
    "A family bakery won the national sourdough prize on Tuesday.\n",
}


def count_by_hand(folder: Path, name: str) -> list[str]:
    """The files that mention `name` (as written, or in capitals), read from the files."""
    space = r"\s+"
    exact, upper = space.join(name.split()), space.join(name.upper().split())
    pattern = rf"(?<!\w)(?:{exact}|{upper})(?!\w)"
    return sorted(p.name for p in folder.iterdir() if re.search(pattern, p.read_text()))


@pytest.fixture(scope="module")
def town(tmp_path_factory: pytest.TempPathFactory, real_embeddings: Embeddings) -> Assistant:
    root = tmp_path_factory.mktemp("town")
    (root / "corpus").mkdir()
    for name, text in ARTICLES.items():
        (root / "corpus" / name).write_text(text, encoding="utf-8")
    settings = Settings(corpus_dir=root / "corpus", index_dir=root / "index")
    sync(index_spec(settings), embeddings=real_embeddings)
    return Assistant(settings, embeddings=real_embeddings)


# --- the parts ----------------------------------------------------------------------------
def test_phrase_is_whole_words_and_case_aware_for_names() -> None:
    name = phrase_pattern("Ada Quist")
    assert name.search("Mayor Ada Quist said") and name.search("ADA QUIST cut")
    assert name.search("Ada Quist's office") and name.search("the Ada Quist-backed plan")
    assert not name.search("ada quist") and not name.search("Ada Quistian")
    assert phrase_pattern("harbor").search("HARBOR plans") and not phrase_pattern("harbor").search(
        "harbors"
    )


@pytest.mark.parametrize(
    ("phrase", "as_of", "expected"),
    [
        ("last week", "2024-07-31", ("2024-07-22", "2024-07-28")),  # Monday to Sunday
        ("this week", "2024-07-31", ("2024-07-29", "2024-07-31")),
        ("in the past 3 days", "2024-03-01", ("2024-02-28", "2024-03-01")),
        ("last month", "2024-03-15", ("2024-02-01", "2024-02-29")),
        ("since January", "2024-03-10", ("2024-01-01", "2024-03-10")),
        ("since October", "2024-03-10", ("2023-10-01", "2024-03-10")),  # the last October
        ("yesterday", "2024-03-01", ("2024-02-29", "2024-02-29")),
        ("last year", "2024-03-01", ("2023-01-01", "2023-12-31")),
    ],
)
def test_relative_dates_resolve_against_the_as_of_date(
    phrase: str, as_of: str, expected: tuple[str, str]
) -> None:
    rng, rest = parse_dates(f"Which articles were published {phrase}?")
    assert rng is not None and rng.relative and phrase.split()[-1] not in rest
    resolved = resolve(rng, date.fromisoformat(as_of))
    assert resolved is not None and (resolved.start, resolved.end) == expected
    assert resolved.label.startswith(("from ", "on ")) and f"as of {as_of}" in resolved.label


def test_absolute_dates_stay_absolute() -> None:
    rng, _ = parse_dates("articles from July 2024")
    assert (
        rng is not None
        and not rng.relative
        and (rng.start, rng.end)
        == (
            "2024-07-01",
            "2024-07-31",
        )
    )


def test_mention_questions_keep_the_phrase_as_written() -> None:
    listed = read_question("Which articles mention “Bank of America”?")
    assert listed.mentions and listed.phrase == "Bank of America" and listed.order is None
    first = read_question("When was Kathy Hochul first mentioned?")
    assert first.when and first.order == OLDEST and first.phrase == "Kathy Hochul"
    assert read_question("When did the articles first mention Iran?").phrase == "Iran"
    assert read_question("Which articles were published last week?").order is None
    assert read_question("When was the treaty signed?").kind == "fact"


def test_dateline_is_read_from_the_text_only() -> None:
    assert dateline("RIVERTON, March 6, 2024 — The budget grew.") == "2024-03-06"
    assert dateline("A Blog\n\nFeb 28, 2024\n\nText") == "2024-02-28"
    assert dateline("No date here at all, only 2024 as a year.") is None
    assert dateline("x" * 700 + " March 6, 2024") is None  # not near the start


def test_collection_scores() -> None:
    s = collection_scores("list", None, ["2"], ["a", "b"], "2 of 9 articles", ["a", "c"], False)
    assert s["list_recall"] == 0.5 and s["list_precision"] == 0.5
    assert answer_count("14 of 500 articles mention X, from 2024-01-01") == "14"
    assert answer_count("0 of 5 articles mention X.") == "0"
    first = collection_scores("first", None, ["2024-01-05"], [], "on January 5, 2024", [], False)
    assert first["first_correct"] == 1.0
    ranged = collection_scores(None, ["2024-07-22", "2024-07-28"], [], [], "from 2024-07-22 to "
                               "2024-07-29", [], False)  # fmt: skip
    assert ranged["range_correct"] == 0.0


# --- end to end ---------------------------------------------------------------------------
def test_which_articles_mention_lists_every_one_newest_first(town: Assistant) -> None:
    expected = count_by_hand(town.settings.corpus_dir, "Ada Quist")
    answer = town.ask("Which articles mention Ada Quist?")
    cited = [c.source for c in answer.citations]
    assert sorted(cited) == expected and len(expected) == 3  # not the lower-case essay
    assert cited == ["harbor-dredging.md", "budget-dateline.txt", "harbor-vote-2024-03-04.md"]
    assert answer.text.startswith("3 of 5 articles mention “Ada Quist”")
    assert "(2024-03-06)" in answer.text  # the dateline's date
    for c in answer.citations:  # each cites the sentence of its first mention
        doc = town.document(c.source)
        assert doc is not None and doc.text[c.start : c.end] == c.quote
        assert re.search(r"(?i)ada quist", c.quote)
    assert [row["source"] for row in answer.articles] == cited


def test_count_latest_and_first_mention(town: Assistant) -> None:
    assert town.ask("How many articles mention Ada Quist?").text.startswith("3 of 5")
    latest = town.ask("What is the most recent article that mentions Ada Quist?")
    assert latest.citations[0].source == "harbor-dredging.md"
    first = town.ask("When was Ada Quist first mentioned?")
    assert "2024-03-04" in first.text and first.citations[0].source == "harbor-vote-2024-03-04.md"
    none = town.ask("Which articles mention Zebedee Quark?")
    assert none.refused and none.text.startswith("0 of 5 articles")


def test_relative_dates_use_the_as_of_date_and_say_the_range(town: Assistant) -> None:
    # Default as-of: the newest article's date (2024-03-11, a Monday).
    answer = town.ask("Which articles were published last week?")
    assert "from 2024-03-04 to 2024-03-10" in answer.text
    assert {c.source for c in answer.citations} == {
        "harbor-vote-2024-03-04.md",
        "budget-dateline.txt",
    }
    earlier = town.ask(
        "Which articles mention Ada Quist last week?", options=AskOptions(as_of="2024-03-08")
    )
    assert "from 2024-02-26 to 2024-03-03" in earlier.text and earlier.refused
    with pytest.raises(QuestionError, match="YYYY-MM-DD"):
        town.ask(
            "Which articles were published last week?", options=AskOptions(as_of="next Tuesday")
        )


def test_default_article_set_gates_ci(seed_assistant: Assistant) -> None:
    """The hand-written questions on the default article, scored by `askfront eval`'s code,
    each relative-date question asked on its own `asked_on`."""
    items = load_testset(DEFAULT_SET)
    assert sum(bool(i.expected_range) for i in items) >= 9
    result = run_eval(seed_assistant, items)
    assert {m: result.metrics[m] for m in GOALS} == dict.fromkeys(GOALS, 1.0)
    assert result.metrics["pass_rate"] == 1.0


# --- RealTimeQA (the acceptance; indexes 500 articles) ----------------------------
@pytest.mark.dataset
@pytest.mark.quality
def test_realtimeqa_mentions_and_dev_set(tmp_path: Path, realtimeqa: Path) -> None:
    corpus, index = realtimeqa / "corpus", tmp_path / "index"
    ask = [sys.executable, "-m", "askfront.cli"]
    out = tmp_path / "dev.json"
    proc = subprocess.run(
        [*ask, "eval", str(REALTIMEQA_SET), "--corpus", str(corpus), "--index", str(index),
         "--json", str(out), *[a for m in GOALS for a in ("--fail-under", f"{m}=0.9")]],
        capture_output=True, text=True, timeout=3600,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    items = load_testset(REALTIMEQA_SET)
    assert len(items) >= 40 and sum(bool(i.expected_range) for i in items) >= 10
    for name in ("Gretchen Whitmer", "Donald Trump"):
        expected = count_by_hand(corpus, name)
        proc = subprocess.run(
            [*ask, "ask", f"Which articles mention {name}?", "--index", str(index), "--json"],
            capture_output=True, text=True, timeout=600,
        )  # fmt: skip
        answer = json.loads(proc.stdout)
        rows = answer["articles"]
        assert sorted(r["source"] for r in rows) == expected
        assert answer["answer"].startswith(f"{len(expected)} of 500 articles mention")
        dates = [r["date"] for r in rows]
        assert dates == sorted(dates, reverse=True) and all(dates)
        assert all(name.split()[-1].lower() in r["first_mention"].lower() for r in rows)


def test_web_sources_panel_lists_every_matching_article(town: Assistant) -> None:
    from askfront.web.render import render_sources

    answer = town.ask("Which articles mention Ada Quist?")
    panel = render_sources(answer, 1)
    assert "Matching articles (3)" in panel and panel.count("<tr><td data-key=") == 3
    assert panel.index("11 Mar 2024") < panel.index("6 Mar 2024") < panel.index("4 Mar 2024")


@pytest.mark.dataset
def test_realtimeqa_dev_set_is_what_the_generator_makes(tmp_path: Path, realtimeqa: Path) -> None:
    out = tmp_path / "dev.jsonl"
    script = REPO / "benchmarks" / "collection_devset.py"
    subprocess.run(
        [sys.executable, str(script), "--corpus", str(realtimeqa / "corpus"), "--out", str(out)],
        check=True, capture_output=True, timeout=300,
    )  # fmt: skip
    assert out.read_text() == REALTIMEQA_SET.read_text()


@pytest.mark.dataset
def test_mention_latency_benchmark_runs(tmp_path: Path, realtimeqa: Path) -> None:
    """benchmarks/mention_latency.py on a few hundred chunks, so its code can't rot (its
    own check: the postings and the full scan find the same articles)."""
    out = tmp_path / "latency.json"
    script = REPO / "benchmarks" / "mention_latency.py"
    subprocess.run(
        [sys.executable, str(script), "--chunks", "300", "--runs", "1", "--json", str(out)],
        check=True, capture_output=True, timeout=600,
        env={**os.environ, "ASKFRONT_DATASETS": str(realtimeqa.parent)},
    )  # fmt: skip
    assert json.loads(out.read_text())["chunks"] >= 300


def test_months_of_any_year_bound_a_mention_search(town: Assistant) -> None:
    answer = town.ask("Which articles from March mention Ada Quist?")
    assert answer.text.startswith("3 of 3 articles published in March mention")  # not Feb
    assert "bakery.md" not in {c.source for c in answer.citations}


def test_a_timeline_lists_the_dated_mentions_oldest_first(town: Assistant) -> None:
    answer = town.ask("Give me a timeline of Ada Quist")
    lines = answer.text.splitlines()
    assert lines[0].startswith("Timeline of “Ada Quist”: 3 of 5 articles mention it")
    assert [line[2:12] for line in lines[1:]] == ["2024-03-04", "2024-03-06", "2024-03-11"]
    assert [c.date for c in answer.citations] == ["2024-03-04", "2024-03-06", "2024-03-11"]
    assert all("Quist" in c.quote or "QUIST" in c.quote for c in answer.citations)
    assert read_question("What's the chronology of Ada Quist?").timeline
