from __future__ import annotations

import numpy as np

from colbert_retrieval.single_vector import MuveraConfig, mean_vector, muvera_document, muvera_query


def unit(rng: np.random.Generator, n: int, dim: int) -> np.ndarray:
    x = rng.standard_normal((n, dim)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def test_muvera_dot_product_tracks_maxsim() -> None:
    rng = np.random.default_rng(0)
    config = MuveraConfig(dim=16, k_sim=3, dim_proj=16, repetitions=20)
    centers = unit(rng, 40, 16)
    docs = [unit(rng, 1, 16) * 0.2 + centers[i] + 0.3 * unit(rng, 12, 16) for i in range(40)]
    docs = [d / np.linalg.norm(d, axis=1, keepdims=True) for d in docs]
    query = centers[3] + 0.3 * unit(rng, 6, 16)
    query /= np.linalg.norm(query, axis=1, keepdims=True)
    maxsim = np.array([(query @ d.T).max(axis=1).sum() for d in docs])
    fde = np.array([muvera_query(query, config) @ muvera_document(d, config) for d in docs])
    ranks = lambda a: np.argsort(np.argsort(a))  # noqa: E731
    spearman = np.corrcoef(ranks(maxsim), ranks(fde))[0, 1]
    assert spearman > 0.6
    assert int(np.argmax(fde)) == int(np.argmax(maxsim)) == 3


def test_muvera_is_deterministic_and_sized() -> None:
    config = MuveraConfig(dim=8, k_sim=2, dim_proj=4, repetitions=3, seed=7)
    x = unit(np.random.default_rng(1), 5, 8)
    a = muvera_document(x, MuveraConfig(dim=8, k_sim=2, dim_proj=4, repetitions=3, seed=7))
    np.testing.assert_array_equal(a, muvera_document(x, config))
    assert a.shape == (config.output_dim,) == (3 * 4 * 4,)
    assert not np.array_equal(a, muvera_document(x, MuveraConfig(dim=8, k_sim=2, dim_proj=4, repetitions=3, seed=8)))


def test_mean_vector_is_unit() -> None:
    v = mean_vector(unit(np.random.default_rng(2), 7, 5))
    assert abs(float(np.linalg.norm(v)) - 1.0) < 1e-6
