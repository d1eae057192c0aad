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
    from colbert_retrieval import _ward_cpu
    from colbert_retrieval.pooling import ward_labels

    rng = np.random.default_rng(10 + pool_factor)
    for i, n in enumerate(rng.integers(2, 150, size=60)):
        doc = unit_vectors(int(n), 24, seed=int(n) * 11 + i).numpy()
        k = max(int(n) // pool_factor, 1)
        ours = _ward_cpu.ward_labels(1 - doc @ doc.T, k)
        assert len(np.unique(ours)) == k
        assert partition(ours) == partition(ward_labels(doc, k))


def test_fused_distances_are_the_reference_torch_mm_values() -> None:
    from colbert_retrieval import _gram_cpu

    if not _gram_cpu.exact_kernel_ready(128):
        pytest.skip("the fused kernel is not bit-equal to torch.mm on this machine (the fallback is used)")
    rng = np.random.default_rng(0)
    for n in (12, 31, 64, 181, 257):
        x = rng.standard_normal((n, 128)).astype(np.float32)
        x /= np.linalg.norm(x, axis=1, keepdims=True)
        d = np.empty((n, n))
        _gram_cpu.fill_distances(x, d)
        expected = _gram_cpu.reference_distances(x).astype(np.float64)
        upper = np.triu_indices(n, k=1)
        assert np.array_equal(d[upper], expected[upper])
        assert np.array_equal(d, d.T) and np.isinf(np.diag(d)).all()


@pytest.mark.parametrize("dim", [128, 5])
def test_batched_cpu_pooling_is_the_reference_to_the_last_bit(dim: int) -> None:
    """Same vectors, bit for bit, as the per-document SciPy path (cluster order aside), any lengths.

    128-d vectors take the fused kernel where it is exact (documents of 12+ vectors); 5-d ones and short
    documents take torch.mm per document.
    """
    from colbert_retrieval.pooling import pool_scipy, pool_torch

    rng = np.random.default_rng(dim)
    docs = []
    for i, n in enumerate(rng.integers(2, 200, size=80)):
        centers = torch.randn(6, dim, generator=torch.Generator().manual_seed(i))
        picks = torch.from_numpy(rng.integers(0, 6, size=int(n)))
        docs.append(torch.nn.functional.normalize(centers[picks] + 0.7 * torch.randn(int(n), dim), dim=-1))
    for pool_factor in (2, 3):
        for fast, slow in zip(pool_torch(docs, pool_factor), pool_scipy(docs, pool_factor)):
            assert fast.shape == slow.shape
            assert torch.equal(fast[0], slow[0])
            assert sorted(map(tuple, fast[1:].tolist())) == sorted(map(tuple, slow[1:].tolist()))


def test_cpu_pooling_keeps_dtype_and_orders_clusters_by_first_token() -> None:
    doc = torch.tensor([[1.0, 0, 0], [0, 1, 0], [0, 0, 1], [0, 1, 0], [0, 0, 1]]).repeat(1, 1)
    pooled = pool_embeddings_hierarchical([doc, doc.to(torch.bfloat16)], pool_factor=2)
    assert pooled[0].tolist() == [[1.0, 0, 0], [0, 1, 0], [0, 0, 1]]
    assert pooled[1].dtype == torch.bfloat16 and pooled[1].float().tolist() == pooled[0].tolist()


def test_lockstep_torch_path_gives_the_compiled_path_vectors_in_the_same_order(monkeypatch) -> None:
    """The GPU algorithm (torch lockstep Ward), run on the CPU, matches the compiled CPU path row for row."""
    from colbert_retrieval import pooling

    rng = np.random.default_rng(5)
    docs = [unit_vectors(int(n), 32, seed=int(n) + 3) for n in rng.integers(2, 90, size=25)]
    compiled = pooling.pool_torch(docs, 2)
    monkeypatch.setattr(pooling._ward_cpu, "AVAILABLE", False)
    lockstep = pooling.pool_torch(docs, 2)
    for a, b in zip(compiled, lockstep):
        assert a.shape == b.shape
        np.testing.assert_allclose(a.numpy(), b.numpy(), atol=1e-6)


def test_compiled_nn_chain_has_scipys_merge_heights_to_the_last_bit() -> None:
    from colbert_retrieval import _ward_cpu

    for n in (2, 3, 17, 64, 179):
        x = unit_vectors(n, 32, seed=n + 100).numpy()
        distances = 1 - torch.mm(torch.from_numpy(x), torch.from_numpy(x).t()).numpy()
        condensed = distances[np.triu_indices(n, k=1)]
        expected = hierarchy.linkage(condensed, method="ward")[:, 2]
        d = np.empty((n, n))
        _ward_cpu.fill_from_matrix(distances, n, d)
        _, _, heights = _ward_cpu.nn_chain_merges(d)
        assert np.array_equal(np.sort(heights), expected)


def test_documents_of_different_vector_sizes_are_refused() -> None:
    with pytest.raises(ValueError, match="one vector size"):
        pool_embeddings_hierarchical([torch.ones(5, 4), torch.ones(5, 3)], pool_factor=2)


def test_pooling_from_several_threads_at_once() -> None:
    from concurrent.futures import ThreadPoolExecutor

    docs = [unit_vectors(40 + i, 16, seed=i) for i in range(12)]
    expected = pool_embeddings_hierarchical(docs, 2)
    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda _: pool_embeddings_hierarchical(docs, 2), range(8)))
    for result in results:
        assert all(torch.equal(a, b) for a, b in zip(result, expected))


def test_pooling_groups_respect_the_budget_and_cover_every_document() -> None:
    from colbert_retrieval.pooling import pooling_groups

    rng = np.random.default_rng(0)
    lengths = [int(n) for n in rng.integers(2, 300, size=500)] + [5000]
    budget = 64 * 200 * 200 * 24
    groups = pooling_groups(lengths, budget, max_docs=50)
    assert sorted(p for g in groups for p in g) == list(range(len(lengths)))
    for group in groups:
        assert len(group) <= 50
        assert len(group) == 1 or len(group) * max(lengths[p] for p in group) ** 2 * 24 <= budget
    assert [5000] in [[lengths[p] for p in g] for g in groups]  # too long for the budget: alone


def test_small_groups_give_the_same_result_as_one_group() -> None:
    from colbert_retrieval.pooling import pool_torch

    docs = [unit_vectors(n, 16, seed=n) for n in (30, 5, 60, 2, 44, 17)]
    whole = pool_torch(docs, 2)
    for batch_size in (1, 2, 4):
        assert all(torch.equal(a, b) for a, b in zip(pool_torch(docs, 2, batch_size=batch_size), whole))
