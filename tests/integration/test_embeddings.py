"""The embedding component: the int8 ONNX default against the fp32 sentence-transformers model."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from langchain_core.embeddings import Embeddings

from askfront.assistant import embedding_spec
from askfront.core.config import Settings
from askfront.core.errors import ConfigError
from askfront.indexing.embeddings import (
    ONNX_FILE,
    OnnxEmbeddings,
    bundled_model_path,
    fingerprint,
    get_embeddings,
    onnx_model_file,
)

SENTENCES = [
    "Ramchandra Khadka, a Nepali veteran, signed a contract with the Russian army.",
    "Hundreds of foreign fighters have been recruited to fight in Ukraine.",
    "The recipe calls for two cups of flour and a pinch of salt.",
    "Kyiv's defence ministry said the brigade had been withdrawn from the front.",
]
QUERIES = {
    "Who is the Nepali veteran who joined Russia's army?": 0,
    "How do you bake bread with flour?": 2,
    "Which brigade was pulled back from the front line?": 3,
}


@pytest.fixture(scope="module")
def torch_embeddings() -> Embeddings:
    return get_embeddings(embedding_spec(Settings(embedding_backend="torch")))


@pytest.mark.e2e
def test_int8_vectors_stay_close_to_fp32(
    real_embeddings: Embeddings, torch_embeddings: Embeddings
) -> None:
    assert isinstance(real_embeddings, OnnxEmbeddings)
    int8 = np.array(real_embeddings.embed_documents(SENTENCES))
    fp32 = np.array(torch_embeddings.embed_documents(SENTENCES))
    assert int8.shape == fp32.shape == (len(SENTENCES), 384)
    assert np.allclose(np.linalg.norm(int8, axis=1), 1.0, atol=1e-4)
    assert (int8 * fp32).sum(axis=1).min() > 0.98


@pytest.mark.e2e
def test_int8_ranks_like_fp32(real_embeddings: Embeddings, torch_embeddings: Embeddings) -> None:
    for embeddings in (real_embeddings, torch_embeddings):
        docs = np.array(embeddings.embed_documents(SENTENCES))
        for query, best in QUERIES.items():
            scores = docs @ np.array(embeddings.embed_query(query))
            assert int(scores.argmax()) == best, (type(embeddings).__name__, query)


@pytest.mark.e2e
def test_a_text_gets_the_same_vector_alone_or_in_a_list(real_embeddings: Embeddings) -> None:
    one_by_one = [real_embeddings.embed_documents([s])[0] for s in SENTENCES]
    batched = real_embeddings.embed_documents(SENTENCES)
    assert np.array_equal(np.array(one_by_one), np.array(batched))  # batch mates change nothing
    assert real_embeddings.embed_documents([]) == []


@pytest.mark.e2e
def test_text_past_the_token_limit_is_truncated_not_rejected(real_embeddings: Embeddings) -> None:
    long = " ".join(SENTENCES * 40)  # ~2,000 word pieces
    vec = np.array(real_embeddings.embed_documents([long])[0])
    head = np.array(real_embeddings.embed_documents([" ".join(SENTENCES * 3)])[0])
    assert float(vec @ head) > 0.9  # only the first 256 word pieces count, as in MiniLM


def test_backend_is_part_of_the_fingerprint() -> None:
    onnx, fp32 = Settings(), Settings(embedding_backend="torch")
    assert fingerprint(embedding_spec(onnx)) != fingerprint(embedding_spec(fp32))
    assert "int8" in fingerprint(embedding_spec(onnx)) and "int8" not in fingerprint(
        embedding_spec(fp32)
    )
    # The fast profile ignores the backend: its vectors come from the static model.
    fast = Settings(embedding_profile="fast")
    assert fingerprint(embedding_spec(fast)) == fingerprint(
        embedding_spec(fast.model_copy(update={"embedding_backend": "torch"}))
    )


@pytest.mark.e2e
def test_export_is_made_once_and_reused(real_embeddings: Embeddings) -> None:
    settings = Settings()  # the export real_embeddings already made
    made = onnx_model_file(embedding_spec(settings))
    assert made.name == ONNX_FILE and made.is_file()
    assert (made.parent / "tokenizer.json").is_file()
    stamp = made.stat().st_mtime_ns
    assert onnx_model_file(embedding_spec(settings)) == made and made.stat().st_mtime_ns == stamp
    assert not list(made.parent.parent.glob(".onnx-*"))  # no scratch folder left behind


def test_a_model_without_mean_pooling_names_the_torch_backend(tmp_path: Path) -> None:
    model = tmp_path / "cls-model"
    shutil.copytree(bundled_model_path(), model, ignore=shutil.ignore_patterns("*.safetensors"))
    pooling = model / "1_Pooling" / "config.json"
    conf = json.loads(pooling.read_text())
    conf.update(pooling_mode_mean_tokens=False, pooling_mode_cls_token=True)
    pooling.write_text(json.dumps(conf))
    settings = Settings(embedding_model=model, cache_dir=tmp_path / "cache")
    with pytest.raises(ConfigError, match="ASKFRONT_EMBEDDING_BACKEND=torch"):
        onnx_model_file(embedding_spec(settings))
    assert not (tmp_path / "cache").exists() or not any((tmp_path / "cache").iterdir())


@pytest.mark.e2e
def test_answering_does_not_import_torch(seed_index: Settings) -> None:
    """Cold start: `askfront ask` with the default backend never loads torch."""
    code = (
        "import sys\n"
        "from askfront.assistant import Assistant\n"
        "from askfront.core.config import Settings\n"
        f"s = Settings(corpus_dir={str(seed_index.corpus_dir)!r}, "
        f"index_dir={str(seed_index.index_dir)!r})\n"
        "answer = Assistant(s).ask('Who is Ramchandra Khadka?')\n"
        "assert answer.citations, answer.text\n"
        "print(sorted(m for m in ('torch', 'sentence_transformers') if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]", out.stdout + out.stderr


def test_an_unwritable_cache_dir_names_the_setting(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    settings = Settings(cache_dir=blocker / "cache")
    with pytest.raises(ConfigError, match="ASKFRONT_CACHE_DIR"):
        onnx_model_file(embedding_spec(settings))
