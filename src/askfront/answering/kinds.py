"""Question kinds: a fact question (the default), a question about the collection itself
("Which articles are about Nepal?", "How many articles are there?", "What is the latest
article?") or a request for an overview ("Summarize the latest news on Nepal").

Rules rather than a model: a question is about the collection only when it names the
articles themselves ("articles", "news stories", or "documents"/"stories" with a
collection cue such as "about X" or "do you have"), so "How many Nepalis have gone to
fight?" stays a fact question. The words that frame the request ("which", "articles",
"latest", "summarize", a date) are dropped; what is left is the topic retrieval looks up.

Follow-ups ("And the latest one?", "What about Ukraine?") keep the previous question's
kind and topic and change what they name themselves.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace

from askfront.answering.dates import MONTHS, DateRange, parse_dates
from askfront.answering.followup import _previous_user_turn, carried_words, looks_dependent
from askfront.core.text import STOPWORDS, word_forms
from askfront.core.types import Turn

logger = logging.getLogger(__name__)

FACT, COLLECTION, OVERVIEW = "fact", "collection", "overview"
LATEST, OLDEST = "latest", "oldest"
_MAX_DEPTH = 4  # how many earlier follow-ups a chain resolves


@dataclass(frozen=True)
class Intent:
    """What a question asks for. `topic` holds the words retrieval looks up ("" = none)."""

    kind: str = FACT
    count: bool = False  # "how many articles"
    order: str | None = None  # LATEST | OLDEST: the newest or oldest article(s)
    plural: bool = True  # "the articles" rather than "the article"
    topic: str = ""
    dates: DateRange | None = None
    mentions: bool = False  # "articles that mention X": a passing mention is enough
    phrase: str = ""  # what a mention question looks for, as written ("Bank of America")
    when: bool = False  # "When was X first mentioned?": the answer is a date
    recalled: bool = False  # the topic is the previous turn's ("What is this article about?")
    timeline: bool = False  # "Timeline of X": its dated mentions, oldest first


# --- the words that name the articles ---------------------------------------------------
_STRONG = (
    r"(?:news\s+)?articles?(?!\s+(?:of|\d|[ivx]+\b))"
    r"|news\s+(?:stories|story|reports?|items?|pieces?)|newspieces?"
)
# Words that name articles only with a collection cue next to them: news writes of
# "classified documents" and "a ten-story building" ("Do you have anything on Nepal?").
_WEAK = r"documents?|docs|stories|story|files|pieces?|texts|reports|anything"
_NOUN = rf"(?:{_STRONG}|{_WEAK})"
_SCOPE = re.compile(
    r"\b(?:collection|corpus|index|library|folder|database|archive|you have|have you got|"
    r"(?:are|is) there|you know)\b",
    re.I,
)
# A cue right after the noun that the articles themselves are meant: "articles about X",
# "stories from March", "articles (that are) in the collection".
_CUE = (
    r"(?:about|on|regarding|concerning|mention\w*|cover\w*|discuss\w*|deal\w*\s+with|"
    r"talk\w*\s+about|refer\w*\s+to|from|published|dated|written|since|before|after|between|"
    r"in\s+(?:the\s+|this\s+|your\s+)?(?:collection|corpus|index|library|folder|database|"
    r"archive))\b"
)
_COPULA = r"(?:(?:that|which)\s+)?(?:(?:are|is|were|was|have\s+been|has\s+been|also)\s+)*"
_STRONG_CUED = re.compile(rf"\b(?:{_STRONG})\s+{_COPULA}{_CUE}|\b(?:{_STRONG})\W*$", re.I)
_WEAK_CUED = re.compile(rf"\b(?:{_WEAK})\s+(?:that\s+)?{_CUE}", re.I)
_LISTED = re.compile(rf"\b(?:list|show|display)\b(?:\s+\w+){{0,3}}?\s+(?:{_NOUN})\b", re.I)
_IN_SCOPE = re.compile(
    r"^\W*what(?:'s|\s+is)\s+in\s+(?:the|this|your)\s+(?:collection|corpus|index|library|"
    r"folder|database|archive)\b|^\W*what\s+(?:topics|subjects)\b",
    re.I,
)
# A question that leans on the previous one for its topic ("What is this article about?").
_REFERS_BACK = re.compile(
    r"^\W*(?:and|also|but|so|then|what about|how about)\b|\b(?:it|its|this|that|these|those|"
    r"them|they|same|one|ones)\b|\bthe\s+(?:article|story|piece)\W*$",
    re.I,
)

# --- request patterns -------------------------------------------------------------------
_SUMMARY = re.compile(
    r"\b(?:summar(?:y|ies|ize|ise|ized|ised|izing|ising)|overview|gist|recap|rundown|tl;?dr|"
    r"(?:main|key|important)\s+(?:points?|ideas?|takeaways?|facts?|details?|findings?)|"
    r"highlights|in a nutshell|in brief)\b",
    re.I,
)
_ABOUT_END = re.compile(
    rf"\bwhat(?:'s|\s+is|\s+are|\s+was|\s+were)\s+(?:(?:this|that|the|these|those|each|"
    rf"your)\s+)?(?:\w+\s+){{0,2}}?(?:{_NOUN}|news|it|they|this|that|these|those)"
    # "What is the article about Luke Littler about?": the qualifier names the article.
    r"(?:\s+(?:about|on|regarding|concerning)\s+[^?.!]{1,80}?)?"
    r"\s+(?:all\s+)?about\s*[?.!]*$",
    re.I,
)
_SAY = re.compile(
    rf"\bwhat\s+(?:do|does|did)\s+(?:the|this|that|these|those|each|your)\s+(?:\w+\s+)?"
    rf"(?:{_NOUN})\s+(?:say|tell|report|cover|discuss)",
    re.I,
)
_TELL = re.compile(
    r"^(?:please\s+|can you\s+|could you\s+)*(?:tell me|brief me|fill me in)\b.*\b(?:about|on|"
    r"regarding)\b",
    re.I,
)
# "What's the latest news on Nepal?", "Any news about Nepal?": an overview of the articles.
_NEWS_ORDER = re.compile(
    r"\b(?:latest|newest|most\s+recent|recent)\s+news\b|\bthe\s+latest\s+(?:on|about|regarding)\b",
    re.I,
)
_NEWS = re.compile(
    rf"^\W*(?:what(?:'s|\s+is|\s+are)?|any|is\s+there|are\s+there|tell|give|show|get|catch|"
    rf"fill|update)\b.*(?:{_NEWS_ORDER.pattern}|\bnews\s+(?:about|on|regarding|concerning)\b"
    rf"|^\W*(?:what|any)\s+news\b(?!\s+(?:agenc\w*|network|outlet|organi[sz]ation|channel|"
    rf"station|site|service)))",
    re.I,
)
_COUNT = re.compile(
    rf"\bhow\s+many\s+(?:\w+\s+){{0,2}}?(?:{_NOUN})\b|\b(?:number|count|total)\s+of\s+"
    rf"(?:\w+\s+)?(?:{_NOUN})\b|\bcount\s+(?:the\s+)?(?:{_NOUN})\b",
    re.I,
)
_ORDER_WORDS = (
    r"latest|newest|most\s+recent(?:ly)?|recent|last|earliest|oldest|first|older|newer|"
    r"more\s+recent"
)
_OLDER = ("earliest", "oldest", "first", "older")
# "the latest article", "the first one" (one of the articles named before)
_ORDER = re.compile(rf"\b({_ORDER_WORDS})\s+(?:\w+\s+){{0,2}}?(?:{_NOUN}|ones?)\b", re.I)
# "Which article was published first?", "Which article is the newest?"
_ORDER_AFTER = re.compile(
    rf"\b(?:{_NOUN})\s+(?:[\w'-]+\s+){{0,4}}?(?:(?:is|was|are|were|got|came\s+out|appeared|"
    rf"published|written|dated)\s+)+(?:the\s+)?({_ORDER_WORDS})\b",
    re.I,
)
_LIST = re.compile(
    rf"^\W*(?:which|what)\s+(?:(?:of|one of)\s+(?:the|these|those|your)\s+)?"
    rf"(?:(?:other|news|recent|new|older|different)\s+)?(?:{_NOUN})\b"
    rf"|\b(?:list|show|give|name|find|display|fetch|pull\s+up|see)\b(?:\s+\w+){{0,3}}?\s+(?:{_NOUN})\b"
    rf"|\b(?:are|is)\s+there\s+(?:any\s+|an?\s+|some\s+)?(?:\w+\s+)?(?:{_NOUN})\b"
    rf"|\b(?:do|does)\s+(?:you|the\s+collection|the\s+index)\s+(?:\w+\s+)?"
    rf"(?:have|hold|contain|include)\b(?:\s+\w+){{0,2}}?\s+(?:{_NOUN})\b"
    rf"|^\W*(?:any\s+|all\s+|the\s+)?(?:{_NOUN})\s+(?:that\s+)?{_CUE}"
    r"|^\W*what(?:'s|\s+is)\s+in\s+(?:the|this|your)\s+(?:collection|corpus|index|library|"
    r"folder|database|archive)\b"
    r"|^\W*what\s+(?:topics|subjects)\b",
    re.I,
)
_PLURAL = re.compile(
    r"\b(?:articles|stories|documents|docs|files|pieces|reports|ones|them|they|these|those|all)\b",
    re.I,
)

# --- follow-ups without a noun: "And the latest one?", "How many are there?" ----------
_OPENER = re.compile(r"^\W*(?:and|also|but|so|then|ok(?:ay)?|what about|how about)\b\W*", re.I)
_TOPIC_SWAP = re.compile(r"^\W*(?:and|but)?\s*(?:what|how)\s+about\s+(.+?)\W*$", re.I)
_BARE_ORDER = re.compile(rf"\b({_ORDER_WORDS})\b", re.I)
_BARE_COUNT = re.compile(r"\bhow\s+many\b", re.I)
_BARE_LIST = re.compile(r"\b(?:which|list|show|name)\b", re.I)

# Words that frame a request; whatever else a question holds is its topic.
_FRAME = frozenset(
    """which what who how many much number count total list show give name find display
    fetch pull see tell me please can could would you your yours we i do does did have has
    had got get there any all every each some the a an of is are was were be been in on
    about from regarding concerning cover covers covered covering mention mentions
    mentioned mentioning discuss discusses discussed discussing deal deals dealing related
    relating relate talk talks talking say says said report reports reported reporting
    published publish dated written wrote write appeared appear came come out available
    exist exists contain contains include includes hold holds collection corpus index
    library folder database archive article articles document documents doc docs story
    stories file files piece pieces news newspiece item items text texts latest newest most
    recent recently last earliest oldest first new old older newer summarize summarise
    summary summaries summarized summarised overview gist recap rundown tldr main key
    important point points fact facts idea ideas takeaway takeaways detail details finding
    findings highlights brief briefly nutshell provide one ones them it they this that
    these those other else different separate distinct between before after since during
    until through to and or at for by with so also but then okay ok just whole entire
    currently fill know topic topics subject subjects anything something""".split()
)


def classify(question: str, history: Sequence[Turn] = (), _depth: int = 0) -> Intent:
    """The kind of `question`, read in the context of the earlier user turns."""
    own = read_question(question)
    previous = _previous_user_turn(history)
    if previous is None or _depth >= _MAX_DEPTH or not looks_dependent(question):
        return own
    prev_text, earlier = previous
    before = classify(prev_text, earlier, _depth + 1)
    if own.kind == FACT:
        if before.kind == FACT:
            return own
        return _bare_followup(question, before) or own
    if own.topic or not _REFERS_BACK.search(question):
        return own
    # "What is this article about?": the article the previous turn was about.
    topic = before.topic if before.kind != FACT else " ".join(carried_words(question, history))
    return replace(
        own,
        topic=topic,
        order=own.order or before.order,
        dates=own.dates or before.dates,
        recalled=True,
    )


def read_question(question: str) -> Intent:
    """The kind of one question on its own."""
    text = " ".join(question.replace("’", "'").split())
    when = _when_mentioned(text) or _timeline(text)
    if when is not None:
        return when
    kind = _kind(text)
    if kind == FACT:
        return Intent()
    dates, rest = parse_dates(text)
    # "published last week" names no order: read the order without a relative date.
    order = _order(rest if dates is not None and dates.relative else text)
    # "news" is many articles, unless it asks for the latest.
    news = kind == OVERVIEW and order is None and bool(re.search(r"\bnews\b", text, re.I))
    plural = news or bool(_PLURAL.search(text))
    return Intent(
        kind=kind,
        count=kind == COLLECTION and bool(_COUNT.search(text)),
        order=order,
        plural=plural,
        topic=topic_of(rest),
        dates=dates,
        mentions=bool(re.search(r"\bmention|\brefer", text, re.I)),
        phrase=mentioned_phrase(rest),
    )


# --- mention questions: "Which articles mention X?", "When was X first mentioned?" -------
_MENTIONED = re.compile(
    r"\b(?:mention(?:s|ed|ing)?|refer(?:s|red|ring)?\s+to)\s+(?:of\s+)?(.+?)[\s?.!]*$", re.I
)
_WHEN_FIRST = re.compile(
    r"^\W*when\s+did\s+(?:the\s+|any\s+|an\s+|your\s+)?(?:articles?|news|stories|collection)\s+"
    r"(first|last|most\s+recently)\s+(?:mention|refer\s+to)\s+(.+?)[\s?.!]*$"
    r"|^\W*when\s+(?:was|were|is|has|have|did)\s+(?:been\s+)?(.+?)\s+(first|last|most\s+recently|"
    r"latest|earliest)\s+(?:been\s+)?(?:mentioned|mention|referred\s+to|named)\b",
    re.I,
)
_PHRASE_TAIL = re.compile(
    r"\s+(?:in|across|among)\s+(?:the|your|this|my)\s+(?:collection|corpus|index|library|"
    r"folder|articles|news|archive)$|\s+(?:at\s+all|by\s+name)$",
    re.I,
)


def mentioned_phrase(text: str) -> str:
    """What "... mention X?" asks for, as written, without quotes around it."""
    m = _MENTIONED.search(text)
    return _clean_phrase(m.group(1)) if m else ""


def _clean_phrase(phrase: str) -> str:
    phrase = _PHRASE_TAIL.sub("", phrase.strip())
    return phrase.strip(" \"'“”‘’«»?.!,:;")


_TIMELINE = re.compile(
    r"^\W*(?:(?:give|show|make|build)\s+(?:me\s+)?|what\s+is\s+|what's\s+)?(?:an?\s+|the\s+)?"
    r"(?:timeline|chronology)\s+(?:of|for|on|about)\s+(.+?)[\s?.!]*$",
    re.I,
)


def _timeline(text: str) -> Intent | None:
    """ "Timeline of Kathy Hochul": every dated article that mentions it, oldest first."""
    dates, rest = parse_dates(text)
    m = _TIMELINE.search(rest)
    phrase = _clean_phrase(m.group(1)) if m else ""
    if not phrase:
        return None
    return Intent(
        kind=COLLECTION, order=OLDEST, topic=topic_of(phrase) or phrase, dates=dates,
        mentions=True, phrase=phrase, timeline=True,
    )  # fmt: skip


def _when_mentioned(text: str) -> Intent | None:
    """ "When was Kathy Hochul first mentioned?": the date of the earliest mention."""
    dates, rest = parse_dates(text)
    m = _WHEN_FIRST.search(rest)
    if m is None:
        return None
    word, phrase = (m.group(1), m.group(2)) if m.group(1) else (m.group(4), m.group(3))
    phrase = _clean_phrase(phrase)
    if not phrase:
        return None
    order = OLDEST if word.lower() in ("first", "earliest") else LATEST
    return Intent(
        kind=COLLECTION, order=order, plural=False, topic=topic_of(phrase) or phrase,
        dates=dates, mentions=True, phrase=phrase, when=True,
    )  # fmt: skip


def _kind(text: str) -> str:
    if _SUMMARY.search(text) or _ABOUT_END.search(text) or _SAY.search(text):
        return OVERVIEW
    if _TELL.search(text):
        return OVERVIEW
    if not _names_articles(text):
        return OVERVIEW if _NEWS.search(text) else FACT
    if _COUNT.search(text) or _ORDER.search(text) or _ORDER_AFTER.search(text):
        return COLLECTION
    if _LIST.search(text) or re.fullmatch(rf"\W*(?:{_NOUN})\W*", text, re.I):
        return COLLECTION
    return FACT


def _names_articles(text: str) -> bool:
    """Whether `text` asks about the articles themselves: it names them together with a
    collection cue ("articles about X", "do you have", "in the collection", a date), so
    "How many articles does the treaty have?" and "classified documents" do not count."""
    if _IN_SCOPE.search(text) or _LISTED.search(text):
        return True
    strong = re.search(rf"\b(?:{_STRONG})\b", text, re.I)
    weak = re.search(rf"\b(?:{_WEAK})\b", text, re.I)
    if not (strong or weak):
        return False
    if _SCOPE.search(text) or _WEAK_CUED.search(text):
        return True
    cued = _STRONG_CUED.search(text) or _ORDER_AFTER.search(text) or _ORDER.search(text)
    return bool(strong) and bool(cued or parse_dates(text)[0])


def _order(text: str) -> str | None:
    m = _ORDER.search(text) or _ORDER_AFTER.search(text)
    if m:
        return OLDEST if m.group(1).lower() in _OLDER else LATEST
    return LATEST if _NEWS_ORDER.search(text) else None


def _bare_followup(question: str, before: Intent) -> Intent | None:
    """A follow-up that names no articles but leans on a collection or overview question:
    "And the latest one?", "How many are there?", "What about Ukraine?"."""
    text = " ".join(question.replace("’", "'").split())
    swap = _TOPIC_SWAP.match(text)
    if swap and len(swap.group(1).split()) <= 5:
        dates, rest = parse_dates(swap.group(1))
        return replace(before, topic=topic_of(rest) or before.topic, dates=dates or before.dates)
    dates, rest = parse_dates(_OPENER.sub("", text))
    if topic_of(rest):  # it asks about something new: a fact question
        return None
    order = _BARE_ORDER.search(rest)
    plural = bool(_PLURAL.search(rest))
    if order:
        word = order.group(1).lower()
        return replace(
            before, order=OLDEST if word in _OLDER else LATEST,
            count=False, plural=plural, dates=dates or before.dates,
        )  # fmt: skip
    if _BARE_COUNT.search(rest):
        return replace(before, kind=COLLECTION, count=True, order=None, dates=dates or before.dates)
    if _BARE_LIST.search(rest) and before.kind == COLLECTION:
        return replace(before, count=False, order=None, dates=dates or before.dates)
    if dates:
        return replace(before, dates=dates)
    return None


def topic_of(text: str) -> str:
    """The words of `text` that are not request framing, in their original form. Names
    (capitalized, not first) stay even when they look like framing ("Key West")."""
    out = []
    for k, w in enumerate(word_forms(text)):
        low = w.lower()
        if low in MONTHS and not w[0].isupper():
            continue
        is_name = k > 0 and w[0].isupper() and low not in MONTHS
        if (low in _FRAME or low in STOPWORDS) and not is_name:
            continue
        if re.fullmatch(r"what's|it's|that's|there's|i'm", low):
            continue
        out.append(w)
    return " ".join(out)
