"""Small text helpers shared by chunking, retrieval, answering and verification."""

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


def normalize_text(text: str) -> str:
    """Unicode NFC, and non-breaking spaces become plain spaces (offsets are kept 1:1)."""
    text = unicodedata.normalize("NFC", text)
    return text.replace("\u00a0", " ").replace("\u202f", " ").replace("\u2007", " ")


@lru_cache(maxsize=1)
def _stemmer() -> Stemmer.Stemmer:
    return Stemmer.Stemmer("english")


def words(text: str) -> list[str]:
    """Lower-cased word tokens, with curly apostrophes folded and possessives dropped."""
    out = []
    for m in _WORD.finditer(text.lower().replace("’", "'")):
        w = m.group(0).strip(".")
        if w.endswith("'s"):
            w = w[:-2]
        if w:
            out.append(w)
    return out


def content_terms(text: str) -> list[str]:
    """Stemmed content words: what lexical matching compares."""
    stem = _stemmer().stemWord
    return [stem(w) for w in words(text) if w not in STOPWORDS]
