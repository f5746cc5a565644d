"""Writing an answer from chosen sentences: verbatim quotes, each cited, optionally led by
one short sentence of our own (a comparison's verdict) whose parts cite the quotes.

Every citation's offsets are the quoted sentence's own, absolute in the document text, so
document_text[start:end] == quote.
"""

from __future__ import annotations

from collections.abc import Sequence

from askfront.answering.extractive.sentence import Candidate
from askfront.core.types import Answer, AnswerSentence, Citation, Passage
from askfront.grounding.citations import cite as cite_span
from askfront.grounding.markers import MARKER, parse_markers


def cite(n: int, p: Passage, c: Candidate, score: float) -> Citation:
    """Citation [n] of candidate sentence `c` (through the one builder, grounding.citations)."""
    return cite_span(n, p, c.start, c.end, score, c.text)


def same_sentence(a: Candidate, b: Candidate) -> bool:
    """The same sentence (a linked candidate is a scored copy of the sentence, a clipped
    one a clause of it: clause.py)."""
    return a.passage == b.passage and a.start < b.end and b.start < a.end


def in_quote_order(chosen: Sequence[Candidate]) -> list[Candidate]:
    """`chosen` without repeats, each linking sentence (`via`) just before the one it
    links to."""
    out: list[Candidate] = []
    for c in chosen:
        for q in (c.via, c) if c.via is not None else (c,):
            if not any(same_sentence(q, o) for o in out):
                out.append(q)
    return out


def opening_mark(text: str) -> str:
    """The quote mark that `text` closes without opening, or "".

    The sentence splitter cuts a quotation of several sentences (“We will win. We are
    ready,” she said.), so a later sentence of it closes a quote its predecessor opened.
    Shown alone it would read as a stray mark; the answer puts the opening mark back in
    front of it (outside the verbatim quote, like the [n] marker)."""
    for k, ch in enumerate(text):
        if ch == "“":
            return ""
        if ch == "”":
            return "“"
        if ch == '"':
            # A straight quote closes when it follows a word or punctuation mark and is
            # followed by a space, punctuation or the end (`ready," she said`).
            after = text[k + 1 : k + 2]
            closes = k > 0 and not text[k - 1].isspace() and (not after or not after.isalnum())
            return '"' if closes else ""
    return ""


def render(sentence: AnswerSentence) -> str:
    """How a sentence reads in the answer: a quote with its marker (and the opening quote
    mark it lacks, see opening_mark, and "…" where a clause was cut from its sentence,
    see clause.py); a sentence of our own carries its markers in its text."""
    if MARKER.search(sentence.text):
        return sentence.text
    before, after = ("…" if cut else "" for cut in sentence.elided)
    return f"{opening_mark(sentence.text)}{before}{sentence.text}{after} [{sentence.citations[0]}]"


def quoted_answer(
    chosen: Sequence[Candidate], passages: Sequence[Passage], lead: str | None = None
) -> Answer:
    """The answer quoting `chosen` as [1], [2], ... (linking sentences first), after
    `lead`, a sentence whose markers refer to those numbers."""
    quotes = in_quote_order(chosen)
    citations = [cite(n, passages[c.passage], c, c.score) for n, c in enumerate(quotes, 1)]
    sentences = [
        AnswerSentence(
            c.text,
            [n],
            supported=True,
            support_score=c.score,
            answer_span=c.answer_span,
            elided=c.elided,
        )
        for n, c in enumerate(quotes, 1)
    ]
    if lead is not None:
        cited = parse_markers(lead)
        sentences.insert(0, AnswerSentence(lead, cited, supported=True, support_score=1.0))
    return Answer(
        text=" ".join(render(s) for s in sentences),
        citations=citations,
        sentences=sentences,
        mode="extractive",
        passages=list(passages),
    )
