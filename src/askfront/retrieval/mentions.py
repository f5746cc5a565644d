"""Exhaustive mention search: every article whose text contains a phrase, as whole words,
each with its first mention (the sentence that holds it).

Top-k retrieval cannot answer "Which articles mention Kathy Hochul?": five passages do not
list fourteen articles. This reads the index instead of the files: the BM25 postings
(bm25s' sparse term -> chunk matrix) give the chunks holding every word of the phrase,
and only those chunks' stored texts are checked for the phrase itself. bm25s has no
phrase query, hence the check here. Without a keyword index (or for a phrase of stop words
only) SQLite's instr() over the docstore's chunk texts finds the candidates.

Names are matched case-aware: "Hochul" matches "Hochul" and "HOCHUL", not "hochul"; a
lower-case phrase matches any case. Words must be whole ("Iran" is not in "Iranian").
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass

import numpy as np

from askfront.core.text import content_terms
from askfront.core.types import Chunk
from askfront.indexing.bm25 import KeywordIndex
from askfront.indexing.docstore import DocStore
from askfront.indexing.store import date_int

logger = logging.getLogger(__name__)

MAX_PHRASE_CHARS = 200  # a phrase longer than this is not a name or a term
_PARTS = re.compile(r"[-'.]+")


@dataclass(frozen=True)
class Mention:
    """An article's first mention of the phrase: the sentence at document offsets start:end."""

    source: str
    title: str | None
    date: str | None
    chunk: Chunk
    start: int
    end: int
    in_title: bool = False  # only the title names it: start:end is the article's opening

    @property
    def quote(self) -> str:
        return self.chunk.text[self.start - self.chunk.start : self.end - self.chunk.start]


@dataclass(frozen=True)
class MentionResult:
    """The articles that mention the phrase (newest first, undated last) and how many
    articles were searched (those within the dates and sources asked for)."""

    phrase: str
    mentions: list[Mention]
    searched: int


def phrase_pattern(phrase: str) -> re.Pattern[str]:
    """The phrase as whole words, any spacing between them; case-aware when it has capitals
    (the exact case, or all capitals as in a headline)."""
    words = phrase.split()
    body = r"\s+".join(_word(w) for w in words)
    if phrase == phrase.lower():
        return re.compile(rf"(?<!\w){body}(?!\w)", re.I)
    upper = r"\s+".join(_word(w.upper()) for w in words)
    return re.compile(rf"(?<!\w)(?:{body}|{upper})(?!\w)")


def _word(word: str) -> str:
    """One word of a phrase as a pattern: straight and curly apostrophes alike (O'Rourke)."""
    return "['’]".join(re.escape(part) for part in re.split("['’]", word))


class MentionSearch:
    """Mention search over one build: its keyword index (may be None) and its docstore."""

    def __init__(self, keyword: KeywordIndex | None, docstore: DocStore) -> None:
        self.keyword = keyword
        self.docstore = docstore
        self._compounds: dict[str, list[int]] | None = None

    def compounds(self) -> dict[str, list[int]]:
        """Word -> ids of the index's compound tokens that hold it as a part: the tokenizer
        keeps "Trump-appointed" one token, yet it mentions "Trump". Built once (~0.1 s at
        100k chunks), so keep one MentionSearch per build."""
        if self._compounds is None:
            parts: dict[str, list[int]] = {}
            vocab = self.keyword.retriever.vocab_dict if self.keyword is not None else {}
            for token, tid in vocab.items():
                if "-" in token or "'" in token or "." in token:
                    for part in set(_PARTS.split(token)):
                        parts.setdefault(part, []).append(tid)
            self._compounds = parts
        return self._compounds

    def find(
        self, phrase: str, *, date_from: str | None = None, date_to: str | None = None
    ) -> MentionResult:
        """Every article dated within the bounds (if any) that mentions `phrase`."""
        phrase = " ".join(phrase.split())[:MAX_PHRASE_CHARS]
        searched = self.docstore.count_documents(date_from, date_to)
        if not phrase:
            return MentionResult(phrase, [], searched)
        pattern = phrase_pattern(phrase)
        first: dict[str, tuple[int, int, str]] = {}  # source -> (chunk index, offset, id)
        for cid, source, index, text in self.docstore.chunk_texts(self._candidates(phrase)):
            m = pattern.search(text)
            if m is not None and (index, m.start()) < first.get(source, (1 << 62, 0))[:2]:
                first[source] = (index, m.start(), cid)
        # An article whose title alone names it mentions it too (cited by its opening).
        titled = {p: c for p, c in self.docstore.titled(phrase).items() if p not in first}
        meta = self.docstore.doc_meta([*first, *titled])
        titled = {p: c for p, c in titled.items() if pattern.search(meta[p][0] or "")}
        chunks = self.docstore.chunks([*(c for _, _, c in first.values()), *titled.values()])
        mentions = []
        found = [(s, o, c, False) for s, (_, o, c) in first.items()]
        for source, offset, cid, in_title in found + [(s, -1, c, True) for s, c in titled.items()]:
            title, day = meta.get(source, (None, None))
            if not _in_dates(day, date_from, date_to) or cid not in chunks:
                continue
            chunk = chunks[cid]
            at = chunk.start + max(offset, 0)
            start, end = _opening(chunk) if in_title else _sentence_at(chunk, at)
            mentions.append(Mention(source, title, day, chunk, start, end, in_title))
        # Newest first; undated articles last, by name (a stable order for ties).
        mentions.sort(key=lambda m: m.source)
        mentions.sort(key=lambda m: m.date or "", reverse=True)
        return MentionResult(phrase, mentions, searched)

    def _candidates(self, phrase: str) -> list[str]:
        """Ids of the chunks that may hold the phrase: those holding all its content words."""
        terms = content_terms(phrase)
        if self.keyword is None or not self.keyword.ids or not terms:
            return self.docstore.chunks_containing(phrase)
        vocab = self.keyword.retriever.vocab_dict
        postings = self.keyword.retriever.scores
        indptr, indices = postings["indptr"], postings["indices"]
        compounds = self.compounds()
        holding = []  # per word: the chunks that hold it, alone or in a compound
        for t in set(terms):
            tids = ([vocab[t]] if t in vocab else []) + compounds.get(t, [])
            if not tids:
                return []  # a word no chunk has
            parts = [indices[indptr[i] : indptr[i + 1]] for i in tids]
            holding.append(parts[0] if len(parts) == 1 else np.unique(np.concatenate(parts)))
        rows: np.ndarray | None = None
        for docs in sorted(holding, key=len):  # rarest first: the intersection shrinks fastest
            rows = docs if rows is None else np.intersect1d(rows, docs, assume_unique=True)
            if not len(rows):
                return []
        assert rows is not None
        return [self.keyword.ids[int(i)] for i in rows]


def _in_dates(day: str | None, date_from: str | None, date_to: str | None) -> bool:
    if not date_from and not date_to:
        return True
    n = date_int(day)
    if not n:
        return False  # undated articles are outside any date range
    return (not date_from or n >= date_int(date_from)) and (not date_to or n <= date_int(date_to))


def _opening(chunk: Chunk) -> tuple[int, int]:
    """The first sentence of an article's first chunk."""
    return chunk.sentences[0] if chunk.sentences else (chunk.start, chunk.end)


def _sentence_at(chunk: Chunk, offset: int) -> tuple[int, int]:
    """The sentence of `chunk` that holds document offset `offset` (the chunk's own span
    when its sentences are unknown)."""
    for s, e in chunk.sentences:
        if s <= offset < e:
            return s, e
    return chunk.start, chunk.end
