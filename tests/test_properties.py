"""Property tests (Hypothesis): scoring and pooling agree with their definitions on any shapes."""

from __future__ import annotations

import numpy as np
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from colbert_retrieval import scores
from colbert_retrieval.pooling import pool_embeddings_hierarchical, pooled_length
from colbert_retrieval.pylate import rank

lengths = st.lists(st.integers(min_value=1, max_value=12), min_size=1, max_size=6)


def matrices(draw_lengths: list[int], dim: int, seed: int) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [rng.standard_normal((n, dim)).astype(np.float32) for n in draw_lengths]


def brute(q: np.ndarray, d: np.ndarray) -> float:
    return float((q.astype(np.float64) @ d.T.astype(np.float64)).max(axis=1).sum())


@settings(max_examples=40, deadline=None)
@given(query_lengths=lengths, document_lengths=lengths, dim=st.integers(1, 9), seed=st.integers(0, 2**16))
def test_maxsim_of_ragged_lists_is_the_definition(
    query_lengths: list[int], document_lengths: list[int], dim: int, seed: int
) -> None:
    queries = matrices(query_lengths, dim, seed)
    documents = matrices(document_lengths, dim, seed + 1)
    got = scores.colbert_scores(queries, documents).numpy()
    expected = [[brute(q, d) for d in documents] for q in queries]
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-4)
    chunked = scores.colbert_scores(queries, documents, chunk_elements=1).numpy()
    np.testing.assert_allclose(chunked, got, rtol=1e-5, atol=1e-5)


@settings(max_examples=40, deadline=None)
@given(document_lengths=lengths, dim=st.integers(1, 9), seed=st.integers(0, 2**16), batch=st.integers(1, 4))
def test_rerank_returns_every_candidate_once_best_first(
    document_lengths: list[int], dim: int, seed: int, batch: int
) -> None:
    query = matrices([5], dim, seed)[0]
    documents = matrices(document_lengths, dim, seed + 1)
    ids = [f"d{i}" for i in range(len(documents))]
    ranked = rank.rerank([ids], [query], [documents], batch_size=batch)[0]
    assert sorted(r["id"] for r in ranked) == sorted(ids)
    values = [r["score"] for r in ranked]
    assert values == sorted(values, reverse=True)
    by_id = {r["id"]: r["score"] for r in ranked}
    for i, document in zip(ids, documents):
        assert abs(by_id[i] - brute(query, document)) <= 1e-4 * max(1.0, abs(by_id[i]))


@settings(max_examples=30, deadline=None)
@given(
    document_lengths=st.lists(st.integers(1, 40), min_size=1, max_size=5),
    pool_factor=st.integers(1, 5),
    protected=st.integers(0, 2),
    seed=st.integers(0, 2**16),
)
def test_pooled_documents_have_pooled_length_and_keep_protected_rows(
    document_lengths: list[int], pool_factor: int, protected: int, seed: int
) -> None:
    docs = [torch.nn.functional.normalize(torch.from_numpy(m), dim=-1) for m in matrices(document_lengths, 8, seed)]
    pooled = pool_embeddings_hierarchical(docs, pool_factor, protected)
    for doc, out in zip(docs, pooled):
        assert out.shape == (pooled_length(doc.shape[0], pool_factor, protected), 8)
        assert torch.equal(out[: min(protected, doc.shape[0])], doc[:protected])
