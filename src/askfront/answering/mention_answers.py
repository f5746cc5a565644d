"""Answers to mention questions, from an exhaustive mention search
(askfront.retrieval.mentions): "Which articles mention X?", "How many articles mention X?",
"What is the most recent article that mentions X?", "When was X first mentioned?".

Each article named is cited by the sentence of its first mention; the answer says what
was searched ("14 of 500 articles mention “Kathy Hochul”") and, for dates asked for, the
range read ("published from 2024-07-22 to 2024-07-28 (last week, as of 2024-07-31)").
The full list also travels in `Answer.articles` (the web chat's sortable table).
"""

from __future__ import annotations

from datetime import date

from askfront.answering.kinds import LATEST, Intent
from askfront.core.types import Answer, AnswerSentence, Citation
from askfront.retrieval.mentions import Mention, MentionResult

MENTION_LIMIT = 100  # articles named and cited in the text; all of them are in .articles
QUOTE_CHARS = 240  # a longer first-mention sentence is shortened in the text (not the citation)


def mention_answer(intent: Intent, found: MentionResult, mode: str) -> Answer:
    """The answer to a mention question `intent` from the search result `found`."""
    where = f" published {intent.dates.label}" if intent.dates is not None else ""
    phrase = f"“{found.phrase}”"
    n = len(found.mentions)
    if n == 0:
        text = f"0 of {_articles(found.searched)}{where} mention {phrase}."
        return Answer(text, refused=not intent.count, mode=mode)
    dated = [m for m in found.mentions if m.date]
    undated = n - len(dated)
    if intent.order and not dated:
        text = (
            f"{_of(n, found.searched)}{where} mention {phrase}, but none of them has a date, "
            f"so I can't tell which is the {'latest' if intent.order == LATEST else 'earliest'}."
        )
        return _listed(text, found.mentions, mode)
    if intent.when:
        return _when(intent, found, dated, where, mode)
    if intent.timeline and dated:
        return _timeline(found, dated, undated, where, mode)
    if intent.order and not intent.plural:
        return _single(intent, found, dated, undated, where, mode)
    order = "oldest first" if intent.order and intent.order != LATEST else "newest first"
    shown = (
        list(reversed(dated)) + [m for m in found.mentions if not m.date]
        if (order == "oldest first")
        else found.mentions
    )
    head = f"{_of(n, found.searched)}{where} {_verb(n)} {phrase}"
    return _listed(f"{head} ({order}):" if n > 1 else f"{head}:", shown, mode)


def _when(
    intent: Intent, found: MentionResult, dated: list[Mention], where: str, mode: str
) -> Answer:
    """ "“X” was first mentioned on 2024-01-05 (January 5, 2024), in “Title” [1]: ..."."""
    first = dated[0] if intent.order == LATEST else dated[-1]
    word = "last" if intent.order == LATEST else "first"
    assert first.date is not None
    day = _long_date(first.date)
    lead = f"“{found.phrase}” was {word} mentioned{where} on {first.date}{day}, in {_label(first)}"
    cite = _citation(1, first)
    sentences = [AnswerSentence(f"{lead}: {cite.quote}", [1])]
    rest = f"{_of(len(found.mentions), found.searched)}{where} {_verb(len(found.mentions))} it"
    left = len(found.mentions) - len(dated)
    text = f"{lead} [1]: “{_short(cite.quote)}”\n({rest}{_undated(left)}.)"
    return Answer(text, [cite], sentences=sentences, mode=mode, articles=_rows(found.mentions))


def _timeline(
    found: MentionResult, dated: list[Mention], undated: int, where: str, mode: str
) -> Answer:
    """The dated mentions, oldest first: one line per article, its date leading."""
    n = len(found.mentions)
    head = (
        f"Timeline of “{found.phrase}”: {_of(n, found.searched)}{where} {_verb(n)} it"
        f"{_undated(undated)}; the dated ones, oldest first:"
    )
    # The date leads each line, as in a timeline ("- 2024-01-05: “Title” …").
    return _listed(head, list(reversed(dated)), mode, all_rows=found.mentions, dated=True)


def _single(
    intent: Intent, found: MentionResult, dated: list[Mention], undated: int, where: str,
    mode: str,
) -> Answer:  # fmt: skip
    """The latest (or earliest) article mentioning the phrase; ties on the date all named."""
    ordered = dated if intent.order == LATEST else list(reversed(dated))
    top = [m for m in ordered if m.date == ordered[0].date]
    word = "most recent" if intent.order == LATEST else "earliest"
    n = len(found.mentions)
    note = f"\n({_of(n, found.searched)}{where} {_verb(n)} it{_undated(undated)}.)"
    if len(top) > 1:
        head = f"{len(top)} articles{where} that mention “{found.phrase}” share the {word} date, "
        answer = _listed(f"{head}{top[0].date}:", top, mode, all_rows=found.mentions)
        answer.text += note
        return answer
    best = top[0]
    cite = _citation(1, best)
    lead = f"The {word} article{where} that mentions “{found.phrase}” is {_label(best)}"
    text = f"{lead} [1]: “{_short(cite.quote)}”{note}"
    sentences = [AnswerSentence(f"{lead}: {cite.quote}", [1])]
    return Answer(text, [cite], sentences=sentences, mode=mode, articles=_rows(found.mentions))


def _listed(
    head: str,
    shown: list[Mention],
    mode: str,
    all_rows: list[Mention] | None = None,
    dated: bool = False,
) -> Answer:
    """A head line, then one line per article (at most MENTION_LIMIT), each cited by the
    sentence of its first mention; with `dated`, each line starts with its date."""
    lines = [head]
    citations: list[Citation] = []
    sentences: list[AnswerSentence] = []
    for m in shown[:MENTION_LIMIT]:
        cite = _citation(len(citations) + 1, m)
        citations.append(cite)
        where = " (named in its title; its opening)" if m.in_title else ""
        day = f"{m.date}: " if dated else ""
        lines.append(f"- {day}{_label(m)}{where}: “{_short(cite.quote)}” [{cite.n}]")
        sentences.append(AnswerSentence(cite.quote, [cite.n]))
    if len(shown) > MENTION_LIMIT:
        lines.append(f"…and {len(shown) - MENTION_LIMIT} more (all of them in the list view).")
    rows = _rows(all_rows if all_rows is not None else shown)
    return Answer("\n".join(lines), citations, sentences=sentences, mode=mode, articles=rows)


def _citation(n: int, m: Mention) -> Citation:
    return Citation(n, m.source, m.title, m.date, m.start, m.end, m.quote, 1.0, m.chunk.page)


def _rows(mentions: list[Mention]) -> list[dict[str, str | None]]:
    """The matching articles for a list view: date, title, source and first mention."""
    rows = []
    for m in mentions:
        first = m.title if m.in_title else m.quote
        rows.append({"date": m.date, "title": m.title, "source": m.source, "first_mention": first})
    return rows


def _label(m: Mention) -> str:
    return f"“{m.title or m.source}” ({m.date or 'undated'})"


def _short(quote: str) -> str:
    quote = " ".join(quote.split())
    return quote if len(quote) <= QUOTE_CHARS else quote[: QUOTE_CHARS - 1].rstrip() + "…"


def _of(n: int, searched: int) -> str:
    """'14 of 500 articles', '1 of 500 articles'."""
    return f"{n} of {_articles(searched)}"


def _articles(n: int) -> str:
    return f"{n} article" if n == 1 else f"{n} articles"


def _verb(n: int) -> str:
    return "mentions" if n == 1 else "mention"


def _undated(n: int) -> str:
    return f"; {n} undated, left out of the order" if n else ""


def _long_date(day: str) -> str:
    """' (January 5, 2024)' for '2024-01-05'; '' when it is not an ISO day."""
    try:
        d = date.fromisoformat(day[:10])
    except ValueError:
        return ""
    return f" ({d.strftime('%B')} {d.day}, {d.year})"
