"""Shared fixtures: tiny checkpoints of every supported format, built in-process once per session."""

from __future__ import annotations

import atexit
import json
import os
import shutil
import string
import tempfile
from pathlib import Path

import pytest
import torch

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
# ONNX / OpenVINO exports of the tests go to a throwaway folder, not the user's ~/.cache.
if "COLBERT_RETRIEVAL_CACHE" not in os.environ:
    os.environ["COLBERT_RETRIEVAL_CACHE"] = tempfile.mkdtemp(prefix="colbert-retrieval-cache-")
    atexit.register(shutil.rmtree, os.environ["COLBERT_RETRIEVAL_CACHE"], ignore_errors=True)

FIXTURES = Path(__file__).parent / "fixtures"
WORDS = [
    "the",
    "a",
    "of",
    "and",
    "to",
    "in",
    "is",
    "was",
    "for",
    "on",
    "with",
    "as",
    "by",
    "at",
    "from",
    "it",
    "that",
    "this",
    "be",
    "are",
    "vitamin",
    "scurvy",
    "disease",
    "lack",
    "cancer",
    "cholesterol",
    "heart",
    "blood",
    "diet",
    "paris",
    "france",
    "capital",
    "city",
    "river",
    "statins",
    "risk",
    "study",
    "patients",
    "hello",
    "how",
    "you",
    "weather",
    "today",
    "what",
    "causes",
]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if torch.cuda.is_available():
        return
    skip = pytest.mark.skip(reason="needs a CUDA device")
    for item in items:
        if "gpu" in item.keywords:
            item.add_marker(skip)


def _build_tiny_bert(folder: Path, seed: int = 0) -> Path:
    from transformers import BertConfig, BertModel, BertTokenizerFast

    specials = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "[unused0]", "[unused1]"]
    vocab = specials + list(string.punctuation) + ["c"] + WORDS
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "vocab.txt").write_text("\n".join(vocab) + "\n")
    vocab_ids = {token: index for index, token in enumerate(vocab)}
    BertTokenizerFast(vocab=vocab_ids, do_lower_case=True).save_pretrained(str(folder))
    torch.manual_seed(seed)
    config = BertConfig(
        vocab_size=len(vocab),
        hidden_size=16,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=32,
        max_position_embeddings=128,
    )
    BertModel(config).save_pretrained(str(folder))
    return folder


@pytest.fixture(scope="session")
def tiny_bert_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A plain transformers BERT (1 layer, 16-d, 50-word vocabulary)."""
    return _build_tiny_bert(tmp_path_factory.mktemp("tiny_bert"))


@pytest.fixture(scope="session")
def tiny_st_dir(tmp_path_factory: pytest.TempPathFactory, tiny_bert_dir: Path) -> Path:
    """The tiny BERT saved as a plain (mean-pooling) sentence-transformers model."""
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.sentence_transformer.modules import Pooling, Transformer

    transformer = Transformer(str(tiny_bert_dir))
    model = SentenceTransformer(modules=[transformer, Pooling(transformer.get_embedding_dimension())])
    folder = tmp_path_factory.mktemp("tiny_st")
    model.save(str(folder))
    return folder


@pytest.fixture(scope="session")
def stanford_dir(tmp_path_factory: pytest.TempPathFactory, tiny_bert_dir: Path) -> Path:
    """A Stanford ColBERT (HF_ColBERT) checkpoint: inline ``linear`` weights and artifact.metadata."""
    from safetensors.torch import load_file, save_file

    folder = tmp_path_factory.mktemp("stanford")
    for item in tiny_bert_dir.iterdir():
        shutil.copy(item, folder / item.name)
    config = json.loads((folder / "config.json").read_text())
    config["architectures"] = ["HF_ColBERT"]
    (folder / "config.json").write_text(json.dumps(config))
    weights = {f"bert.{k}": v for k, v in load_file(folder / "model.safetensors").items()}
    weights["linear.weight"] = torch.randn(6, 16, generator=torch.Generator().manual_seed(1))
    save_file(weights, folder / "model.safetensors")
    metadata = {
        "query_token_id": "[unused0]",
        "doc_token_id": "[unused1]",
        "query_maxlen": 10,
        "doc_maxlen": 20,
        "attend_to_mask_tokens": False,
        "mask_punctuation": True,
    }
    (folder / "artifact.metadata").write_text(json.dumps(metadata))
    return folder


@pytest.fixture(scope="session")
def pylate_tiny_dir() -> Path:
    """A tiny checkpoint converted and saved by PyLate 1.6 (see fixtures/make_pylate_fixture.py)."""
    return FIXTURES / "pylate_tiny"


@pytest.fixture(scope="session")
def minilm():
    """The offline default model, loaded once."""
    from colbert_retrieval import default_model

    return default_model(device="cpu")


@pytest.fixture(scope="session")
def tiny_colbert(tiny_bert_dir: Path):
    """A ColBERT converted from the tiny BERT with PyLate defaults (seeded head)."""
    from colbert_retrieval import ColBERT

    torch.manual_seed(0)
    return ColBERT(
        str(tiny_bert_dir),
        device="cpu",
        embedding_size=8,
        query_length=12,
        document_length=24,
        inference_precision="float32",  # compared with sentence-transformers' float32 forward to 1e-6
    )
