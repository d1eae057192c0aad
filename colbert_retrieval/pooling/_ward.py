"""Ward clustering of one document on the CPU: SciPy's nearest-neighbour chain, compiled with numba.

The algorithm, its Lance-Williams update (float64) and its tie-breaking are SciPy's ``nn_chain``, so the
merges are SciPy's. The flat clusters are the state after the ``n - k`` shortest merges (what
``fcluster(criterion="maxclust")`` cuts, exact height ties aside). :func:`cluster_means` then averages each
cluster in float32, adding the vectors in token order as the reference pooling does. The batch driver
that runs documents in parallel threads is :mod:`colbert_retrieval.pooling._cpu`.

Examples:
    >>> import numpy as np
    >>> x = np.array([[1.0, 0.0], [0.99, 0.14], [0.0, 1.0], [0.14, 0.99]], dtype=np.float32)
    >>> x /= np.linalg.norm(x, axis=1, keepdims=True)
    >>> d = np.empty((4, 4))
    >>> cosine_distances(x, d)
    >>> labels = np.empty(4, dtype=np.int64)
    >>> nn_chain_labels(d, 2, labels)
    >>> labels.tolist()
    [1, 1, 3, 3]
"""

from __future__ import annotations

import numpy as np

__all__ = ["AVAILABLE", "cluster_means", "cosine_distances", "nn_chain_labels", "nn_chain_merges"]

try:
    import numba
except ImportError:  # pragma: no cover - numba is a dependency, this only guards exotic platforms
    numba = None

AVAILABLE = numba is not None


def _store(d: np.ndarray, i: int, j: int, dot: np.float32) -> None:  # pragma: no cover - compiled
    value = np.float64(np.float32(1.0) - dot)
    d[i, j] = value
    d[j, i] = value


def cosine_distances(x: np.ndarray, d: np.ndarray) -> None:  # pragma: no cover - compiled
    """``d[i, j] = float64(1 - <x_i, x_j>)`` of float32 unit vectors, symmetric, with an inf diagonal.

    Plain loops over the upper triangle, four rows at a time (each ``x_j`` is read once for four dot
    products). Compiled with reassociation allowed, each dot product vectorises over the components, so its
    last bit may differ from ``torch.mm``'s; the clusters stay SciPy's except on exact distance ties.
    """
    n, dim = x.shape
    for i in range(n):
        d[i, i] = np.inf
    blocked = n - n % 4
    for i in range(0, blocked, 4):
        for j in range(i + 1, n):
            s0 = s1 = s2 = s3 = np.float32(0.0)
            for k in range(dim):
                b = x[j, k]
                s0 += x[i, k] * b
                s1 += x[i + 1, k] * b
                s2 += x[i + 2, k] * b
                s3 += x[i + 3, k] * b
            _store(d, i, j, s0)
            if j > i + 1:
                _store(d, i + 1, j, s1)
            if j > i + 2:
                _store(d, i + 2, j, s2)
            if j > i + 3:
                _store(d, i + 3, j, s3)
    for i in range(blocked, n):
        for j in range(i + 1, n):
            total = np.float32(0.0)
            for k in range(dim):
                total += x[i, k] * x[j, k]
            _store(d, i, j, total)


def _ward_update(  # pragma: no cover - compiled
    dx: np.ndarray, dy: np.ndarray, ni: np.ndarray, nx: float, ny: float, dxy: float, count: int
) -> None:
    """Lance-Williams Ward distances to the merge of x and y, written over ``dx`` (vectorises).

    SciPy's expression and evaluation order, so the same float64 values.
    """
    for a in range(count):
        n = ni[a]
        t = 1.0 / (nx + ny + n)
        dx[a] = np.sqrt((n + nx) * t * dx[a] * dx[a] + (n + ny) * t * dy[a] * dy[a] - n * t * dxy * dxy)


def nn_chain_merges(d: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:  # pragma: no cover
    """SciPy's ``nn_chain`` Ward merges, in the order found: ``(x, y, height)`` arrays of length ``n - 1``.

    Args:
        d: ``(n, n)`` float64 symmetric distances with an inf diagonal (overwritten).

    Returns:
        The merged slots (``x < y``; ``y`` holds the new cluster) and the merge heights.
    """
    n = d.shape[0]
    size = np.ones(n, dtype=np.float64)
    active = np.arange(n)  # live slots, kept in increasing order (SciPy's scan order, so its tie-breaking)
    n_active = n
    gx = np.empty(n, dtype=np.float64)
    gy = np.empty(n, dtype=np.float64)
    gs = np.empty(n, dtype=np.float64)
    chain = np.empty(n, dtype=np.int64)
    merge_x = np.empty(max(n - 1, 0), dtype=np.int64)
    merge_y = np.empty(max(n - 1, 0), dtype=np.int64)
    heights = np.empty(max(n - 1, 0), dtype=np.float64)
    chain_length = 0
    y = 0
    for k in range(n - 1):
        if chain_length == 0:
            chain_length = 1
            chain[0] = active[0]
        x = 0
        current = np.inf
        while True:
            x = chain[chain_length - 1]
            if chain_length > 1:
                y = chain[chain_length - 2]
                current = d[x, y]
            else:
                current = np.inf
            row = d[x]
            for a in range(n_active):  # the diagonal is inf, so x never picks itself
                i = active[a]
                if row[i] < current:
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
        # Lance-Williams update of every live cluster's distance to the new cluster y: gather, arithmetic on
        # contiguous arrays (sqrt and division vectorise), scatter. Same values as SciPy's single pass: rows
        # x and y hold d(i, x) and d(i, y) by symmetry, and no value is written before it is read.
        for a in range(n_active):
            i = active[a]
            gx[a] = d[x, i]
            gy[a] = d[y, i]
            gs[a] = size[i]
        _ward_update(gx, gy, gs, nx, ny, current, n_active)
        for a in range(n_active):
            i = active[a]
            if i != y:
                d[i, y] = gx[a]
                d[y, i] = gx[a]
    return merge_x, merge_y, heights


def nn_chain_labels(d: np.ndarray, n_clusters: int, labels: np.ndarray) -> None:  # pragma: no cover
    """Cluster root index of each point after the ``n - n_clusters`` lowest Ward merges, into ``labels``.

    Args:
        d: ``(n, n)`` float64 symmetric distances with an inf diagonal (overwritten).
        n_clusters: clusters wanted.
        labels: ``(n,)`` int64 output.
    """
    n = d.shape[0]
    merge_x, merge_y, heights = nn_chain_merges(d)
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


def cluster_means(rest: np.ndarray, labels: np.ndarray, out: np.ndarray) -> None:  # pragma: no cover
    """Mean of each cluster, clusters in the order of their first token, written into ``out``.

    Args:
        rest: ``(n, dim)`` float32 vectors that were clustered.
        labels: ``(n,)`` cluster root index of each vector.
        out: ``(k, dim)`` float32 output, one row per cluster.
    """
    n, dim = rest.shape
    slot = np.full(n, -1, dtype=np.int64)
    counts = np.zeros(out.shape[0], dtype=np.float32)
    used = 0
    for t in range(n):
        root = labels[t]
        if slot[root] < 0:
            slot[root] = used
            out[used] = 0.0
            used += 1
        s = slot[root]
        for c in range(dim):
            out[s, c] += rest[t, c]
        counts[s] += 1.0
    for s in range(used):
        for c in range(dim):
            out[s, c] /= counts[s]


if AVAILABLE:
    _compile = numba.njit(cache=True, nogil=True, error_model="numpy")
    _ward_update = _compile(_ward_update)
    _store = _compile(_store)
    cosine_distances = numba.njit(cache=True, nogil=True, error_model="numpy", fastmath={"reassoc", "contract"})(
        cosine_distances
    )
    nn_chain_merges = _compile(nn_chain_merges)
    nn_chain_labels = _compile(nn_chain_labels)
    cluster_means = _compile(cluster_means)
