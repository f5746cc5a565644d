"""Test sets: JSONL files of questions with their gold answers, read and validated.

One question per line:
    {"id", "question", "answers": [acceptable answers], "answerable": bool,
     "sources": [corpus-relative paths], "evidence": "supporting text",
     "history": [{"role", "content"}], "tags": [labels for the report],
     "asked_on": "YYYY-MM-DD" (the as-of date of relative dates),
     "expects": "list" | "count" | "latest" | "first" (a question about the collection,
     scored by askfront.evaluation.collection), "expected_range": [start, end]}
(everything after answers is optional; unknown keys are ignored).

The web chat's feedback file (thumbs up/down, askfront.web.session) is such a file: a
thumbs-up line carries its answer as gold; a thumbs-down line ("rating": "down") counts once
someone writes the right "answers" into it, and is skipped until then.
"""

from __future__ import annotations

import json
import logging
from datetime import date
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from askfront.core.errors import ConfigError, QuestionError
from askfront.core.history import validate_turns
from askfront.core.types import Turn
from askfront.evaluation.metrics import normalize_answer

logger = logging.getLogger(__name__)


class EvalItem(BaseModel):
    """One test-set question. (Not called TestItem: pytest would try to collect it.)"""

    model_config = ConfigDict(extra="ignore", frozen=True)

    id: str = Field(min_length=1)
    question: str = Field(min_length=1)
    answers: list[str]
    answerable: bool = True
    sources: list[str] = Field(default_factory=list)
    evidence: str | None = None
    # Checked by the one history parser (askfront.core.history); pydantic cannot take the
    # TypedDict `Turn` itself on Python 3.11.
    history: list[dict[str, str]] = Field(default_factory=list)
    tags: list[str] = Field(default_factory=list)
    asked_on: str | None = None
    expects: Literal["list", "count", "latest", "first"] | None = None
    expected_range: list[str] | None = Field(default=None, min_length=2, max_length=2)

    @field_validator("asked_on")
    @classmethod
    def _iso_asked_on(cls, value: str | None) -> str | None:
        if value is not None:
            date.fromisoformat(value)  # ValueError: reported with the line number
        return value

    @field_validator("history", mode="before")
    @classmethod
    def _history_as_turns(cls, value: Any) -> Any:
        try:
            return validate_turns(value or [], "history")
        except QuestionError as exc:
            raise ValueError(str(exc)) from None

    @field_validator("id", mode="before")
    @classmethod
    def _id_as_text(cls, value: Any) -> Any:
        return str(value) if isinstance(value, int) else value

    @model_validator(mode="after")
    def _answers_match_answerable(self) -> EvalItem:
        if self.answerable and not any(normalize_answer(a) for a in self.answers):
            raise ValueError(
                "an answerable question needs at least one non-empty gold answer in 'answers'"
            )
        if not self.answerable and self.answers:
            raise ValueError("an unanswerable question (answerable: false) must have answers: []")
        return self

    def turns(self) -> list[Turn]:
        return validate_turns(self.history, "history")


def load_testset(path: Path | str) -> list[EvalItem]:
    """Read and validate a JSONL test set.

    Raises:
        ConfigError: if the file is missing, empty, or has invalid lines (each named by number).
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(
            f"Test set {path} does not exist. Pass the path of a JSONL file."
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"Test set {path} cannot be read as UTF-8 text: {exc}") from None
    items: list[EvalItem] = []
    problems: list[str] = []
    first_line: dict[str, int] = {}
    unrated = 0  # thumbs-down feedback without a gold answer yet
    for lineno, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            data = json.loads(line)
        except json.JSONDecodeError as exc:
            problems.append(f"line {lineno}: not valid JSON ({exc.msg}, column {exc.colno})")
            continue
        if not isinstance(data, dict):
            problems.append(f"line {lineno}: expected a JSON object, got {type(data).__name__}")
            continue
        if data.get("rating") == "down" and "answers" not in data:
            unrated += 1
            continue
        try:
            item = EvalItem.model_validate(data)
        except ValidationError as exc:
            for err in exc.errors():
                where = ".".join(str(p) for p in err["loc"]) or "question"
                problems.append(f"line {lineno}: {where}: {err['msg']}")
            continue
        if item.id in first_line:
            problems.append(
                f"line {lineno}: id {item.id!r} is already used on line {first_line[item.id]}"
            )
            continue
        first_line[item.id] = lineno
        items.append(item)
    if unrated:
        logger.warning(
            "Skipped %d thumbs-down line(s) of %s: write the right answer into their "
            '"answers" (or "answerable": false, "answers": []) to make them test cases.',
            unrated,
            path,
        )
    if problems:
        shown = "\n  ".join(problems[:10])
        more = f"\n  ... and {len(problems) - 10} more" if len(problems) > 10 else ""
        raise ConfigError(f"Test set {path} has {len(problems)} problem(s):\n  {shown}{more}")
    if not items:
        raise ConfigError(f"Test set {path} has no questions (one JSON object per line).")
    return items
