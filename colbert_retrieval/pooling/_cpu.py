"""Batched token pooling on the CPU: documents in parallel threads (``numba.prange``).

For each document: its cosine distances (:func:`~colbert_retrieval.pooling._ward.cosine_distances`), SciPy's
Ward nearest-neighbour chain and the float32 cluster means (:mod:`colbert_retrieval.pooling._ward`). The
documents are read where they are (a numba typed list of views), and the pooled vectors of the whole batch
come back as one array.

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

from colbert_retrieval.pooling._ward import AVAILABLE, cluster_means, cosine_distances, nn_chain_labels, numba

__all__ = ["AVAILABLE", "pool_batch"]

TypedList = Any  # numba.typed.List of C-contiguous float32 (n_i, dim) arrays


def _pool_documents(  # pragma: no cover - compiled
    docs: TypedList, protected: int, n_clusters: np.ndarray, offsets: np.ndarray, out: np.ndarray
) -> None:
    """Pool every document of ``docs`` into its rows of ``out`` (protected rows, then cluster means)."""
    for b in numba.prange(len(docs)):
        doc = docs[np.int64(b)]
        start = offsets[b]
        out[start : start + protected] = doc[:protected]
        rest = doc[protected:]
        n = rest.shape[0]
        distances = np.empty((n, n), dtype=np.float64)
        cosine_distances(rest, distances)
        labels = np.empty(n, dtype=np.int64)
        nn_chain_labels(distances, n_clusters[b], labels)
        first = start + protected
        cluster_means(rest, labels, out[first : first + n_clusters[b]])


if AVAILABLE:
    _pool_documents = numba.njit(cache=True, parallel=True, nogil=True, error_model="numpy")(_pool_documents)

# numba's parallel kernels may not be entered by two Python threads at once with its "workqueue" threading
# layer (the fallback where no OpenMP / TBB runtime is found); the kernel uses every core anyway.
_PARALLEL = threading.Lock()


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
    typed = numba.typed.List()
    for doc in docs:
        typed.append(doc)
    with _PARALLEL:
        _pool_documents(typed, protected, n_clusters, offsets, out)
    return out, sizes
