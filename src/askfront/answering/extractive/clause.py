"""The clause of a long quoted sentence that holds its answering phrase.

"Nepal, which has seen hundreds of its citizens recruited, said on Friday that at least
14 have been killed, and it asked Moscow to send the others home." answers "How many
Nepalis were killed?" with its middle: the answer quotes "…said on Friday that at least 14
have been killed…", still verbatim and cited to its own character span, the ellipses
shown outside the quote (like compose.opening_mark's quote mark).

A clause is a run of the sentence between clause breaks (",", ";", ":", dashes). The kept
run is the shortest one around the answering phrase that holds CLAUSE_SHARE of the weight
of the question's terms the whole sentence holds (so the quote still shows what the answer
is an answer to), and every clause that offers another phrase of the asked-for kind (the
marked phrase is then one guess among several, and the cut would hide the others).
Sentences of at most CLIP_MIN_WORDS words are quoted whole, and so is any sentence the cut
would shorten by fewer than CLIP_MIN_SAVED words. Brackets and commas between names
("Des Moines, Iowa") do not break a clause.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import replace
from itertools import pairwise

from askfront.answering.extractive.calibration import (
    CLAUSE_SHARE,
    CLIP_MIN_SAVED,
    CLIP_MIN_WORDS,
)
from askfront.answering.extractive.question import Question
from askfront.answering.extractive.sentence import Candidate
from askfront.answering.extractive.span import answer_span
from askfront.answering.extractive.terms import stems

Span = tuple[int, int]
# Not cut for "where": places are often descriptions the span patterns cannot see
# ("countries in the global south"), so a name found is no sign that it is the answer.
UNCLIPPED = frozenset({"place"})
# Where a clause ends: a comma, semicolon or colon before a space, or a spaced dash.
_BREAK = re.compile(r"[,;](?=\s)|\s[—–-]{1,2}(?=\s)")
_TRIM = " \t\n,;:—–-"


def _depth(text: str) -> list[int]:
    """How many brackets are open before each character of `text`."""
    parens = brackets = 0
    out = []
    for ch in text:
        out.append(parens + brackets)
        parens = max(0, parens + (ch == "(") - (ch == ")"))
        brackets = max(0, brackets + (ch == "[") - (ch == "]"))
    return out


def _between_names(text: str, at: int) -> bool:
    """A comma between two capitalized words ("Des Moines, Iowa"): a place and its
    region, or a list of names, not a clause break."""
    before = text[:at].rsplit(None, 1)[-1:] or [""]
    after = text[at + 1 :].split(None, 1)[:1] or [""]
    return before[0][:1].isupper() and after[0][:1].isupper()


def clauses(text: str) -> list[Span]:
    """The clauses of `text`, as (start, end) offsets that together cover it; no break
    inside brackets ("Samuel Eto'o Fils (born 10 March 1981)") or between names."""
    depth = _depth(text)
    cuts = [
        m.end()
        for m in _BREAK.finditer(text)
        if depth[m.start()] == 0
        and not (text[m.start()] == "," and _between_names(text, m.start()))
    ]
    bounds = [0, *cuts, len(text)]
    return [(s, e) for s, e in pairwise(bounds) if text[s:e].strip()]


def _weight(text: str, weigh: Callable[[frozenset[str]], float]) -> float:
    return weigh(frozenset(stems(text)))


def clause_span(
    text: str,
    answer: Span,
    weigh: Callable[[frozenset[str]], float],
    offers: Callable[[str], bool] = lambda clause: False,
) -> Span | None:
    """The part of `text` to quote: the shortest run of clauses around `answer` holding
    CLAUSE_SHARE of the question-term weight of the whole sentence (`weigh` gives the
    weight of a term set), without the breaks at its ends; None to quote it whole."""
    if len(text.split()) <= CLIP_MIN_WORDS:
        return None
    parts = clauses(text)
    inside = [k for k, (s, e) in enumerate(parts) if s < answer[1] and answer[0] < e]
    if not inside or len(parts) < 2:
        return None
    lo, hi = inside[0], inside[-1]
    # A clause that offers another answer of the asked-for kind is never left out.
    held = [k for k, (s, e) in enumerate(parts) if offers(text[s:e])]
    lo, hi = min([lo, *held]), max([hi, *held])
    need = CLAUSE_SHARE * _weight(text, weigh)
    while _weight(text[parts[lo][0] : parts[hi][1]], weigh) < need:
        left = _weight(text[parts[lo - 1][0] : parts[lo - 1][1]], weigh) if lo > 0 else -1.0
        right = (
            _weight(text[parts[hi + 1][0] : parts[hi + 1][1]], weigh)
            if hi + 1 < len(parts)
            else -1.0
        )
        if left < 0 and right < 0:
            break
        if left >= right:
            lo -= 1
        else:
            hi += 1
    start, end = parts[lo][0], parts[hi][1]
    while start < end and text[start] in _TRIM:
        start += 1
    if hi + 1 < len(parts):  # the sentence goes on: the break before it is not quoted
        while end > start and text[end - 1] in _TRIM:
            end -= 1
    if len(text.split()) - len(text[start:end].split()) < CLIP_MIN_SAVED:
        return None
    return (start, end)


def clip(
    c: Candidate,
    weigh: Callable[[frozenset[str]], float],
    offers: Callable[[str], bool] = lambda clause: False,
) -> Candidate:
    """`c` cut to the clause holding its answering phrase (see `clause_span`), with its
    offsets, text and answer_span moved to the clause and what was left out marked in
    `elided`; `c` itself when it has no answering phrase or is quoted whole."""
    if c.answer_span is None:
        return c
    span = clause_span(c.text, c.answer_span, weigh, offers)
    if span is None:
        return c
    s, e = span
    a, b = c.answer_span
    return replace(
        c,
        start=c.start + s,
        end=c.start + e,
        text=c.text[s:e],
        answer_span=(max(a, s) - s, min(b, e) - s),
        elided=(s > 0, e < len(c.text)),
    )


def clip_quotes(
    chosen: Sequence[Candidate],
    q: Question,
    question_lower: str,
    weigh: Callable[[frozenset[str]], float],
) -> list[Candidate]:
    """The quotes of an answer to `q`, each long one cut to the clause holding its
    answering phrase (`clip`), unless a clause left out holds another phrase of the
    asked-for kind (the marked one is then a guess among several)."""
    if q.qtype in UNCLIPPED:
        return list(chosen)
    return [
        clip(c, weigh, lambda text: answer_span(q, text, question_lower) is not None)
        for c in chosen
    ]
