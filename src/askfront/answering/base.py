"""The seam every answer backend plugs into: `Answerer`, and the refusal text they share.

Every backend subclasses `Answerer`, the built-in ones included. `registry` looks them up
by the prefix of the `llm` setting (extractive | ollama:MODEL | openai:MODEL | local:PATH),
the same way for built-in ones and any registered later.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Sequence

from askfront.core.types import Answer, Passage, Turn

REFUSAL_TEXT = "The articles don't say."


class Answerer(ABC):
    """Base class of answer backends."""

    name: str = "answerer"
    # Capability: writes answers with a language model. Such a backend condenses follow-ups
    # itself and answers the standalone query retrieval used; a quoting one reads the
    # follow-up as asked.
    generative: bool = False
    # Capability: after the first retrieval, the Assistant runs the searches `hop_queries`
    # asks for (a bridge name, each of two compared names) and answers from all passages.
    wants_second_hop: bool = False

    @abstractmethod
    def answer(
        self, question: str, passages: Sequence[Passage], history: Sequence[Turn] = ()
    ) -> Answer:
        """Answer from `passages` only. `Answer.citations[i].n` numbers passages' quotes 1..N."""

    def stream(
        self, question: str, passages: Sequence[Passage], history: Sequence[Turn] = ()
    ) -> Iterator[str | Answer]:
        """Yield text deltas, then the final Answer. The default streams the whole text at once."""
        result = self.answer(question, passages, history)
        yield result.text
        yield result

    def hop_queries(
        self, question: str, passages: Sequence[Passage], history: Sequence[Turn] = ()
    ) -> list[str]:
        """The second hop's searches, read from the first hop's `passages` (none here)."""
        return []

    def condense(self, question: str, history: Sequence[Turn]) -> str:
        """A standalone version of a follow-up question. The default returns it unchanged."""
        return question


# factory(text after the prefix's colon, BackendOptions, *, extractive=, embeddings=);
# registered by prefix in askfront.answering.registry
AnswererFactory = Callable[..., Answerer]
