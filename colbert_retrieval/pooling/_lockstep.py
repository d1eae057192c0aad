"""Batched Ward pooling in torch (the GPU path, and the CPU path without numba): many documents in lockstep.

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

__all__ = ["BYTES_PER_PAIR", "lockstep_budget", "pool_group", "ward_cluster_labels"]

#: Bytes per distance-matrix entry (float32 similarities, float64 distances, masks).
BYTES_PER_PAIR = 24

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


def pool_group(group: list[Tensor], pool_factor: int, protected_tokens: int) -> list[Tensor]:
    """Pool documents of one device together: lockstep Ward labels, then cluster means by first token.

    Args:
        group: ``(n_i, dim)`` unit-vector tensors on one device, each with at least two vectors to cluster.
        pool_factor: keep ``max(n // pool_factor, 1)`` clusters of the ``n`` non-protected vectors.
        protected_tokens: leading vectors kept unchanged.

    Returns:
        The pooled ``(m_i, dim)`` tensors, in the input's dtype.
    """
    device = group[0].device
    rests = [e[protected_tokens:].float() for e in group]
    lengths = torch.tensor([r.shape[0] for r in rests], device=device)
    n_clusters = torch.clamp(lengths // pool_factor, min=1)
    padded = torch.nn.utils.rnn.pad_sequence(rests, batch_first=True)
    labels = ward_cluster_labels(padded, lengths, n_clusters)
    batch, n, dim = padded.shape
    positions = torch.arange(n, device=device)[None, :].expand(batch, n)
    real = labels >= 0
    # Name each cluster by its first token, then number clusters in that order (as the CPU path does).
    first = torch.full((batch, n), n, dtype=labels.dtype, device=device)
    first.scatter_reduce_(1, labels.clamp(min=0), torch.where(real, positions, n), reduce="amin")
    labels = torch.where(real, torch.gather(first, 1, labels.clamp(min=0)), labels)
    is_first = real & (labels == positions)
    rank = is_first.long().cumsum(dim=1) - 1
    compact = torch.where(real, torch.gather(rank, 1, labels.clamp(min=0)), torch.zeros_like(labels))
    sums = torch.zeros((batch, n, dim), dtype=torch.float32, device=device)
    sums.scatter_add_(1, compact[:, :, None].expand(batch, n, dim), padded)  # padding rows are zeros
    counts = torch.zeros((batch, n), dtype=torch.float32, device=device)
    counts.scatter_add_(1, compact, real.float())
    sizes = is_first.sum(dim=1).tolist()
    out = []
    for row, embedding in enumerate(group):
        size = sizes[row]
        pooled = (sums[row, :size] / counts[row, :size, None]).to(embedding.dtype)
        out.append(torch.cat([embedding[:protected_tokens], pooled], dim=0))
    return out


def lockstep_budget(device: torch.device) -> int:
    """Bytes the lockstep path may use for one group's ``n x n`` matrices on ``device``."""
    if device.type == "cuda":
        free, _ = torch.cuda.mem_get_info(device)
        return int(min(4 * 2**30, free // 4))
    return 2**30
