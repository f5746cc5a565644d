"""Deterministic follow-up resolution, used when no LLM is configured to condense questions.

"And how much are they paid?" after "How many Nepalis have gone to fight for Russia?" is
not a question retrieval can answer alone. Without an LLM we carry the previous user
question's key words over: the follow-up becomes "And how much are they paid? Nepalis fight
Russia". The extractive answerer reads the same carried words, at a lower weight than the
follow-up's own.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence

from askfront.core.text import STOPWORDS, content_terms, word_forms
from askfront.core.types import Turn

logger = logging.getLogger(__name__)

MAX_CARRIED_WORDS = 6  # enough for a topic; more would drown the follow-up's own words
_MAX_DEPTH = 4  # how many earlier follow-ups are resolved in a chain

_OPENERS = re.compile(
    r"^\W*(and|also|but|so|what about|how about|what else|same (for|with)|then)\b",
    re.IGNORECASE,
)
_PRONOUNS = frozenset("they them their theirs it its he him his she her hers".split())
_DEMONSTRATIVES = frozenset("this that these those".split())
# "this week" or "that year" is a time, not a reference to an earlier turn.
_TIME_NOUNS = frozenset(
    "week weekend month year day morning evening night time season summer winter".split()
)
# "that" is mostly a conjunction or relative pronoun; it refers back only in these spots.
_REFERRING_THAT_BEFORE = frozenset(
    "about of in on for from with at by to do does did say said mean means cause caused".split()
)
_REFERRING_THAT_AFTER = frozenset("is was are were mean means happen happened".split())

# Words that carry no topic of their own: a carried "gone" or "name" only adds noise.
GENERIC_WORDS = frozenset(
    """go goes going gone went get gets got make makes made take takes took taken come came
    give gave given put use used want wanted know known think see seen become became
    happen happened name named call called week weeks recent recently new latest current
    currently thing things people kind type exact exactly number""".split()
)


def proper_words(text: str) -> list[str]:
    """Words that look like names or numbers: capitalized (not sentence-initial) or with digits.

    A cheap stand-in for named-entity recognition, used to find the terms of a question
    that an answer must match (names are rarely paraphrased; common words often are).
    """
    out = []
    for sentence in re.split(r"(?<=[.!?])\s+", text.strip()):
        forms = word_forms(sentence)
        for i, w in enumerate(forms):
            low = w.lower()
            if low in STOPWORDS:
                continue
            if any(ch.isdigit() for ch in w) or (i > 0 and w[0].isupper()):
                out.append(w)
    return out


def _previous_user_turn(history: Sequence[Turn]) -> tuple[str, list[Turn]] | None:
    for i in range(len(history) - 1, -1, -1):
        turn = history[i]
        if turn.get("role") == "user" and turn.get("content", "").strip():
            return turn["content"], list(history[:i])
    return None


def looks_dependent(question: str) -> bool:
    """Whether `question` reads as a follow-up that leans on an earlier turn."""
    if _OPENERS.match(question):
        return True
    lowered = [w.lower() for w in word_forms(question)]
    for i, w in enumerate(lowered):
        if w in _PRONOUNS:
            return True
        if w in _DEMONSTRATIVES:
            nxt = lowered[i + 1] if i + 1 < len(lowered) else ""
            prev = lowered[i - 1] if i > 0 else ""
            if w == "that":
                if not nxt or prev in _REFERRING_THAT_BEFORE or nxt in _REFERRING_THAT_AFTER:
                    return True
            elif nxt not in _TIME_NOUNS:
                return True
    terms = content_terms(question)
    # Very short questions lean on context ("Why?", "Since when?"), unless they name
    # something themselves ("Who is Ramchandra Khadka?").
    return len(terms) <= 1 or (len(terms) <= 2 and not proper_words(question))


def is_followup(question: str, history: Sequence[Turn]) -> bool:
    """True when there is an earlier user question and `question` depends on it."""
    return _previous_user_turn(history) is not None and looks_dependent(question)


def carried_words(question: str, history: Sequence[Turn], _depth: int = 0) -> list[str]:
    """The previous user question's key words (original forms) that the follow-up lacks.

    Empty when `question` is not a follow-up. A chain of follow-ups is resolved
    recursively, so a third turn still carries the first turn's topic. When the follow-up
    names something itself ("What about India?"), the previous question's first name (most
    often its subject: "How many Nepalis ...") is taken to be the one it replaces.
    """
    previous = _previous_user_turn(history)
    if previous is None or not looks_dependent(question):
        return []
    prev_text, earlier = previous
    if _depth < _MAX_DEPTH and earlier:
        extra = carried_words(prev_text, earlier, _depth + 1)
        if extra:
            # Same sentence, so carried names still read as names, not sentence starts.
            prev_text = f"{prev_text.rstrip(' ?!.')} {' '.join(extra)}"

    have = set(content_terms(question))
    prev_names = proper_words(prev_text)
    replaced = prev_names[0] if prev_names and proper_words(question) else None
    out: list[str] = []
    for w in word_forms(prev_text):
        low = w.lower()
        if low in STOPWORDS or low in GENERIC_WORDS:
            continue
        stems = content_terms(w)
        if not stems or stems[0] in have:
            continue
        if w == replaced:
            continue
        have.add(stems[0])
        out.append(w)
        if len(out) >= MAX_CARRIED_WORDS:
            break
    return out


def resolve_query(question: str, history: Sequence[Turn]) -> str:
    """A standalone query for retrieval: the question plus carried words, if it is a follow-up."""
    carried = carried_words(question, history)
    if not carried:
        return question
    resolved = f"{question.rstrip()} {' '.join(carried)}"
    logger.debug("follow-up %r resolved to %r", question, resolved)
    return resolved
