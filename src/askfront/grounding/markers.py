"""The [n] citation markers: the one parser of them, and answer sentences split with the
markers that belong to each.

Markers come as [3], [1, 2], [1; 2], [1-3] or [Passage 2]; adjacent groups like [1][2]
are read one by one. Every module that reads or writes markers uses these functions.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from askfront.core.text import split_sentences

_NUMS = r"\d+(?:\s*(?:[,;]|-|–|and)\s*\d+)*"
MARKER = re.compile(rf"\[\s*(?:passages?\s*)?({_NUMS})\s*\]", re.IGNORECASE)
_LEADING_MARKERS = re.compile(rf"^(?:\s*\[\s*(?:passages?\s*)?{_NUMS}\s*\])+", re.IGNORECASE)
# Markers written after the full stop ("Claim.[1] Next claim") end the sentence there.
_TRAILING_MARKERS = re.compile(
    rf"[.!?…][\"'”’)]*(?:\s*\[\s*(?:passages?\s*)?{_NUMS}\s*\])+(?=\s+\S)", re.IGNORECASE
)
_BULLET = re.compile(r"^\s*(?:[-*•]|\d+[.)])\s+")
_SPACE_BEFORE_PUNCT = re.compile(r"\s+([.,;:!?…])")
_REFUSAL = re.compile(
    r"\b(?:articles?|passages?|sources?|texts?|context)\b[^.]{0,40}\b(?:do(?:es)?\s*n[o']?t|"
    r"do not|does not|did not|fail to)\s+(?:say|contain|mention|provide|include|answer|specify|"
    r"state|give|address)"
    r"|\bno (?:relevant )?information\b"
    r"|\bnot (?:mentioned|stated|specified|provided|covered) in the (?:articles?|passages?)"
    r"|\b(?:cannot|can't|can not|unable to) (?:answer|find|determine|tell)",
    re.IGNORECASE,
)


def parse_markers(text: str) -> list[int]:
    """Passage numbers cited in `text`, in order of first appearance: "[1, 3][2]" -> [1, 3, 2]."""
    out: list[int] = []
    for m in MARKER.finditer(text):
        for n in _expand(m.group(1)):
            if n not in out:
                out.append(n)
    return out


def iter_markers(text: str) -> Iterator[tuple[int, int, list[int]]]:
    """(start, end, cited numbers) of every marker in `text`, in order."""
    for m in MARKER.finditer(text):
        yield m.start(), m.end(), _expand(m.group(1))


def _expand(body: str) -> list[int]:
    nums: list[int] = []
    for part in re.split(r"\s*(?:[,;]|\band\b)\s*", body.strip()):
        span = re.fullmatch(r"(\d+)\s*[-–]\s*(\d+)", part)
        if span:
            lo, hi = int(span.group(1)), int(span.group(2))
            # A short ascending range is "1-3"; anything else is read as two numbers.
            nums.extend(range(lo, hi + 1) if 0 <= hi - lo < 10 else (lo, hi))
        elif part.isdigit():
            nums.append(int(part))
    return nums


def strip_markers(text: str) -> str:
    """The sentence without [n] markers, with spacing before punctuation tidied."""
    out = MARKER.sub("", text)
    return _SPACE_BEFORE_PUNCT.sub(r"\1", " ".join(out.split()))


def split_answer(text: str) -> list[str]:
    """The answer's sentences, each keeping the markers that belong to it.

    Uses askfront.core.text.split_sentences, then handles how models place markers: after the
    full stop ("Claim.[1] Next"), or opening the next sentence ("Claim. [1] Next [2].") -
    leading markers go to the previous sentence when that one cites nothing itself.
    """
    pieces: list[str] = []
    for line in text.splitlines():
        line = _BULLET.sub("", line)
        for a, b in split_sentences(line):
            piece = line[a:b]
            pos = 0
            for m in _TRAILING_MARKERS.finditer(piece):
                pieces.append(piece[pos : m.end()].strip())
                pos = m.end()
            pieces.append(piece[pos:].strip())
    sentences: list[str] = []
    for piece in pieces:
        lead = _LEADING_MARKERS.match(piece)
        if lead and sentences and not MARKER.search(sentences[-1]):
            sentences[-1] = f"{sentences[-1]} {lead.group(0).strip()}"
            piece = piece[lead.end() :].strip()
        if strip_markers(piece).strip(" .,;:!?…"):
            sentences.append(piece)
        elif piece and sentences:
            sentences[-1] = f"{sentences[-1]} {piece}"  # markers-only piece: keep with previous
    return sentences


def is_refusal(sentence: str) -> bool:
    """Whether the sentence says the articles don't hold the answer."""
    return bool(_REFUSAL.search(strip_markers(sentence)))


def remove_numbers(text: str, bad: set[int]) -> str:
    """Drop the numbers in `bad` from every marker; a marker left empty goes entirely."""

    def fix(m: re.Match[str]) -> str:
        keep = [n for n in _expand(m.group(1)) if n not in bad]
        return "[" + ", ".join(map(str, keep)) + "]" if keep else ""

    out = MARKER.sub(fix, text)
    return _SPACE_BEFORE_PUNCT.sub(r"\1", re.sub(r"[ \t]{2,}", " ", out)).strip()
