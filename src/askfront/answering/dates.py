"""Publication dates in questions: "from February 2024", "between 2024-01-01 and
2024-03-01", "before March", "in 2023", "on Feb 28, 2024", and relative ones ("last week",
"this month", "in the past 3 days", "since January") that mean something only against an
as-of date (`DateRange.resolve`): a folder of old articles is read as of its newest one,
or of the day the question was asked.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass, replace
from datetime import date, timedelta

MONTHS = {m.lower(): i for i, m in enumerate(calendar.month_name) if m} | {
    m.lower(): i for i, m in enumerate(calendar.month_abbr) if m
}
MONTHS["sept"] = 9
_MONTH = r"(?:" + "|".join(sorted(MONTHS, key=len, reverse=True)) + r")\b\.?"


@dataclass(frozen=True)
class DateRange:
    """Publication dates asked for: ISO bounds (inclusive), or months of any year when the
    question names months without a year ("from February")."""

    start: str | None = None
    end: str | None = None
    months: tuple[int, int] | None = None
    label: str = ""  # as the question put it: "from February 2024"
    relative: str | None = None  # "last week": no bounds until resolved against an as-of date

    def holds(self, day: str | None) -> bool:
        if not day or self.relative:  # an unresolved relative range holds nothing
            return False
        day = day[:10]
        if (self.start and day < self.start) or (self.end and day > self.end):
            return False
        if self.months:
            try:
                month = int(day[5:7])
            except ValueError:
                return False
            return self.months[0] <= month <= self.months[1]
        return True


_ATOM = (
    rf"(?:\d{{4}}-\d{{2}}-\d{{2}}|{_MONTH}\s+\d{{1,2}}(?:st|nd|rd|th)?,?\s+\d{{4}}"
    rf"|\d{{1,2}}\s+{_MONTH}\s+\d{{4}}|{_MONTH},?\s+\d{{4}}|{_MONTH}|(?:19|20)\d\d)"
)
_DATE_PHRASES = (
    ("between", re.compile(rf"\bbetween\s+({_ATOM})\s+and\s+({_ATOM})", re.I)),
    ("span", re.compile(rf"\bfrom\s+({_ATOM})\s+(?:to|until|till|through|thru)\s+({_ATOM})", re.I)),
    ("before", re.compile(rf"\b(?:before|until|prior\s+to|earlier\s+than)\s+({_ATOM})", re.I)),
    ("after", re.compile(rf"\b(?:after|later\s+than)\s+({_ATOM})", re.I)),
    ("since", re.compile(rf"\bsince\s+({_ATOM})", re.I)),
    ("in", re.compile(rf"\b(?:from|in|during|dated|published|on|of)\s+({_ATOM})\b", re.I)),
)


def parse_dates(text: str) -> tuple[DateRange | None, str]:
    """The publication dates `text` asks for, and `text` without the date phrase."""
    m = _RELATIVE.search(text)
    if m:
        phrase = re.sub(r"^(?:in|over|during|from)\s+", "", " ".join(m.group(0).lower().split()))
        rest = (text[: m.start()] + " " + text[m.end() :]).strip()
        return DateRange(label=phrase, relative=phrase), rest
    for form, pattern in _DATE_PHRASES:
        m = pattern.search(text)
        if not m:
            continue
        spans = [a for a in map(_atom, m.groups()) if a is not None]
        if len(spans) < len(m.groups()):
            continue
        rng = _combine(form, spans)
        if rng is None:
            continue
        rest = (text[: m.start()] + " " + text[m.end() :]).strip()
        label = m.group(0)
        if form == "in":  # "from February 2024", "dated 2024-02-28": in ..., on ...
            label = f"{'on' if rng.start and rng.start == rng.end else 'in'} {m.group(1)}"
        return replace(rng, label=label), rest
    return None, text


def _combine(form: str, spans: list[DateRange]) -> DateRange | None:
    first, last = spans[0], spans[-1]
    if first.months or last.months:  # months without a year
        if form in ("between", "span") and first.months and last.months:
            return DateRange(months=(first.months[0], last.months[1]))
        return first if form == "in" else None
    if form in ("between", "span"):
        return DateRange(first.start, last.end)
    if form == "before":
        return DateRange(end=_shift(first.start, -1))
    if form == "after":
        return DateRange(start=_shift(first.end, 1))
    if form == "since":
        return DateRange(start=first.start)
    return first


def _atom(text: str) -> DateRange | None:
    """One date expression: a day, a month of a year, a year, or a month of any year."""
    t = text.lower().replace(",", " ").replace(".", " ")
    parts = t.split()
    try:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", t.strip()):
            day = date.fromisoformat(t.strip()).isoformat()
            return DateRange(day, day)
        if len(parts) == 1 and parts[0].isdigit():
            return DateRange(f"{parts[0]}-01-01", f"{parts[0]}-12-31")
        words = [p for p in parts if p in MONTHS]
        nums = [re.sub(r"\D", "", p) for p in parts if p not in MONTHS]
        month = MONTHS[words[0]]
        if not nums:
            return DateRange(months=(month, month))
        year = int(nums[-1])
        if len(nums) == 2:
            day = date(year, month, int(nums[0])).isoformat()
            return DateRange(day, day)
        last = calendar.monthrange(year, month)[1]
        return DateRange(f"{year}-{month:02d}-01", f"{year}-{month:02d}-{last:02d}")
    except (ValueError, IndexError):
        return None


def _shift(day: str | None, days: int) -> str | None:
    return (date.fromisoformat(day) + timedelta(days=days)).isoformat() if day else None


# --- relative dates ---------------------------------------------------------------------
_UNIT = r"(?:days?|weeks?|months?|years?)"
_NUMBER_WORDS = {"a": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6,
                 "seven": 7, "eight": 8, "nine": 9, "ten": 10, "twelve": 12}  # fmt: skip
_COUNT = r"(?:\d{1,3}|" + "|".join(_NUMBER_WORDS) + r")"
_MONTH_NAMES = r"(?:" + "|".join(m.lower() for m in calendar.month_name if m) + r")"
_RELATIVE = re.compile(
    r"\b(?:today|yesterday|(?:this|last|past|previous)\s+(?:week|month|year)"
    rf"|(?:in\s+|over\s+|during\s+|from\s+)?(?:the\s+)?(?:last|past|previous)\s+{_COUNT}\s+{_UNIT}"
    rf"|since\s+{_MONTH_NAMES}(?!\s*,?\s*\d))\b",
    re.I,
)


def resolve(rng: DateRange | None, as_of: date) -> DateRange | None:
    """`rng` with a relative phrase turned into ISO bounds, read as of `as_of`; its label
    states the range: "from 2024-07-22 to 2024-07-28 (last week, as of 2024-07-31)"."""
    if rng is None or not rng.relative:
        return rng
    start, end = _relative_bounds(rng.relative, as_of)
    span = f"on {start}" if start == end else f"from {start} to {end}"
    label = f"{span} ({rng.relative}, as of {as_of.isoformat()})"
    return DateRange(start.isoformat(), end.isoformat(), label=label)


def _relative_bounds(phrase: str, as_of: date) -> tuple[date, date]:
    """Calendar weeks run Monday to Sunday: "last week" is the whole week before as-of's,
    "this week" its Monday to as-of; "the past N days" ends on as-of and holds N days."""
    words = re.sub(r"^(?:in|over|during|from)\s+|\bthe\s+", "", phrase).split()
    if words[0] == "today":
        return as_of, as_of
    if words[0] == "yesterday":
        day = as_of - timedelta(days=1)
        return day, day
    if words[0] == "since":
        month = MONTHS[words[1]]
        year = as_of.year if month <= as_of.month else as_of.year - 1
        return date(year, month, 1), as_of
    if len(words) == 3:  # "past 3 days"
        n = int(words[1]) if words[1].isdigit() else _NUMBER_WORDS[words[1]]
        unit = words[2].rstrip("s")
        days = {"day": n, "week": 7 * n, "month": 30 * n, "year": 365 * n}[unit]
        return as_of - timedelta(days=max(days, 1) - 1), as_of
    which, unit = words
    if which == "past":  # "the past week": the seven days up to as-of
        days = {"week": 7, "month": 30, "year": 365}[unit]
        return as_of - timedelta(days=days - 1), as_of
    if unit == "week":
        monday = as_of - timedelta(days=as_of.weekday())
        if which == "this":
            return monday, as_of
        return monday - timedelta(days=7), monday - timedelta(days=1)
    if unit == "month":
        if which == "this":
            return as_of.replace(day=1), as_of
        last = as_of.replace(day=1) - timedelta(days=1)
        return last.replace(day=1), last
    if which == "this":
        return date(as_of.year, 1, 1), as_of
    return date(as_of.year - 1, 1, 1), date(as_of.year - 1, 12, 31)
