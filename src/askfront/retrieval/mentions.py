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

import bisect
import itertools
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


class _Listing:
    """path -> (title, date) of the readable articles, and their titles as one text (one
    regex pass finds the titles naming a phrase: a loop over 16k titles takes ~20 ms)."""

    def __init__(self, rows: list[tuple[str, str | None, str | None]]) -> None:
        self.meta = {p: (t, d) for p, t, d in rows}
        self.paths = [p for p, _, _ in rows]
        # One title per line (a title is one line: corpus.base.clean_line).
        self.titles = "\n".join(" ".join((t or "").split()) for _, t, _ in rows)
        self.lowered = self.titles.lower()
        self.starts = list(itertools.accumulate((len(" ".join((t or "").split())) + 1
                                                 for _, t, _ in rows), initial=0))  # fmt: skip

    def titled(self, pattern: re.Pattern[str], phrase: str) -> list[str]:
        """The paths whose title matches `pattern` (of `phrase`)."""
        if phrase.split()[0].lower() not in self.lowered:  # str.find is ~50x the regex
            return []
        hits = {
            bisect.bisect_right(self.starts, m.start()) - 1 for m in pattern.finditer(self.titles)
        }
        return [self.paths[i] for i in sorted(hits)]


class MentionSearch:
    """Mention search over one build: its keyword index (may be None) and its docstore."""

    def __init__(self, keyword: KeywordIndex | None, docstore: DocStore) -> None:
        self.keyword = keyword
        self.docstore = docstore
        self._compounds: dict[str, list[int]] | None = None
        self._listed: tuple[int, _Listing] | None = None

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
        listing = self._listing()
        meta = listing.meta
        if date_from or date_to:
            meta = {p: (t, d) for p, (t, d) in meta.items() if _in_dates(d, date_from, date_to)}
        if not phrase:
            return MentionResult(phrase, [], len(meta))
        pattern = phrase_pattern(phrase)
        # source -> (chunk index, offset, row) of its first mention
        first: dict[str, tuple[int, int, tuple[str, str, int, int, int | None, str]]] = {}
        for row in self.docstore.chunk_texts(self._candidates(phrase)):
            _, source, index, _, _, text = row
            if source not in meta:
                continue
            m = pattern.search(text)
            if m is not None and (source not in first or (index, m.start()) < first[source][:2]):
                first[source] = (index, m.start(), row)
        spans = self.docstore.sentences_of([row[0] for _, _, row in first.values()])
        mentions = []
        for source, (_, offset, (cid, _, index, start, page, text)) in first.items():
            chunk = Chunk(cid, source, index, text, start, start + len(text), page)
            s, e = _sentence_at(spans.get(cid, []), start + offset, chunk)
            mentions.append(Mention(source, *meta[source], chunk, s, e))
        # An article whose title alone names it mentions it too (cited by its opening).
        titled = [p for p in listing.titled(pattern, phrase) if p in meta and p not in first]
        if titled:
            firsts = self.docstore.first_chunk_ids(titled)
            for chunk in self.docstore.chunks(list(firsts.values())).values():
                s, e = chunk.sentences[0] if chunk.sentences else (chunk.start, chunk.end)
                mentions.append(Mention(chunk.source, *meta[chunk.source], chunk, s, e, True))
        # Newest first; undated articles last, by name (a stable order for ties).
        mentions.sort(key=lambda m: m.source)
        mentions.sort(key=lambda m: m.date or "", reverse=True)
        return MentionResult(phrase, mentions, len(meta))

    def _listing(self) -> _Listing:
        """The readable articles, kept while the docstore's version stays the same
        (reading them each time costs ~10 ms at 100k chunks)."""
        version = self.docstore.version()
        if self._listed is None or self._listed[0] != version:
            self._listed = (version, _Listing(self.docstore.listing()))
        return self._listed[1]

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


def _sentence_at(spans: list[list[int]], offset: int, chunk: Chunk) -> tuple[int, int]:
    """The sentence (of `spans`) that holds document offset `offset`; the chunk's own span
    when its sentences are unknown."""
    for s, e in spans:
        if s <= offset < e:
            return s, e
    return chunk.start, chunk.end
