"""Claim verification: marker parsing, sentence splitting, support flags and exact citations."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pytest
from langchain_core.embeddings import Embeddings

from askfront.assistant import embedding_spec
from askfront.core.config import Settings
from askfront.core.errors import ConfigError
from askfront.core.types import Passage
from askfront.corpus.loader import load_document
from askfront.grounding import markers, verify
from askfront.grounding.nli import CrossEncoderNLI
from askfront.indexing.chunking import chunk_document
from askfront.indexing.embeddings import get_tokenizer
from fakes import BagOfWordsEmbeddings, make_passage
from paths import DEFAULT_ARTICLE

LEGION = (
    "Some 20,000 foreigners from over 50 nationalities make up Ukraine's international legion. "
    "At least 50 American citizens have been killed in Ukraine. "
    "Zelensky issued a decree allowing foreign nationals to enter the National Guard."
)
NEPAL = (
    "The Nepali government has asked Russia to send back hundreds of Nepali nationals. "
    "More than 200 Nepalis have gone to Ukraine's battlefields and at least 14 have been killed."
)


@pytest.fixture
def two() -> tuple[list[Passage], list[str]]:
    """Two passages in two documents; returns the passages and the document texts."""
    p1, d1 = make_passage(LEGION, source="legion.md", title="Legion", prefix="Intro line.\n\n")
    p2, d2 = make_passage(NEPAL, source="nepal.md", title="Nepal", date=None, prefix="x" * 37)
    return [p1, p2], [d1, d2]


# --- parsing -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Claim [1].", [1]),
        ("Claim [1, 2].", [1, 2]),
        ("Claim [1][3].", [1, 3]),
        ("Claim [2; 1] and again [2].", [2, 1]),
        ("Claim [1-3].", [1, 2, 3]),
        ("Claim [Passage 4].", [4]),
        ("Claim [1 and 2].", [1, 2]),
        ("No markers, [a] or [] here.", []),
    ],
)
def test_parse_markers(text: str, expected: list[int]) -> None:
    assert markers.parse_markers(text) == expected


def test_strip_markers_tidies_spacing() -> None:
    assert markers.strip_markers("Twenty thousand [1] fight [2, 3].") == "Twenty thousand fight."


def test_split_answer_keeps_markers_with_their_sentence() -> None:
    text = "First claim [1]. Second claim.[2] Third claim. [3] Fourth claim [1]."
    assert markers.split_answer(text) == [
        "First claim [1].",
        "Second claim.[2]",
        "Third claim. [3]",
        "Fourth claim [1].",
    ]


def test_split_answer_leading_marker_stays_when_previous_is_cited() -> None:
    assert markers.split_answer("A is true [1]. [2] B is true.") == [
        "A is true [1].",
        "[2] B is true.",
    ]


def test_split_answer_bullets_and_marker_only_lines() -> None:
    text = "- The legion has 20,000 fighters\n- Most are volunteers\n[1]\n1. Nepalis died [2]"
    assert markers.split_answer(text) == [
        "The legion has 20,000 fighters",
        "Most are volunteers [1]",
        "Nepalis died [2]",
    ]


def test_novel_specifics_finds_swapped_numbers_and_names() -> None:
    evidence = "At least 50 American citizens were killed, a Kashmiri man said near Mariupol."
    assert (
        verify.novel_specifics("At least 50 Americans were killed near Mariupol.", evidence) == []
    )
    assert verify.novel_specifics("A man from Kashmir was hurt.", evidence) == []
    assert verify.novel_specifics("At least 5,000 Americans were killed.", evidence) == ["5000"]
    assert verify.novel_specifics("Fighters came from Africa.", evidence) == ["africa"]
    assert verify.novel_specifics("Fifty were killed.", evidence) == []  # number words count


# --- verification --------------------------------------------------------------------------


def test_supported_sentence_gets_exact_citation(two: tuple[list[Passage], list[str]]) -> None:
    passages, docs = two
    text = "More than 200 Nepalis have gone to Ukraine's battlefields and 14 were killed [2]."
    check = verify.verify(text, passages, BagOfWordsEmbeddings())
    assert [s.supported for s in check.sentences] == [True]
    assert check.sentences[0].citations == [2]
    assert not check.refused and check.notice is None
    (cite,) = check.citations
    assert cite.n == 2 and cite.source == "nepal.md" and cite.date is None
    assert docs[1][cite.start : cite.end] == cite.quote
    assert cite.quote.startswith("More than 200 Nepalis")  # the best sentence, not the first
    assert cite.score == pytest.approx(check.sentences[0].support_score, abs=1e-3)


def test_one_citation_per_passage_with_best_sentence(two: tuple[list[Passage], list[str]]) -> None:
    passages, docs = two
    text = (
        "Some 20,000 foreigners make up Ukraine's international legion [1]. "
        "Zelensky let foreign nationals enter the National Guard [1][2]."
    )
    check = verify.verify(text, passages, BagOfWordsEmbeddings())
    assert [c.n for c in check.citations] == [1, 2]
    for cite in check.citations:
        assert docs[cite.n - 1][cite.start : cite.end] == cite.quote
    assert check.citations[0].quote.startswith("Some 20,000 foreigners")
    assert check.sentences[1].citations == [1, 2]
    assert check.sentences[1].supported


def test_out_of_range_citations_are_dropped_and_recorded(
    two: tuple[list[Passage], list[str]],
) -> None:
    passages, _ = two
    text = "At least 50 American citizens have been killed in Ukraine [1, 7]. Nepal is far [9]."
    check = verify.verify(text, passages, BagOfWordsEmbeddings())
    assert check.dropped == [7, 9]
    assert "[7]" not in check.text and "[9]" not in check.text and "[1]" in check.text
    assert check.sentences[0].citations == [1] and check.sentences[0].text.endswith("[1].")
    assert check.sentences[1].citations == []
    assert not check.sentences[1].supported and check.sentences[1].support_score == 0.0
    assert [c.n for c in check.citations] == [1]
    assert check.notice is not None and "[7], [9]" in check.notice


def test_uncited_and_off_topic_sentences_are_unsupported(
    two: tuple[list[Passage], list[str]],
) -> None:
    passages, _ = two
    text = (
        "At least 50 American citizens have been killed in Ukraine [1]. "
        "The legion trains in Lviv every winter. "
        "Bananas are a good source of potassium [2]."
    )
    check = verify.verify(text, passages, BagOfWordsEmbeddings())
    flags = [(s.supported, s.citations) for s in check.sentences]
    assert flags == [(True, [1]), (False, []), (False, [2])]
    assert check.sentences[1].support_score == 0.0
    assert 0.0 <= check.sentences[2].support_score < verify.SUPPORT_THRESHOLD
    assert not check.refused
    assert check.notice is not None and "2 sentence(s)" in check.notice


def test_swapped_number_is_unsupported(two: tuple[list[Passage], list[str]]) -> None:
    passages, _ = two
    faithful = verify.verify("At least 50 American citizens have been killed [1].", passages, None)
    swapped = verify.verify(
        "At least 5,000 American citizens have been killed [1].", passages, None
    )
    assert faithful.sentences[0].supported
    assert not swapped.sentences[0].supported
    assert swapped.sentences[0].support_score < faithful.sentences[0].support_score


def test_no_supported_sentence_is_a_refusal(two: tuple[list[Passage], list[str]]) -> None:
    passages, docs = two
    check = verify.verify(
        "Bananas are yellow [1].", passages, BagOfWordsEmbeddings(), question="Who won?"
    )
    assert check.refused and not check.explicit_refusal
    assert check.sentences and not check.sentences[0].supported
    assert check.notice is not None and "No sentence" in check.notice
    assert [c.n for c in check.related] == [1, 2]
    for cite in check.related:
        assert docs[cite.n - 1][cite.start : cite.end] == cite.quote


@pytest.mark.parametrize(
    "text",
    [
        "The articles don't say.",
        "The passages do not contain information about the election.",
        "I cannot answer this from the provided articles.",
        "There is no information about that in the articles.",
    ],
)
def test_model_saying_it_does_not_know_is_a_refusal(
    text: str, two: tuple[list[Passage], list[str]]
) -> None:
    passages, _ = two
    check = verify.verify(text, passages, BagOfWordsEmbeddings(), question="Who won the election?")
    assert check.refused and check.explicit_refusal
    assert check.sentences == [] and check.citations == []
    assert check.related  # the closest passages, for "related reading"


def test_refusal_wording_inside_a_cited_answer_is_not_a_refusal(
    two: tuple[list[Passage], list[str]],
) -> None:
    passages, _ = two
    text = "At least 50 American citizens have been killed in Ukraine [1]. It cannot say more."
    assert not verify.verify(text, passages, BagOfWordsEmbeddings()).refused


def test_embeddings_are_computed_in_one_call(two: tuple[list[Passage], list[str]]) -> None:
    passages, _ = two
    emb = BagOfWordsEmbeddings()
    verify.verify("A [1]. B is here [2]. C too [1][2].", passages, emb)
    assert emb.calls == 1


class KeywordNLI:
    """Entailment 0.9 when the premise contains `keyword`, else 0.05; records the pairs."""

    def __init__(self, keyword: str) -> None:
        self.keyword = keyword
        self.pairs: list[tuple[str, str]] = []

    def entailment(self, pairs: Sequence[tuple[str, str]]) -> list[float]:
        self.pairs.extend(pairs)
        return [0.9 if self.keyword in premise else 0.05 for premise, _ in pairs]


def test_nli_decides_when_configured(two: tuple[list[Passage], list[str]]) -> None:
    passages, _ = two
    text = "At least 50 American citizens have been killed in Ukraine [1]. Nepalis died [2]."
    nli = KeywordNLI("Nepalis")
    check = verify.verify(text, passages, BagOfWordsEmbeddings(), nli=nli)
    assert [s.supported for s in check.sentences] == [False, True]
    assert check.sentences[0].support_score == pytest.approx(0.05)
    # The premise is the best passage sentence with its neighbours; the hypothesis the claim.
    assert nli.pairs[0][1] == "At least 50 American citizens have been killed in Ukraine."
    assert "At least 50 American citizens" in nli.pairs[0][0]


def _tiny_nli_folder(tmp_path: Path, labels: dict[int, str]) -> Path:
    """A randomly initialised 1-layer BERT classifier with the bundled tokenizer: real
    CrossEncoder loading code, no download."""
    import shutil

    from transformers import BertConfig, BertForSequenceClassification

    from askfront.indexing.embeddings import bundled_model_path

    src = bundled_model_path()
    config = BertConfig(
        vocab_size=30522, hidden_size=32, num_hidden_layers=1, num_attention_heads=2,
        intermediate_size=37, num_labels=len(labels), id2label=labels,
        label2id={v: k for k, v in labels.items()},
    )  # fmt: skip
    folder = tmp_path / "nli"
    BertForSequenceClassification(config).save_pretrained(folder)
    for name in ("tokenizer.json", "tokenizer_config.json", "vocab.txt", "special_tokens_map.json"):
        if (src / name).is_file():
            shutil.copy(src / name, folder / name)
    return folder


def test_cross_encoder_nli_loads_a_local_folder(tmp_path: Path) -> None:
    folder = _tiny_nli_folder(tmp_path, {0: "contradiction", 1: "entailment", 2: "neutral"})
    nli = CrossEncoderNLI(folder)
    assert nli.entail_index == 1
    probs = nli.entailment([("A man sleeps.", "Someone sleeps."), ("A cat.", "A dog.")])
    assert len(probs) == 2 and all(0.0 <= p <= 1.0 for p in probs)
    assert nli.entailment([]) == []


def test_cross_encoder_nli_needs_an_entailment_label(tmp_path: Path) -> None:
    folder = _tiny_nli_folder(tmp_path, {0: "negative", 1: "positive"})
    with pytest.raises(ConfigError, match="entailment"):
        CrossEncoderNLI(folder)
    with pytest.raises(ConfigError, match=r"config\.json"):
        CrossEncoderNLI(tmp_path / "missing")


# --- calibration with the real model -------------------------------------------------------

# (claim, a phrase of the article that locates the cited chunk, supported?)
CALIBRATION: list[tuple[str, str, bool]] = [
    ("About 20,000 foreigners from more than 50 nationalities serve in Ukraine's "
     "international legion.", "some 20,000 foreigners", True),
    ("At least 50 Americans, mostly former U.S. military veterans, have been killed in "
     "Ukraine.", "some 20,000 foreigners", True),
    ("Nepali officials say more than 200 Nepalis went to fight in Ukraine and at least 14 were "
     "killed.", "more than 200 Nepalis", True),
    ("Nepalis are offered a salary of $2,000 a month to fight.", "$2,000 a month", True),
    ("Macron said that nothing should be ruled out about sending troops.",
     "Nothing should be ruled out", True),
    ("Zelensky issued a decree letting foreign nationals living in Ukraine join the National "
     "Guard.", "some 20,000 foreigners", True),
    ("The Hindu reported that at least 100 Indians were recruited by the Russian military.",
     "at least 100 Indians", True),
    ("Putin fast-tracked citizenship for foreigners who signed military contracts.",
     "fast-tracking citizenship", True),
    ("Colombian fighters in the legion are motivated by economic need.",
     "motivated by economic need", True),
    ("Most foreign volunteers for Ukraine come from the US and Europe and oppose Russia on "
     "principle.", "oppose Russia on principle", True),
    ("Russia has recruited fighters from poor countries in the global south, many of them for "
     "money.", "oppose Russia on principle", True),
    ("Some Indians working for the Russian army did not know they would be sent to the front "
     "line.", "Some had no idea the contracts", True),
    ("A Kashmiri man shot himself in the foot during training near Mariupol.",
     "Some had no idea the contracts", True),
    ("The Kremlin warned that NATO troops in Ukraine would make a direct war with Russia "
     "inevitable.", "about its inevitability", True),
    ("Ukraine's legion now includes many former Colombian soldiers.",
     "Some had no idea the contracts", True),
    ("Officials from Germany and Poland said they were not considering sending troops.",
     "considering sending troops", True),
    ("At least 5,000 American citizens have been killed in Ukraine.", "some 20,000 foreigners",
     False),
    ("Macron announced that France will send 10,000 troops to Ukraine next month.",
     "Nothing should be ruled out", False),
    ("Nepal's government asked Russia to pay compensation to the families of the dead.",
     "more than 200 Nepalis", False),
    ("Germany agreed to send Taurus missiles to Ukraine.", "considering sending troops", False),
    ("China supplies most of the drones used by Russian forces.", "fast-tracking citizenship",
     False),
    ("The Kremlin praised Macron for his peaceful approach.", "about its inevitability", False),
    ("The recipe calls for two cups of flour and a pinch of salt.", "With U.S. aid in doubt",
     False),
    ("Bitcoin prices rose sharply after the central bank meeting.",
     "oppose Russia on principle", False),
    ("The football team won the championship in overtime.", "Some had no idea the contracts",
     False),
    ("Ukraine's foreign legion is made up mainly of fighters from Africa.",
     "oppose Russia on principle", False),
]  # fmt: skip


@pytest.mark.slow
@pytest.mark.e2e
def test_calibration_examples_with_real_model(real_embeddings: Embeddings) -> None:
    """The thresholds' calibration set: every faithful claim passes, at most one of the
    unsupported ones slips through (lexical + cosine cannot judge entailment)."""
    doc = load_document(DEFAULT_ARTICLE, DEFAULT_ARTICLE.parent)
    chunks = chunk_document(doc, get_tokenizer(embedding_spec(Settings())), 200)
    passages = [Passage(chunk=c, title=doc.title, date=doc.date) for c in chunks]
    text = ""
    for claim, anchor, _ in CALIBRATION:
        n = next(i for i, c in enumerate(chunks, 1) if anchor.lower() in c.text.lower())
        text += f"{claim} [{n}]\n"
    check = verify.verify(text, passages, real_embeddings)
    assert len(check.sentences) == len(CALIBRATION)
    rows = list(zip(CALIBRATION, check.sentences, strict=True))
    for (claim, _, expected), s in rows:
        print(f"{s.support_score:.3f} {expected!s:5} {claim}")
        assert markers.strip_markers(s.text) == claim
    faithful_missed = [c for (c, _, ok), s in rows if ok and not s.supported]
    unsupported_passed = [c for (c, _, ok), s in rows if not ok and s.supported]
    assert faithful_missed == []
    assert len(unsupported_passed) <= 1, unsupported_passed
    for cite in check.citations:
        assert doc.text[cite.start : cite.end] == cite.quote
