"""Multi-hop, comparison and "why" questions through the real Assistant: the bundled
embedding model, Chroma and BM25 over small corpora written here, with the second hop
searching for what the first one found."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pytest
from langchain_core.embeddings import Embeddings

from askfront.assistant import Assistant
from askfront.core.config import Settings
from askfront.core.options import AskOptions
from askfront.core.types import Answer, Passage, Turn
from askfront.grounding.markers import strip_markers
from fakes import LeadSentenceAnswerer

ARTICLES = {
    "the-dingoes.md": (
        "The Dingoes",
        "The Dingoes are an Australian country rock band formed in Melbourne. "
        "Their guitarist Chris Stockley was shot by Dennis Allen, a Melbourne criminal, "
        "while the band was playing a party. Stockley recovered and the band moved to the "
        "United States.",
    ),
    "dennis-allen.md": (
        "Dennis Allen (criminal)",
        "Dennis Bruce Allen was an Australian drug dealer and murderer. He died of heart "
        "failure in 1987, before he could be tried for most of his crimes.",
    ),
    "mark-read.md": (
        "Mark Read",
        "Mark Brandon Read was an Australian criminal and author. He died of liver cancer "
        "in 2013 in Melbourne.",
    ),
    "alpha-road.md": (
        "Alpha Road",
        "Alpha Road is a 1992 American musical film directed by Ann Lee. It was shot in "
        "Chicago over six weeks.",
    ),
    "beta-street.md": (
        "Beta Street",
        "Beta Street is a 1971 British musical film directed by Tom Hale. Its songs were "
        "written by the Sherman brothers.",
    ),
    "gamma-grove.md": (
        "Gamma Grove",
        "Gamma Grove is a public park in Leeds with a lake and a bandstand. Concerts are "
        "held there every summer.",
    ),
}
BRIDGE = "In what year did the man who shot Chris Stockley of The Dingoes die?"


def _write(folder: Path, names: list[str]) -> None:
    folder.mkdir(parents=True)
    for name in names:
        title, text = ARTICLES[name]
        (folder / name).write_text(
            f"---\ntitle: {title}\ndate: 2024-01-10\n---\n\n{text}\n", encoding="utf-8"
        )


def _assistant(root: Path, names: list[str], embeddings: Embeddings, top_k: int) -> Assistant:
    _write(root / "corpus", names)
    settings = Settings(corpus_dir=root / "corpus", index_dir=root / "index", top_k=top_k)
    assistant = Assistant(settings, embeddings=embeddings)
    assistant.reindex()
    return assistant


@pytest.fixture(scope="module")
def assistant(tmp_path_factory: pytest.TempPathFactory, real_embeddings: Embeddings) -> Assistant:
    # top_k=1: the first search returns one passage, so whatever else an answer quotes
    # was found by the second hop.
    return _assistant(tmp_path_factory.mktemp("hops"), list(ARTICLES), real_embeddings, 1)


def _assert_cited_verbatim(assistant: Assistant, answer: Answer) -> None:
    assert answer.citations
    for c in answer.citations:
        document = assistant.document(c.source)
        assert document is not None
        assert document.text[c.start : c.end] == c.quote


def test_a_bridge_question_is_answered_from_two_articles(assistant: Assistant) -> None:
    answer = assistant.ask(BRIDGE)
    assert not answer.refused, answer.text
    assert answer.passages[0].source == "the-dingoes.md"  # the first hop's one passage
    assert "hop_ms" in answer.timings
    assert {"the-dingoes.md", "dennis-allen.md"} <= {c.source for c in answer.citations}
    assert "1987" in strip_markers(answer.text)
    # The sentence naming the man is quoted before the one saying when he died.
    sources = [c.source for c in answer.citations]
    assert sources.index("the-dingoes.md") < sources.index("dennis-allen.md")
    _assert_cited_verbatim(assistant, answer)


def test_a_comparison_searches_each_name_and_cites_its_verdict(assistant: Assistant) -> None:
    answer = assistant.ask("Which musical film is older, Alpha Road or Beta Street?")
    assert not answer.refused, answer.text
    lead = answer.sentences[0]
    assert lead.text.startswith("Beta Street") and lead.citations == [1, 2]
    assert [c.source for c in answer.citations] == ["beta-street.md", "alpha-road.md"]
    assert "1971" in answer.citations[0].quote and "1992" in answer.citations[1].quote
    _assert_cited_verbatim(assistant, answer)


def test_a_yes_no_comparison_is_answered_and_cited(assistant: Assistant) -> None:
    answer = assistant.ask("Are Alpha Road and Beta Street both musical films?")
    assert answer.sentences[0].text.startswith("Yes"), answer.text
    assert {c.source for c in answer.citations} == {"alpha-road.md", "beta-street.md"}
    _assert_cited_verbatim(assistant, answer)


def test_a_comparison_with_an_unknown_name_is_refused(assistant: Assistant) -> None:
    answer = assistant.ask("Which musical film is older, Alpha Road or Delta Avenue?")
    assert answer.refused and "“Delta Avenue”" in answer.text
    assert answer.citations == []


def test_without_the_bridge_article_the_question_is_refused(
    tmp_path: Path, real_embeddings: Embeddings
) -> None:
    # The other articles are on topic (the band, an Australian criminal who died in
    # Melbourne), but none says when the man who shot Stockley died. (A year of another
    # event in the band's article, "formed in 1973", would still be quoted: the relation
    # check sees "shot" next to it. A known limit.)
    names = [n for n in ARTICLES if n != "dennis-allen.md"]
    answer = _assistant(tmp_path, names, real_embeddings, 5).ask(BRIDGE)
    assert answer.refused, answer.text
    assert answer.citations == [] and answer.related


def test_why_is_answered_with_the_motive(seed_assistant: Assistant) -> None:
    answer = seed_assistant.ask("Why do Nepalis join the Russian army?")
    assert not answer.refused
    assert "the prospect of a salary at $2,000 a month" in answer.citations[0].quote
    _assert_cited_verbatim(seed_assistant, answer)


class _AsksForAllen(LeadSentenceAnswerer):
    """Quotes the first passage, and asks for one second-hop search."""

    wants_second_hop = True

    def __init__(self) -> None:
        super().__init__()
        self.seen: list[list[str]] = []

    def hop_queries(
        self, question: str, passages: Sequence[Passage], history: Sequence[Turn] = ()
    ) -> list[str]:
        self.seen.append([p.source for p in passages])
        return ["Dennis Allen heart failure", "The Dingoes Chris Stockley"]


def test_the_assistant_runs_the_searches_an_answerer_asks_for(assistant: Assistant) -> None:
    asking = _AsksForAllen()
    assistant._answerers["asking"] = asking
    answer = assistant.ask(BRIDGE, options=AskOptions(mode="asking"))
    assert asking.seen == [["the-dingoes.md"]]  # it read the first hop's passages
    sources = [p.source for p in answer.passages]
    # The first hop's ranking stays first; new passages follow, each once, ranked on.
    assert sources[0] == "the-dingoes.md" and "dennis-allen.md" in sources
    assert len({p.chunk.id for p in answer.passages}) == len(answer.passages)
    assert [p.rank for p in answer.passages] == list(range(1, len(answer.passages) + 1))
    assert "hop_ms" in answer.timings

    plain = LeadSentenceAnswerer()
    assistant._answerers["plain"] = plain
    answer = assistant.ask(BRIDGE, options=AskOptions(mode="plain"))
    assert [p.source for p in answer.passages] == ["the-dingoes.md"]
    assert "hop_ms" not in answer.timings
