"""Sentence splitting and token-sized, sentence-aware chunks with exact character offsets."""

from __future__ import annotations

import re

_ABBREVIATIONS = frozenset(
    """mr mrs ms dr prof sr jr st vs etc inc ltd co corp gen col lt sgt capt gov sen rep pres
    jan feb mar apr jun jul aug sep sept oct nov dec no fig approx dept est u.s u.k u.n e.g i.e
    a.m p.m""".split()
)

# A sentence ends at . ! ? (plus closing quotes/brackets) followed by whitespace, or at a blank line.
_END = re.compile(r"[.!?…]+[\"'”’)\]]*(?=\s)|\n\s*\n|\n(?=\s*[A-Z\"“‘(\[])")


def split_sentences(text: str, start: int = 0, end: int | None = None) -> list[tuple[int, int]]:
    """(start, end) offsets of the sentences in text[start:end], whitespace trimmed.

    A regex splitter rather than nltk/spaCy: those need model downloads or heavy imports,
    and we need exact offsets into the original text.
    """
    end = len(text) if end is None else end
    spans: list[tuple[int, int]] = []
    pos = start
    for m in _END.finditer(text, start, end):
        stop = m.end()
        if m.group(0)[0] == ".":
            # Don't split after an abbreviation or an initial ("U.S.", "J. Smith").
            before = text[pos : m.start()].rsplit(None, 1)
            last = before[-1].lower().rstrip(".") if before else ""
            if last in _ABBREVIATIONS or (len(last) == 1 and last.isalpha()):
                continue
        _append_trimmed(text, pos, stop, spans)
        pos = stop
    _append_trimmed(text, pos, end, spans)
    return spans


def _append_trimmed(text: str, a: int, b: int, spans: list[tuple[int, int]]) -> None:
    while a < b and text[a].isspace():
        a += 1
    while b > a and text[b - 1].isspace():
        b -= 1
    if b > a:
        spans.append((a, b))
