"""Conversation history from outside: the one parser for the /ask API's history_json, the
CLI's --history file and the web chat's session turns.

History is bounded before any work is done: a long history costs time in every later stage
(follow-up resolution, the answerer, an LLM prompt), and /ask answers run one at a time, so
one client's huge history would make every other client wait.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any

from askfront.core.errors import QuestionError
from askfront.core.types import Turn

ROLES = ("user", "assistant")
SHAPE = 'a JSON list of {"role": "user"|"assistant", "content": "..."} objects'
# JSON's "\ud800" decodes to a lone surrogate, which no UTF-8 encoder (tokenizer, Chroma,
# the JSON response) accepts.
_SURROGATE = re.compile("[\ud800-\udfff]")


def scrub(text: str) -> str:
    """`text` with lone surrogates replaced by U+FFFD, so it can be encoded as UTF-8."""
    return _SURROGATE.sub("\ufffd", text)


def _is_turn(item: object) -> bool:
    return (
        isinstance(item, dict)
        and item.get("role") in ROLES
        and isinstance(item.get("content"), str)
    )


def check_size(size: int, limit: int, what: str, unit: str = "characters") -> None:
    """Refuse a history of more than `limit` characters, before it is read any further.

    Raises:
        QuestionError: naming the limit and the setting that raises it.
    """
    if size > limit:
        raise QuestionError(
            f"{what} is {size:,} {unit} long; the limit is {limit:,} characters. Send fewer "
            "or shorter turns, or raise ASKFRONT_MAX_HISTORY_CHARS."
        )


def _loads(text: str, what: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise QuestionError(f"{what} is not valid JSON: {exc.msg}.") from None
    except RecursionError:  # "[[[[…" nested past Python's recursion limit
        raise QuestionError(f"{what} is nested too deeply; send a flat list of turns.") from None
    except ValueError as exc:  # e.g. an integer of more than 4,300 digits
        raise QuestionError(f"{what} is not valid JSON: {exc}.") from None


def validate_turns(data: object, what: str = "history_json") -> list[Turn]:
    """`data` as turns, or a clear message if it is not a list of {"role", "content"}.

    Raises:
        QuestionError: if `data` has any other shape.
    """
    if not isinstance(data, list) or not all(_is_turn(t) for t in data):
        raise QuestionError(f"{what} must be {SHAPE}.")
    return [{"role": t["role"], "content": scrub(t["content"])} for t in data]


def parse_history(raw: object, *, max_chars: int, what: str = "history_json") -> list[Turn]:
    """Turns from a JSON string (checked for size before it is decoded) or a decoded list.

    None and blank strings are no history.

    Raises:
        QuestionError: if it is too long, not JSON, or not a list of turns.
    """
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return []
    if isinstance(raw, str):
        check_size(len(raw), max_chars, what)
        raw = _loads(raw, what)
    turns = validate_turns(raw, what)
    check_size(sum(len(t["content"]) for t in turns), max_chars, what)
    return turns


def bound_history(
    history: Sequence[Any], *, max_turns: int, max_chars: int
) -> tuple[list[Turn], int]:
    """The most recent turns within `max_turns` and `max_chars` of content, and how many
    were left out. Items that are not turns, and empty turns, are skipped (not counted)."""
    turns = [
        {"role": t["role"], "content": scrub(t["content"])}
        for t in history or ()
        if _is_turn(t) and t["content"].strip()
    ]
    kept: list[Turn] = []
    chars = 0
    for turn in reversed(turns):
        chars += len(turn["content"])
        if len(kept) >= max_turns or chars > max_chars:
            break
        kept.append({"role": turn["role"], "content": turn["content"]})
    kept.reverse()
    return kept, len(turns) - len(kept)


def history_notice(kept: int, dropped: int) -> str:
    """What an answer says when `bound_history` left turns out."""
    return (
        f"Only the last {kept} turns of the conversation were used ({dropped} earlier ones "
        "left out; ASKFRONT_MAX_HISTORY_TURNS and ASKFRONT_MAX_HISTORY_CHARS set the limits)."
    )
