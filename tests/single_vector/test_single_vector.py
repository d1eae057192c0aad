"""Single vectors for framework embeddings: sentence (default), MUVERA and mean."""

from __future__ import annotations

import numpy as np
import pytest

from colbert_retrieval.errors import EmptyInputError, InvalidArgumentError
from colbert_retrieval.single_vector import (
    SINGLE_VECTOR_METHODS,
    MuveraConfig,
    encode_single_vectors,
    muvera_document,
    muvera_query,
)
from colbert_retrieval.testing import SAMPLE_QUERY, SAMPLE_TEXTS, shared_model

MODEL = shared_model()


def test_sentence_vectors_keep_input_order_and_are_unit_vectors() -> None:
    texts = [*SAMPLE_TEXTS, "short"]
    batch = encode_single_vectors(MODEL, texts, is_query=False, batch_size=2)  # length-sorted inside
    one_by_one = np.stack([encode_single_vectors(MODEL, t, is_query=False) for t in texts])
    assert batch.shape == (len(texts), 384) and batch.dtype == np.float32
    np.testing.assert_allclose(batch, one_by_one, atol=1e-5)
    np.testing.assert_allclose(np.linalg.norm(batch, axis=1), 1.0, atol=1e-5)
    query = encode_single_vectors(MODEL, SAMPLE_QUERY, is_query=True)
    assert query.shape == (384,)
    assert int(np.argmax(batch[: len(SAMPLE_TEXTS)] @ query)) == 0  # the scurvy text answers the sample query


def test_mean_and_muvera_come_from_the_token_vectors() -> None:
    tokens = MODEL.encode(SAMPLE_TEXTS, is_query=False)
    mean = encode_single_vectors(MODEL, SAMPLE_TEXTS, is_query=False, method="mean")
    expected = np.stack([t.mean(0) / np.linalg.norm(t.mean(0)) for t in tokens])
    np.testing.assert_allclose(mean, expected, atol=1e-6)
    config = MuveraConfig(dim=128)
    documents = encode_single_vectors(MODEL, SAMPLE_TEXTS, is_query=False, method="muvera")
    np.testing.assert_allclose(documents, np.stack([muvera_document(t, config) for t in tokens]), atol=1e-5)
    query = encode_single_vectors(MODEL, SAMPLE_QUERY, is_query=True, method="muvera")
    np.testing.assert_allclose(query, muvera_query(MODEL.encode(SAMPLE_QUERY, is_query=True), config), atol=1e-5)
    assert documents.shape == (len(SAMPLE_TEXTS), config.output_dim)


def test_bad_arguments_are_typed_errors() -> None:
    assert SINGLE_VECTOR_METHODS[0] == "sentence"
    with pytest.raises(InvalidArgumentError, match="single-vector method"):
        encode_single_vectors(MODEL, ["x"], is_query=False, method="max")
    with pytest.raises(InvalidArgumentError, match="batch_size"):
        encode_single_vectors(MODEL, ["x"], is_query=False, batch_size=0)
    with pytest.raises(EmptyInputError):
        encode_single_vectors(MODEL, ["  "], is_query=False)
    assert encode_single_vectors(MODEL, [], is_query=False).shape == (0, 0)
