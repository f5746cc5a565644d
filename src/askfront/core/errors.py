"""askfront's own exceptions. Each message tells the user what to do next."""

from __future__ import annotations


class AskfrontError(Exception):
    """Base class: anything the CLI and UI show as a plain message, never a traceback."""


class ConfigError(AskfrontError):
    """A setting is invalid or points at something that is not there."""


class MissingExtraError(AskfrontError):
    """An optional dependency is not installed."""

    def __init__(self, package: str, extra: str) -> None:
        target = "askfront" if extra == "default" else f"'askfront[{extra}]'"
        super().__init__(f"{package} is not installed. Install it with: pip install {target}")


class DocumentError(AskfrontError):
    """A file could not be read as a document; the reason says why."""


class IndexLockedError(AskfrontError):
    """Another rebuild holds the index lock."""


class IndexNotFoundError(AskfrontError):
    """There is no index yet where one was expected."""


class StoreUnavailableError(AskfrontError):
    """The vector store (e.g. a Chroma server) cannot be reached."""


class IndexWarmingError(AskfrontError):
    """A replica is still filling its cache: questions about the whole collection must wait."""


class LLMUnavailableError(AskfrontError):
    """The configured LLM backend failed, timed out or cannot be reached."""


class QuestionError(AskfrontError):
    """The question cannot be answered as asked (empty, too long, ...)."""


class DiskFullError(AskfrontError):
    """The index could not be written because its disk is full."""


class IndexWriteError(AskfrontError):
    """A sync failed for a reason askfront has no more specific message for."""
