from __future__ import annotations

import numpy as np
import pytest
from langchain_colbert_retrieval import ColBERTEmbeddings
from langchain_tests.unit_tests import EmbeddingsUnitTests
from lc_shared import shared_model


class TestColBERTEmbeddingsUnit(EmbeddingsUnitTests):
    @property
    def embeddings_class(self) -> type[ColBERTEmbeddings]:
        return ColBERTEmbeddings

    @property
    def embedding_model_params(self) -> dict:
        return {"model": shared_model()}


def test_single_vector_is_the_normalised_mean_of_the_token_vectors() -> None:
    embeddings = ColBERTEmbeddings(model=shared_model())
    tokens = embeddings.embed_query_multi("vitamin c")
    vector = np.array(embeddings.embed_query("vitamin c"))
    expected = tokens.mean(axis=0) / np.linalg.norm(tokens.mean(axis=0))
    np.testing.assert_allclose(vector, expected, atol=1e-6)
    docs = embeddings.embed_documents_multi(["a b c", "scurvy"])
    assert [d.shape[1] for d in docs] == [128, 128]
    assert embeddings.embed_documents([]) == []


def test_bad_model_argument() -> None:
    with pytest.raises(TypeError, match="ColBERT"):
        ColBERTEmbeddings(model=42)
