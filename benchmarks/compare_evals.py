"""Compare two `askfront eval --json` results question by question.

    python benchmarks/compare_evals.py before.json after.json [--fields answer,citations]

Reports every question whose answer, refusal or citations (number, source, offsets, quote)
differ, and questions only one run has. Timings and scores are not compared: a refactoring
must leave what is said and cited unchanged; the scores follow from those. Exit code 0 when
every question agrees, 1 when any differs, 2 on unreadable input.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

FIELDS = ("answer", "refused", "citations", "mode", "notice")
CITATION_KEYS = ("n", "source", "start", "end", "quote", "page")


def _key(q: dict[str, Any]) -> str:
    return str(q.get("id") or q["question"])


def _comparable(q: dict[str, Any], fields: Sequence[str]) -> dict[str, Any]:
    out = {f: q.get(f) for f in fields}
    if "citations" in out:
        out["citations"] = [{k: c.get(k) for k in CITATION_KEYS} for c in out["citations"] or []]
    return out


def compare(a: dict[str, Any], b: dict[str, Any], fields: Sequence[str]) -> list[str]:
    """One line per difference; [] when the two runs agree on every question."""
    qa = {_key(q): q for q in a["questions"]}
    qb = {_key(q): q for q in b["questions"]}
    lines = [f"only in A: {k}" for k in qa if k not in qb]
    lines += [f"only in B: {k}" for k in qb if k not in qa]
    for k, q in qa.items():
        if k not in qb:
            continue
        left, right = _comparable(q, fields), _comparable(qb[k], fields)
        for f in fields:
            if left[f] != right[f]:
                lines.append(f"{k} [{f}]\n  A: {left[f]!r}\n  B: {right[f]!r}")
    return lines


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("a", type=Path, help="the first --json result (e.g. before a change)")
    p.add_argument("b", type=Path, help="the second")
    p.add_argument("--fields", default=",".join(FIELDS), help="comma-separated fields")
    args = p.parse_args(argv)
    try:
        a, b = (json.loads(path.read_text(encoding="utf-8")) for path in (args.a, args.b))
    except (OSError, ValueError) as exc:
        print(f"Cannot read the results: {exc}", file=sys.stderr)
        return 2
    fields = [f.strip() for f in args.fields.split(",") if f.strip()]
    lines = compare(a, b, fields)
    n = len({_key(q) for q in a["questions"]} | {_key(q) for q in b["questions"]})
    for line in lines:
        print(line)
    changed = len({line.split(" [")[0] for line in lines})
    print(f"{n} questions, {changed} differ in {', '.join(fields)}.")
    return 1 if lines else 0


if __name__ == "__main__":
    sys.exit(main())
