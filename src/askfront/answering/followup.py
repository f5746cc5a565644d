"""Deterministic follow-up resolution, used when no LLM is configured to condense questions.

"And how much are they paid?" after "How many Nepalis have gone to fight for Russia?" is
not a question retrieval can answer alone. Without an LLM we carry the previous user
question's key words over: the follow-up becomes "And how much are they paid? Nepalis fight
Russia". The extractive answerer reads the same carried words, at a lower weight than the
follow-up's own.

Words carry over only on a clear follow-up signal (an opener such as "and", a pronoun, an
elided subject: "Why?") and never from a turn that was refused: an unanswerable question
("What is the capital of Australia?") must not poison the questions after it. `resolve`
does this once per question; the Assistant hands the `Resolved` question to the answerer,
which reads its carried words instead of resolving the history again.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence

from askfront.answering.base import REFUSAL_TEXT
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
# "the first one", "which ones": "one" stands for something named before.
_BEFORE_ONE = frozenset(
    """the that this which first second third last latest newest oldest other earlier later
    same previous""".split()
)

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


# How refusals begin: the answerers' shared text, and the collection answers' own.
_REFUSAL_OPENINGS = (REFUSAL_TEXT, "No article in the collection")


def was_refused(reply: str) -> bool:
    """Whether an assistant turn is a refusal (the chat history keeps only its text)."""
    return reply.lstrip().startswith(_REFUSAL_OPENINGS)


def _previous_user_turn(history: Sequence[Turn]) -> tuple[str, list[Turn]] | None:
    """The latest user question and the turns before it; None when there is none, or
    when the reply to it was a refusal (nothing may carry over from a refused turn)."""
    for i in range(len(history) - 1, -1, -1):
        turn = history[i]
        if turn.get("role") == "user" and turn.get("content", "").strip():
            replies = [t for t in history[i + 1 :] if t.get("role") == "assistant"]
            if replies and was_refused(replies[0].get("content", "")):
                return None
            return turn["content"], list(history[:i])
    return None


_THE_ARTICLE = re.compile(r"\bthe\s+(?:article|story|piece|report)\W*$", re.IGNORECASE)


def looks_dependent(question: str) -> bool:
    """Whether `question` reads as a follow-up that leans on an earlier turn."""
    if _OPENERS.match(question) or _THE_ARTICLE.search(question):
        return True
    lowered = [w.lower() for w in word_forms(question)]
    for i, w in enumerate(lowered):
        if w in _PRONOUNS or (w in ("one", "ones") and i and lowered[i - 1] in _BEFORE_ONE):
            return True
        if w in _DEMONSTRATIVES:
            nxt = lowered[i + 1] if i + 1 < len(lowered) else ""
            prev = lowered[i - 1] if i > 0 else ""
            if w == "that":
                if not nxt or prev in _REFERRING_THAT_BEFORE or nxt in _REFERRING_THAT_AFTER:
                    return True
            elif nxt not in _TIME_NOUNS:
                return True
    # An elided subject ("Why?", "Since when?", "Who won?"): at most one word of its own.
    # Two are a question of their own ("how many americans died", "summarize the article").
    return len(content_terms(question)) <= 1


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


class Resolved(str):
    """A question as asked (its str value), with the words it carries over from earlier
    turns: what the Assistant resolves once and the answerer receives.

    A str, so every backend that takes a question takes it unchanged; those that read
    follow-ups (the extractive answerer) use `carried` instead of the history.
    """

    carried: tuple[str, ...]

    def __new__(cls, question: str, carried: Sequence[str] = ()) -> Resolved:
        obj = super().__new__(cls, question)
        obj.carried = tuple(carried)
        return obj

    @property
    def query(self) -> str:
        """The standalone query for retrieval: the question plus the carried words."""
        return f"{self.rstrip()} {' '.join(self.carried)}" if self.carried else str(self)


def resolve(question: str, history: Sequence[Turn]) -> Resolved:
    """`question` with the words it carries over from `history` (none if it is no
    follow-up, or follows a refusal)."""
    if isinstance(question, Resolved):
        return question
    resolved = Resolved(question, carried_words(question, history))
    if resolved.carried:
        logger.debug("follow-up %r resolved to %r", question, resolved.query)
    return resolved


def resolve_query(question: str, history: Sequence[Turn]) -> str:
    """A standalone query for retrieval: the question plus carried words, if it is a follow-up."""
    return resolve(question, history).query
