"""Batched token pooling on the CPU: documents in parallel threads, the reference pooling's exact results.

For each document (``numba.prange`` over the batch): the cosine distances of the reference pooling, to the
last bit (:mod:`colbert_retrieval._gram_cpu`: the fused compiled kernel where it is checked equal to
``torch.mm``, else ``torch.mm`` itself), SciPy's Ward nearest-neighbour chain and the float32 cluster means
(:mod:`colbert_retrieval._ward_cpu`). The documents are read where they are (a numba typed list of views),
and the pooled vectors of the whole batch come back as one array.

Examples:
    >>> import numpy as np
    >>> docs = [np.eye(5, 4, dtype=np.float32)[[0, 1, 1, 2, 2]]]
    >>> vectors, sizes = pool_batch(docs, pool_factor=2, protected=1)
    >>> sizes.tolist(), vectors.tolist()
    ([3], [[1.0, 0.0, 0.0, 0.0], [0.0, 1.0, 0.0, 0.0], [0.0, 0.0, 1.0, 0.0]])
"""

from __future__ import annotations

import threading
from typing import Any

import numpy as np

from colbert_retrieval import _gram_cpu
from colbert_retrieval._ward_cpu import AVAILABLE, cluster_means, fill_from_matrix, nn_chain_labels, numba

__all__ = ["pool_batch"]

TypedList = Any  # numba.typed.List of C-contiguous float32 (n_i, dim) arrays


def _pool_one(rest: np.ndarray, d: np.ndarray, n_clusters: int, out: np.ndarray) -> None:  # pragma: no cover
    """Ward labels from the prepared distances ``d``, then the cluster means into ``out``."""
    labels = np.empty(rest.shape[0], dtype=np.int64)
    nn_chain_labels(d, n_clusters, labels)
    cluster_means(rest, labels, out)


def _start(  # pragma: no cover - compiled
    doc: np.ndarray, protected: int, start: int, out: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Copy the protected rows to ``out``; the rows to cluster and an empty float64 distance matrix."""
    out[start : start + protected] = doc[:protected]
    rest = doc[protected:]
    return rest, np.empty((rest.shape[0], rest.shape[0]), dtype=np.float64)


def _pool_fused(  # pragma: no cover - compiled
    docs: TypedList, protected: int, n_clusters: np.ndarray, offsets: np.ndarray, out: np.ndarray
) -> None:
    for b in numba.prange(len(docs)):
        rest, d = _start(docs[np.int64(b)], protected, offsets[b], out)
        _gram_cpu.fill_distances(rest, d)
        first = offsets[b] + protected
        _pool_one(rest, d, n_clusters[b], out[first : first + n_clusters[b]])


def _pool_given(  # pragma: no cover - compiled
    docs: TypedList,
    protected: int,
    distances: np.ndarray,
    n_clusters: np.ndarray,
    offsets: np.ndarray,
    out: np.ndarray,
) -> None:
    for b in numba.prange(len(docs)):
        rest, d = _start(docs[np.int64(b)], protected, offsets[b], out)
        fill_from_matrix(distances[b], rest.shape[0], d)
        first = offsets[b] + protected
        _pool_one(rest, d, n_clusters[b], out[first : first + n_clusters[b]])


if AVAILABLE:
    _pool_one = numba.njit(cache=True, nogil=True, error_model="numpy")(_pool_one)
    _start = numba.njit(cache=True, nogil=True, error_model="numpy")(_start)
    _compile_parallel = numba.njit(cache=True, parallel=True, nogil=True, error_model="numpy")
    _pool_fused = _compile_parallel(_pool_fused)
    _pool_given = _compile_parallel(_pool_given)


# numba's parallel kernels may not be entered by two Python threads at once with its "workqueue" threading
# layer (the fallback where no OpenMP / TBB runtime is found); the kernels use every core anyway.
_PARALLEL = threading.Lock()


def _typed(arrays: list[np.ndarray]) -> TypedList:
    typed = numba.typed.List()
    for array in arrays:
        typed.append(array)
    return typed


def pool_batch(docs: list[np.ndarray], pool_factor: int, protected: int) -> tuple[np.ndarray, np.ndarray]:
    """Pool a batch of documents, each with at least two vectors to cluster.

    Args:
        docs: C-contiguous float32 ``(n_i, dim)`` arrays, ``n_i - protected >= 2``.
        pool_factor: keep ``max((n_i - protected) // pool_factor, 1)`` clusters per document.
        protected: leading rows copied unchanged.

    Returns:
        ``(vectors, sizes)``: the pooled vectors of every document stacked (protected rows, then the cluster
        means in the order of each cluster's first token) and the ``(batch,)`` row count per document.
    """
    lengths = np.array([doc.shape[0] - protected for doc in docs], dtype=np.int64)
    n_clusters = np.maximum(lengths // pool_factor, 1)
    sizes = protected + n_clusters
    offsets = np.zeros(len(docs), dtype=np.int64)
    np.cumsum(sizes[:-1], out=offsets[1:])
    out = np.empty((int(sizes.sum()), docs[0].shape[1]), dtype=np.float32)
    fused = lengths >= _gram_cpu.MIN_FUSED_LENGTH
    if not _gram_cpu.exact_kernel_ready(docs[0].shape[1]):
        fused[:] = False
    with _PARALLEL:
        _run(docs, protected, lengths, n_clusters, offsets, fused, out)
    return out, sizes


def _run(
    docs: list[np.ndarray],
    protected: int,
    lengths: np.ndarray,
    n_clusters: np.ndarray,
    offsets: np.ndarray,
    fused: np.ndarray,
    out: np.ndarray,
) -> None:
    """Fill ``out``: fused kernel for the ``fused`` documents, ``torch.mm`` distances for the others."""
    if fused.any():
        chosen = np.flatnonzero(fused)
        _pool_fused(_typed([docs[i] for i in chosen]), protected, n_clusters[chosen], offsets[chosen], out)
    if not fused.all():
        chosen = np.flatnonzero(~fused)
        width = int(lengths[chosen].max())
        distances = np.zeros((len(chosen), width, width), dtype=np.float32)
        for row, i in enumerate(chosen):
            n = int(lengths[i])
            distances[row, :n, :n] = _gram_cpu.reference_distances(docs[i][protected:])
        _pool_given(_typed([docs[i] for i in chosen]), protected, distances, n_clusters[chosen], offsets[chosen], out)
