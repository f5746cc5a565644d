"""The lexical side of text, shared by every stage: normalization, the one word tokenizer
(`word_forms`, `words`, `content_terms`: BM25, the answerers and verification all use it)
and the sentence splitter."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

import Stemmer  # PyStemmer: the Snowball stemmer bm25s also uses

_WORD = re.compile(r"[^\W_]+(?:[-'’.][^\W_]+)*", re.UNICODE)

# Short English stop list: question words are kept out of content terms on purpose.
STOPWORDS = frozenset(
    """a about above after again against all am an and any are as at be because been before
    being below between both but by can could did do does doing down during each few for from
    further had has have having he her here hers herself him himself his how i if in into is it
    its itself just me more most my myself no nor not now of off on once only or other our ours
    ourselves out over own same she should so some such than that the their theirs them
    themselves then there these they this those through to too under until up very was we were
    what when where which while who whom why will with would you your yours yourself yourselves
    also many much may might must shall says said say according one ones us did does done
    tell told whose s t""".split()
)

# Number words and their values (verification's number check, comparisons' values).
NUMBER_WORDS: dict[str, int] = {
    w: i
    for i, w in enumerate(
        "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen "
        "fifteen sixteen seventeen eighteen nineteen twenty".split()
    )
} | {
    "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80,
    "ninety": 90, "hundred": 100, "thousand": 1000, "dozen": 12,
}  # fmt: skip


def normalize_text(text: str) -> str:
    """Unicode NFC, and non-breaking spaces become plain spaces (offsets are kept 1:1)."""
    text = unicodedata.normalize("NFC", text)
    return text.replace("\u00a0", " ").replace("\u202f", " ").replace("\u2007", " ")


@lru_cache(maxsize=1)
def _stemmer() -> Stemmer.Stemmer:
    return Stemmer.Stemmer("english")


def word_forms(text: str) -> list[str]:
    """Word tokens of `text` in their original case: curly apostrophes folded, possessives
    and trailing dots dropped ("U.S." stays one token, "Nepal’s" becomes "Nepal")."""
    out = []
    for m in _WORD.finditer(text.replace("’", "'")):
        w = m.group(0).strip(".")
        if w.lower().endswith("'s"):
            w = w[:-2]
        if w:
            out.append(w)
    return out


def words(text: str) -> list[str]:
    """`word_forms`, lower-cased."""
    return [w.lower() for w in word_forms(text)]


def content_terms(text: str) -> list[str]:
    """Stemmed content words: what lexical matching compares, BM25 included."""
    stem = _stemmer().stemWord
    return [stem(w) for w in words(text) if w not in STOPWORDS]


_ABBREVIATIONS = frozenset(
    """mr mrs ms dr prof sr jr st vs etc inc ltd co corp gen col lt sgt capt gov sen rep pres
    jan feb mar apr jun jul aug sep sept oct nov dec no fig approx dept est u.s u.k u.n e.g i.e
    a.m p.m""".split()
)

_LOOKBACK = 64  # characters before a "." that can hold the abbreviation it ends

# A sentence ends at .!? (and closing quotes/brackets) before whitespace, or at a blank line.
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
            # Don't split after an abbreviation or an initial ("U.S.", "J. Smith"). Only the
            # last few characters: slicing back to `pos` made long sentences quadratic.
            before = text[max(pos, m.start() - _LOOKBACK) : m.start()].rsplit(None, 1)
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
