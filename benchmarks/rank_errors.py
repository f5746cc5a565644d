"""Why the extractive answerer's top sentence misses the gold answer: an error analysis of
the sentence ranking (answering/extractive/ranking.py) on development data.

For every question of a set (the retrieved passages cached by fit_ranker.py --cache), the
top-ranked admissible sentence is checked against the gold answers (fit_ranker.holds_gold,
the metric of `askfront eval`); each miss is classed as
  - "gold admissible, ranked lower": a quotable sentence holds the gold (a ranking error),
  - "gold not admissible": only sentences the answerer may not quote hold it (admission),
  - "no gold sentence retrieved": no retrieved sentence holds it (retrieval, or a gold the
    article words differently),
and the first --show misses are printed with the features (ranking.FEATURES) of the top
sentence and of the gold-holding ones.

Usage (after fit_ranker.py has written its cache):
  PYTHONPATH=src .venv/bin/python benchmarks/rank_errors.py \
      --cache /tmp/askfront-calibrate/items.pkl [--set rtqa@500] [--show 40]
"""

from __future__ import annotations

import argparse
import os
import pickle
import sys
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from askfront.answering.extractive import ExtractiveAnswerer
from askfront.answering.extractive.ranking import features, rank_score
from askfront.answering.extractive.sentence import Candidate
from calibrate_refusal import Item
from fit_ranker import holds_gold

RANKED_LOWER = "gold admissible, ranked lower"
NOT_ADMISSIBLE = "gold not admissible"
NOT_RETRIEVED = "no gold sentence retrieved"


def _shown(c: Candidate, analysis: object) -> str:
    values = features(c, analysis)  # type: ignore[arg-type]
    return " ".join(f"{k}={v:.2f}" for k, v in values.items() if v) + f"\n      {c.text[:200]}"


def classify(items: Sequence[Item], show: int) -> Counter[str]:
    """Count the top-1 outcomes of `items`; print the first `show` misses."""
    answerer = ExtractiveAnswerer()
    counts: Counter[str] = Counter()
    for item in items:
        analysis = answerer.analyze(item.question, item.passages, item.history)
        if analysis.comparison is not None or not item.case.answerable:
            continue  # comparisons are answered by compare.py, not by this ranking
        answerer.decide(analysis)
        ranked = sorted(
            (c for c in analysis.pool if c.admissible), key=lambda c: -rank_score(c, analysis)
        )
        golds = item.case.answers
        if ranked and holds_gold(ranked[0].text, golds):
            counts["top-1 holds gold"] += 1
            continue
        holding = [c for c in analysis.pool if holds_gold(c.text, golds)]
        if not holding:
            kind = NOT_RETRIEVED
        elif not any(c.admissible for c in holding):
            kind = NOT_ADMISSIBLE
        else:
            kind = RANKED_LOWER
        counts[kind] += 1
        if sum(v for k, v in counts.items() if k != "top-1 holds gold") <= show:
            print(f"Q {item.question}\n  gold {golds}  qtype={analysis.qtype}  -> {kind}")
            if ranked:
                print(f"  TOP  {_shown(ranked[0], analysis)}")
            for c in holding[:2]:
                where = [k for k, r in enumerate(ranked) if r is c]
                label = f"GOLD rank {where[0] + 1}" if where else "GOLD (not admissible)"
                print(f"  {label}  {_shown(c, analysis)}")
    return counts


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cache", type=Path, required=True, help="fit_ranker.py's --cache")
    parser.add_argument("--set", default="rtqa@500", help="rtqa@500, hotpot:A, hotpot:B, seed")
    parser.add_argument("--show", type=int, default=40, help="misses to print")
    args = parser.parse_args(argv)
    if not args.cache.is_file():
        print(f"No cache at {args.cache}: run benchmarks/fit_ranker.py --cache first.")
        return 2
    items: list[Item] = pickle.loads(args.cache.read_bytes())
    chosen = [i for i in items if i.set == args.set]
    if not chosen:
        print(f"No questions of set {args.set!r}; the cache has {sorted({i.set for i in items})}")
        return 2
    counts = classify(chosen, args.show)
    total = sum(counts.values())
    print(f"\n{args.set}: {total} questions ranked (answerable, not comparisons)")
    for kind, n in counts.most_common():
        print(f"  {kind:<32} {n:>4}  {n / total:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
