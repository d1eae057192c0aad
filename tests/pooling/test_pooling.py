from __future__ import annotations

import contextlib

import numpy as np
import pytest
import torch
from scipy.cluster import hierarchy
from scipy.spatial.distance import pdist

from colbert_retrieval.pooling import compile_cpu_kernels, pool_embeddings_hierarchical, pooled_length


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
    from colbert_retrieval.pooling._lockstep import ward_cluster_labels
    from colbert_retrieval.pooling._reference import scipy_ward_labels as ward_labels

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

    fast = pool_embeddings_hierarchical(embeddings, 2, method="batched")
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
    from colbert_retrieval.pooling._cpu import cosine_distances, nn_chain_labels
    from colbert_retrieval.pooling._reference import scipy_ward_labels as ward_labels

    rng = np.random.default_rng(10 + pool_factor)
    for i, n in enumerate(rng.integers(2, 150, size=60)):
        doc = unit_vectors(int(n), 24, seed=int(n) * 11 + i).numpy()
        k = max(int(n) // pool_factor, 1)
        d = np.empty((int(n), int(n)))
        cosine_distances(doc, d)
        ours = np.empty(int(n), dtype=np.int64)
        nn_chain_labels(d, k, ours)
        assert len(np.unique(ours)) == k
        assert partition(ours) == partition(ward_labels(doc, k))


def test_compiled_distances_are_torch_mm_distances_within_float32_rounding() -> None:
    from colbert_retrieval.pooling._cpu import cosine_distances

    rng = np.random.default_rng(0)
    for n in (2, 12, 31, 64, 181, 257):
        x = rng.standard_normal((n, 128)).astype(np.float32)
        x /= np.linalg.norm(x, axis=1, keepdims=True)
        d = np.empty((n, n))
        cosine_distances(x, d)
        expected = 1 - torch.mm(torch.from_numpy(x), torch.from_numpy(x).t()).numpy().astype(np.float64)
        upper = np.triu_indices(n, k=1)
        np.testing.assert_allclose(d[upper], expected[upper], atol=1e-6)
        assert np.array_equal(d, d.T) and np.isinf(np.diag(d)).all()


@pytest.mark.parametrize("dim", [128, 5])
def test_batched_cpu_pooling_gives_the_reference_clusters_and_vectors(dim: int) -> None:
    """Same clusters as the per-document SciPy path and vectors within 1e-5 (cluster order aside)."""

    rng = np.random.default_rng(dim)
    docs = []
    for i, n in enumerate(rng.integers(2, 200, size=80)):
        centers = torch.randn(6, dim, generator=torch.Generator().manual_seed(i))
        picks = torch.from_numpy(rng.integers(0, 6, size=int(n)))
        docs.append(torch.nn.functional.normalize(centers[picks] + 0.7 * torch.randn(int(n), dim), dim=-1))
    for pool_factor in (2, 3):
        fast_all = pool_embeddings_hierarchical(docs, pool_factor)
        slow_all = pool_embeddings_hierarchical(docs, pool_factor, method="scipy")
        for fast, slow in zip(fast_all, slow_all):
            assert fast.shape == slow.shape
            assert torch.equal(fast[0], slow[0])
            order = np.lexsort(np.round(slow[1:].numpy(), 4).T[::-1])
            fast_order = np.lexsort(np.round(fast[1:].numpy(), 4).T[::-1])
            np.testing.assert_allclose(fast[1:].numpy()[fast_order], slow[1:].numpy()[order], atol=1e-5)


def test_cpu_pooling_keeps_dtype_and_orders_clusters_by_first_token() -> None:
    doc = torch.tensor([[1.0, 0, 0], [0, 1, 0], [0, 0, 1], [0, 1, 0], [0, 0, 1]]).repeat(1, 1)
    pooled = pool_embeddings_hierarchical([doc, doc.to(torch.bfloat16)], pool_factor=2)
    assert pooled[0].tolist() == [[1.0, 0, 0], [0, 1, 0], [0, 0, 1]]
    assert pooled[1].dtype == torch.bfloat16 and pooled[1].float().tolist() == pooled[0].tolist()


def test_lockstep_torch_path_gives_the_compiled_path_vectors_in_the_same_order(monkeypatch) -> None:
    """The GPU algorithm (torch lockstep Ward), run on the CPU, matches the compiled CPU path row for row."""
    from colbert_retrieval.pooling import _cpu

    rng = np.random.default_rng(5)
    docs = [unit_vectors(int(n), 32, seed=int(n) + 3) for n in rng.integers(2, 90, size=25)]
    assert compile_cpu_kernels(wait=True)
    compiled = pool_embeddings_hierarchical(docs, 2)
    monkeypatch.setattr(_cpu, "AVAILABLE", False)
    lockstep = pool_embeddings_hierarchical(docs, 2)
    for a, b in zip(compiled, lockstep):
        assert a.shape == b.shape
        np.testing.assert_allclose(a.numpy(), b.numpy(), atol=1e-6)


def test_small_calls_take_the_torch_path_while_the_kernels_compile(monkeypatch) -> None:
    """Cold start: until the background compile is done, small calls do not wait for it; large ones do."""
    from colbert_retrieval.pooling import _cpu

    docs = [unit_vectors(n, 16, seed=n) for n in (5, 30, 64)]
    assert compile_cpu_kernels(wait=True)
    compiled = pool_embeddings_hierarchical(docs, 2)
    waits: list[bool] = []
    calls: list[int] = []
    monkeypatch.setattr(_cpu, "ready", lambda: False)
    monkeypatch.setattr(_cpu, "warm_up", lambda wait=False: waits.append(wait) or wait)

    def kernel_called(docs: list, *args: object) -> None:
        calls.append(len(docs))
        raise AssertionError("the compiled kernel was called")

    monkeypatch.setattr(_cpu, "pool_batch", kernel_called)
    monkeypatch.setattr(_cpu, "_SLOW_DOCS", 0)
    cold = pool_embeddings_hierarchical(docs, 2)
    assert waits == [False] and calls == []  # started the compile, did not wait, did not call the kernels
    for a, b in zip(compiled, cold):
        np.testing.assert_allclose(a.numpy(), b.numpy(), atol=1e-6)
    monkeypatch.setattr(_cpu, "NO_JIT_MAX_DOCS", 2)
    with pytest.raises(AssertionError):  # more documents than NO_JIT_MAX_DOCS: waits, then uses the kernels
        pool_embeddings_hierarchical(docs, 2)
    assert waits == [False, True] and calls == [3]
    monkeypatch.setattr(_cpu, "NO_JIT_MAX_DOCS", 512)
    monkeypatch.setattr(_cpu, "SLOW_PATH_DOCS", 8)
    pool_embeddings_hierarchical(docs[:2], 2)  # 6 + 2 documents on the torch path so far: not past the bound
    with pytest.raises(AssertionError):  # 6 + 2 + 2 > 8: this process compiles now (a busy machine), and waits
        pool_embeddings_hierarchical(docs[:2], 2)
    assert waits == [False, True, False, True] and calls == [3, 2]


def test_compiled_nn_chain_has_scipys_merge_heights_to_the_last_bit() -> None:
    from colbert_retrieval.pooling._cpu import cosine_distances
    from colbert_retrieval.pooling._ward import nn_chain_merges

    for n in (2, 3, 17, 64, 179):
        x = unit_vectors(n, 32, seed=n + 100).numpy()
        d = np.empty((n, n))
        cosine_distances(x, d)
        condensed = d[np.triu_indices(n, k=1)]
        expected = hierarchy.linkage(condensed, method="ward")[:, 2]
        _, _, heights = nn_chain_merges(d)
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
    from colbert_retrieval.pooling._hierarchical import length_groups as pooling_groups

    rng = np.random.default_rng(0)
    lengths = [int(n) for n in rng.integers(2, 300, size=500)] + [5000]
    budget = 64 * 200 * 200 * 24
    groups = pooling_groups(lengths, budget, max_docs=50)
    assert sorted(p for g in groups for p in g) == list(range(len(lengths)))
    for group in groups:
        assert len(group) <= 50
        assert len(group) == 1 or len(group) * max(lengths[p] for p in group) ** 2 * 24 <= budget
    assert [5000] in [[lengths[p] for p in g] for g in groups]  # too long for the budget: alone


def test_token_pooling_module_three_ways(tiny_colbert) -> None:
    """In the pipeline, standalone and per batch: the same vectors as pool_embeddings_hierarchical."""
    from sentence_transformers.multi_vector_encoder.modules import BaseTokenPooling

    from colbert_retrieval.pooling import TokenPooling

    pooling = TokenPooling(pool_factor=2)
    assert isinstance(pooling, BaseTokenPooling)
    docs = [unit_vectors(n, 16, seed=n) for n in (30, 5, 60)]
    expected = pool_embeddings_hierarchical(docs, 2)
    assert all(torch.equal(a, b) for a, b in zip(pooling.pool(docs), expected))
    padded = torch.nn.utils.rnn.pad_sequence(docs, batch_first=True)
    mask = torch.arange(padded.shape[1])[None] < torch.tensor([30, 5, 60])[:, None]
    features = pooling({"token_embeddings": padded, "attention_mask": mask}, task="document")
    for row, vectors in enumerate(expected):
        kept = features["token_embeddings"][row][features["attention_mask"][row]]
        assert torch.equal(kept, vectors)
    assert pooling({"token_embeddings": padded, "attention_mask": mask}, task="query")["token_embeddings"] is padded
    texts = ["statins lower cholesterol in patients with heart disease and a risk of cancer."]
    unpooled = tiny_colbert.encode(texts, is_query=False, convert_to_tensor=True)
    direct = tiny_colbert.encode(texts, is_query=False, pool_factor=2)
    assert direct[0].shape[0] == pooling.pool(unpooled)[0].shape[0] < unpooled[0].shape[0]


def test_token_pooling_module_refuses_bad_settings() -> None:
    from colbert_retrieval.errors import InvalidArgumentError
    from colbert_retrieval.pooling import TokenPooling

    with pytest.raises(InvalidArgumentError, match="pool_factor"):
        TokenPooling(pool_factor=0)
    with pytest.raises(InvalidArgumentError, match="protected_tokens"):
        TokenPooling(pool_factor=2, protected_tokens=-1)


@pytest.fixture
def busy_cores():
    """Two CPU-burning processes (a machine whose cores are busy), stopped after the test."""
    import subprocess
    import sys

    burners = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(2)]
    yield
    for burner in burners:
        burner.kill()
        burner.wait()


def _run(code: str, env: dict[str, str]) -> list[str]:
    import subprocess
    import sys

    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    return result.stdout.split()


@pytest.mark.slow
def test_a_cold_numba_cache_gets_the_fast_kernels_on_a_busy_machine(tmp_path, busy_cores) -> None:
    """Cold start beside two CPU burners: the first process pools with torch and exits without compiling (its
    idle-priority compiler may never be scheduled); a process that keeps pooling compiles the kernels itself
    after a bounded amount of slow-path work and stops its compiler; the next process loads them from the cache."""
    import os
    import signal

    env = {**os.environ, "NUMBA_CACHE_DIR": str(tmp_path / "numba")}
    setup = (
        "import torch\n"
        "from colbert_retrieval.pooling import _cpu, compile_cpu_kernels, pool_embeddings_hierarchical\n"
        "docs = [torch.nn.functional.normalize(torch.randn(20, 8), dim=-1) for _ in range(8)]\n"
    )
    first = setup + (
        "assert compile_cpu_kernels(wait=False) is False  # what loading a model does: it starts no process\n"
        "assert _cpu._DISK._compiler is None and not _cpu._DISK.compiling\n"
        "assert [p.shape[0] for p in pool_embeddings_hierarchical(docs[:3], 2)] == [10, 10, 10]\n"
        "print(_cpu._DISK.compiling, _cpu._WARMING is None, _cpu.ready(), _cpu._DISK._compiler)\n"
    )
    compilers: list[int] = []
    try:
        *state, pid = _run(first, env)
        assert state == ["True", "True", "False"]  # a compiler started; nothing compiled in-process
        compilers.append(int(pid))
        keeps_pooling = setup + (
            "_cpu.SLOW_PATH_DOCS = 40\n"
            "compile_cpu_kernels(wait=False)\n"
            "ready, started = [], {0}\n"
            "for _ in range(8):\n"
            "    assert [p.shape[0] for p in pool_embeddings_hierarchical(docs, 2)] == [10] * 8\n"
            "    started.add(_cpu._DISK._compiler or 0)\n"
            "    ready.append(_cpu.ready())\n"
            "print(max(started), _cpu._DISK._compiler, *ready)\n"
        )
        pid, compiler_left, *ready = _run(keeps_pooling, env)
        if pid != "0":
            compilers.append(int(pid))
        # the 6th call passes 40 documents on the torch path: the kernels are ready from then on (earlier only
        # if a compiler got the CPU), and this process's own compiler was stopped
        assert ready[5:] == ["True"] * 3 and compiler_left == "None"
        loads = "from colbert_retrieval.pooling import _cpu\nprint(_cpu._DISK.warm(), _cpu.warm_up(wait=True))\n"
        assert _run(loads, env) == ["True", "True"]  # the kernels are in the cache
    finally:
        for compiler in compilers:
            with contextlib.suppress(OSError):
                os.kill(compiler, signal.SIGKILL)


def test_a_compiler_that_finds_the_lock_taken_compiles_nothing(tmp_path) -> None:
    import fcntl

    from colbert_retrieval.pooling._cache import LOCK_NAME, fill

    compiled: list[bool] = []
    with open(tmp_path / LOCK_NAME, "a") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        assert fill(lambda: compiled.append(True), tmp_path) is False
    assert compiled == []
    assert fill(lambda: compiled.append(True), tmp_path) is True and compiled == [True]
