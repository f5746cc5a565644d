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
  attribute  the question's predicate or attribute word (its last relation word the gold
          articles state: "die", "premiered", "population") is swapped for one that
          other questions of the same answer type ask with, of the same word shape
          ("-ed", "-s", ...), that the gold articles do not state (no word of that stem
          or a related one): on topic, still naming what the article names, and
          unanswerable ("When was X born?" -> "When was X buried?").
  negation  "never" put before that word when it is a verb ("In what year did X never
          die?"): SQuAD 2.0's inserted negation.

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

from askfront.answering.extractive.calibration import FILLER_WEIGHT
from askfront.answering.extractive.names import CONNECTORS, describes, name_spans
from askfront.answering.extractive.question import analyze_question
from askfront.answering.extractive.terms import related_stems, stems
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


_WORD = re.compile(r"[A-Za-z][a-z]+")
# What the word before a relation word says of it: a verb after these (by its form).
_SLOTS = {
    "do": frozenset("did does do to will would can could may might must should".split()),
    "be": frozenset("was were is are been be being".split()),
    "have": frozenset("has have had".split()),
    "rel": frozenset("who that which whose also".split()),
}


def _shape(word: str) -> str:
    """A word's inflection class, so that a swap keeps the grammar ("born" -> "buried")."""
    for end in ("ing", "ed", "en", "s"):
        if word.endswith(end):
            return end
    return ""


def _slot(question: str, start: int, word: str) -> str:
    """The grammatical slot of the word at `start`: the kind of word before it (an
    auxiliary, a relative pronoun: a verb; else a noun) and its inflection."""
    before = question[:start].split()
    prev = before[-1].lower().strip(",;:") if before else ""
    kind = next((k for k, words in _SLOTS.items() if prev in words), "noun")
    return f"{kind}-{_shape(word)}"


def relation_words(question: str) -> list[tuple[int, int, str]]:
    """The question's lower-case relation words (informative, neither names nor the
    answer's type nor its boilerplate) as (start, end, word), in order."""
    q = analyze_question(question, ())
    other = q.names.keys() | q.type_terms | q.proper_terms
    out = []
    for m in _WORD.finditer(question):
        word = m.group(0)
        if not word.islower() or len(word) < 4 or word.endswith("ly"):
            continue
        found = stems(word)
        if (
            len(found) == 1
            and found[0] not in other
            and q.weights.get(found[0], 0.0) > FILLER_WEIGHT
        ):
            out.append((m.start(), m.end(), word))
    return out


Predicates = dict[tuple[str, str], list[str]]


def predicates(cases: Iterable[EvalItem]) -> Predicates:
    """Every relation word of the questions, by (answer type, slot): the pool an
    attribute swap draws from (what questions of that type ask about)."""
    out: dict[tuple[str, str], dict[str, None]] = {}
    for case in cases:
        qtype = analyze_question(case.question, ()).qtype
        for start, _, word in relation_words(case.question):
            slot = _slot(case.question, start, word)
            out.setdefault((qtype, slot), {})[word] = None
            out.setdefault(("*", slot), {})[word] = None
    return {k: sorted(v) for k, v in out.items()}


def _attribute(case: EvalItem, corpus: dict[str, Article]) -> tuple[int, int, str] | None:
    """The word an attribute or negation twin changes: the last relation word of the
    question that its gold articles state, a verb if there is one (the predicate)."""
    gold = [corpus[s] for s in case.sources if s in corpus]
    if not gold:
        return None
    gold_terms = frozenset().union(*(g.terms for g in gold))
    stated = [w for w in relation_words(case.question) if set(stems(w[2])) <= gold_terms]
    verbs = [w for w in stated if not _slot(case.question, w[0], w[2]).startswith("noun")]
    return (verbs or stated)[-1] if stated else None


def attribute_twin(case: EvalItem, corpus: dict[str, Article], pool: Predicates) -> EvalItem | None:
    """`case` with its predicate word swapped for one of the same slot, from questions of
    the same answer type if any fits (else any), that its gold articles do not state."""
    found = _attribute(case, corpus)
    if found is None:
        return None
    start, end, word = found
    gold_terms = frozenset().union(*(corpus[s].terms for s in case.sources if s in corpus))
    asked = frozenset(stems(case.question))
    slot = _slot(case.question, start, word)

    def absent(option: str) -> bool:
        new = stems(option)
        return len(new) == 1 and not any(
            new[0] == t or related_stems(new[0], t) for t in gold_terms | asked
        )

    qtype = analyze_question(case.question, ()).qtype
    for key in ((qtype, slot), ("*", slot)):
        swap = _pick([w for w in pool.get(key, []) if absent(w)], case.id + "~attribute")
        if swap is not None:
            return _twin(case, "attribute", case.question[:start] + swap + case.question[end:])
    return None


def negation_twin(case: EvalItem, corpus: dict[str, Article]) -> EvalItem | None:
    """`case` with "never" before its predicate when that is a verb (after an auxiliary
    or a relative pronoun), or None."""
    found = _attribute(case, corpus)
    if found is None or re.search(r"\b(?:not|never|no)\b|n't\b", case.question):
        return None
    start, _, word = found
    if _slot(case.question, start, word).startswith("noun"):
        return None
    return _twin(case, "negation", case.question[:start] + "never " + case.question[start:])


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


KINDS = ("name", "number", "attribute", "negation")


def twins(
    cases: Iterable[EvalItem], corpus: dict[str, Article], kinds: Sequence[str] = KINDS[:2]
) -> list[EvalItem]:
    """The twins of these kinds (KINDS) of the answerable, single-turn `cases`."""
    cases = [c for c in cases if c.answerable and not c.history and c.sources]
    pool = predicates(cases) if "attribute" in kinds else {}
    makers = {
        "name": lambda c: name_twin(c, corpus),
        "number": lambda c: number_twin(c, corpus),
        "attribute": lambda c: attribute_twin(c, corpus, pool),
        "negation": lambda c: negation_twin(c, corpus),
    }
    out = []
    for case in cases:
        for kind in kinds:
            twin = makers[kind](case)
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
    parser.add_argument("--kind", action="append", choices=KINDS, help="default: all")
    args = parser.parse_args(argv)
    cases = load_testset(args.dataset / "testset.jsonl")
    made = twins(cases, read_corpus(args.dataset / "corpus"), args.kind or KINDS)
    by_id = {c.id: c for c in cases}
    kinds = {k: sum(t.id.endswith(f"~{k}") for t in made) for k in args.kind or KINDS}
    print(f"{len(made)} twins of {len(cases)} questions: {kinds}")
    for t in made[: args.limit]:
        print(f"- {by_id[original_id(t.id)].question}\n  {t.question}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
