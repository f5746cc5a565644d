"""Multi-hop (bridge) questions: the second retrieval hop, and answers quoted from both.

"In what year did the man who shot Chris Stockley die?" takes two sentences of two
articles: one names the man ("... was shot by Dennis Allen"), the other holds the year
("Dennis Allen (1951–1987) was ..."). The first retrieval finds the first sentence;
`bridge_query` asks for the names its best sentences add to the question (the bridge
entities) in a second search, and `links` pairs sentences about one of those names with
the first-hop sentence that names it: the answerer scores such a sentence on what the
two match together, and quotes both.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from askfront.answering.extractive.calibration import (
    BRIDGE_NAMES,
    BRIDGE_SENTENCES,
    CHAIN_FIRSTS,
    MIN_GAIN,
)
from askfront.answering.extractive.names import bridge_phrases, name_phrases, phrase_stems
from askfront.answering.extractive.question import UNTYPED
from askfront.answering.extractive.sentence import Candidate, is_focused
from askfront.answering.extractive.terms import stems
from askfront.core.types import Passage

if TYPE_CHECKING:
    from askfront.answering.extractive.analysis import Analysis


def bridge_names(analysis: Analysis) -> list[str]:
    """The names the best-matching first-hop sentences add to the question, best first."""
    asked = frozenset(analysis.weights)
    top = sorted(analysis.candidates, key=lambda c: -c.context)[:BRIDGE_SENTENCES]
    out: list[str] = []
    for c in top:
        if c.coverage <= 0:
            continue
        new = bridge_phrases(c.text, asked)
        for phrase in name_phrases(c.text):
            if phrase_stems(phrase) in new and phrase not in out:
                out.append(phrase)
    return out[:BRIDGE_NAMES]


def bridge_query(analysis: Analysis) -> str | None:
    """The second hop's query: the bridge names together (one search, not one per name:
    the fused ranking finds the article of whichever name it is about)."""
    names = bridge_names(analysis)
    return " ".join(names) if names else None


@dataclass
class Link:
    """What a sentence matches of the question together with the first-hop sentence that
    names what it is about (`first`)."""

    first: Candidate
    coverage: float  # weighted share of the question's terms the two match together
    name_coverage: float  # share of the question's names in the two passages
    matched: int  # informative question terms the two match
    focused: bool  # the attribute asked about is next to a name asked of (is_focused)
    relation: float  # share of the question's relation terms the two match


def links(analysis: Analysis, passages: Sequence[Passage]) -> dict[int, Link]:
    """id(candidate) -> its best link, for the sentences about a name that one of the
    CHAIN_FIRSTS best-matching sentences adds to the question, in another article.

    "About" means the sentence (or a neighbour) names it, or its article's title does: a
    Wikipedia paragraph rarely repeats its subject's name ("The second season premiered
    on March 19, 2017." in "Into the Badlands (TV series)").
    """
    match, weights = analysis.match, analysis.weights
    total = sum(weights.values())
    if match is None or total <= 0:
        return {}
    titles = [frozenset(stems(p.title or "")) for p in passages]
    typed = analysis.qtype not in UNTYPED
    firsts = sorted((c for c in analysis.candidates if c.coverage > 0), key=lambda c: -c.context)[
        :CHAIN_FIRSTS
    ]
    out: dict[int, Link] = {}
    for first in firsts:
        bridges = bridge_phrases(first.text, frozenset(weights))
        if not bridges:
            continue
        source = passages[first.passage].source
        for second in analysis.candidates:
            if second.novelty == 0 or passages[second.passage].source == source:
                continue
            # A one-word name ("Melbourne") is mentioned in too many articles to link by
            # a mention: it links only through the article's title.
            about = second.near | titles[second.passage]
            if not any(b <= titles[second.passage] or (len(b) > 1 and b <= about) for b in bridges):
                continue
            both = first.near | second.near
            coverage = sum(w for t, w in weights.items() if match(t, both)) / total
            # The second sentence must add to the first: a term of the question, or the
            # kind of answer asked for; else it is a rival answer, not the next hop.
            adds_type = typed and first.type_score < 0.5 <= second.type_score
            if coverage - first.context < MIN_GAIN and not adds_type:
                continue
            link = Link(
                first,
                coverage,
                analysis.name_share(
                    analysis.passage_terms[first.passage] | analysis.passage_terms[second.passage]
                ),
                sum(1 for t in analysis.informative_terms if match(t, both)),
                analysis.question is None or is_focused(analysis.question, both, match),
                analysis.relation_share(both),
            )
            # Ties go to the first sentence that matches more itself: the one naming the
            # bridge rather than its neighbour.
            known = out.get(id(second))
            if known is None or (link.coverage, first.coverage) > (
                known.coverage,
                known.first.coverage,
            ):
                out[id(second)] = link
    return out
