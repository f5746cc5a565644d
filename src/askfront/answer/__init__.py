"""Answer backends: turn a question and retrieved passages into a cited Answer.

Every backend subclasses `Answerer`. Backends are looked up by the prefix of the
`llm` setting (extractive | ollama:MODEL | openai:MODEL | local:PATH), the same way
for built-in ones and any registered later.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Sequence

from askfront.types import Answer, Passage, Turn

REFUSAL_TEXT = "The articles don't say."


class Answerer(ABC):
    """Base class of answer backends."""

    name: str = "answerer"

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

    def condense(self, question: str, history: Sequence[Turn]) -> str:
        """A standalone version of a follow-up question. The default returns it unchanged."""
        return question


# name prefix -> factory(settings, spec_after_colon) ; filled by askfront.answer.registry
AnswererFactory = Callable[..., Answerer]
