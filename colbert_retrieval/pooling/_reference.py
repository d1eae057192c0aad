"""The reference pooling: one SciPy Ward clustering per document, as PyLate >= 1.5 computes it.

Examples:
    >>> import torch
    >>> doc = torch.nn.functional.normalize(torch.randn(7, 3, generator=torch.Generator().manual_seed(1)), dim=-1)
    >>> pool_reference([doc], 2, 1)[0].shape
    torch.Size([4, 3])
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from scipy.cluster import hierarchy
from torch import Tensor

__all__ = ["pool_reference", "scipy_ward_labels"]


def scipy_ward_labels(vectors: np.ndarray, n_clusters: int) -> np.ndarray:
    """Ward labels (``1..n_clusters``) of unit vectors on cosine distance, with PyLate's calls.

    Args:
        vectors: ``(n, dim)`` float32 unit vectors, ``n >= 2``.
        n_clusters: the number of clusters wanted.

    Returns:
        ``(n,)`` int array of labels from :func:`scipy.cluster.hierarchy.fcluster`.

    Examples:
        >>> import numpy as np
        >>> scipy_ward_labels(np.array([[1, 0], [1, 0], [0, 1]], dtype=np.float32), 2).tolist()
        [1, 1, 2]
    """
    n = vectors.shape[0]
    similarities = torch.from_numpy(np.ascontiguousarray(vectors, dtype=np.float32))
    distances = 1 - torch.mm(similarities, similarities.t()).numpy()
    condensed = distances[np.triu_indices(n, k=1)]
    linkage = hierarchy.linkage(condensed, method="ward")
    return hierarchy.fcluster(linkage, t=n_clusters, criterion="maxclust")


def _pool_document(embedding: Tensor, pool_factor: int, protected_tokens: int) -> Tensor:
    protected = embedding[:protected_tokens]
    to_pool = embedding[protected_tokens:]
    n = to_pool.shape[0]
    n_clusters = max(n // pool_factor, 1)
    if n_clusters >= n:
        return embedding
    values = to_pool.detach().float().cpu()
    labels = torch.from_numpy(scipy_ward_labels(values.numpy(), n_clusters).astype(np.int64) - 1)
    sums = torch.zeros(n_clusters, values.shape[1], dtype=torch.float32)
    sums.index_add_(0, labels, values)
    counts = torch.bincount(labels, minlength=n_clusters)
    present = counts > 0
    pooled = sums[present] / counts[present].unsqueeze(1)
    return torch.cat([protected, pooled.to(device=embedding.device, dtype=embedding.dtype)], dim=0)


def pool_reference(documents_embeddings: Sequence[Tensor], pool_factor: int, protected_tokens: int) -> list[Tensor]:
    """Pool each document with its own SciPy call, on the CPU (clusters in SciPy's label order)."""
    return [_pool_document(embedding, int(pool_factor), protected_tokens) for embedding in documents_embeddings]
