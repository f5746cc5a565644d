"""Unanswerable twins of development questions, made mechanically at run time (item 4 of
issue 15): a question about a name or number its article does not state must be refused.

For each answerable question of a development set (RealTimeQA-2024, hotpotqa-dev-300, the
seed set), with its gold articles known, up to two SQuAD-2-style twins are made:

  name    a name phrase of the question that the gold articles state ("Emmanuel Macron") is
          swapped for a name phrase of as many words from the most similar other article of
          the corpus (term overlap with the question), none of whose words the gold articles
          have: on topic, plausible, and not answerable from the gold articles.
  number  a number of the question that the gold articles state ("2019", "16-year-old") is
          swapped for a nearby one they do not state (a year moves by 1-3, a count grows).

The originals stay in as answerable controls. The twins are derived data: generated here
at every run and never written into the repository (the data sets' rule). Each twin keeps
its original's id plus "~name"/"~number", so a split by the original id (calibrate_refusal
`half`) keeps a question and its twins on the same side.

A twin may by chance be answerable from another article of the corpus; the swapped name
must also keep the question's other names, which rarely happens to fit another article.

Usage (prints the twins of a set, to read them):
  .venv/bin/python benchmarks/distractors.py ../shared/datasets/realtimeqa-2024 [--limit 20]
"""

from __future__ import annotations

import argparse
import hashlib
import re
import shutil
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from askfront.answering.extractive.names import CONNECTORS, describes, name_spans
from askfront.answering.extractive.terms import stems
from askfront.evaluation.testset import EvalItem, load_testset

_NUMBER = re.compile(r"(?<![\w.,])(\d{1,3}(?:,\d{3})+|\d+(?:\.\d+)?)(?![\w,]*\d)")
_YEAR = re.compile(r"^(1[5-9]\d\d|20\d\d)$")


@dataclass(frozen=True)
class Article:
    name: str  # file name, as in a test set's `sources`
    text: str
    terms: frozenset[str]
    phrases: tuple[str, ...]  # name phrases, each once


def read_corpus(folder: Path) -> dict[str, Article]:
    """Every Markdown/text article of `folder` by file name, with its terms and names."""
    out = {}
    for f in sorted(folder.iterdir()):
        if f.suffix.lower() not in (".md", ".txt") or not f.is_file():
            continue
        text = f.read_text(encoding="utf-8", errors="replace")
        # A name said twice in the article is a name, not a capitalized slip or a heading.
        found = [p for _, _, p in name_spans(text) if _usable(p)]
        phrases = tuple(p for p in dict.fromkeys(found) if found.count(p) >= 2)
        out[f.name] = Article(f.name, text, frozenset(stems(text)), phrases)
    return out


def _usable(phrase: str) -> bool:
    """A name worth swapping: 1-4 capitalized words (connectors between them), not a
    quoted title, not a lone demonym ("American")."""
    words = phrase.removesuffix("'s").removesuffix("’s").split()
    return (
        0 < len(words) <= 4
        and words[0][:1].isupper()
        and words[-1][:1].isupper()
        and all(w[:1].isupper() or w in CONNECTORS for w in words)
        and not (len(words) == 1 and (describes(phrase) or len(phrase) < 4))
    )


def _pick(options: Sequence[str], key: str) -> str | None:
    """A deterministic choice (by a hash of `key`), so every run makes the same twins."""
    if not options:
        return None
    return options[hashlib.sha1(key.encode()).digest()[0] % len(options)]


def numbers_in(text: str) -> set[str]:
    """The numbers of `text`, normalized ("2,000" and "2000" are one)."""
    return {m.group(1).replace(",", "") for m in _NUMBER.finditer(text)}


def name_twin(case: EvalItem, corpus: dict[str, Article]) -> EvalItem | None:
    """`case` with one of its stated names swapped for an on-topic one its gold articles
    lack, or None when it has no such name or no substitute."""
    gold = [corpus[s] for s in case.sources if s in corpus]
    if not gold:
        return None
    gold_terms = frozenset().union(*(g.terms for g in gold))
    asked = [
        p
        for _, _, p in name_spans(case.question)
        if _usable(p) and set(stems(p)) and set(stems(p)) <= gold_terms
    ]
    phrase = _pick(asked, case.id)
    if phrase is None:
        return None
    phrase = phrase.removesuffix("'s").removesuffix("’s")  # keep the possessive
    if phrase not in case.question:
        return None
    q_terms = set(stems(case.question))
    width = len(phrase.split())
    others = sorted(
        (a for a in corpus.values() if a.name not in case.sources),
        key=lambda a: (-len(q_terms & a.terms), a.name),
    )
    for other in others[:5]:  # the most similar articles: an on-topic distractor
        options = [
            p
            for p in other.phrases
            if len(p.split()) == width
            and set(stems(p))
            and set(stems(p)).isdisjoint(gold_terms | q_terms)
            and p.lower() not in case.question.lower()
        ]
        swap = _pick(options, case.id + other.name)
        if swap is not None:
            return _twin(case, "name", case.question.replace(phrase, swap, 1))
    return None


def number_twin(case: EvalItem, corpus: dict[str, Article]) -> EvalItem | None:
    """`case` with one of its stated numbers changed to one its gold articles lack."""
    gold = [corpus[s] for s in case.sources if s in corpus]
    if not gold:
        return None
    stated = set().union(*(numbers_in(g.text) for g in gold))
    found = [m for m in _NUMBER.finditer(case.question) if m.group(1).replace(",", "") in stated]
    if not found:
        return None
    m = found[hashlib.sha1(case.id.encode()).digest()[1] % len(found)]
    value = m.group(1).replace(",", "")
    if "." in value:
        return None
    n = int(value)
    steps = (1, 2, 3, -1, -2) if _YEAR.match(value) else (n + 1, 2 * n + 1, 3 * n + 2)
    for step in steps:
        new = n + step if _YEAR.match(value) else step
        if str(new) not in stated and str(new) not in numbers_in(case.question):
            text = case.question[: m.start(1)] + str(new) + case.question[m.end(1) :]
            return _twin(case, "number", text)
    return None


def _twin(case: EvalItem, kind: str, question: str) -> EvalItem:
    return case.model_copy(
        update={
            "id": f"{case.id}~{kind}",
            "question": question,
            "answers": [],
            "answerable": False,
            "evidence": None,
            "tags": [*case.tags, "distractor", kind],
        }
    )


def twins(cases: Iterable[EvalItem], corpus: dict[str, Article]) -> list[EvalItem]:
    """The name and number twins of the answerable, single-turn `cases`."""
    out = []
    for case in cases:
        if not case.answerable or case.history or not case.sources:
            continue
        for make in (name_twin, number_twin):
            twin = make(case, corpus)
            if twin is not None:
                out.append(twin)
    return out


def original_id(case_id: str) -> str:
    """The id of the question a twin was made from (the id itself for an original)."""
    return case_id.split("~", 1)[0]


def nogold_corpus(dataset: Path, work: Path) -> Path:
    """A copy of the HotpotQA paragraphs without any question's gold paragraphs, made once."""
    folder = work / "corpus-hotpot-nogold"
    if not folder.is_dir():
        gold = {s for case in load_testset(dataset / "testset.jsonl") for s in case.sources}
        partial = work / "corpus-hotpot-nogold.partial"
        shutil.rmtree(partial, ignore_errors=True)
        partial.mkdir(parents=True)
        for f in sorted((dataset / "corpus").iterdir()):
            if f.name not in gold:
                shutil.copy2(f, partial / f.name)
        partial.rename(folder)
    return folder


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("dataset", type=Path, help="a folder with testset.jsonl and corpus/")
    parser.add_argument("--limit", type=int, default=20, help="how many twins to print")
    args = parser.parse_args(argv)
    cases = load_testset(args.dataset / "testset.jsonl")
    made = twins(cases, read_corpus(args.dataset / "corpus"))
    by_id = {c.id: c for c in cases}
    kinds = {k: sum(t.id.endswith(k) for t in made) for k in ("~name", "~number")}
    print(f"{len(made)} twins of {len(cases)} questions: {kinds}")
    for t in made[: args.limit]:
        print(f"- {by_id[original_id(t.id)].question}\n  {t.question}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
