"""Answer backends by name: the `llm` setting is `extractive`, `ollama:MODEL`, `openai:MODEL`
or `local:PATH`.

Backends live in BACKENDS (prefix -> factory), the way simonw/llm plugins register models;
`register_backend` adds one. A factory receives the text after the colon, the
`BackendOptions` (filled from the settings by the Assistant: factories never read
settings), the extractive answerer (every generative backend falls back to it) and the
embeddings (for claim verification).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from askfront.answering.base import Answerer, AnswererFactory
from askfront.core.errors import ConfigError, MissingExtraError

if TYPE_CHECKING:
    from langchain_core.embeddings import Embeddings
    from langchain_core.language_models.chat_models import BaseChatModel

    from askfront.grounding.nli import EntailmentScorer

logger = logging.getLogger(__name__)

OLLAMA_DEFAULT_URL = "http://127.0.0.1:11434"
OPENAI_DEFAULT_URL = "https://api.openai.com/v1"
CONDENSE_MAX_TOKENS = 64  # a rewritten question is one line


@dataclass(frozen=True)
class BackendOptions:
    """What a backend factory may use besides its model name."""

    base_url: str | None = None  # the server's URL; each backend has its own default
    api_key: str | None = None
    timeout: float = 60.0  # seconds one answer may take before the extractive fallback
    max_tokens: int = 256
    nli: EntailmentScorer | None = None  # optional entailment scorer for verification


def get_answerer(
    spec: str,
    options: BackendOptions,
    *,
    extractive: Answerer,
    embeddings: Embeddings | None,
) -> Answerer:
    """The answerer for `spec` (extractive | ollama:MODEL | openai:MODEL | local:PATH | any
    registered prefix).

    Raises:
        ConfigError: unknown prefix, missing model name, or a local model that is not there.
        MissingExtraError: the backend's client package is not installed.
    """
    spec = spec.strip()
    prefix, _, arg = spec.partition(":")
    prefix = prefix.strip().lower()
    factory = BACKENDS.get(prefix)
    if factory is None:
        valid = ", ".join(f"{p}:MODEL" if p in _NEEDS_ARG else p for p in BACKENDS)
        raise ConfigError(f"Unknown LLM backend {spec!r}. Valid choices: {valid}.")
    if prefix in _NEEDS_ARG and not arg.strip():
        raise ConfigError(f"LLM backend {prefix!r} needs a model, e.g. {_NEEDS_ARG[prefix]}.")
    return factory(arg.strip(), options, extractive=extractive, embeddings=embeddings)


def register_backend(prefix: str, factory: AnswererFactory, example: str | None = None) -> None:
    """Add (or replace) a backend; `example` (e.g. "foo:model-name") makes it require an arg."""
    BACKENDS[prefix.lower()] = factory
    if example:
        _NEEDS_ARG[prefix.lower()] = example


def _extractive(
    arg: str, options: BackendOptions, *, extractive: Answerer, embeddings: Embeddings | None
) -> Answerer:
    return extractive


def _llm_answerer(
    options: BackendOptions,
    spec: str,
    make: Callable[[int], BaseChatModel],
    endpoint: str | None,
    extractive: Answerer,
    embeddings: Embeddings | None,
) -> Answerer:
    """An LLMAnswerer over `make(max_tokens)`: one model for answers, a short one for
    condensing follow-ups."""
    from askfront.answering.llm import LLMAnswerer

    return LLMAnswerer(
        make(options.max_tokens),
        condense_model=make(CONDENSE_MAX_TOKENS),
        embeddings=embeddings,
        extractive=extractive,
        spec=spec,
        timeout=options.timeout,
        endpoint=endpoint,
        nli=options.nli,
    )


def _ollama(
    arg: str, options: BackendOptions, *, extractive: Answerer, embeddings: Embeddings | None
) -> Answerer:
    try:
        from langchain_ollama import ChatOllama
    except ImportError as exc:
        raise MissingExtraError("langchain-ollama", "llm") from exc
    url = options.base_url or OLLAMA_DEFAULT_URL

    def make(max_tokens: int) -> BaseChatModel:
        return ChatOllama(
            model=arg,
            base_url=url,
            num_predict=max_tokens,
            temperature=0,
            client_kwargs={"timeout": options.timeout},
        )

    return _llm_answerer(options, f"ollama:{arg}", make, url, extractive, embeddings)


def _openai(
    arg: str, options: BackendOptions, *, extractive: Answerer, embeddings: Embeddings | None
) -> Answerer:
    try:
        from langchain_openai import ChatOpenAI
        from pydantic import SecretStr
    except ImportError as exc:
        raise MissingExtraError("langchain-openai", "llm") from exc
    url = options.base_url

    def make(max_tokens: int) -> BaseChatModel:
        # OpenAI itself wants max_completion_tokens (what ChatOpenAI sends for max_tokens);
        # llama.cpp, vLLM and Ollama's compatible endpoints read the older max_tokens.
        tokens: dict[str, Any] = (
            {"extra_body": {"max_tokens": max_tokens}} if url else {"max_tokens": max_tokens}
        )
        return ChatOpenAI(
            model=arg,
            base_url=url,
            # Local servers ignore the key, but the client refuses to start without one.
            api_key=SecretStr(options.api_key or "not-needed"),
            timeout=options.timeout,
            max_retries=0,  # fail fast: the fallback answer is better than a long wait
            temperature=0,
            **tokens,
        )

    return _llm_answerer(
        options, f"openai:{arg}", make, url or OPENAI_DEFAULT_URL, extractive, embeddings
    )


def _local(
    arg: str, options: BackendOptions, *, extractive: Answerer, embeddings: Embeddings | None
) -> Answerer:
    from askfront.answering.local import LocalChatModel, load_local_model

    loaded = load_local_model(arg)

    def make(max_tokens: int) -> BaseChatModel:
        return LocalChatModel(
            hf_model=loaded.model,
            tokenizer=loaded.tokenizer,
            model_name=loaded.name,
            max_new_tokens=max_tokens,
            timeout=options.timeout,
            lock=loaded.lock,
        )

    # No endpoint: the spec already names the file, and "unreachable at" makes no sense here.
    return _llm_answerer(options, f"local:{arg}", make, None, extractive, embeddings)


BACKENDS: dict[str, AnswererFactory] = {
    "extractive": _extractive,
    "ollama": _ollama,
    "openai": _openai,
    "local": _local,
}
_NEEDS_ARG: dict[str, str] = {
    "ollama": "ollama:llama3.2",
    "openai": "openai:gpt-4o-mini",
    "local": "local:/path/to/model.gguf",
}
