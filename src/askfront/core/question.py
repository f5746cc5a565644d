"""The question as asked: cleaned of control characters, and refused when it cannot be
asked (not text, empty, too long)."""

from __future__ import annotations

import re

from askfront.core.history import scrub

EMPTY_QUESTION = "Please type a question about the articles."
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def clean_question(question: str) -> str:
    """Control characters become spaces, lone surrogates U+FFFD; ends trimmed."""
    return _CONTROL.sub(" ", scrub(question)).strip()


def question_problem(question: object, max_chars: int) -> str | None:
    """Why `question` cannot be asked, as a message for the user, or None."""
    if not isinstance(question, str | None):  # e.g. a number sent to the /ask API
        return f"The question must be text, not {type(question).__name__}."
    question = clean_question(question or "")
    if not question:
        return EMPTY_QUESTION
    if len(question) > max_chars:
        return (
            f"The question is {len(question):,} characters long; the limit is {max_chars:,}. "
            "Shorten it, or raise ASKFRONT_MAX_QUESTION_CHARS."
        )
    return None
