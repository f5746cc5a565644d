"""Calibrate the extractive answerer's refusal thresholds end to end, and report them.

Runs every question through the real pipeline (`Assistant.ask`: bundled embedding model,
Chroma, BM25, RRF) and scores:

  seed         tests/data/seed_testset.jsonl against the default corpus (answerable and not)
  rtqa@default RealTimeQA-2024 questions against the default one-article corpus: all
               unanswerable there, so all must be refused
  rtqa@500     RealTimeQA-2024 questions against their own 500 articles: all answerable
  hotpot:A/B   HotpotQA dev (300 multi-hop questions) against its 2,958 paragraphs: all
               answerable; split in two halves by question id (A to tune, B to check)
  nogold:A/B   the same questions against the paragraphs without any question's two gold
               paragraphs (2,360 left, among them each question's on-topic distractors):
               all unanswerable, so all must be refused
  twins-rtqa:A/B, twins-hotpot:A/B  the RealTimeQA and HotpotQA questions with a stated
               name or number swapped (benchmarks/distractors.py): all to be refused;
               attr-*, neg-*: the same with the predicate swapped or negated
  twins-default tests/data/distractors_default.jsonl: hand-written, on the default article

Accuracy: the share of questions passed, with `askfront eval`'s verdict
(askfront.evaluation.metrics.passes: a SQuAD-normalized gold answer in the answer, or a
refusal of an unanswerable question). Refusal precision/recall/F1 treat "refused" as the
positive class.

With --sweep the retrieved passages are kept and the thresholds are swept over a grid
(answering is deterministic given the passages), printing the best settings. --tune-half A
leaves the B halves out of the sweep's objective (and B leaves out A), so the settings can
be checked on questions they were not fitted to.

Usage: .venv/bin/python benchmarks/calibrate_refusal.py [--sweep] [--work DIR] [--top-k 5]
"""

from __future__ import annotations

import argparse
import hashlib
import itertools
import json
import logging
import os
import pickle
import shutil
import sys
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

from askfront.answering.extractive import ExtractiveAnswerer, Thresholds, calibration
from askfront.assistant import Assistant
from askfront.core.config import Settings
from askfront.core.types import Answer, Passage, Turn
from askfront.evaluation.metrics import (
    RefusalScores,
    normalize_answer,
    passes,
    refusal_metrics,
)
from askfront.evaluation.testset import EvalItem, load_testset
from askfront.grounding.markers import MARKER, strip_markers
from distractors import KINDS, nogold_corpus, original_id, read_corpus, twins  # benchmarks/

REPO = Path(__file__).resolve().parent.parent
DEFAULT_CORPUS = REPO / "corpus"
SEED = REPO / "tests" / "data" / "seed_testset.jsonl"
DEFAULT_DISTRACTORS = REPO / "tests" / "data" / "distractors_default.jsonl"
DATASET = REPO.parent / "shared" / "datasets" / "realtimeqa-2024"
HOTPOT = REPO.parent / "shared" / "datasets" / "hotpotqa-dev-300"


@dataclass
class Item:
    set: str
    case: EvalItem
    passages: list[Passage] = field(default_factory=list)
    kind: str | None = None  # HotpotQA's question type: "bridge" or "comparison"

    @property
    def question(self) -> str:
        return self.case.question

    @property
    def history(self) -> list[Turn]:
        return self.case.turns()


def read_items(path: Path, set_name: str, unanswerable: bool = False) -> list[Item]:
    """A test set's questions; `unanswerable` marks them all so (asked of another corpus)."""
    cases = load_testset(path)
    if unanswerable:
        cases = [c.model_copy(update={"answerable": False, "answers": []}) for c in cases]
    return [Item(set_name, c) for c in cases]


def correct(item: Item, answer: Answer) -> bool:
    """askfront eval's pass/fail verdict (evaluation.metrics.passes)."""
    text = "" if answer.refused else strip_markers(answer.text)
    return passes(text, answer.refused, item.case.answers, item.case.answerable)


def leads_with_gold(item: Item, answer: Answer) -> bool:
    """A stricter verdict for comparisons than `correct`, which passes an answer quoting a
    sentence about each compared name: the gold answer ("yes", the older film) is in the
    answer's first sentence before its first [n] marker, i.e. in what the answer states
    first. Token recall >= 0.6 of the gold, as gold names are often longer ("Ernst Willi
    Messerschmid")."""
    if answer.refused or not answer.sentences:
        return False
    head = normalize_answer(MARKER.split(answer.sentences[0].text)[0]).split()
    for gold in item.case.answers:
        want = normalize_answer(gold).split()
        if want and sum(w in head for w in want) / len(want) >= 0.6:
            return True
    return False


@dataclass
class Scores:
    n: int
    accuracy: float  # share of questions passed
    refusal: RefusalScores

    @property
    def f1(self) -> float:
        return self.refusal.f1 or 0.0

    def line(self, name: str) -> str:
        r = self.refusal
        refused = r.tp + r.fp
        return (
            f"{name:<14} n={self.n:<4} accuracy={self.accuracy:.3f} refused={refused:<4} "
            f"refusal P={r.precision or 0:.3f} R={r.recall or 0:.3f} F1={self.f1:.3f}"
        )


def score(pairs: Iterable[tuple[Item, Answer]]) -> Scores:
    pairs = list(pairs)
    right = sum(correct(i, a) for i, a in pairs)
    refusal = refusal_metrics((i.case.answerable, a.refused) for i, a in pairs)
    return Scores(len(pairs), right / len(pairs) if pairs else 0.0, refusal)


def assistant_for(corpus: Path, index: Path, top_k: int, embeddings: object = None) -> Assistant:
    settings = Settings(corpus_dir=corpus, index_dir=index, top_k=top_k, llm="extractive")
    assistant = Assistant(settings, embeddings=embeddings)  # type: ignore[arg-type]
    started = time.perf_counter()
    report = assistant.reindex()
    print(
        f"index {corpus}: {report.counts} ({time.perf_counter() - started:.1f}s)",
        file=sys.stderr,
    )
    return assistant


def run(assistant: Assistant, items: Sequence[Item]) -> list[tuple[Item, Answer]]:
    out = []
    for item in items:
        answer = assistant.ask(item.question, item.history)
        item.passages = answer.passages
        out.append((item, answer))
    return out


def report(name: str, pairs: list[tuple[Item, Answer]], verbose: bool) -> Scores:
    s = score(pairs)
    answer_ms = sorted(a.timings.get("answer_ms", 0.0) for _, a in pairs)
    total_ms = sorted(a.timings.get("total_ms", 0.0) for _, a in pairs)
    timing = ""
    if answer_ms and total_ms[-1] > 0:
        timing = (
            f"  p50 answer={answer_ms[len(pairs) // 2]:.1f}ms ask={total_ms[len(pairs) // 2]:.1f}ms"
        )
    print(s.line(name) + timing)
    compared = [(i, a) for i, a in pairs if i.kind == "comparison" and i.case.answerable]
    if compared:
        led = sum(leads_with_gold(i, a) for i, a in compared)
        right = sum(correct(i, a) for i, a in compared)
        print(
            f"{'':<14} comparisons n={len(compared)} accuracy={right / len(compared):.3f} "
            f"decided={led / len(compared):.3f} (gold before the first citation marker)"
        )
    if verbose:
        for item, answer in pairs:
            if not correct(item, answer):
                kind = "should refuse" if not item.case.answerable else "wrong/refused"
                got = answer.text[:160]
                print(f"   x [{kind}] {item.question!r} gold={item.case.answers} -> {got!r}")
    return s


def sweep(
    items: list[Item],
    base: ExtractiveAnswerer,
    tune_half: str | None = None,
    grid: dict[str, list[float]] | None = None,
) -> None:
    """Print the best threshold settings; with `tune_half`, the objective leaves out the
    other half's sets (their accuracies are still printed, to check the fit)."""
    # 1.1 for a dense threshold: the dense side never vouches.
    grid = grid or {
        "min_name_coverage": [0.5, 0.6, 0.7, 0.8],
        "strong_coverage": [0.5, 0.6, 0.7],
        "weak_coverage": [0.15, 0.2, 0.22, 0.25, 0.3],
        "dense_floor": [-1.0, 0.2, 0.3],
        "dense_support": [0.35, 0.45, 0.55, 1.1],
        "dense_name_relax": [0.55, 0.6, 0.65, 1.1],
        "second_sentence_ratio": [0.7, 0.85],
    }
    # Scoring does not depend on the thresholds: analyze once, decide per setting.
    analyses = [base.analyze(i.question, i.passages, i.history) for i in items]
    rows = []
    sets = sorted({i.set for i in items})
    for values in itertools.product(*grid.values()):
        answerer = base.with_thresholds(**dict(zip(grid, values, strict=True)))
        pairs = [(i, answerer.compose(a, i.passages)) for i, a in zip(items, analyses, strict=True)]
        per_set = {s: score(p for p in pairs if p[0].set == s) for s in sets}
        tuned = [p for p in pairs if not held_out(p[0].set, tune_half)]
        overall = score(tuned)
        # Objective: refusal F1 over everything, plus the mean accuracy of the sets.
        fitted = [v.accuracy for k, v in per_set.items() if not held_out(k, tune_half)]
        objective = overall.f1 + sum(fitted) / len(fitted)
        rows.append((objective, answerer.thresholds, overall, per_set))
    rows.sort(key=lambda r: -r[0])
    print("\nsweep: best settings (objective = refusal F1 + mean set accuracy)")
    for objective, th, overall, per_set in rows[:15]:
        accs = " ".join(f"{k}={v.accuracy:.3f}" for k, v in per_set.items())
        swept = " ".join(f"{k}={getattr(th, k)}" for k in grid)
        print(f"  {objective:.3f}  {swept}  F1={overall.f1:.3f} {accs}")


def half(case_id: str) -> str:
    """ "A" or "B" by a hash of the question id: a split independent of order and type (a
    distractor twin goes with the question it was made from)."""
    return "AB"[hashlib.sha1(original_id(case_id).encode()).digest()[0] % 2]


def twin_items(dataset: Path, name: str) -> list[Item]:
    """The distractor twins of a data set's questions, split in halves (distractors.py):
    `twins-NAME` (name and number), `attr-NAME` (attribute) and `neg-NAME` (negation)."""
    made = twins(load_testset(dataset / "testset.jsonl"), read_corpus(dataset / "corpus"), KINDS)
    prefix = {"name": "twins", "number": "twins", "attribute": "attr", "negation": "neg"}
    return [Item(f"{prefix[c.id.rsplit('~', 1)[1]]}-{name}:{half(c.id)}", c) for c in made]


def hotpot_items(path: Path, name: str, unanswerable: bool = False) -> list[Item]:
    items = read_items(path, name, unanswerable)
    kinds = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        row = json.loads(line) if line.strip() else {}
        kinds[row.get("id")] = row.get("type")
    for item in items:
        item.set = f"{name}:{half(item.case.id)}"
        item.kind = kinds.get(item.case.id)
    return items


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seed", type=Path, default=SEED)
    parser.add_argument("--dataset", type=Path, default=DATASET)
    parser.add_argument("--hotpot", type=Path, default=HOTPOT)
    parser.add_argument("--work", type=Path, default=Path("/tmp/askfront-calibrate"))
    parser.add_argument("--top-k", type=int, default=5)
    parser.add_argument("--sweep", action="store_true", help="sweep the thresholds on a grid")
    parser.add_argument(
        "--tune-half", choices=["A", "B"], help="sweep on this half of the HotpotQA sets only"
    )
    parser.add_argument(
        "--grid",
        action="append",
        metavar="NAME=V1,V2,...",
        help="sweep these values of a threshold (repeatable); the others keep their "
        "defaults. Without --grid the default grid is swept",
    )
    parser.add_argument("--no-rtqa-corpus", action="store_true", help="skip the 500 articles")
    parser.add_argument("--no-hotpot", action="store_true", help="skip the HotpotQA sets")
    parser.add_argument("--no-twins", action="store_true", help="skip the distractor twins")
    parser.add_argument("--no-nogold", action="store_true", help="skip the nogold sets")
    parser.add_argument("-v", "--verbose", action="store_true", help="list the misses")
    parser.add_argument(
        "--cache",
        type=Path,
        help="pickle of the retrieved passages (both hops): written after a run, reused (no "
        "retrieval, so no new second-hop searches) when it exists; for iterating on the "
        "answerer's choice of sentences, not for reported figures",
    )
    return parser.parse_args(argv)


def parse_grid(specs: Sequence[str] | None) -> dict[str, list[float]] | None:
    """--grid NAME=V1,V2 options as a sweep grid (None without any)."""
    if not specs:
        return None
    grid: dict[str, list[float]] = {}
    for spec in specs:
        name, _, values = spec.partition("=")
        if name not in Thresholds.__dataclass_fields__ or not values:
            raise SystemExit(f"--grid {spec!r}: expected NAME=V1,V2 with NAME a threshold")
        grid[name] = [float(v) for v in values.split(",")]
    return grid


def held_out(set_name: str, tune_half: str | None) -> bool:
    """Whether a set is the half not tuned on ("hotpot:B" when tuning on A)."""
    return tune_half is not None and ":" in set_name and not set_name.endswith(f":{tune_half}")


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    if args.cache and args.cache.is_file():
        return rescore(args)

    th = Thresholds()
    print(
        f"thresholds: min_name_coverage={th.min_name_coverage} strong_coverage="
        f"{th.strong_coverage} weak_coverage={th.weak_coverage} dense_support="
        f"{th.dense_support} dense_floor={th.dense_floor} dense_name_relax={th.dense_name_relax} "
        f"second_sentence_ratio={th.second_sentence_ratio} "
        f"(carried={calibration.CARRIED_WEIGHT}, top_k={args.top_k})"
    )
    default_corpus = args.work / "corpus-default"
    if not default_corpus.is_dir():
        shutil.copytree(DEFAULT_CORPUS, default_corpus)
    base = assistant_for(default_corpus, args.work / "index-default", args.top_k)

    runs: list[tuple[Assistant, list[Item]]] = []
    if args.seed.is_file():
        runs.append((base, read_items(args.seed, "seed")))
    else:
        print(f"(no seed set at {args.seed}; skipped)")
    if not args.no_twins:
        runs.append((base, read_items(DEFAULT_DISTRACTORS, "twins-default")))
    rtqa_file = args.dataset / "testset.jsonl"
    if rtqa_file.is_file():
        runs.append((base, read_items(rtqa_file, "rtqa@default", unanswerable=True)))
        if not args.no_rtqa_corpus:
            big = assistant_for(
                args.dataset / "corpus", args.work / "index-rtqa", args.top_k, base.embeddings
            )
            runs.append((big, read_items(rtqa_file, "rtqa@500")))
            if not args.no_twins:
                runs.append((big, twin_items(args.dataset, "rtqa")))
    else:
        print(f"(no RealTimeQA set at {args.dataset}; skipped)")
    hotpot_file = args.hotpot / "testset.jsonl"
    if hotpot_file.is_file() and not args.no_hotpot:
        full = assistant_for(
            args.hotpot / "corpus", args.work / "index-hotpot", args.top_k, base.embeddings
        )
        runs.append((full, hotpot_items(hotpot_file, "hotpot")))
        if not args.no_twins:
            runs.append((full, twin_items(args.hotpot, "hotpot")))
        if not args.no_nogold:
            folder, index = nogold_corpus(args.hotpot, args.work), args.work / "index-nogold"
            nogold = assistant_for(folder, index, args.top_k, base.embeddings)
            runs.append((nogold, hotpot_items(hotpot_file, "nogold", unanswerable=True)))
    elif not args.no_hotpot:
        print(f"(no HotpotQA set at {args.hotpot}; skipped)")

    all_items: list[Item] = []
    all_pairs: list[tuple[Item, Answer]] = []
    for assistant, items in runs:
        pairs = run(assistant, items)
        for name in sorted({i.set for i in items}):
            report(name, [p for p in pairs if p[0].set == name], args.verbose)
        all_items += items
        all_pairs += pairs
    print(score(all_pairs).line("overall"))
    if args.cache:
        args.cache.write_bytes(pickle.dumps(all_items))
    if args.sweep and all_items:
        sweep(all_items, base.answerer("extractive"), args.tune_half, parse_grid(args.grid))
    return 0


def rescore(args: argparse.Namespace) -> int:
    """Answer again from cached passages (same retrieval, current answerer code)."""
    items: list[Item] = pickle.loads(args.cache.read_bytes())
    answerer = ExtractiveAnswerer(max_sentences=Settings().max_answer_sentences)
    print(f"(from cached passages in {args.cache})")
    for name in sorted({i.set for i in items}, reverse=True):
        subset = [i for i in items if i.set == name]
        pairs = [(i, answerer.answer(i.question, i.passages, i.history)) for i in subset]
        report(name, pairs, args.verbose)
    overall = score((i, answerer.answer(i.question, i.passages, i.history)) for i in items)
    print(overall.line("overall"))
    if args.sweep:
        sweep(items, answerer, args.tune_half, parse_grid(args.grid))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
