from __future__ import annotations

import numpy as np
import pytest
import torch

from colbert_retrieval import scores
from colbert_retrieval.errors import DimensionMismatchError, EmptyInputError


def brute_force(queries: list[np.ndarray], documents: list[np.ndarray]) -> np.ndarray:
    out = np.zeros((len(queries), len(documents)), dtype=np.float64)
    for i, q in enumerate(queries):
        for j, d in enumerate(documents):
            out[i, j] = sum(max(float(np.dot(qv, dv)) for dv in d) for qv in q)
    return out


def ragged(rng: np.random.Generator, count: int, low: int, high: int, dim: int) -> list[np.ndarray]:
    return [rng.standard_normal((int(rng.integers(low, high)), dim)).astype(np.float32) for _ in range(count)]


def test_ragged_matches_brute_force() -> None:
    rng = np.random.default_rng(0)
    queries, documents = ragged(rng, 3, 1, 6, 5), ragged(rng, 7, 1, 9, 5)
    got = scores.colbert_scores(queries, documents).numpy()
    np.testing.assert_allclose(got, brute_force(queries, documents), rtol=1e-5, atol=1e-5)


def test_all_negative_similarities_never_pick_padding() -> None:
    # Every real similarity is negative: a padded (zero) position would win the max if not masked.
    queries = [np.array([[1.0, 0.0]], dtype=np.float32)]
    documents = [
        np.array([[-1.0, 0.0]], dtype=np.float32),
        np.array([[-0.5, 0.0], [-0.9, 0.1]], dtype=np.float32),
    ]
    got = scores.colbert_scores(queries, documents).numpy()
    np.testing.assert_allclose(got, [[-1.0, -0.5]], atol=1e-6)
    np.testing.assert_allclose(got, brute_force(queries, documents), atol=1e-6)


def test_padded_with_masks_matches_brute_force_and_chunking() -> None:
    rng = np.random.default_rng(1)
    queries, documents = ragged(rng, 4, 2, 5, 3), ragged(rng, 11, 1, 6, 3)
    documents = [-np.abs(d) for d in documents]  # all-negative similarities for positive queries
    queries = [np.abs(q) for q in queries]
    q, q_mask = scores.pad_embeddings(queries)
    d, d_mask = scores.pad_embeddings(documents)
    expected = brute_force(queries, documents)
    np.testing.assert_allclose(scores.colbert_scores(q, d, q_mask, d_mask).numpy(), expected, rtol=1e-5, atol=1e-5)
    tiny_chunks = scores.colbert_scores(q, d, q_mask, d_mask, chunk_elements=1).numpy()
    np.testing.assert_allclose(tiny_chunks, expected, rtol=1e-5, atol=1e-5)


def test_masked_query_positions_add_nothing() -> None:
    q = torch.tensor([[[1.0, 0.0], [5.0, 5.0]]])
    d = torch.tensor([[[1.0, 0.0]]])
    assert scores.colbert_scores(q, d, torch.tensor([[True, False]])).item() == pytest.approx(1.0)


def test_pairwise_matches_diagonal() -> None:
    rng = np.random.default_rng(2)
    queries, documents = ragged(rng, 5, 1, 4, 6), ragged(rng, 5, 1, 7, 6)
    q, q_mask = scores.pad_embeddings(queries)
    d, d_mask = scores.pad_embeddings(documents)
    got = scores.colbert_scores_pairwise(q, d, q_mask, d_mask).numpy()
    np.testing.assert_allclose(got, np.diag(brute_force(queries, documents)), rtol=1e-5, atol=1e-5)


def test_document_without_tokens_scores_minus_infinity() -> None:
    q = torch.ones(1, 2, 3)
    d = torch.zeros(1, 4, 3)
    assert scores.colbert_scores(q, d, None, torch.zeros(1, 4, dtype=torch.bool)).item() == float("-inf")


def test_bfloat16_inputs_are_scored_in_float32_output() -> None:
    q = torch.randn(2, 3, 8).bfloat16()
    d = torch.randn(4, 5, 8).bfloat16()
    out = scores.colbert_scores(q, d)
    assert out.dtype == torch.float32
    np.testing.assert_allclose(out.numpy(), scores.colbert_scores(q.float(), d.float()).numpy(), atol=0.1)


def test_mask_from_padded_and_to_padded() -> None:
    padded = np.zeros((2, 3, 2), dtype=np.float32)
    padded[0, :2] = 1.0
    padded[1, :1] = 1.0
    assert scores.mask_from_padded(padded).tolist() == [[True, True, False], [True, False, False]]
    tensor, mask = scores.to_padded(padded)
    assert tensor.shape == (2, 3, 2) and mask.sum().item() == 3
    single, single_mask = scores.to_padded(np.ones((4, 2), dtype=np.float32))
    assert single.shape == (1, 4, 2) and single_mask.all()


def test_errors_are_typed() -> None:
    with pytest.raises(EmptyInputError):
        scores.pad_embeddings([])
    with pytest.raises(DimensionMismatchError, match="different dimensions"):
        scores.pad_embeddings([np.ones((1, 2)), np.ones((1, 3))])
    with pytest.raises(DimensionMismatchError, match="same model"):
        scores.colbert_scores(torch.ones(1, 1, 2), torch.ones(1, 1, 3))
    with pytest.raises(DimensionMismatchError, match="as many queries"):
        scores.colbert_scores_pairwise(torch.ones(2, 1, 2), torch.ones(1, 1, 2))
    with pytest.raises(DimensionMismatchError, match="does not match"):
        scores.to_padded(np.ones((2, 3, 2)), mask=np.ones((2, 2)))


def test_maximal_marginal_relevance_trades_relevance_for_diversity() -> None:
    import numpy as np

    from colbert_retrieval.errors import InvalidArgumentError
    from colbert_retrieval.scores import maximal_marginal_relevance

    rng = np.random.default_rng(0)
    unit = lambda x: x / np.linalg.norm(x, axis=-1, keepdims=True)  # noqa: E731
    query = unit(rng.standard_normal((4, 16))).astype(np.float32)
    base = unit(query + 0.3 * rng.standard_normal((4, 16))).astype(np.float32)
    docs = [base, unit(base + 0.01), unit(rng.standard_normal((6, 16))).astype(np.float32), base[:2]]
    relevance = [float((query @ d.T).max(axis=1).sum()) for d in docs]
    assert maximal_marginal_relevance(query, docs, k=4, lambda_mult=1.0) == list(np.argsort(relevance)[::-1])
    diverse = maximal_marginal_relevance(query, docs, k=2, lambda_mult=0.2)
    assert diverse[0] == int(np.argmax(relevance)) and diverse[1] == 2  # the unrelated one, not a near copy
    assert maximal_marginal_relevance(query, [], k=3) == []
    assert len(maximal_marginal_relevance(query, docs, k=10)) == len(docs)
    for bad in ({"k": 0}, {"lambda_mult": -0.1}, {"k": True}):
        with pytest.raises(InvalidArgumentError):
            maximal_marginal_relevance(query, docs, **bad)
