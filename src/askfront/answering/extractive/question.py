"""Question analysis: the terms to match and their weights, the names asked about, and
the kind of answer the question wants (a number, a person, a place, ...)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from askfront.answering.extractive.calibration import CARRIED_WEIGHT, FILLER_WEIGHT
from askfront.answering.extractive.terms import FILLER, FUNCTION_WORDS, IRREGULAR_STEMS, stems
from askfront.answering.followup import proper_words
from askfront.core.text import content_terms, words

# "Which news network did he talk to?": the noun phrase after "which" names the answer's
# category, which the article replaces by the answer ("CNN"); it counts as filler.


def _category(question: str) -> set[str]:
    """Stems of the noun phrase after "which" ("news network", "American restaurant
    chain"): a category, which the article replaces by the answer. Lower-case words count
    as filler; names in it ("Kremlin mouthpiece") keep their weight but need not match."""
    m = re.search(r"\bwhich\s+([\w\s'’-]+)", question, re.IGNORECASE)
    if not m:
        return set()
    out: set[str] = set()
    for k, w in enumerate(m.group(1).split()[:4]):
        low = w.lower().replace("’", "'").removesuffix("'s")
        stem = content_terms(low)
        if not stem or (k and (low.endswith(("ed", "ly")) or stem[0] in IRREGULAR_STEMS)):
            break
        out.add(stem[0])
    return out


_PERSON_NOUNS = frozenset(
    """person man woman men women people player players singer actor actress comedian
    candidate politician official leader president journalist reporter spokesman
    spokesperson minister ceo star rapper artist author coach athlete celebrity member
    founder chef director host winner pope king queen prince princess judge""".split()
)
_PLACE_NOUNS = frozenset(
    """country countries city cities state states region town nation continent province
    county island place location venue stadium capital""".split()
)
_DATE_NOUNS = frozenset("year month day date decade century time".split())
_NUMBER_NOUNS = frozenset(
    "number score amount total count age rate size population margin toll".split()
)
_PERCENT_NOUNS = frozenset("percentage percent share proportion".split())
_MONEY_NOUNS = frozenset(
    "price cost salary salaries wage wages pay fee fine budget money worth value".split()
)
_MONEY_VERBS = re.compile(
    r"\b(pay|paid|cost|costs|earn|earns|earned|salar\w*|wages?|price\w*|spen[dt]\w*|worth|"
    r"money|charge\w*|fund\w*|raise\w*|owe\w*|fined?|budget\w*|dollars?|sell|sold|buy|bought)\b"
)
_WH = re.compile(r"\b(who|whom|whose|when|where|which|what|how|why)\b")
_SKIP = frozenset("is was are were the a an of kind type sort did does do will has had".split())
# Words before an in-situ question word ("written by whom?", "on what date?").
_PREPOSITIONS = frozenset(
    """in on at by for from to of with about during under after before into as since
    between against than like is was are were did does do""".split()
)
# "What caused ...", "What led to ...": a question for a reason, as "why" is.
_REASON = re.compile(
    r"^(?:why|how come)\b|^what (?:caused|causes|led|leads|prompted|prompts|triggered|"
    r"motivated|motivates|drove|drives|made|makes|pushed|pushes|attracts?|attracted|draws?|"
    r"drew|lures?|lured|forced|forces|inspired|inspires)\b|^(?:for )?what "
    r"(?:is|was|are|were) (?:the )?(?:main )?(?:reasons?|causes?|motives?|motivations?)\b"
    r"|^for what reason\b"
)
UNTYPED = frozenset({"other", "reason"})
"""Answer types no kind of token stands for: a sentence need not hold a name or number."""


def _asked(text: str) -> re.Match[str] | None:
    """The question word of a sentence: the one it opens with (after a preposition: "In
    what year ..."), else an in-situ "what" or "how" ("... premiered on what date?"), else
    an in-situ "who"/"which" after a preposition ("written by whom?"). Relative pronouns
    ("the man who shot ...", "a series whose second season ...") are passed over."""
    found = list(_WH.finditer(text))
    if not found:
        return None
    for m in found:
        before = text[: m.start()].split()
        if not before or (len(before) == 1 and before[0] in _PREPOSITIONS):
            return m
    for m in found:
        if m.group(1) in ("what", "how"):
            return m
    for m in found:
        before = text[: m.start()].split()
        if before[-1].strip(",;:") in _PREPOSITIONS:
            return m
    return found[0]


def answer_type(question: str) -> str:
    """What an answer to `question` must hold: number, money, percent, date, person,
    place, entity, "reason" (a cause), or "other" (a description)."""
    parts = re.split(r"(?<=[.!?])\s+", question.strip())
    text_cased = next((s for s in reversed(parts) if _WH.search(s.lower())), parts[-1])
    text = text_cased.lower()
    m = _asked(text)
    if not m:
        return "other"
    if _REASON.search(text[m.start() :]) or _REASON.search(text):
        return "reason"
    wh, rest = m.group(1), text[m.end() :].split()
    rest = [re.sub(r"\W+", "", w) for w in rest]
    nxt = next((w for w in rest if w and w not in _SKIP), "")
    if wh in ("who", "whom", "whose"):
        # "Who is Ramchandra Khadka?" asks for a description, not another name (but "Who is
        # the Kremlin spokesman?" asks for a name).
        names = {t for w in proper_words(text_cased) for t in stems(w)}
        described = set(stems(" ".join(rest)))
        if rest[:1] and rest[0] in ("is", "was", "are", "were") and names and described <= names:
            return "other"
        return "person"
    if wh == "when":
        return "date"
    if wh == "where":
        return "place"
    if wh == "how":
        if nxt == "much":
            return "money" if _MONEY_VERBS.search(text) else "number"
        if nxt in ("many", "old", "long", "far", "big", "large", "tall", "high", "often"):
            return "percent" if "percent" in text else "number"
        return "other"
    # what / which: the noun phrase after it says the type ("what monthly salary").
    head = [w for w in rest if w and w not in _SKIP][:3]
    for nouns, kind in (
        (_DATE_NOUNS, "date"),
        (_PERCENT_NOUNS, "percent"),
        (_MONEY_NOUNS, "money"),
        (_NUMBER_NOUNS, "number"),
        (_PLACE_NOUNS, "place"),
        (_PERSON_NOUNS, "person"),
    ):
        if any(w in nouns for w in head):
            return kind
    if nxt == "name" or "name" in head[1:] or wh == "which":
        return "entity"
    return "other"


# "Who is the president of Colombia?", "What is the population of Nepal?": the attribute
# asked about must appear next to the answer. Not so for "which state ...", whose noun is
# the answer's category ("New Hampshire"), nor for nouns answers rarely repeat.
_FOCUS = re.compile(
    r"\b(?:what|who)(?:'s|\s+(?:is|was|are|were|will be|has been))\s+(?:the|a|an)\s+"
    r"([\w\s'’-]+?)\s*(?:\b(?:of|in|for|at|on|behind|to|from|that|who|which|\w+ed|\w+ing)\b"
    r"|[?.!]|$)",
    re.IGNORECASE,
)
_NOT_FOCUS = frozenset(
    content_terms(
        "name number score amount total count percentage share proportion year date size "
        "length height width weight age distance duration toll value rate level"
    )
)


def _focus(question: str) -> tuple[str, frozenset[str]] | None:
    """The head stem of the attribute a "what/who is the X of Y" question asks for, and the
    stems of its whole phrase ("prime minister"), if there is one."""
    m = _FOCUS.search(question)
    if not m:
        return None
    terms = stems(m.group(1))
    if not terms or terms[-1] in _NOT_FOCUS or terms[-1] in FILLER:
        return None
    return terms[-1], frozenset(terms)


@dataclass
class Question:
    weights: dict[str, float]  # stem -> role weight (before IDF and rarity)
    forms: dict[str, str]  # stem -> a lower-case word form, for word-frequency look-ups
    names: dict[str, str]  # stem -> word, for the question's names and numbers
    qtype: str
    focus: tuple[str, frozenset[str]] | None  # the attribute asked about: head, phrase
    # Words that say the answer's type, not what is asked about ("old" in "How old").
    type_terms: frozenset[str] = frozenset()
    proper_terms: frozenset[str] = frozenset()  # capitalized words, in the category too
    # What a second question asks for ("... and why did they join?"), if there is one.
    second_qtype: str | None = None


_SECOND_ASK = re.compile(r"(?:,|\band)\s+(why|how|where|when|who|what)\b", re.IGNORECASE)


def second_ask(question: str) -> str | None:
    """The answer type of a second question joined to the first ("Who are they and why did
    they join?"); None for one question."""
    m = _SECOND_ASK.search(question)
    if not m or not _WH.search(question[: m.start()].lower()):
        return None
    return answer_type(question[m.start(1) :])


def analyze_question(question: str, carried: Sequence[str]) -> Question:
    weights: dict[str, float] = {}
    category = _category(question)
    cased = {t for w in proper_words(question) for t in stems(w)}
    for t in stems(question):
        if t not in FUNCTION_WORDS:
            filler = t in FILLER or (t in category and t not in cased)
            weights[t] = FILLER_WEIGHT if filler else 1.0
    for w in carried:
        for t in stems(w):
            weights.setdefault(t, CARRIED_WEIGHT)
    names: dict[str, str] = {}
    carried_names = [w for w in carried if w[0].isupper() or any(c.isdigit() for c in w)]
    for w in [*proper_words(question), *carried_names]:
        numeric = any(c.isdigit() for c in w)
        for t in stems(w):
            if numeric and not any(c.isdigit() for c in t):
                continue  # "37-year-old": the number is the name-like part
            if t in weights and weights[t] > FILLER_WEIGHT and t not in category:
                names.setdefault(t, t if numeric else w)
    forms: dict[str, str] = {}
    for w in words(" ".join([question, *carried]).replace("-", " ")):
        for t in stems(w):
            forms.setdefault(t, w)
    how = re.findall(r"\bhow\s+([a-z]+)", question.lower())
    type_terms = frozenset(t for w in how for t in stems(w))
    return Question(
        weights,
        forms,
        names,
        answer_type(question),
        _focus(question),
        type_terms,
        frozenset(cased),
        second_ask(question),
    )
