"""The answering phrase inside a quoted sentence: the number, date, name or cause the
question asks for, as character offsets into the sentence, so the answer can show it in
bold while the quote stays verbatim.

Found with the same cues the scoring uses (sentence.py's patterns, the question's terms):
no tagger runs at query time, and a phrase not found is simply not marked.
"""

from __future__ import annotations

import re

from askfront.answering.extractive.question import Question
from askfront.answering.extractive.sentence import _CAUSE, _DATE, _MONEY, _PERCENT
from askfront.answering.extractive.terms import word_stems
from askfront.core.text import STOPWORDS

Span = tuple[int, int]

_NUMBER = re.compile(
    r"\b\d[\d,.]*(?:\s?(?:million|billion|trillion|thousand|hundred))?\b"
    r"|\b(?:two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|fifteen|twenty|thirty|"
    r"forty|fifty|hundreds|thousands|millions|dozens?)\b",
    re.IGNORECASE,
)
_AMOUNT = re.compile(
    r"[$€£¥₹]\s?\d[\d,.]*(?:\s?(?:million|billion|trillion|[mbk]n?)\b)?"
    r"|\b\d[\d,.]*\s?(?:million |billion |trillion )?(?:dollars?|euros?|pounds?|rupees?|yuan|"
    r"yen|roubles?|rubles?)\b",
    re.IGNORECASE,
)
_MONTH = (
    r"(?:January|February|March|April|May|June|July|August|September|October|November|"
    r"December|Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sept?|Oct|Nov|Dec)\.?"
)
# Whole dates before their parts: "Feb. 24, 2022", "March 2023", "two years ago".
_WHOLE_DATE = re.compile(
    rf"\b{_MONTH}\s+\d{{1,2}}(?:st|nd|rd|th)?(?:,?\s+\d{{4}})?\b|\b\d{{1,2}}\s+{_MONTH}(?:\s+\d{{4}})?\b"
    rf"|\b{_MONTH}\s+(?:of\s+)?\d{{4}}\b|\b(?:in|since|by)\s+\d{{4}}s?\b"
    r"|\b(?:\w+\s+)?(?:days?|weeks?|months?|years?|decades?)\s+ago\b"
)
_NUMBER_PERCENT = re.compile(r"\b\d[\d,.]*\s?(?:%|percent\b|per cent\b)", re.IGNORECASE)
# A name: capitalized words, with the small words names contain ("Bank of America").
_NAME = re.compile(
    r"[A-Z][\w'’.-]*(?:\s+(?:(?:of|the|de|del|da|van|von|al|bin|and)\s+)?[A-Z][\w'’.-]*)*"
)
_LIST_JOIN = re.compile(r"^(?:,\s*|\s+and\s+|,\s+and\s+)$")
_PLACE_BEFORE = re.compile(r"\b(?:in|at|from|near|to|across|of)\s+(?:the\s+)?$")


def answer_span(q: Question, text: str, question_lower: str) -> Span | None:
    """Where in `text` the answer to `q` is, or None (descriptions, or nothing found)."""
    kind = q.qtype
    if kind == "money":
        return _first(_AMOUNT, text, question_lower) or _first(_MONEY, text, question_lower)
    if kind == "percent":
        return _first(_NUMBER_PERCENT, text, question_lower) or _first(
            _PERCENT, text, question_lower
        )
    if kind == "date":
        return _first(_WHOLE_DATE, text, question_lower) or _first(_DATE, text, question_lower)
    if kind == "number":
        return _first(_NUMBER, text, question_lower)
    if kind in ("person", "place", "entity"):
        return _name_span(q, text, kind == "place")
    if kind == "reason":
        m = _CAUSE.search(text)
        if m is None:
            return None
        end = len(text.rstrip(" .!?”\"'"))
        stop = re.search(r"[;:]|\s[—–-]\s", text[m.start() :])
        return (m.start(), m.start() + stop.start() if stop else end)
    return None


def _first(pattern: re.Pattern[str], text: str, question_lower: str) -> Span | None:
    """The first match that the question does not already hold."""
    for m in pattern.finditer(text):
        if m.group(0).strip().lower() not in question_lower:
            return m.span()
    return None


def _new_name(q: Question, phrase: str) -> bool:
    stems = [t for w in phrase.split() if w.lower() not in STOPWORDS for t in word_stems(w)]
    return bool(stems) and not all(t in q.weights for t in stems)


def _name_span(q: Question, text: str, place: bool) -> Span | None:
    """The first run of names the question lacks (a place after "in", "from" ... first for
    "where"), extended over a list ("Syria, Cuba, Nepal and India")."""
    runs = [
        m.span()
        for m in _NAME.finditer(text)
        if m.start() > 0 and _new_name(q, m.group(0))  # a first word is just capitalized
    ]
    if not runs:
        return None
    first = 0
    if place:
        first = next((k for k, (s, _) in enumerate(runs) if _PLACE_BEFORE.search(text[:s])), 0)
    start, end = runs[first]
    for s, e in runs[first + 1 :]:
        if not _LIST_JOIN.match(text[end:s]):
            break
        end = e
    return (start, end)
