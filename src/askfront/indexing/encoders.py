"""The embedding models askfront runs itself, as LangChain Embeddings: the int8 ONNX
encoder and the model2vec static model (askfront.indexing.embeddings picks and loads them).

A module of their own because subclassing LangChain's Embeddings imports langchain_core
(~0.1 s), which a no-op `askfront index` never needs.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from langchain_core.embeddings import Embeddings

from askfront.indexing.embeddings import MAX_SEQ_TOKENS


class StaticEmbeddings(Embeddings):
    """A model2vec static model: token vectors averaged, ~100x faster than MiniLM on CPU."""

    def __init__(self, folder: Path) -> None:
        from model2vec import StaticModel

        self.model = StaticModel.from_pretrained(str(folder), normalize=True)

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self.model.encode(texts, max_length=None).tolist()

    def embed_query(self, text: str) -> list[float]:
        return self.embed_documents([text])[0]


class OnnxEmbeddings(Embeddings):
    """Mean-pooled, normalized sentence embeddings from an ONNX encoder via onnxruntime.

    Texts are encoded one at a time: dynamic int8 quantization scales activations per run,
    so in a batch a text's vector would depend on its batch mates (and their padding).
    One at a time, a text always gets the same vector, there is no padding to compute,
    and on this CPU it measured faster than batches of 4-64 (benchmarks/onnx_batches.py).
    Documents use every core; queries a separate one-thread session, so concurrent
    requests of the web chat don't fight over the cores.
    """

    def __init__(self, model_file: Path) -> None:
        import onnxruntime as ort
        from tokenizers import Tokenizer

        self._ort = ort
        self.model_file = model_file
        conf_file = model_file.parent / "sentence_bert_config.json"
        conf = json.loads(conf_file.read_text()) if conf_file.is_file() else {}
        self.max_tokens = int(conf.get("max_seq_length", MAX_SEQ_TOKENS))
        self.tokenizer = Tokenizer.from_file(str(model_file.parent / "tokenizer.json"))
        self.tokenizer.enable_truncation(self.max_tokens)
        self.tokenizer.no_padding()
        # Made on first use: a process that only answers never loads the bulk session.
        self._sessions: dict[int, Any] = {}  # by thread count; 0 = one per core
        self._lock = threading.Lock()

    def session(self, threads: int) -> Any:
        """The onnxruntime session with `threads` intra-op threads (0: one per core)."""
        if threads not in self._sessions:
            with self._lock:
                if threads not in self._sessions:
                    self._sessions[threads] = self._new_session(threads)
        return self._sessions[threads]

    def _new_session(self, threads: int) -> Any:
        opts = self._ort.SessionOptions()
        opts.intra_op_num_threads = threads
        opts.inter_op_num_threads = 1
        # Idle worker threads would otherwise spin and steal the other requests' CPU.
        opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
        return self._ort.InferenceSession(
            str(self.model_file), opts, providers=["CPUExecutionProvider"]
        )

    @staticmethod
    def _run(session: Any, ids: Sequence[int]) -> np.ndarray:
        row = np.asarray([ids], dtype=np.int64)
        feeds = {"input_ids": row, "attention_mask": np.ones_like(row), "token_type_ids": 0 * row}
        vec = session.run(None, feeds)[0][0].mean(axis=0)  # no padding: a plain mean pools
        return vec / max(float(np.linalg.norm(vec)), 1e-12)

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        encodings = self.tokenizer.encode_batch(texts)  # Rust, all cores
        session = self.session(threads=0)
        return [self._run(session, e.ids).tolist() for e in encodings]

    def embed_query(self, text: str) -> list[float]:
        return self._run(self.session(threads=1), self.tokenizer.encode(text).ids).tolist()
