"""Token pooling: merge similar token vectors of a document to shrink its multi-vector.

Semantics follow PyLate >= 1.5: the first ``protected_tokens`` vectors (the ``[CLS]`` by default) are kept
unchanged and come first; the remaining ``n`` vectors are clustered with Ward hierarchical clustering on
cosine distances (``1 - <a, b>`` of the unit vectors) into ``max(n // pool_factor, 1)`` clusters; each
cluster becomes the mean of its vectors, not re-normalised, in cluster-label order.

Examples:
    >>> import torch
    >>> doc = torch.nn.functional.normalize(torch.randn(9, 4, generator=torch.Generator().manual_seed(0)), dim=-1)
    >>> [tuple(p.shape) for p in pool_embeddings_hierarchical([doc], pool_factor=2)]
    [(5, 4)]
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from scipy.cluster import hierarchy
from torch import Tensor

from colbert_retrieval import _pool_cpu, _ward_cpu
from colbert_retrieval.ward import ward_cluster_labels

__all__ = [
    "CPU_GROUP_DOCS",
    "POOLING_METHODS",
    "pool_embeddings_hierarchical",
    "pool_scipy",
    "pool_torch",
    "pooled_length",
    "pooling_groups",
    "ward_labels",
]

#: ``torch``: batched Ward in torch on the vectors' device (default); ``scipy``: one SciPy call per document.
POOLING_METHODS = ("torch", "scipy")


def pooled_length(n_tokens: int, pool_factor: int, protected_tokens: int = 1) -> int:
    """Number of vectors a document of ``n_tokens`` vectors has after pooling.

    Args:
        n_tokens: vectors before pooling.
        pool_factor: the pooling factor (1 = no pooling).
        protected_tokens: leading vectors kept as they are.

    Returns:
        The pooled count.

    Examples:
        >>> pooled_length(180, 2)
        90
    """
    protected = min(protected_tokens, n_tokens)
    rest = n_tokens - protected
    if pool_factor <= 1 or rest == 0:
        return n_tokens
    return protected + min(max(rest // pool_factor, 1), rest)


def ward_labels(vectors: np.ndarray, n_clusters: int) -> np.ndarray:
    """Ward clustering labels (``1..n_clusters``) of unit vectors on cosine distance, as PyLate computes them.

    Args:
        vectors: ``(n, dim)`` float32 unit vectors, ``n >= 2``.
        n_clusters: the number of clusters wanted.

    Returns:
        ``(n,)`` int array of labels from :func:`scipy.cluster.hierarchy.fcluster`.

    Examples:
        >>> import numpy as np
        >>> ward_labels(np.array([[1, 0], [1, 0], [0, 1]], dtype=np.float32), 2).tolist()
        [1, 1, 2]
    """
    n = vectors.shape[0]
    similarities = torch.from_numpy(np.ascontiguousarray(vectors, dtype=np.float32))
    distances = 1 - torch.mm(similarities, similarities.t()).numpy()
    condensed = distances[np.triu_indices(n, k=1)]
    linkage = hierarchy.linkage(condensed, method="ward")
    return hierarchy.fcluster(linkage, t=n_clusters, criterion="maxclust")


def _pool_one(embedding: Tensor, pool_factor: int, protected_tokens: int) -> Tensor:
    protected = embedding[:protected_tokens]
    to_pool = embedding[protected_tokens:]
    n = to_pool.shape[0]
    n_clusters = max(n // pool_factor, 1)
    if n_clusters >= n:
        return embedding
    values = to_pool.detach().float().cpu()
    labels = torch.from_numpy(ward_labels(values.numpy(), n_clusters).astype(np.int64) - 1)
    sums = torch.zeros(n_clusters, values.shape[1], dtype=torch.float32)
    sums.index_add_(0, labels, values)
    counts = torch.bincount(labels, minlength=n_clusters)
    present = counts > 0
    pooled = sums[present] / counts[present].unsqueeze(1)
    return torch.cat([protected, pooled.to(device=embedding.device, dtype=embedding.dtype)], dim=0)


def pool_scipy(documents_embeddings: Sequence[Tensor], pool_factor: int, protected_tokens: int = 1) -> list[Tensor]:
    """Reference path: one SciPy Ward clustering per document, on the CPU (PyLate's algorithm).

    Examples:
        >>> import torch
        >>> doc = torch.nn.functional.normalize(torch.randn(7, 3, generator=torch.Generator().manual_seed(1)), dim=-1)
        >>> pool_scipy([doc], 2)[0].shape
        torch.Size([4, 3])
    """
    return [_pool_one(embedding, int(pool_factor), protected_tokens) for embedding in documents_embeddings]


def _pool_group_cpu(group: list[Tensor], pool_factor: int, protected_tokens: int) -> list[Tensor]:
    arrays = [np.ascontiguousarray(e.detach().float().numpy()) for e in group]
    vectors, sizes = _pool_cpu.pool_batch(arrays, pool_factor, protected_tokens)
    pooled = torch.from_numpy(vectors)
    dtypes = {e.dtype for e in group}
    if dtypes != {torch.float32}:
        return [p.to(e.dtype) for p, e in zip(pooled.split(sizes.tolist()), group)]
    return list(pooled.split(sizes.tolist()))


def _pool_group(group: list[Tensor], pool_factor: int, protected_tokens: int) -> list[Tensor]:
    device = group[0].device
    if device.type == "cpu" and _ward_cpu.AVAILABLE:
        return _pool_group_cpu(group, pool_factor, protected_tokens)
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


#: Most documents per call of the compiled CPU path (bounds its typed list and output array).
CPU_GROUP_DOCS = 4096
#: Bytes per distance-matrix entry of the lockstep path (float32 similarities, float64 distances, masks).
_LOCKSTEP_BYTES_PER_PAIR = 24


def _lockstep_budget(device: torch.device) -> int:
    """Bytes the lockstep path may use for one group's ``n x n`` matrices on ``device``."""
    if device.type == "cuda":
        free, _ = torch.cuda.mem_get_info(device)
        return int(min(4 * 2**30, free // 4))
    return 2**30


def pooling_groups(lengths: Sequence[int], budget_bytes: int, max_docs: int) -> list[list[int]]:
    """Split documents into groups of similar length that fit a memory budget.

    Documents are taken shortest first; a group grows while ``len(group) * n_max**2 * 24`` bytes fit in
    ``budget_bytes`` (the lockstep path's ``n x n`` matrices) and it has fewer than ``max_docs`` documents.
    A document too long for the budget on its own gets a group of its own.

    Args:
        lengths: vectors per document.
        budget_bytes: memory for one group.
        max_docs: most documents per group.

    Returns:
        Lists of positions into ``lengths``; every position appears once.

    Examples:
        >>> pooling_groups([180, 10, 180, 12], budget_bytes=2 * 180 * 180 * 24, max_docs=8)
        [[1, 3], [0, 2]]
    """
    groups: list[list[int]] = []
    current: list[int] = []
    for position in sorted(range(len(lengths)), key=lambda p: lengths[p]):
        pairs = lengths[position] ** 2 * _LOCKSTEP_BYTES_PER_PAIR
        if current and ((len(current) + 1) * pairs > budget_bytes or len(current) >= max_docs):
            groups.append(current)
            current = []
        current.append(position)
    if current:
        groups.append(current)
    return groups


def pool_torch(
    documents_embeddings: Sequence[Tensor],
    pool_factor: int,
    protected_tokens: int = 1,
    batch_size: int | None = None,
) -> list[Tensor]:
    """Batched path: Ward clustering of many documents at once, on the vectors' device.

    On the CPU, SciPy's nearest-neighbour-chain algorithm compiled with numba runs the documents in parallel
    threads on distances bit-equal to the reference's; on a GPU,
    :func:`colbert_retrieval.ward.ward_cluster_labels` merges all documents of a group in lockstep (its cost
    is a fixed number of steps per group, so groups are as large as memory allows). Both use SciPy's merge
    rule, so the clusters are :func:`pool_scipy`'s (exact distance ties aside); clusters come in the order of
    their first token instead of SciPy's label order.

    Args:
        documents_embeddings: list of ``(n_i, dim)`` unit-vector tensors (CPU or GPU).
        pool_factor: keep about ``1 / pool_factor`` of the non-protected vectors.
        protected_tokens: leading vectors kept unchanged.
        batch_size: most documents clustered together; by default as many as fit (GPU: up to a quarter of
            the free memory, at most 4 GiB; compiled CPU path: :data:`CPU_GROUP_DOCS`).

    Returns:
        list of ``(m_i, dim)`` tensors, each on its input's device and dtype.

    Examples:
        >>> import torch
        >>> doc = torch.nn.functional.normalize(torch.randn(7, 3, generator=torch.Generator().manual_seed(1)), dim=-1)
        >>> pool_torch([doc], 2)[0].shape
        torch.Size([4, 3])
    """
    results: list[Tensor | None] = [None] * len(documents_embeddings)
    by_device: dict[torch.device, list[int]] = {}
    for position, embedding in enumerate(documents_embeddings):
        rest = embedding.shape[0] - protected_tokens
        if rest <= 1 or max(rest // pool_factor, 1) >= rest:
            results[position] = embedding
        else:
            by_device.setdefault(embedding.device, []).append(position)
    for device, positions in by_device.items():
        compiled = device.type == "cpu" and _ward_cpu.AVAILABLE
        budget = 2**62 if compiled else _lockstep_budget(device)
        max_docs = batch_size or (CPU_GROUP_DOCS if compiled else len(positions))
        lengths = [documents_embeddings[p].shape[0] - protected_tokens for p in positions]
        for group in pooling_groups(lengths, budget, max_docs):
            chosen = [positions[g] for g in group]
            pooled = _pool_group([documents_embeddings[p] for p in chosen], int(pool_factor), protected_tokens)
            for p, tensor in zip(chosen, pooled):
                results[p] = tensor
    return [r for r in results if r is not None]


def pool_embeddings_hierarchical(
    documents_embeddings: Sequence[Tensor],
    pool_factor: int = 1,
    protected_tokens: int = 1,
    *,
    method: str = "torch",
) -> list[Tensor]:
    """Pool each document's token vectors with Ward hierarchical clustering.

    Args:
        documents_embeddings: list of ``(n_i, dim)`` tensors of unit vectors.
        pool_factor: keep about ``1 / pool_factor`` of the non-protected vectors; 1 disables pooling.
        protected_tokens: leading vectors of each document kept unchanged.
        method: ``"torch"`` (batched, on the vectors' device) or ``"scipy"`` (reference, per document).

    Returns:
        list of ``(m_i, dim)`` tensors on each input's device and dtype.

    Raises:
        ValueError: ``pool_factor`` < 1, ``protected_tokens`` < 0 or an unknown method.

    Examples:
        >>> import torch
        >>> doc = torch.eye(3)
        >>> pool_embeddings_hierarchical([doc], pool_factor=1)[0] is doc
        True
    """
    if pool_factor < 1:
        msg = f"pool_factor must be an integer >= 1 (1 disables pooling), got {pool_factor}."
        raise ValueError(msg)
    if protected_tokens < 0:
        msg = f"protected_tokens must be >= 0, got {protected_tokens}."
        raise ValueError(msg)
    if method not in POOLING_METHODS:
        msg = f"Unknown pooling method {method!r}; use one of {POOLING_METHODS}."
        raise ValueError(msg)
    if pool_factor == 1:
        return list(documents_embeddings)
    sizes = {tuple(e.shape[1:]) for e in documents_embeddings}
    if len(sizes) > 1 or any(len(size) != 1 for size in sizes):
        msg = f"Pool (n_i, dim) matrices of one vector size; got shapes {sorted(sizes)} after the first axis."
        raise ValueError(msg)
    if method == "scipy":
        return pool_scipy(documents_embeddings, pool_factor, protected_tokens)
    return pool_torch(documents_embeddings, pool_factor, protected_tokens)
