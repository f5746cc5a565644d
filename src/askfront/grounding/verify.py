"""Claim verification: check every sentence of a generated answer against the passages it cites.

Any backend can use it: give it the answer text (with [n] markers that number `passages`
1..N) and it returns per-sentence support flags and one exact-offset Citation per cited passage.

A sentence's support score against a cited passage combines
  * lexical coverage: the share of the sentence's content terms found in the passage, and
  * semantic similarity: embedding cosine between the sentence (markers stripped) and the
    passage sentence closest to it,
and, when a local NLI cross-encoder is configured, the entailment probability instead.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from askfront.core.text import NUMBER_WORDS, content_terms
from askfront.core.types import AnswerSentence, Citation, Passage
from askfront.grounding.citations import cite
from askfront.grounding.markers import (
    is_refusal,
    parse_markers,
    remove_numbers,
    split_answer,
    strip_markers,
)
from askfront.grounding.nli import EntailmentScorer

if TYPE_CHECKING:
    from langchain_core.embeddings import Embeddings

logger = logging.getLogger(__name__)

# Calibrated with the bundled all-MiniLM-L6-v2 on 26 hand-written claims about the default
# article (the set is tests/unit/grounding/test_citations.py::CALIBRATION, re-checked there):
#   faithful paraphrases (16)       lexical 0.50-1.00, cosine 0.57-0.96  -> score 0.60-0.94
#   one number or name swapped (4)  halved by the novel-specifics factor -> score 0.10-0.42
#   on-topic, unsupported (3)       lexical 0.17-0.50, cosine 0.48-0.61  -> score 0.35-0.57
#   off-topic (3)                   lexical 0.00-0.14, cosine 0.05-0.16  -> score 0.08-0.10
# The threshold sits below the weakest paraphrase (0.60). One on-topic invention ("Nepal asked
# Russia to pay compensation", 0.57) still passes: lexical + cosine cannot judge entailment,
# which is what the optional NLI model is for.
# Cosine weighs a little more than lexical: paraphrases share meaning more than exact words.
LEXICAL_WEIGHT = 0.4
SEMANTIC_WEIGHT = 1.0 - LEXICAL_WEIGHT
SUPPORT_THRESHOLD = 0.55
# Cosine and term overlap barely move when one number or name is swapped ("5,000 Americans"
# for "50 Americans", "fighters from Africa"), so each number or capitalized name in the claim
# that appears nowhere in the cited passages halves the score.
NOVEL_SPECIFIC_FACTOR = 0.5
# With an NLI model the entailment probability decides: its usual decision point.
ENTAILMENT_THRESHOLD = 0.5
NLI_CONTEXT_SENTENCES = 1  # passage sentences on each side of the best match, as NLI premise
_NUMBER = re.compile(r"\d+(?:[,.]\d+)*")
_NAME = re.compile(r"(?<![\w'’.])[A-Z](?:[\w'’-]|\.(?=\w))*")
RELATED_PASSAGES = 3


@dataclass
class Verification:
    """What verify() found, ready to copy into an Answer."""

    text: str  # the answer text with markers to unknown passages removed
    sentences: list[AnswerSentence]
    citations: list[Citation]
    refused: bool
    dropped: list[int] = field(default_factory=list)  # cited numbers that were not retrieved
    explicit_refusal: bool = False  # the model said the articles don't contain the answer
    related: list[Citation] = field(default_factory=list)

    @property
    def notice(self) -> str | None:
        """What the user should know about the checks, or None."""
        notes = []
        if self.dropped:
            nums = ", ".join(f"[{n}]" for n in self.dropped)
            notes.append(f"Removed citation(s) {nums}: no such passage was retrieved.")
        if self.refused and not self.explicit_refusal and self.sentences:
            notes.append("No sentence of the answer is supported by the passages it cites.")
        elif any(not s.supported for s in self.sentences):
            n = sum(not s.supported for s in self.sentences)
            notes.append(f"{n} sentence(s) of the answer are not supported by the cited passages.")
        return " ".join(notes) or None


def _passage_sentences(p: Passage) -> list[tuple[int, int, str]]:
    """(start, end, text) of the passage's sentences, offsets absolute in the document."""
    c = p.chunk
    spans = c.sentences or ((c.start, c.end),)
    return [(s, e, c.text[s - c.start : e - c.start]) for s, e in spans if e > s]


def _lexical(claim_terms: set[str], passage_terms: set[str]) -> float | None:
    if not claim_terms:
        return None  # nothing to compare ("Yes.", "Two."): the semantic side decides
    return len(claim_terms & passage_terms) / len(claim_terms)


def combine(lexical: float | None, semantic: float | None) -> float:
    """The support score from lexical coverage and cosine similarity, in [0, 1]; either side
    alone when the other is unknown (a claim without content terms, or no embeddings)."""
    if semantic is None:
        return lexical or 0.0
    semantic = max(0.0, semantic)
    if lexical is None:
        return semantic
    return LEXICAL_WEIGHT * lexical + SEMANTIC_WEIGHT * semantic


def _numbers(text: str) -> set[str]:
    found = {m.group(0).replace(",", "") for m in _NUMBER.finditer(text)}
    found |= {
        str(NUMBER_WORDS[w]) for w in re.findall(r"[a-z]+", text.lower()) if w in NUMBER_WORDS
    }
    return found


def novel_specifics(claim: str, evidence: str) -> list[str]:
    """Numbers and capitalized names (past the first word) of `claim` absent from `evidence`.

    Names match by stem prefix so "Kashmiri" is found in "Kashmir" and "Colombian" in
    "Colombia"; numbers match after dropping thousands separators ("$2,000" = "2000").
    """
    have_numbers = _numbers(evidence)
    novel = [n for n in sorted(_numbers(claim)) if n not in have_numbers]
    have_terms = set(content_terms(evidence))
    prefixes = {t[:5] for t in have_terms if len(t) >= 5}
    first_word = re.match(r"\W*\w+", claim)
    skip_until = first_word.end() if first_word else 0
    for m in _NAME.finditer(claim):
        if m.start() < skip_until:
            continue  # a capital at the start of a sentence says nothing
        for term in content_terms(m.group(0)):
            if term in have_terms or (len(term) >= 5 and term[:5] in prefixes):
                continue
            if term.isalpha() and term not in novel:
                novel.append(term)
    return novel


def _unit(rows: list[list[float]]) -> np.ndarray:
    m = np.asarray(rows, dtype=np.float32)
    norms = np.linalg.norm(m, axis=1, keepdims=True)
    return m / np.where(norms == 0, 1.0, norms)


def _citation(n: int, p: Passage, span: tuple[int, int, str], score: float) -> Citation:
    s, e, quote = span
    return cite(n, p, s, e, score, quote)


def related_citations(
    question: str | None,
    passages: Sequence[Passage],
    embeddings: Embeddings | None,
    limit: int = RELATED_PASSAGES,
) -> list[Citation]:
    """For a refusal: the top passages, each quoted by its sentence closest to the question."""
    top = list(passages)[:limit]
    spans = [_passage_sentences(p) for p in top]
    if not top or not any(spans):
        return []
    flat = [t for group in spans for _, _, t in group]
    if embeddings is not None and question:
        vecs = _unit(embeddings.embed_documents([question, *flat]))
        sims = vecs[1:] @ vecs[0]
    else:
        sims = np.zeros(len(flat), dtype=np.float32)
    out, k = [], 0
    for i, (p, group) in enumerate(zip(top, spans, strict=True), start=1):
        if group:
            best = int(np.argmax(sims[k : k + len(group)]))
            out.append(_citation(i, p, group[best], float(sims[k + best])))
        k += len(group)
    return out


def verify(
    text: str,
    passages: Sequence[Passage],
    embeddings: Embeddings | None,
    *,
    question: str | None = None,
    nli: EntailmentScorer | None = None,
) -> Verification:
    """Check each sentence of `text` against the passages it cites ([n] numbers passages 1..N).

    Citations to numbers outside 1..N are dropped (and listed in `dropped`). A sentence without a
    valid citation is unsupported with score 0. Without `embeddings` only lexical coverage counts.
    """
    parsed: list[tuple[str, str, list[int]]] = []  # display text, claim, valid cited numbers
    dropped: list[int] = []
    for raw in split_answer(text):
        cited = parse_markers(raw)
        valid = [n for n in cited if 1 <= n <= len(passages)]
        bad = [n for n in cited if n not in valid]
        dropped.extend(n for n in bad if n not in dropped)
        shown = remove_numbers(raw, set(bad)) if bad else raw
        parsed.append((shown, strip_markers(raw), valid))

    cited_ns = sorted({n for _, _, valid in parsed for n in valid})
    psents = {n: _passage_sentences(passages[n - 1]) for n in cited_ns}
    pterms = {n: set(content_terms(passages[n - 1].chunk.text)) for n in cited_ns}

    # One embedding call for every claim and every sentence of every cited passage.
    claims = [claim for _, claim, valid in parsed if valid]
    flat = [t for n in cited_ns for _, _, t in psents[n]]
    sim: dict[tuple[int, int], np.ndarray] = {}  # (sentence index, n) -> cosine per sentence
    if embeddings is not None and claims and flat:
        vecs = _unit(embeddings.embed_documents(claims + flat))
        cvecs, svecs = vecs[: len(claims)], vecs[len(claims) :]
        ci = 0
        for i, (_, _, valid) in enumerate(parsed):
            if not valid:
                continue
            k = 0
            for n in cited_ns:
                size = len(psents[n])
                if n in valid:
                    sim[(i, n)] = svecs[k : k + size] @ cvecs[ci]
                k += size
            ci += 1

    sentences: list[AnswerSentence] = []
    best_for: dict[int, tuple[float, int]] = {}  # n -> (score, passage sentence index)
    for i, (shown, claim, valid) in enumerate(parsed):
        if not valid:
            sentences.append(AnswerSentence(shown, [], supported=False, support_score=0.0))
            continue
        terms = set(content_terms(claim))
        union = set().union(*(pterms[n] for n in valid))
        best_sem: float | None = None
        per_passage = []
        for n in valid:
            sims = sim.get((i, n))
            j = int(np.argmax(sims)) if sims is not None and len(sims) else 0
            sem = float(sims[j]) if sims is not None and len(sims) else None
            if sem is not None:
                best_sem = sem if best_sem is None else max(best_sem, sem)
            novel = len(novel_specifics(claim, _evidence(passages[n - 1])))
            score_n = combine(_lexical(terms, pterms[n]), sem) * NOVEL_SPECIFIC_FACTOR**novel
            per_passage.append((n, j, score_n))
        # The sentence may combine facts of several cited passages: judge it on their union.
        score = combine(_lexical(terms, union), best_sem)
        evidence = " ".join(_evidence(passages[n - 1]) for n in valid)
        score *= NOVEL_SPECIFIC_FACTOR ** len(novel_specifics(claim, evidence))
        supported = score >= SUPPORT_THRESHOLD
        if nli is not None:
            premises = [_window(psents[n], j) for n, j, _ in per_passage]
            probs = nli.entailment([(pr, claim) for pr in premises])
            per_passage = [(n, j, pr) for (n, j, _), pr in zip(per_passage, probs, strict=True)]
            score = max(probs)
            supported = score >= ENTAILMENT_THRESHOLD
        for n, j, s in per_passage:
            if n not in best_for or s > best_for[n][0]:
                best_for[n] = (s, j)
        sentences.append(AnswerSentence(shown, list(valid), supported, round(float(score), 4)))

    citations = [
        _citation(n, passages[n - 1], psents[n][best_for[n][1]], best_for[n][0])
        for n in cited_ns
        if psents[n]
    ]
    explicit = bool(sentences) and not sentences[0].citations and is_refusal(sentences[0].text)
    refused = explicit or not any(s.supported for s in sentences)
    shown_text = text.strip()
    if dropped:
        shown_text = remove_numbers(shown_text, set(dropped))
    result = Verification(
        text=shown_text,
        sentences=[] if explicit else sentences,
        citations=[] if explicit else citations,
        refused=refused,
        dropped=dropped,
        explicit_refusal=explicit,
    )
    if refused:
        result.related = related_citations(question, passages, embeddings)
    return result


def _evidence(p: Passage) -> str:
    return " ".join(x for x in (p.title, p.date, p.chunk.text) if x)


def _window(sents: list[tuple[int, int, str]], j: int) -> str:
    lo, hi = max(0, j - NLI_CONTEXT_SENTENCES), j + NLI_CONTEXT_SENTENCES + 1
    return " ".join(t for _, _, t in sents[lo:hi])
