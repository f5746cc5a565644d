"""Calibrate the extractive answerer's refusal thresholds end to end, and report them.

Runs every question through the real pipeline (`Assistant.ask`: bundled embedding model,
Chroma, BM25, RRF) and scores:

  seed         tests/data/seed_testset.jsonl against the default corpus (answerable and not)
  rtqa@default RealTimeQA-2024 questions against the default one-article corpus: all
               unanswerable there, so all must be refused
  rtqa@500     RealTimeQA-2024 questions against their own 500 articles: all answerable

Accuracy: the share of questions passed, with `askfront eval`'s verdict
(askfront.evaluation.metrics.passes: a SQuAD-normalized gold answer in the answer, or a
refusal of an unanswerable question). Refusal precision/recall/F1 treat "refused" as the
positive class.

With --sweep the retrieved passages are kept and the thresholds are swept over a grid
(answering is deterministic given the passages), printing the best settings.

Usage:
  .venv/bin/python benchmarks/calibrate_refusal.py [--sweep] [--work DIR] [--top-k 5]
"""

from __future__ import annotations

import argparse
import itertools
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
from askfront.evaluation.metrics import RefusalScores, passes, refusal_metrics
from askfront.evaluation.testset import EvalItem, load_testset
from askfront.grounding.markers import strip_markers

REPO = Path(__file__).resolve().parent.parent
DEFAULT_CORPUS = REPO / "corpus"
SEED = REPO / "tests" / "data" / "seed_testset.jsonl"
DATASET = REPO.parent / "shared" / "datasets" / "realtimeqa-2024"


@dataclass
class Item:
    set: str
    case: EvalItem
    passages: list[Passage] = field(default_factory=list)

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
    if verbose:
        for item, answer in pairs:
            if not correct(item, answer):
                kind = "should refuse" if not item.case.answerable else "wrong/refused"
                got = answer.text[:160]
                print(f"   x [{kind}] {item.question!r} gold={item.case.answers} -> {got!r}")
    return s


def sweep(
    items: list[Item], max_sentences: int, grid: dict[str, list[float]] | None = None
) -> None:
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
    base = ExtractiveAnswerer(max_sentences)
    # Scoring does not depend on the thresholds: analyze once, decide per setting.
    analyses = [base.analyze(i.question, i.passages, i.history) for i in items]
    rows = []
    sets = sorted({i.set for i in items})
    for values in itertools.product(*grid.values()):
        answerer = base.with_thresholds(**dict(zip(grid, values, strict=True)))
        pairs = [(i, answerer.compose(a, i.passages)) for i, a in zip(items, analyses, strict=True)]
        per_set = {s: score(p for p in pairs if p[0].set == s) for s in sets}
        overall = score(pairs)
        # Objective: refusal F1 over everything, plus the mean accuracy of the sets.
        objective = overall.f1 + sum(v.accuracy for v in per_set.values()) / len(per_set)
        rows.append((objective, answerer.thresholds, overall, per_set))
    rows.sort(key=lambda r: -r[0])
    print("\nsweep: best settings (objective = refusal F1 + mean set accuracy)")
    for objective, th, overall, per_set in rows[:15]:
        accs = " ".join(f"{k}={v.accuracy:.3f}" for k, v in per_set.items())
        print(
            f"  {objective:.3f}  name={th.min_name_coverage} "
            f"strong={th.strong_coverage} "
            f"weak={th.weak_coverage} floor={th.dense_floor} dense={th.dense_support} "
            f"relax={th.dense_name_relax} "
            f"second={th.second_sentence_ratio}  F1={overall.f1:.3f} {accs}"
        )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seed", type=Path, default=SEED)
    parser.add_argument("--dataset", type=Path, default=DATASET)
    parser.add_argument("--work", type=Path, default=Path("/tmp/askfront-calibrate"))
    parser.add_argument("--top-k", type=int, default=5)
    parser.add_argument("--sweep", action="store_true", help="sweep the thresholds on a grid")
    parser.add_argument("--no-rtqa-corpus", action="store_true", help="skip the 500 articles")
    parser.add_argument("-v", "--verbose", action="store_true", help="list the misses")
    parser.add_argument(
        "--cache",
        type=Path,
        help="pickle of the retrieved passages: written after a run, reused (no retrieval) "
        "when it exists; for iterating on the answerer, not for reported figures",
    )
    args = parser.parse_args(argv)
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

    all_items: list[Item] = []
    if args.seed.is_file():
        seed = read_items(args.seed, "seed")
        report("seed", run(base, seed), args.verbose)
        all_items += seed
    else:
        print(f"(no seed set at {args.seed}; skipped)")

    rtqa_file = args.dataset / "testset.jsonl"
    if rtqa_file.is_file():
        off = read_items(rtqa_file, "rtqa@default", unanswerable=True)
        report("rtqa@default", run(base, off), args.verbose)
        all_items += off
        if not args.no_rtqa_corpus:
            big = assistant_for(
                args.dataset / "corpus", args.work / "index-rtqa", args.top_k, base.embeddings
            )
            on = read_items(rtqa_file, "rtqa@500")
            pairs = run(big, on)
            report("rtqa@500", pairs, args.verbose)
            all_items += on
    else:
        print(f"(no RealTimeQA set at {args.dataset}; skipped)")

    answerer = ExtractiveAnswerer()
    overall = score((i, answerer.answer(i.question, i.passages, i.history)) for i in all_items)
    print(overall.line("overall"))
    if args.cache:
        args.cache.write_bytes(pickle.dumps(all_items))
    if args.sweep and all_items:
        sweep(all_items, answerer.max_sentences)
    return 0


def rescore(args: argparse.Namespace) -> int:
    """Answer again from cached passages (same retrieval, current answerer code)."""
    items: list[Item] = pickle.loads(args.cache.read_bytes())
    answerer = ExtractiveAnswerer()
    print(f"(from cached passages in {args.cache})")
    for name in sorted({i.set for i in items}, reverse=True):
        subset = [i for i in items if i.set == name]
        pairs = [(i, answerer.answer(i.question, i.passages, i.history)) for i in subset]
        report(name, pairs, args.verbose)
    print(
        score((i, answerer.answer(i.question, i.passages, i.history)) for i in items).line(
            "overall"
        )
    )
    if args.sweep:
        sweep(items, answerer.max_sentences)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
