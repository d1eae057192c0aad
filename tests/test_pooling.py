from __future__ import annotations

import numpy as np
import pytest
import torch
from scipy.cluster import hierarchy
from scipy.spatial.distance import pdist

from colbert_retrieval.pooling import pool_embeddings_hierarchical, pooled_length


def unit_vectors(n: int, dim: int, seed: int) -> torch.Tensor:
    generator = torch.Generator().manual_seed(seed)
    return torch.nn.functional.normalize(torch.randn(n, dim, generator=generator), dim=-1)


def reference_pool(doc: np.ndarray, pool_factor: int, protected: int) -> np.ndarray:
    """Independent reference: SciPy Ward on pdist cosine distances, means per cluster label."""
    rest = doc[protected:].astype(np.float64)
    k = max(len(rest) // pool_factor, 1)
    labels = hierarchy.fcluster(hierarchy.linkage(pdist(rest, "cosine"), "ward"), t=k, criterion="maxclust")
    means = [rest[labels == label].mean(axis=0) for label in sorted(set(labels))]
    return np.concatenate([doc[:protected], np.array(means)], axis=0)


@pytest.mark.parametrize(("n", "pool_factor", "protected"), [(20, 2, 1), (33, 3, 1), (12, 2, 0), (9, 4, 2)])
def test_matches_independent_scipy_reference(n: int, pool_factor: int, protected: int) -> None:
    doc = unit_vectors(n, 8, seed=n)
    got = pool_embeddings_hierarchical([doc], pool_factor, protected)[0].numpy()
    expected = reference_pool(doc.numpy(), pool_factor, protected)
    assert got.shape == expected.shape == (pooled_length(n, pool_factor, protected), 8)
    np.testing.assert_allclose(got[:protected], doc.numpy()[:protected])

    # Same clusters, any order: compare row-sorted.
    def order(a):
        return a[np.lexsort(np.round(a, 5).T[::-1])]

    np.testing.assert_allclose(order(got[protected:]), order(expected[protected:]), atol=1e-5)


def test_cluster_means_are_not_renormalised_and_protected_first() -> None:
    doc = unit_vectors(10, 4, seed=3)
    pooled = pool_embeddings_hierarchical([doc], pool_factor=5)[0]
    assert torch.equal(pooled[0], doc[0])
    norms = pooled[1:].norm(dim=-1)
    assert (norms < 1 - 1e-4).any()


def test_identical_vectors_merge_and_small_documents_pass_through() -> None:
    doc = torch.tensor([[1.0, 0.0], [0.0, 1.0], [0.0, 1.0], [1.0, 0.0], [1.0, 0.0]])
    pooled = pool_embeddings_hierarchical([doc], pool_factor=2)[0]
    assert pooled.shape == (3, 2)
    assert {tuple(row.tolist()) for row in pooled[1:]} == {(0.0, 1.0), (1.0, 0.0)}
    short = torch.ones(2, 2)
    assert pool_embeddings_hierarchical([short], pool_factor=2)[0] is short


def test_invalid_arguments() -> None:
    with pytest.raises(ValueError, match="pool_factor"):
        pool_embeddings_hierarchical([torch.ones(3, 2)], pool_factor=0)
    with pytest.raises(ValueError, match="protected_tokens"):
        pool_embeddings_hierarchical([torch.ones(3, 2)], pool_factor=2, protected_tokens=-1)


def partition(labels: np.ndarray) -> list[tuple[int, ...]]:
    return sorted(tuple(np.flatnonzero(labels == v)) for v in np.unique(labels))


@pytest.mark.parametrize("pool_factor", [2, 3, 4])
def test_batched_torch_ward_gives_the_scipy_clusters(pool_factor: int) -> None:
    from colbert_retrieval.pooling import ward_labels
    from colbert_retrieval.ward import ward_cluster_labels

    rng = np.random.default_rng(pool_factor)
    lengths = rng.integers(2, 120, size=40)
    docs = [unit_vectors(int(n), 16, seed=int(n) * 7 + i) for i, n in enumerate(lengths)]
    padded = torch.nn.utils.rnn.pad_sequence(docs, batch_first=True)
    counts = torch.tensor(lengths)
    clusters = torch.clamp(counts // pool_factor, min=1)
    labels = ward_cluster_labels(padded, counts, clusters)
    for row, doc in enumerate(docs):
        ours = labels[row, : len(doc)].numpy()
        assert (labels[row, len(doc) :] == -1).all()
        assert len(np.unique(ours)) == int(clusters[row])
        if len(doc) >= 2:
            assert partition(ours) == partition(ward_labels(doc.numpy(), int(clusters[row])))


def test_torch_and_scipy_pooling_agree_on_model_embeddings(tiny_colbert) -> None:
    texts = [
        "statins lower cholesterol; study of patients with heart disease and cancer risk " * 2,
        "scurvy is a disease from a lack of vitamin c.",
        "paris is the capital city of france, on a river.",
    ]
    embeddings = [torch.from_numpy(e) for e in tiny_colbert.encode(texts, is_query=False)]

    def order(a: np.ndarray) -> np.ndarray:
        return a[np.lexsort(np.round(a, 5).T[::-1])]

    fast = pool_embeddings_hierarchical(embeddings, 2, method="torch")
    slow = pool_embeddings_hierarchical(embeddings, 2, method="scipy")
    for a, b in zip(fast, slow):
        assert a.shape == b.shape
        np.testing.assert_allclose(a[0].numpy(), b[0].numpy())
        np.testing.assert_allclose(order(a[1:].numpy()), order(b[1:].numpy()), atol=1e-6)


def test_unknown_method() -> None:
    with pytest.raises(ValueError, match="method"):
        pool_embeddings_hierarchical([torch.ones(3, 2)], 2, method="fast")


@pytest.mark.gpu
def test_gpu_pooling_matches_cpu() -> None:
    docs = [unit_vectors(n, 32, seed=n) for n in (50, 180, 7, 120)]
    cpu = pool_embeddings_hierarchical(docs, 2)
    gpu = pool_embeddings_hierarchical([d.cuda() for d in docs], 2)
    for a, b in zip(cpu, gpu):
        assert b.device.type == "cuda"
        np.testing.assert_allclose(a.numpy(), b.cpu().numpy(), atol=1e-5)


@pytest.mark.parametrize("pool_factor", [2, 3])
def test_compiled_cpu_ward_gives_the_scipy_clusters(pool_factor: int) -> None:
    from colbert_retrieval._ward_cpu import ward_labels_batch
    from colbert_retrieval.pooling import ward_labels

    rng = np.random.default_rng(10 + pool_factor)
    lengths = rng.integers(1, 150, size=60)
    docs = [unit_vectors(int(n), 24, seed=int(n) * 11 + i) for i, n in enumerate(lengths)]
    padded = torch.nn.utils.rnn.pad_sequence(docs, batch_first=True)
    distances = (1 - torch.bmm(padded, padded.transpose(1, 2))).numpy()
    clusters = np.maximum(lengths // pool_factor, 1)
    labels = ward_labels_batch(distances, lengths, clusters)
    for row, doc in enumerate(docs):
        ours = labels[row, : len(doc)]
        assert (labels[row, len(doc) :] == -1).all() and len(np.unique(ours)) == clusters[row]
        if len(doc) >= 2:
            assert partition(ours) == partition(ward_labels(doc.numpy(), int(clusters[row])))
