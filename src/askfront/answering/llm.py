"""Generative answers from a LangChain chat model, every sentence checked against its citations.

`LLMAnswerer` wraps any `BaseChatModel` (Ollama, an OpenAI-compatible server, or the in-process
`LocalChatModel` below). Whatever goes wrong on the model side - unreachable server, timeout,
bad model name, a crash in generation - the user gets the extractive answer with a notice
saying why, never a traceback.
"""

from __future__ import annotations

import logging
import queue
import re
import time
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING

from langchain_core.language_models.chat_models import BaseChatModel
from langchain_core.messages import BaseMessage

from askfront.answering.base import REFUSAL_TEXT, Answerer
from askfront.answering.prompt import build_messages, condense_messages
from askfront.core.types import Answer, Passage, Turn
from askfront.grounding.nli import EntailmentScorer
from askfront.grounding.verify import verify

if TYPE_CHECKING:
    from langchain_core.embeddings import Embeddings

logger = logging.getLogger(__name__)

CONDENSE_MAX_CHARS = 300  # a standalone question longer than this (or 3x the input) is junk
_THINK = re.compile(r"<think>.*?(?:</think>|$)", re.DOTALL | re.IGNORECASE)
_CONDENSE_PREFIX = re.compile(r"^\s*(?:standalone question|question|rewritten)\s*:\s*", re.I)
_ERRNO = re.compile(r"^\[Errno -?\d+\]\s*")


class LLMAnswerer(Answerer):
    """Answers with a chat model from the numbered passages, then verifies every sentence.

    Args:
        model: the chat model that writes answers.
        embeddings: for verification (cosine between claims and passage sentences).
        extractive: the fallback answerer when the model fails.
        spec: the `llm` setting that chose this backend, e.g. "ollama:llama3"; the Answer mode.
        timeout: overall seconds one answer may take; checked between streamed chunks (the
            HTTP clients and LocalChatModel also enforce it for a silent server).
        endpoint: where the model lives, for messages ("http://127.0.0.1:11434", a path).
        condense_model: a cheaper configuration of the model for rewriting follow-ups.
        nli: optional entailment scorer for verification.
    """

    generative = True

    def __init__(
        self,
        model: BaseChatModel,
        *,
        embeddings: Embeddings | None,
        extractive: Answerer,
        spec: str,
        timeout: float = 60.0,
        endpoint: str | None = None,
        condense_model: BaseChatModel | None = None,
        nli: EntailmentScorer | None = None,
    ) -> None:
        self.model = model
        self.condense_model = condense_model or model
        self.embeddings = embeddings
        self.extractive = extractive
        self.spec = spec
        self.name = spec
        self.timeout = timeout
        self.endpoint = endpoint
        self.nli = nli

    def answer(
        self, question: str, passages: Sequence[Passage], history: Sequence[Turn] = ()
    ) -> Answer:
        final: Answer | None = None
        for item in self.stream(question, passages, history):
            if isinstance(item, Answer):
                final = item
        assert final is not None  # stream() always ends with an Answer
        return final

    def stream(
        self, question: str, passages: Sequence[Passage], history: Sequence[Turn] = ()
    ) -> Iterator[str | Answer]:
        """Yield the model's text deltas as they arrive, then the verified Answer.

        The final Answer's text replaces what was streamed: invalid citations are removed from
        it, and on a model failure it is the extractive answer (with `notice` saying why).
        """
        if not passages:
            # Nothing retrieved: there is nothing to answer from, so don't ask the model.
            yield Answer(text=REFUSAL_TEXT, refused=True, mode=self.spec)
            return
        started = time.perf_counter()
        deadline = time.monotonic() + self.timeout
        parts: list[str] = []
        try:
            for chunk in self.model.stream(build_messages(question, passages, history)):
                delta = message_text(chunk)
                if delta:
                    parts.append(delta)
                    yield delta
                if time.monotonic() > deadline:
                    raise TimeoutError(f"no complete answer within {self.timeout:g} s")
        except Exception as exc:
            logger.warning("LLM backend %s failed: %r", self.spec, exc)
            yield self._fallback(question, passages, history, self.failure_notice(exc))
            return
        generated = _THINK.sub("", "".join(parts)).strip()
        if not generated:
            notice = f"LLM backend {self.spec} returned an empty answer; {_FALLBACK}"
            yield self._fallback(question, passages, history, notice)
            return
        generate_ms = (time.perf_counter() - started) * 1000
        yield self.verified(generated, question, passages, generate_ms)

    def verified(
        self, text: str, question: str, passages: Sequence[Passage], generate_ms: float = 0.0
    ) -> Answer:
        """The Answer for generated `text`: per-sentence support flags and exact citations."""
        started = time.perf_counter()
        check = verify(text, passages, self.embeddings, question=question, nli=self.nli)
        return Answer(
            text=check.text,
            citations=check.citations,
            refused=check.refused,
            sentences=check.sentences,
            related=check.related,
            notice=check.notice,
            mode=self.spec,
            passages=list(passages),
            timings={
                "generate_ms": generate_ms,
                "verify_ms": (time.perf_counter() - started) * 1000,
            },
        )

    def condense(self, question: str, history: Sequence[Turn]) -> str:
        """The follow-up rewritten as a standalone question; `question` itself on any failure."""
        if not history:
            return question
        try:
            reply = self.condense_model.invoke(condense_messages(question, history))
        except Exception as exc:
            logger.warning("Condensing the question with %s failed: %r", self.spec, exc)
            return question
        lines = [
            ln.strip() for ln in _THINK.sub("", message_text(reply)).splitlines() if ln.strip()
        ]
        if not lines:
            return question
        out = _CONDENSE_PREFIX.sub("", lines[0]).strip().strip("\"'“”").strip()
        if not out or len(out) > max(CONDENSE_MAX_CHARS, 3 * len(question)):
            return question
        return out

    def failure_notice(self, exc: BaseException) -> str:
        """A one-line message a user can act on, e.g. "... unreachable at URL (Connection
        refused); showing the extractive answer instead."."""
        chain = _chain(exc)
        reason = _reason(chain)
        where = f" at {self.endpoint}" if self.endpoint else ""
        if any(_is_timeout(e) for e in chain):
            return f"LLM backend {self.spec} timed out{where} ({reason}); {_FALLBACK}"
        if any(_is_connection(e) for e in chain):
            return f"LLM backend {self.spec} unreachable{where} ({reason}); {_FALLBACK}"
        return f"LLM backend {self.spec} failed ({reason}); {_FALLBACK}"

    def _fallback(
        self, question: str, passages: Sequence[Passage], history: Sequence[Turn], notice: str
    ) -> Answer:
        result = self.extractive.answer(question, passages, history)
        result.notice = f"{notice} {result.notice}" if result.notice else notice
        return result


_FALLBACK = "showing the extractive answer instead."


def message_text(message: BaseMessage) -> str:
    """The text of a message or chunk, whether its content is a string or content blocks."""
    content = message.content
    if isinstance(content, str):
        return content
    return "".join(
        b if isinstance(b, str) else str(b.get("text", ""))
        for b in content
        if isinstance(b, str) or b.get("type") == "text"
    )


def _chain(exc: BaseException) -> list[BaseException]:
    out: list[BaseException] = []
    cur: BaseException | None = exc
    while cur is not None and cur not in out and len(out) < 10:
        out.append(cur)
        cur = cur.__cause__ or cur.__context__
    return out


def _is_timeout(exc: BaseException) -> bool:
    # httpx.TimeoutException, openai.APITimeoutError, queue timeouts: matched by name so this
    # module needs none of the optional client packages.
    return isinstance(exc, TimeoutError | queue.Empty) or "Timeout" in type(exc).__name__


def _is_connection(exc: BaseException) -> bool:
    name = type(exc).__name__
    return isinstance(exc, ConnectionError) or name in {"ConnectError", "APIConnectionError"}


def _reason(chain: list[BaseException]) -> str:
    """The most specific message in the chain ("Connection refused", "model 'x' not found")."""
    for exc in reversed(chain):
        text = _ERRNO.sub("", str(exc).strip().splitlines()[0] if str(exc).strip() else "")
        if text:
            return text[:200]
    return type(chain[0]).__name__
