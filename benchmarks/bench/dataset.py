"""Which articles and questions a run uses."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

from bench.common import Json, count_tokens

# -- dataset selection ----------------------------------------------------------------------


def load_dataset(folder: Path, articles: int, max_questions: int | None) -> Json:
    """Pick `articles` articles (the gold sources of as many questions as fit, then the rest
    in name order), the held-out one (the last by name, added incrementally) and the
    questions with a gold source among them."""
    corpus = folder / "corpus"
    testset = folder / "testset.jsonl"
    if not corpus.is_dir() or not testset.is_file():
        raise SystemExit(
            f"Benchmark dataset not found: expected {corpus}/ and {testset}. Point --dataset "
            "at a RealTimeQA-style folder (corpus/*.md + testset.jsonl)."
        )
    all_files = {p.name: p for p in sorted(corpus.glob("*.md"))}
    questions = [json.loads(line) for line in testset.read_text().splitlines() if line.strip()]
    picked: dict[str, None] = {}
    if articles >= len(all_files):
        picked = dict.fromkeys(all_files)
    else:
        # Questions with fewer gold sources first: more questions fit in a small corpus.
        for q in sorted(questions, key=lambda q: len(q["sources"])):
            new = [s for s in q["sources"] if s in all_files and s not in picked]
            if len(picked) + len(new) <= articles:
                picked.update(dict.fromkeys(new))
        for name in all_files:
            if len(picked) >= articles:
                break
            picked.setdefault(name)
    names = sorted(picked)
    if len(names) < 2:
        raise SystemExit("The benchmark needs at least 2 articles (one is added incrementally).")
    chosen = set(names)
    usable = [
        q for q in questions if q.get("answerable", True) and chosen.intersection(q["sources"])
    ]
    if max_questions:
        usable = usable[:max_questions]
    if not usable:
        raise SystemExit("No question in testset.jsonl has a gold source among the articles.")
    return {
        "base": [all_files[n] for n in names[:-1]],
        "held_out": all_files[names[-1]],
        "questions": usable,
    }


def corpus_tokens(paths: Sequence[Path]) -> int:
    import frontmatter

    return count_tokens([frontmatter.load(str(p)).content for p in paths])
