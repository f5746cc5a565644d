"""The one API that the CLI, the web chat and the evaluation all call.

INTERFACE STUB: signatures are fixed; bodies are being written.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from askfront.config import Settings
from askfront.types import Answer, Document, DocumentRecord, IndexReport, Turn

# Progress callback: (stage description, done, total).
Progress = Callable[[str, int, int], None]


class Assistant:
    def __init__(self, settings: Settings | None = None) -> None:
        self.settings = settings or Settings()

    def ask(
        self,
        question: str,
        history: Sequence[Turn] = (),
        *,
        top_k: int | None = None,
        hybrid: bool | None = None,
        sources: Sequence[str] | None = None,
        date_from: str | None = None,
        date_to: str | None = None,
        mode: str | None = None,
    ) -> Answer:
        """Answer `question` in the context of `history`. Never raises for bad questions:
        an empty or over-long question gives an Answer with refused=True and a notice."""
        raise NotImplementedError

    def ask_stream(
        self, question: str, history: Sequence[Turn] = (), **options: object
    ) -> Iterator[str | Answer]:
        """Like ask(), but yields text deltas as they come, then the final Answer last."""
        raise NotImplementedError

    def document(self, source: str) -> Document | None:
        """The normalized document (text that citation offsets point into), or None."""
        raise NotImplementedError

    def documents(self) -> list[DocumentRecord]:
        raise NotImplementedError

    def reindex(self, *, full: bool = False, progress: Progress | None = None) -> IndexReport:
        """Sync the index with corpus_dir. Answers keep coming from the previous
        retriever until the rebuild finishes, then the new one is swapped in."""
        raise NotImplementedError

    def delete_document(self, source: str) -> IndexReport:
        """Delete corpus_dir/source and drop its chunks from the index."""
        raise NotImplementedError

    def modes(self) -> list[str]:
        """Answer modes the UI may offer: "extractive" plus the configured LLM backend."""
        raise NotImplementedError
