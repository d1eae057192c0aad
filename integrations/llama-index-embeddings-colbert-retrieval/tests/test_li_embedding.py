from __future__ import annotations

import asyncio
import os

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import llama_index.embeddings.colbert_retrieval as package
from llama_index.embeddings.colbert_retrieval import ColBERTEmbedding

from colbert_retrieval.testing import shared_model

MODEL = shared_model()


def test_all_is_frozen() -> None:
    assert package.__all__ == ["ColBERTEmbedding"]


def test_default_single_vector_is_the_base_models_sentence_embedding() -> None:
    from sentence_transformers import SentenceTransformer

    from colbert_retrieval.models._default import minilm_path

    embedding = ColBERTEmbedding(model=MODEL)
    vector = np.array(embedding.get_query_embedding("vitamin c"))
    base = SentenceTransformer(minilm_path(), device="cpu").encode("vitamin c", normalize_embeddings=True)
    np.testing.assert_allclose(vector, base, atol=1e-5)
    texts = embedding.get_text_embedding_batch(["scurvy", "paris"])
    assert len(texts) == 2 and len(texts[0]) == 384
    assert asyncio.run(embedding.aget_query_embedding("vitamin c")) == vector.tolist()


def test_mean_and_muvera_single_vectors() -> None:
    tokens = MODEL.encode("vitamin c", is_query=True)
    mean = np.array(ColBERTEmbedding(model=MODEL, single_vector="mean").get_query_embedding("vitamin c"))
    np.testing.assert_allclose(mean, tokens.mean(0) / np.linalg.norm(tokens.mean(0)), atol=1e-6)
    muvera = ColBERTEmbedding(model=MODEL, single_vector="muvera")
    assert len(muvera.get_query_embedding("vitamin c")) == len(muvera.get_text_embedding("scurvy")) == 4096


def test_unknown_single_vector_is_refused() -> None:
    import pytest

    from colbert_retrieval.errors import InvalidArgumentError

    with pytest.raises(InvalidArgumentError, match="single-vector method"):
        ColBERTEmbedding(model=MODEL, single_vector="max")
