"""A chat session: what the server keeps per browser tab, its JSON form for the browser's
storage (gr.BrowserState, so a reload keeps the conversation), and the thumbs up/down
feedback log (JSONL whose lines `askfront eval` reads as test-set questions)."""

from __future__ import annotations

import json
import logging
import secrets
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from askfront.core.errors import AskfrontError
from askfront.core.history import validate_turns
from askfront.core.types import Answer, Citation, Turn
from askfront.web.cards import gold_answer

logger = logging.getLogger(__name__)

# What the browser keeps: the latest answers only, so the stored state stays far below
# localStorage's ~5 MB (and what a restored session costs the server) whatever the chat.
KEEP_ANSWERS = 30
STORE_VERSION = 1


@dataclass
class ChatState:
    """One browser session: the turns sent as history, each answer with its question, and
    which chat message shows which answer (for the thumbs)."""

    turns: list[Turn] = field(default_factory=list)
    answers: dict[int, Answer] = field(default_factory=dict)
    questions: dict[int, str] = field(default_factory=dict)
    # answer id -> the history it was asked with (a feedback line repeats it)
    asked_with: dict[int, list[Turn]] = field(default_factory=dict)
    message_ids: dict[int, int] = field(default_factory=dict)  # chat index -> answer id
    next_id: int = 0

    def exchanges(self) -> list[tuple[str, Answer]]:
        return [(self.questions.get(i, ""), a) for i, a in sorted(self.answers.items())]


def _citation(data: dict[str, Any]) -> Citation:
    return Citation(
        n=int(data["n"]),
        source=str(data["source"]),
        title=data.get("title"),
        date=data.get("date"),
        start=int(data["start"]),
        end=int(data["end"]),
        quote=str(data["quote"]),
        score=float(data.get("score", 0.0)),
        page=data.get("page"),
    )


def _answer_json(answer: Answer) -> dict[str, Any]:
    cite = [{**c.to_json(), "page": c.page} for c in answer.citations]
    related = [{**c.to_json(), "page": c.page} for c in answer.related]
    return {"text": answer.text, "refused": answer.refused, "notice": answer.notice,
            "mode": answer.mode, "citations": cite, "related": related}  # fmt: skip


def _answer(data: dict[str, Any]) -> Answer:
    return Answer(
        text=str(data["text"]),
        refused=bool(data.get("refused")),
        notice=data.get("notice"),
        mode=str(data.get("mode") or "extractive"),
        citations=[_citation(c) for c in data.get("citations", [])],
        related=[_citation(c) for c in data.get("related", [])],
    )


def to_store(chat: list[dict[str, Any]], state: ChatState) -> dict[str, Any]:
    """The session as JSON for the browser: the latest KEEP_ANSWERS answers and their
    messages (the older ones' messages are dropped with them)."""
    keep = sorted(state.answers)[-KEEP_ANSWERS:]
    first_kept = min((i for i, a in state.message_ids.items() if a in keep), default=0)
    start = max(0, first_kept - 1)  # the question before the first kept answer
    return {
        "v": STORE_VERSION,
        "chat": chat[start:],
        "turns": state.turns,
        "next_id": state.next_id,
        "answers": {str(i): _answer_json(state.answers[i]) for i in keep},
        "questions": {str(i): state.questions.get(i, "") for i in keep},
        "asked_with": {str(i): state.asked_with.get(i, []) for i in keep},
        "message_ids": {
            str(i - start): a for i, a in state.message_ids.items() if a in keep and i >= start
        },
    }


def from_store(data: Any) -> tuple[list[dict[str, Any]], ChatState]:
    """The chat and state from what to_store gave; anything unreadable (an older version, a
    tampered value) is a fresh chat."""
    if not isinstance(data, dict) or data.get("v") != STORE_VERSION:
        return [], ChatState()
    try:
        chat = [
            {"role": m["role"], "content": str(m["content"])}
            for m in data["chat"]
            if m.get("role") in ("user", "assistant")
        ]
        state = ChatState(
            turns=validate_turns(data["turns"], "turns"),
            answers={int(i): _answer(a) for i, a in data["answers"].items()},
            questions={int(i): str(q) for i, q in data["questions"].items()},
            asked_with={
                int(i): validate_turns(t, "history") for i, t in data["asked_with"].items()
            },
            message_ids={int(i): int(a) for i, a in data["message_ids"].items()},
            next_id=int(data["next_id"]),
        )
    except (AskfrontError, KeyError, TypeError, ValueError, AttributeError) as exc:
        logger.info("Ignored a stored chat that cannot be read (%s)", exc)
        return [], ChatState()
    return chat, state


class FeedbackLog:
    """Thumbs up/down, one JSON line each, appended to `path`.

    Each line is also a test-set question (askfront.evaluation.testset): a thumbs-up keeps
    the answer (or the refusal) as gold, a regression case as it stands; a thumbs-down
    says the answer was wrong and carries no "answers" until someone writes the right one
    in, which turns it into a regression case too.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()  # one line at a time, from every session

    def record(self, state: ChatState, answer_id: int, liked: bool) -> dict[str, Any]:
        """Append one line for answer `answer_id` of `state`; returns it.

        Raises:
            AskfrontError: if the answer is unknown or the file cannot be written.
        """
        answer = state.answers.get(answer_id)
        if answer is None:
            raise AskfrontError("That answer belongs to an earlier chat; ask again to rate it.")
        stamp = datetime.now(UTC)
        line: dict[str, Any] = {
            "id": f"feedback-{stamp:%Y%m%dT%H%M%S}-{secrets.token_hex(3)}",
            "question": state.questions.get(answer_id, ""),
            "history": state.asked_with.get(answer_id, []),
            "rating": "up" if liked else "down",
            "answer": answer.text,
            "refused": answer.refused,
            "citations": [c.to_json() for c in answer.citations],
            "mode": answer.mode,
            "time": stamp.isoformat(timespec="seconds"),
            "tags": ["feedback", "thumbs-up" if liked else "thumbs-down"],
        }
        if liked:
            line["answerable"] = not answer.refused
            line["answers"] = [] if answer.refused else [gold_answer(answer)]
            line["sources"] = sorted({c.source for c in answer.citations})
        text = json.dumps(line, ensure_ascii=False) + "\n"
        try:
            with self._lock:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                with self.path.open("a", encoding="utf-8") as out:
                    out.write(text)
        except OSError as exc:
            raise AskfrontError(
                f"Could not save the feedback to {self.path} ({exc.strerror or exc}). "
                "Check that the folder is writable (ASKFRONT_FEEDBACK_FILE)."
            ) from None
        logger.info("Feedback %s on answer %d saved to %s", line["rating"], answer_id, self.path)
        return line
