"""Generate the development set of questions about the collection from the RealTimeQA
corpus: "Which articles mention T?", "How many articles mention T?", "What is the most
recent article that mentions T?", "When was T first mentioned?" for names T that occur in
3 to 14 articles, and relative-date questions ("published last week", "in the past 7
days", "since March") asked on the days RealTimeQA's quizzes were asked, each with its
expected range.

The gold answers are counted here from the files themselves, with code of its own (a
plain regular expression over each file's body, and calendar arithmetic of its own), not
with askfront's mention search or date parser: the set checks them.

    python benchmarks/collection_devset.py [--corpus DIR] [--out tests/data/FILE.jsonl]
"""

from __future__ import annotations

import argparse
import json
import re
from collections import Counter
from datetime import date, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DEFAULT_CORPUS = REPO.parent / "shared" / "datasets" / "realtimeqa-2024" / "corpus"
DEFAULT_OUT = REPO / "tests" / "data" / "collection_realtimeqa.jsonl"
TERMS = 12  # names, four questions each
MIN_ARTICLES, MAX_ARTICLES = 3, 14
# Days RealTimeQA's quizzes were asked (its testset's asked_on), spread over the year.
ASKED_ON = ("2024-02-16", "2024-03-29", "2024-05-10", "2024-06-14", "2024-08-09", "2024-09-26")

_NAME = re.compile(r"\b[A-Z][a-z]+(?: [A-Z][a-z]+){1,2}\b")
# Capitalized words that begin sentences or name days and months, not people or places.
_NOT_NAMES = frozenset(
    """The A An In On At But And Or If When While After Before During Since As For From To
    This That These Those It Its He She They We I You His Her Their Our Mr Mrs Ms Dr
    Monday Tuesday Wednesday Thursday Friday Saturday Sunday January February March April
    May June July August September October November December New Read More Getty Images
    Photo Associated Press Reuters""".split()
)


def read_article(path: Path) -> tuple[str, str | None]:
    """(title line and body, date) of a front-matter markdown file: an article whose
    title names T mentions T."""
    text = path.read_text(encoding="utf-8")
    day = None
    if text.startswith("---"):
        head, _, text = text[3:].partition("\n---")
        m = re.search(r'^date:\s*"?(\d{4}-\d{2}-\d{2})', head, re.M)
        day = m.group(1) if m else None
        title = re.search(r"^title:\s*(.*)$", head, re.M)
        text = f"{title.group(1).strip(chr(34))}\n{text}" if title else text
    return text, day


def mentions(term: str, body: str) -> bool:
    """Whole-word, case-sensitive (as written, or in capitals): the issue's definition."""
    words = term.split()
    exact = r"\s+".join(map(re.escape, words))
    upper = r"\s+".join(re.escape(w.upper()) for w in words)
    return re.search(rf"(?<!\w)(?:{exact}|{upper})(?!\w)", body) is not None


def pick_terms(articles: dict[str, tuple[str, str | None]]) -> list[str]:
    """Names in 3 to 14 articles, spread over the alphabet (deterministic)."""
    seen: Counter[str] = Counter()
    for body, _ in articles.values():
        names = {n for n in _NAME.findall(body) if not set(n.split()) & _NOT_NAMES}
        seen.update(" ".join(n.split()) for n in names)
    fitting = sorted(t for t, n in seen.items() if MIN_ARTICLES <= n <= MAX_ARTICLES)
    step = max(1, len(fitting) // TERMS)
    return fitting[::step][:TERMS]


def last_week(day: date) -> tuple[date, date]:
    monday = day - timedelta(days=day.isoweekday() - 1)
    return monday - timedelta(days=7), monday - timedelta(days=1)


def questions(articles: dict[str, tuple[str, str | None]]) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = []
    for k, term in enumerate(pick_terms(articles)):
        hits = sorted(
            ((day or "", path) for path, (body, day) in articles.items() if mentions(term, body)),
            reverse=True,
        )
        sources = [p for _, p in hits]
        newest = [p for d, p in hits if d == hits[0][0]]
        oldest = min(d for d, _ in hits if d)
        base = {"answerable": True, "tags": ["collection", "mentions"]}
        rows += [
            {"id": f"mention-list-{k}", "question": f"Which articles mention {term}?",
             "answers": [str(len(sources))], "sources": sources, "expects": "list", **base},
            {"id": f"mention-count-{k}", "question": f"How many articles mention {term}?",
             "answers": [str(len(sources))], "sources": sources, "expects": "count", **base},
            {"id": f"mention-latest-{k}",
             "question": f"What is the most recent article that mentions {term}?",
             "answers": [term], "sources": newest, "expects": "latest", **base},
            {"id": f"mention-first-{k}", "question": f"When was {term} first mentioned?",
             "answers": [oldest], "sources": [p for d, p in hits if d == oldest],
             "expects": "first", **base},
        ]  # fmt: skip
    for k, asked in enumerate(ASKED_ON):
        day = date.fromisoformat(asked)
        week, days7 = last_week(day), (day - timedelta(days=6), day)
        for kind, question, (start, end) in (
            ("list", "Which articles were published last week?", week),
            ("count", "How many articles were published in the past 7 days?", days7),
        ):
            first, last = start.isoformat(), end.isoformat()
            inside = sorted(p for p, (_, d) in articles.items() if d and first <= d <= last)
            rows.append(
                {"id": f"relative-{kind}-{k}", "question": question,
                 "answers": [str(len(inside))], "answerable": True, "sources": inside,
                 "expects": kind, "asked_on": asked, "expected_range": [first, last],
                 "tags": ["collection", "relative-date"]}
            )  # fmt: skip
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args()
    articles = {p.name: read_article(p) for p in sorted(args.corpus.glob("*.md"))}
    rows = questions(articles)
    args.out.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows))
    print(f"{len(rows)} questions from {len(articles)} articles -> {args.out}")


if __name__ == "__main__":
    main()
