"""Name phrases: runs of capitalized words ("Into the Badlands", "Selle v. Gibb") in a
sentence or a question, a cheap stand-in for named-entity recognition.

The second retrieval hop searches for the names a first-hop sentence adds ("Dennis Allen"
in "... was shot by Dennis Allen"), and comparisons search for each compared name, so
both need whole phrases rather than the single words `followup.proper_words` gives.
"""

from __future__ import annotations

import re
from functools import lru_cache

from askfront.answering.extractive.terms import stems
from askfront.core.text import STOPWORDS

_TOKEN = re.compile(r"[^\W_][\w'’.&-]*[,;:]?|&", re.UNICODE)
# Lower-case words that may join capitalized ones inside a name ("Kingdom of the Isles",
# "Selle v. Gibb", "Leonardo da Vinci"); only when a capitalized word follows.
CONNECTORS = frozenset("of the and de da del della der di du la le van von v. vs. y &".split())
# Capitalized at the start of a sentence or question, but not names.
_NOT_NAMES = frozenset(
    """the a an in on at of for from by to and or but as this that these those it its he she
    they his her their there here what which who whom whose when where why how is was are
    were do does did has have had can could will would should may might after before
    during while since although though however also both between among name""".split()
)


_CALENDAR = frozenset(
    """january february march april may june july august september october november december
    jan feb mar apr jun jul aug sep sept oct nov dec monday tuesday wednesday thursday friday
    saturday sunday""".split()
)


_QUOTED = re.compile(r"[\"“]([^\"“”]{2,80})[\"”]")


@lru_cache(maxsize=65536)
def name_spans(text: str, join_and: bool = True) -> tuple[tuple[int, int, str], ...]:
    """(start, end, phrase) of the runs of capitalized words in `text`, and of quoted
    titles ("Hey Pa! There's a Goat on the Roof"), in order.

    Connectors join two capitalized words ("Bedknobs and Broomsticks"; "and" only with
    `join_and`); numbers end a run and month names cannot open one (dates are not
    names). A run may not start with a function word ("The Muppet Christmas Carol" gives
    "Muppet Christmas Carol"), and a lone capitalized word that opens a sentence is not
    taken for a name ("Formed in 2008 ...").
    """
    quoted = [(m.start(1), m.end(1), m.group(1).strip()) for m in _QUOTED.finditer(text)]
    connectors = CONNECTORS if join_and else CONNECTORS - {"and", "&"}
    tokens = [m for m in _TOKEN.finditer(text) if not any(a <= m.start() < b for a, b, _ in quoted)]
    out: list[tuple[int, int, str]] = []
    run: list[re.Match[str]] = []
    run_opens = False  # the run began at the start of the text or of a sentence

    def flush() -> None:
        while run and run[-1].group(0).lower() in connectors:
            run.pop()
        if run and not (run_opens and len(run) == 1):
            words = [m.group(0) for m in run]
            last = words[-1].rstrip(".,;:") if words[-1] not in connectors else words[-1]
            phrase = " ".join([*(w.rstrip(",;:") for w in words[:-1]), last])
            out.append((run[0].start(), run[-1].start() + len(last), phrase))
        run.clear()

    for i, m in enumerate(tokens):
        tok = m.group(0)
        low = tok.lower()
        opener = (
            low not in _NOT_NAMES and low not in STOPWORDS and low.rstrip(".,;:") not in _CALENDAR
        )
        if tok[0].isupper() and (run or opener):
            if not run:
                run_opens = i == 0 or tokens[i - 1].group(0).endswith((".", "!", "?"))
            run.append(m)
            if tok.endswith((",", ";", ":")) or (tok.endswith(".") and len(tok) > 3):
                flush()
        elif (
            run
            and low in connectors
            and i + 1 < len(tokens)
            and tokens[i + 1].group(0)[0].isupper()
        ):
            run.append(m)
        else:
            flush()
    flush()
    return tuple(sorted(out + quoted))


def name_phrases(text: str) -> tuple[str, ...]:
    """The phrases of `name_spans`, each once."""
    return tuple(dict.fromkeys(p for _, _, p in name_spans(text)))


# Capitalized words that describe rather than name: demonyms ("Australian", "British",
# "Japanese"). They link every article of a country, so they are never a bridge.
_DESCRIBING = re.compile(r"(?:an|ian|ish|ese)$")


def describes(word: str) -> bool:
    """A demonym-like capitalized word ("American", "English"), not a name."""
    return bool(_DESCRIBING.search(word))


def bridge_phrases(text: str, asked: frozenset[str] | set[str]) -> list[frozenset[str]]:
    """The stems of the name phrases in `text` that the question (`asked` stems) lacks,
    leaving out lone demonyms."""
    out = []
    for phrase in name_phrases(text):
        terms = phrase_stems(phrase)
        if terms and not terms <= asked and not (" " not in phrase and describes(phrase)):
            out.append(terms)
    return out


def phrase_stems(phrase: str) -> frozenset[str]:
    """The content stems of a name phrase (connectors and stop words dropped)."""
    return frozenset(stems(phrase))
