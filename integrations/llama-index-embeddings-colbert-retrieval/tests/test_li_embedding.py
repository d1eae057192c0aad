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


def test_single_vector_is_the_normalised_mean() -> None:
    embedding = ColBERTEmbedding(model=MODEL)
    vector = np.array(embedding.get_query_embedding("vitamin c"))
    tokens = MODEL.encode("vitamin c", is_query=True)
    np.testing.assert_allclose(vector, tokens.mean(0) / np.linalg.norm(tokens.mean(0)), atol=1e-6)
    texts = embedding.get_text_embedding_batch(["scurvy", "paris"])
    assert len(texts) == 2 and len(texts[0]) == 128
    assert asyncio.run(embedding.aget_query_embedding("vitamin c")) == vector.tolist()
