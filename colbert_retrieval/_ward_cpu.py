"""Ward clustering of many documents on the CPU: SciPy's nearest-neighbour-chain algorithm, compiled with numba.

The algorithm, its Lance-Williams update and its tie-breaking are SciPy's ``nn_chain`` (float64 on the
same float32 cosine distances), so the merges are SciPy's. The flat clusters are the state after the
``n - k`` shortest merges (what ``fcluster(criterion="maxclust")`` cuts, exact height ties aside).
Documents run in parallel threads (``numba.prange``); the compiled code is cached on disk after the first
call.

Examples:
    >>> import numpy as np
    >>> x = np.array([[1.0, 0.0], [0.99, 0.14], [0.0, 1.0], [0.14, 0.99]], dtype=np.float32)
    >>> x /= np.linalg.norm(x, axis=1, keepdims=True)
    >>> ward_labels_batch((1 - x @ x.T)[None], np.array([4]), np.array([2]))[0].tolist()
    [1, 1, 3, 3]
"""

from __future__ import annotations

import numpy as np

__all__ = ["AVAILABLE", "ward_labels_batch"]

try:
    import numba
except ImportError:  # pragma: no cover - numba is a dependency, this only guards exotic platforms
    numba = None

AVAILABLE = numba is not None


def _nn_chain_labels(distances: np.ndarray, n: int, n_clusters: int, labels: np.ndarray) -> None:  # pragma: no cover
    """Labels of the first ``n`` points after ``n - n_clusters`` Ward merges (SciPy's nn_chain)."""
    d = np.empty((n, n), dtype=np.float64)
    for i in range(n):
        for j in range(n):
            d[i, j] = distances[i, j]
    size = np.ones(n, dtype=np.float64)
    active = np.arange(n)  # live slots, kept in increasing order (SciPy's scan order, so its tie-breaking)
    n_active = n
    chain = np.empty(n, dtype=np.int64)
    merge_x = np.empty(n - 1, dtype=np.int64)
    merge_y = np.empty(n - 1, dtype=np.int64)
    heights = np.empty(n - 1, dtype=np.float64)
    chain_length = 0
    for k in range(n - 1):
        if chain_length == 0:
            chain_length = 1
            chain[0] = active[0]
        x = 0
        y = 0
        current = np.inf
        while True:
            x = chain[chain_length - 1]
            if chain_length > 1:
                y = chain[chain_length - 2]
                current = d[x, y]
            else:
                current = np.inf
            row = d[x]
            for a in range(n_active):
                i = active[a]
                if i != x and row[i] < current:
                    current = row[i]
                    y = i
            if chain_length > 1 and y == chain[chain_length - 2]:
                break
            chain[chain_length] = y
            chain_length += 1
        chain_length -= 2
        if x > y:
            x, y = y, x
        nx = size[x]
        ny = size[y]
        merge_x[k] = x
        merge_y[k] = y
        heights[k] = current
        size[x] = 0
        size[y] = nx + ny
        removed = False
        for a in range(n_active):
            if removed:
                active[a - 1] = active[a]
            elif active[a] == x:
                removed = True
        n_active -= 1
        for a in range(n_active):
            i = active[a]
            if i == y:
                continue
            ni = size[i]
            dxi = d[i, x]
            dyi = d[i, y]
            value = np.sqrt(((ni + nx) * dxi * dxi + (ni + ny) * dyi * dyi - ni * current * current) / (nx + ny + ni))
            d[i, y] = value
            d[y, i] = value
    order = np.argsort(heights, kind="mergesort")
    parent = np.arange(n)
    for step in range(n - n_clusters):
        row_index = order[step]
        a = merge_x[row_index]
        while parent[a] != a:
            a = parent[a]
        b = merge_y[row_index]
        while parent[b] != b:
            b = parent[b]
        parent[a] = b
    for i in range(n):
        root = i
        while parent[root] != root:
            root = parent[root]
        labels[i] = root


def _batch(
    distances: np.ndarray, lengths: np.ndarray, n_clusters: np.ndarray, labels: np.ndarray
) -> None:  # pragma: no cover
    for b in numba.prange(distances.shape[0]):
        if lengths[b] >= 2:
            _nn_chain_labels(distances[b], lengths[b], n_clusters[b], labels[b])
        elif lengths[b] == 1:
            labels[b, 0] = 0


if AVAILABLE:
    _nn_chain_labels = numba.njit(cache=True, nogil=True)(_nn_chain_labels)
    _batch = numba.njit(cache=True, parallel=True, nogil=True)(_batch)


def ward_labels_batch(distances: np.ndarray, lengths: np.ndarray, n_clusters: np.ndarray) -> np.ndarray:
    """Ward cluster labels for a padded batch of cosine-distance matrices.

    Args:
        distances: ``(batch, n, n)`` float32 ``1 - similarity`` matrices (padding ignored).
        lengths: ``(batch,)`` real vectors per document.
        n_clusters: ``(batch,)`` clusters per document.

    Returns:
        ``(batch, n)`` int64 labels: for each vector, its cluster's representative index; -1 on padding.
    """
    labels = np.full(distances.shape[:2], -1, dtype=np.int64)
    _batch(
        np.ascontiguousarray(distances, dtype=np.float32),
        np.ascontiguousarray(lengths, dtype=np.int64),
        np.ascontiguousarray(n_clusters, dtype=np.int64),
        labels,
    )
    return labels
