"""Fit the weights of the extractive answerer's sentence ranking (answering/extractive/
ranking.py) on development data, and report how often the top sentence holds the answer.

Data: RealTimeQA-2024 (247 questions over its 500 articles) and HotpotQA dev-300 (300
multi-hop questions over 2,958 paragraphs), each question retrieved by the real pipeline
(`Assistant.ask`: bundled embedding model, Chroma, BM25, second hop). For every question
the admissible candidate sentences are featurized (ranking.FEATURES) and labelled by
whether they hold a gold answer (SQuAD-normalized, whole words: the metric of
`askfront eval`). The weights maximize the listwise softmax likelihood of the gold
sentences among the admissible ones, with L2; they are fitted on the A half of the
questions (a hash of the id, as calibrate_refusal.py) and checked on the B half, then
refitted on both for the printed WEIGHTS. The seed set (the default article) is part of
the data too.

Result (2026-12-02, rtqa + hotpot + seed, 481 questions with admissible sentences): the
five FITTED features raise top-1 "holds gold" on the half they were not fitted on only
from 0.613 to 0.613-0.619 (B) and 0.649 to 0.681 (A), and at the answer level they lose:
RealTimeQA accuracy 0.587 -> 0.555 (fewer second sentences: the fitted ranks spread wider
than SECOND_MARGIN), the seed set 0.913 -> 0.804. So ranking.WEIGHTS stay at the admission
score. benchmarks/rank_errors.py shows where the misses are instead.

Usage (indexes are built on first use under --work, then reused):
  PYTHONPATH=src .venv/bin/python benchmarks/fit_ranker.py [--work DIR] [--cache FILE]
"""

from __future__ import annotations

import argparse
import os
import pickle
import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

from askfront.answering.extractive import ExtractiveAnswerer
from askfront.answering.extractive.ranking import FEATURES, WEIGHTS, features
from askfront.evaluation.metrics import normalize_answer
from calibrate_refusal import (
    DATASET,
    DEFAULT_CORPUS,
    HOTPOT,
    SEED,
    Item,
    assistant_for,
    half,
    hotpot_items,
    read_items,
)

L2 = 0.1
STEPS, RATE = 3000, 0.5
# The features fitted; the others keep weight 0. All fifteen overfit the ~150 lists of a
# half (A->B below the admission score alone); these five gained on both halves of a
# two-fold check (2026-12-02: B 0.572 -> 0.599, A 0.614 -> 0.671), and so did no other
# subset tried (coverage, rank, density, or a static-model sentence similarity added).
FITTED = ("score", "lead", "own_relation", "offers", "salience")


def holds_gold(text: str, golds: Sequence[str]) -> bool:
    norm = f" {normalize_answer(text)} "
    return any(g and f" {g} " in norm for g in (normalize_answer(x) for x in golds))


def collect(args: argparse.Namespace) -> list[Item]:
    """The development questions with the passages the real pipeline retrieves."""
    if args.cache and args.cache.is_file():
        items: list[Item] = pickle.loads(args.cache.read_bytes())
        return items
    runs = []
    rt = assistant_for(DATASET / "corpus", args.work / "index-rtqa", args.top_k)
    runs.append((rt, read_items(DATASET / "testset.jsonl", "rtqa@500")))
    hp = assistant_for(HOTPOT / "corpus", args.work / "index-hotpot", args.top_k, rt.embeddings)
    runs.append((hp, hotpot_items(HOTPOT / "testset.jsonl", "hotpot")))
    # The seed set (the default article): a ranking fitted on news quizzes alone favoured
    # lead sentences and dropped it from 0.91 to 0.80 (2026-12-02).
    seed = assistant_for(DEFAULT_CORPUS, args.work / "index-seed", args.top_k, rt.embeddings)
    runs.append((seed, read_items(SEED, "seed")))
    items = []
    for assistant, batch in runs:
        for item in batch:
            item.passages = assistant.ask(item.question, item.history).passages
            items.append(item)
    if args.cache:
        args.cache.write_bytes(pickle.dumps(items))
    return items


Group = tuple[str, np.ndarray, np.ndarray, np.ndarray]


def groups(items: Sequence[Item]) -> list[Group]:
    """Per question: (its half, features of its admissible sentences, gold labels, their
    admission scores: the ranking before this one)."""
    answerer = ExtractiveAnswerer()
    out = []
    for item in items:
        analysis = answerer.analyze(item.question, item.passages, item.history)
        if analysis.comparison is not None:
            continue  # comparisons are answered by compare.py, not by this ranking
        answerer.decide(analysis)
        admissible = [c for c in analysis.pool if c.admissible]
        if not admissible:
            continue
        x = np.array([[features(c, analysis)[f] for f in FEATURES] for c in admissible])
        y = np.array([holds_gold(c.text, item.case.answers) for c in admissible], dtype=float)
        old = np.array([c.score for c in admissible])
        out.append((half(item.case.id), x, y, old))
    return out


def fit(data: Sequence[Group]) -> np.ndarray:
    """Listwise softmax weights, by gradient descent (a few hundred small lists)."""
    cols = [FEATURES.index(f) for f in FITTED]
    lists = [(x[:, cols], y) for _, x, y, _ in data if 0 < y.sum() < len(y)]
    w = np.array([WEIGHTS[f] for f in FITTED], dtype=float)
    for _ in range(STEPS):
        grad = L2 * w
        for x, y in lists:
            s = x @ w
            p = np.exp(s - s.max())
            p /= p.sum()
            q = y * p / (y * p).sum()  # the gold sentences' share of the probability
            grad -= (q - p) @ x / len(lists)
        w -= RATE * grad
    # Scaled so the admission score keeps weight 1: the ranking's differences then stay in
    # the admission score's units, which SECOND_MARGIN (calibration.py) is set in.
    out = np.zeros(len(FEATURES))
    out[cols] = w / w[0] if w[0] > 0 else w
    return out


def top1(data: Sequence[Group], w: np.ndarray | None) -> float:
    """Share of the questions with an admissible gold sentence whose top one holds it
    (by the admission score when `w` is None)."""
    hits = [y[int(np.argmax(old if w is None else x @ w))] for _, x, y, old in data if y.sum()]
    return float(np.mean(hits)) if hits else 0.0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--work", type=Path, default=Path("/tmp/askfront-calibrate"))
    parser.add_argument("--top-k", type=int, default=5)
    parser.add_argument("--cache", type=Path, help="pickle of the retrieved passages")
    args = parser.parse_args(argv)
    data = groups(collect(args))
    current = np.array([WEIGHTS[f] for f in FEATURES])
    a = [d for d in data if d[0] == "A"]
    b = [d for d in data if d[0] == "B"]
    on_a, on_b = fit(a), fit(b)
    print(f"questions with admissible sentences: {len(data)} (A {len(a)}, B {len(b)})")
    held = sum(1 for d in data if d[2].sum()) / len(data)
    print(f"an admissible sentence holds gold (the ceiling of any ranking): {held:.3f}")
    print(f"top-1 holds gold, admission score: A {top1(a, None):.3f}  B {top1(b, None):.3f}")
    print(f"top-1 holds gold, current weights: A {top1(a, current):.3f}  B {top1(b, current):.3f}")
    print(f"top-1 holds gold, fitted on A:     A {top1(a, on_a):.3f}  B {top1(b, on_a):.3f}")
    print(f"top-1 holds gold, fitted on B:     A {top1(a, on_b):.3f}  B {top1(b, on_b):.3f}")
    both = fit(data)
    print(f"top-1 holds gold, fitted on both:  all {top1(data, both):.3f}")
    print("WEIGHTS = {")
    for f, v in zip(FEATURES, both, strict=True):
        print(f'    "{f}": {v:.3f},')
    print("}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
