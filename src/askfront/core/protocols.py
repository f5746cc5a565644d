"""The assistant's interface, as the web chat sees it.

`askfront.assistant.Assistant` is the one real implementation; tests' FakeAssistant
(tests/fakes.py) implements the same protocol without a model or an index.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Protocol

from askfront.core.config import Settings
from askfront.core.options import AskOptions
from askfront.core.types import Answer, Document, DocumentRecord, IndexReport, Progress, Turn

if TYPE_CHECKING:  # for annotations only: core imports no other stage at run time
    from askfront.retrieval.base import SearchResult


class AssistantAPI(Protocol):
    """Questions, the documents they cite, and changes to the index."""

    settings: Settings

    def modes(self) -> list[str]:
        """Answer modes a user may pick (AskOptions.mode)."""
        ...

    def ask(
        self, question: str, history: Sequence[Turn] = (), options: AskOptions | None = None
    ) -> Answer: ...

    def ask_stream(
        self, question: str, history: Sequence[Turn] = (), options: AskOptions | None = None
    ) -> Iterator[str | Answer]:
        """Text deltas as they come, then the final Answer last."""
        ...

    def search(self, query: str, options: AskOptions | None = None) -> SearchResult:
        """The passages found for `query`, best first, without an answer."""
        ...

    def retriever(self) -> object:
        """Loads the index (a warm-up); raises IndexNotFoundError when there is none."""
        ...

    def document(self, source: str) -> Document | None: ...

    def documents(self) -> list[DocumentRecord]: ...

    def reindex(
        self, *, full: bool = False, progress: Progress | None = None, wait: bool = False
    ) -> IndexReport: ...

    def delete_document(self, source: str) -> IndexReport: ...
