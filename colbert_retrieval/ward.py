"""Batched Ward agglomerative clustering in torch (CPU or GPU), many documents at once.

The merge rule is SciPy's: distances start as cosine distances ``1 - <a, b>`` (float32 similarities, as the
reference pooling computes them) and after merging clusters ``i`` and ``j`` the distance to every other
cluster ``k`` follows the Lance-Williams Ward update, in float64 and in SciPy's evaluation order::

    t = 1 / (n_k + n_i + n_j)
    d(k, i+j) = sqrt((n_k + n_i) t d(k,i)^2 + (n_k + n_j) t d(k,j)^2 - n_k t d(i,j)^2)

Ward linkage is reducible, so merging the globally closest pair first gives the same dendrogram as SciPy's
nearest-neighbour chain, and stopping after ``n - k`` merges gives the clusters that
``fcluster(..., t=k, criterion="maxclust")`` cuts (exact distance ties aside, which the two algorithms may
break differently). Each document keeps the nearest neighbour of every cluster, so a merge step costs
``O(n)`` per document instead of a scan of the whole matrix; all documents of a batch advance in lockstep.

Examples:
    >>> import torch
    >>> x = torch.tensor([[1.0, 0.0], [0.99, 0.14], [0.0, 1.0], [0.14, 0.99]])
    >>> x = torch.nn.functional.normalize(x, dim=-1)
    >>> ward_cluster_labels(x[None], torch.tensor([4]), torch.tensor([2]))[0].tolist()
    [0, 0, 2, 2]
"""

from __future__ import annotations

import torch
from torch import Tensor

__all__ = ["ward_cluster_labels"]

_INF = float("inf")


def _row_min(distances: Tensor, batch: Tensor, rows: Tensor) -> tuple[Tensor, Tensor]:
    values, index = distances[batch, rows].min(dim=-1)
    return values, index


def ward_cluster_labels(vectors: Tensor, lengths: Tensor, n_clusters: Tensor) -> Tensor:
    """Cluster each document's vectors with Ward linkage into ``n_clusters`` clusters.

    Args:
        vectors: ``(batch, n, dim)`` float tensor of unit vectors, zero-padded.
        lengths: ``(batch,)`` number of real vectors per document.
        n_clusters: ``(batch,)`` clusters wanted per document (``1 <= n_clusters <= lengths``).

    Returns:
        ``(batch, n)`` long tensor: for each vector, the index of the vector that represents its cluster
        (the surviving index of its merges); ``-1`` on padding.
    """
    device = vectors.device
    batch_size, n, _ = vectors.shape
    lengths = lengths.to(device)
    n_clusters = n_clusters.to(device)
    positions = torch.arange(n, device=device)
    real = positions[None, :] < lengths[:, None]
    sims = torch.bmm(vectors.float(), vectors.float().transpose(1, 2))
    distances = (1 - sims).double()
    pair_ok = real[:, :, None] & real[:, None, :]
    pair_ok &= ~torch.eye(n, dtype=torch.bool, device=device)[None]
    distances.masked_fill_(~pair_ok, _INF)
    sizes = real.double()
    labels = torch.where(real, positions[None, :].expand(batch_size, n), torch.full_like(positions[None, :], -1))
    row_min, row_arg = distances.min(dim=-1)
    batch = torch.arange(batch_size, device=device)
    steps = (lengths - n_clusters).clamp(min=0)
    for step in range(int(steps.max().item()) if batch_size else 0):
        merging = steps > step
        i = row_min.argmin(dim=-1)
        j = row_arg[batch, i]
        d_ij = row_min[batch, i]
        s_i, s_j = sizes[batch, i], sizes[batch, j]
        d_i, d_j = distances[batch, i], distances[batch, j]
        s_k = sizes
        t = 1.0 / (s_i[:, None] + s_j[:, None] + s_k)
        d_ij_col = d_ij[:, None]
        merged = torch.sqrt(
            (s_k + s_i[:, None]) * t * d_i * d_i + (s_k + s_j[:, None]) * t * d_j * d_j - s_k * t * d_ij_col * d_ij_col
        )
        alive = (s_k > 0) & (positions[None, :] != i[:, None]) & (positions[None, :] != j[:, None])
        merged = torch.where(alive, merged, torch.full_like(merged, _INF))
        # Apply the merge (j into i) only to documents that still merge.
        new_row_i = torch.where(merging[:, None], merged, d_i)
        distances[batch, i] = new_row_i
        distances[batch, :, i] = new_row_i
        dead_row = torch.where(merging[:, None], torch.full_like(d_j, _INF), distances[batch, j])
        distances[batch, j] = dead_row
        distances[batch, :, j] = dead_row
        sizes[batch, i] = torch.where(merging, s_i + s_j, s_i)
        sizes[batch, j] = torch.where(merging, torch.zeros_like(s_j), s_j)
        relabel = merging[:, None] & (labels == j[:, None])
        labels = torch.where(relabel, i[:, None].expand_as(labels), labels)
        # Nearest neighbours: rows that pointed to i or j are recomputed, others may now point to i.
        stale = merging[:, None] & ((row_arg == i[:, None]) | (row_arg == j[:, None]))
        closer = merging[:, None] & alive & (new_row_i < row_min)
        row_min = torch.where(closer, new_row_i, row_min)
        row_arg = torch.where(closer, i[:, None].expand_as(row_arg), row_arg)
        stale[batch, i] |= merging
        stale_b, stale_r = stale.nonzero(as_tuple=True)
        if stale_b.numel():
            values, index = _row_min(distances, stale_b, stale_r)
            row_min[stale_b, stale_r] = values
            row_arg[stale_b, stale_r] = index
        row_min[batch[merging], j[merging]] = _INF
    return labels
