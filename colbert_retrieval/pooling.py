"""Token pooling: merge similar token vectors of a document to shrink its multi-vector.

Semantics follow PyLate >= 1.5: the first ``protected_tokens`` vectors (the ``[CLS]`` by default) are kept
unchanged and come first; the remaining ``n`` vectors are clustered with Ward hierarchical clustering on
cosine distances (``1 - <a, b>`` of the unit vectors) into ``max(n // pool_factor, 1)`` clusters; each
cluster becomes the mean of its vectors, not re-normalised, in cluster-label order.

Example:
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

__all__ = ["pool_embeddings_hierarchical", "pooled_length", "ward_labels"]


def pooled_length(n_tokens: int, pool_factor: int, protected_tokens: int = 1) -> int:
    """Number of vectors a document of ``n_tokens`` vectors has after pooling.

    Args:
        n_tokens: vectors before pooling.
        pool_factor: the pooling factor (1 = no pooling).
        protected_tokens: leading vectors kept as they are.

    Returns:
        The pooled count.

    Example:
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

    Example:
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


def pool_embeddings_hierarchical(
    documents_embeddings: Sequence[Tensor],
    pool_factor: int = 1,
    protected_tokens: int = 1,
) -> list[Tensor]:
    """Pool each document's token vectors with Ward hierarchical clustering (reference SciPy path).

    Args:
        documents_embeddings: list of ``(n_i, dim)`` tensors of unit vectors.
        pool_factor: keep about ``1 / pool_factor`` of the non-protected vectors; 1 disables pooling.
        protected_tokens: leading vectors of each document kept unchanged.

    Returns:
        list of ``(m_i, dim)`` tensors on each input's device and dtype.

    Raises:
        ValueError: ``pool_factor`` < 1 or ``protected_tokens`` < 0.

    Example:
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
    if pool_factor == 1:
        return list(documents_embeddings)
    return [_pool_one(embedding, int(pool_factor), protected_tokens) for embedding in documents_embeddings]
