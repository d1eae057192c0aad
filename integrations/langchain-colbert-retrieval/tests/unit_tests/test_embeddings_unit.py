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


def test_default_single_vector_is_the_base_models_sentence_embedding() -> None:
    from sentence_transformers import SentenceTransformer

    from colbert_retrieval.models._default import minilm_path

    embeddings = ColBERTEmbeddings(model=shared_model())
    base = SentenceTransformer(minilm_path(), device="cpu")
    np.testing.assert_allclose(
        embeddings.embed_query("vitamin c"), base.encode("vitamin c", normalize_embeddings=True), atol=1e-5
    )
    texts = ["a b c", "scurvy is caused by a lack of vitamin c"]
    np.testing.assert_allclose(
        embeddings.embed_documents(texts), base.encode(texts, normalize_embeddings=True), atol=1e-5
    )
    docs = embeddings.embed_documents_multi(texts)
    assert [d.shape[1] for d in docs] == [128, 128]
    assert embeddings.embed_documents([]) == []


def test_mean_single_vector_is_the_normalised_mean_of_the_token_vectors() -> None:
    embeddings = ColBERTEmbeddings(model=shared_model(), single_vector="mean")
    tokens = embeddings.embed_query_multi("vitamin c")
    expected = tokens.mean(axis=0) / np.linalg.norm(tokens.mean(axis=0))
    np.testing.assert_allclose(embeddings.embed_query("vitamin c"), expected, atol=1e-6)
    muvera = ColBERTEmbeddings(model=shared_model(), single_vector="muvera")
    assert len(muvera.embed_query("vitamin c")) == len(muvera.embed_documents(["scurvy"])[0]) == 4096
    with pytest.raises(ValueError, match="single-vector method"):
        ColBERTEmbeddings(model=shared_model(), single_vector="max")


def test_bad_model_argument() -> None:
    with pytest.raises(TypeError, match="ColBERT"):
        ColBERTEmbeddings(model=42)
