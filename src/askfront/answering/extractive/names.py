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
from askfront.textutil import STOPWORDS

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


@lru_cache(maxsize=65536)
def name_phrases(text: str) -> tuple[str, ...]:
    """Runs of capitalized words (and numbers inside them) in `text`, in order, each once.

    Connectors join two capitalized words ("Bedknobs and Broomsticks"); numbers end a
    run and month names cannot open one (dates are not names). A run may not
    start with a function word ("The Muppet Christmas Carol" gives "Muppet Christmas
    Carol"), and a lone capitalized word that opens a sentence is not taken for a name
    ("Formed in 2008 ...").
    """
    tokens = [m.group(0) for m in _TOKEN.finditer(text)]
    out: list[str] = []
    run: list[str] = []
    run_opens = False  # the run began at the start of the text or of a sentence

    def flush() -> None:
        while run and run[-1].lower() in CONNECTORS:
            run.pop()
        if run and not (run_opens and len(run) == 1):
            phrase = " ".join(w.rstrip(".,;:") if w not in CONNECTORS else w for w in run)
            if phrase not in out:
                out.append(phrase)
        run.clear()

    for i, tok in enumerate(tokens):
        low = tok.lower()
        opener = (
            low not in _NOT_NAMES and low not in STOPWORDS and low.rstrip(".,;:") not in _CALENDAR
        )
        if tok[0].isupper() and (run or opener):
            if not run:
                run_opens = i == 0 or tokens[i - 1].endswith((".", "!", "?"))
            run.append(tok)
            if tok.endswith((",", ";", ":")) or (tok.endswith(".") and low not in CONNECTORS
                                                 and len(tok) > 3):  # fmt: skip
                flush()
        elif run and low in CONNECTORS and i + 1 < len(tokens) and tokens[i + 1][0].isupper():
            run.append(tok)
        else:
            flush()
    flush()
    return tuple(out)


def phrase_stems(phrase: str) -> frozenset[str]:
    """The content stems of a name phrase (connectors and stop words dropped)."""
    return frozenset(stems(phrase))
