"""MaxSim (late-interaction) scoring.

The ColBERT score of a query ``q`` (``Lq`` token vectors) against a document ``d`` (``Ld`` token vectors)
is ``sum_i max_j <q_i, d_j>``. Padded batches carry boolean masks: a masked document position never wins
the max (it is set to ``-inf`` before the max, unlike PyLate, which multiplies it by zero and so lets a
padding position win whenever every real similarity is negative), and a masked query position adds
nothing to the sum. A document without any real token scores ``-inf``.

Scoring runs in chunks over the documents so that scratch memory stays bounded: the full
``queries x documents x Lq x Ld`` tensor is never built.

Examples:
    >>> import numpy as np
    >>> q = [np.array([[1.0, 0.0], [0.0, 1.0]], dtype=np.float32)]
    >>> d = [np.array([[1.0, 0.0]], dtype=np.float32), np.array([[0.6, 0.8], [0.0, -1.0]], dtype=np.float32)]
    >>> [round(score, 4) for score in colbert_scores(q, d)[0].tolist()]
    [1.0, 1.4]
"""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor

from colbert_retrieval.errors import DimensionMismatchError
from colbert_retrieval.scores._padding import ArrayLike, Embeddings, as_tensor, pad_embeddings

__all__ = [
    "DEFAULT_CHUNK_ELEMENTS",
    "GPU_CHUNK_ELEMENTS",
    "colbert_scores",
    "colbert_scores_pairwise",
    "compute_dtype_for",
]

#: Similarity values materialised at once on the CPU (``2**19`` floats = 2 MiB: the block stays in cache).
DEFAULT_CHUNK_ELEMENTS = 2**19
#: Similarity values materialised at once on a GPU (``2**27`` = 256 MiB of float16).
GPU_CHUNK_ELEMENTS = 2**27


def _check_dims(queries: Tensor, documents: Tensor) -> None:
    if queries.shape[-1] != documents.shape[-1]:
        msg = (
            f"Query vectors have dimension {queries.shape[-1]} but document vectors have "
            f"{documents.shape[-1]}; encode both with the same model and truncate_dim."
        )
        raise DimensionMismatchError(msg)


def _batch(embeddings: Embeddings, mask: ArrayLike | None, role: str) -> tuple[Tensor, Tensor | None]:
    """A padded 3-D batch and its mask: padded input as given (None mask: all real), ragged lists padded."""
    if isinstance(embeddings, (Tensor, np.ndarray)):
        tensor = as_tensor(embeddings)
        if tensor.ndim != 3:
            msg = f"{role} embeddings must be a (n, n_tokens, dim) batch or a list of (n_tokens, dim) matrices."
            raise DimensionMismatchError(msg)
        return tensor, None if mask is None else as_tensor(mask).bool()
    padded, lengths_mask = pad_embeddings(list(embeddings))
    return padded, lengths_mask if mask is None else as_tensor(mask).bool()


def _batch_pair(
    queries: Embeddings, documents: Embeddings, queries_mask: ArrayLike | None, documents_mask: ArrayLike | None
) -> tuple[Tensor, Tensor | None, Tensor, Tensor | None]:
    q, q_mask = _batch(queries, queries_mask, "Query")
    d, d_mask = _batch(documents, documents_mask, "Document")
    _check_dims(q, d)
    return q, q_mask, d, d_mask


def _common_dtype(queries: Tensor, documents: Tensor) -> torch.dtype:
    if queries.dtype == documents.dtype:
        return queries.dtype
    return torch.promote_types(queries.dtype, documents.dtype)


def compute_dtype_for(device: torch.device, dtype: torch.dtype) -> torch.dtype:
    """Default MaxSim compute dtype: exact float32 on CPU, bfloat16 (or float16) on a CUDA device.

    Examples:
        >>> import torch
        >>> compute_dtype_for(torch.device("cpu"), torch.float16)
        torch.float32
    """
    if device.type == "cuda":
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    return torch.float32


def colbert_scores(
    queries_embeddings: Embeddings,
    documents_embeddings: Embeddings,
    queries_mask: ArrayLike | None = None,
    documents_mask: ArrayLike | None = None,
    *,
    chunk_elements: int | None = None,
    compute_dtype: torch.dtype | None = None,
) -> Tensor:
    """All-pairs MaxSim between queries and documents (PyLate's ``colbert_scores``, with correct masking).

    Args:
        queries_embeddings: ``(n_queries, Lq, dim)`` padded batch, or a list of ``(Lq_i, dim)`` matrices.
        documents_embeddings: ``(n_documents, Ld, dim)`` padded batch, or a list of ``(Ld_j, dim)`` matrices.
        queries_mask: ``(n_queries, Lq)`` bool/0-1 mask, True on real query tokens. None: all real (a list's
            own lengths for a list).
        documents_mask: ``(n_documents, Ld)`` mask, True on real document tokens. None: as for queries.
        chunk_elements: how many similarity values may be materialised at once (default: 2 MiB of floats
            on CPU so the block stays in cache, 256 MiB on GPU).
        compute_dtype: dtype of the matrix products (default: float32 on CPU, bfloat16 on GPU); the max and
            the sum are always accumulated in float32.

    Returns:
        ``(n_queries, n_documents)`` float32 tensor on the documents' device.

    Examples:
        >>> import torch
        >>> q = torch.tensor([[[1.0, 0.0]]])
        >>> d = torch.tensor([[[-0.5, 0.0], [0.0, 0.0]]])
        >>> colbert_scores(q, d, documents_mask=torch.tensor([[True, False]])).tolist()
        [[-0.5]]
    """
    q, q_mask, d, d_mask = _batch_pair(queries_embeddings, documents_embeddings, queries_mask, documents_mask)
    dtype = compute_dtype or compute_dtype_for(d.device, _common_dtype(q, d))
    if chunk_elements is None:
        chunk_elements = GPU_CHUNK_ELEMENTS if d.device.type == "cuda" else DEFAULT_CHUNK_ELEMENTS
    q = q.to(device=d.device, dtype=dtype)
    n_q, l_q, dim = q.shape
    n_d, l_d, _ = d.shape
    q_mask = None if q_mask is None else q_mask.to(d.device)
    d_mask = None if d_mask is None else d_mask.to(d.device)
    scores = torch.empty((n_q, n_d), dtype=torch.float32, device=d.device)
    if n_q == 0 or n_d == 0:
        return scores
    flat_q = q.reshape(n_q * l_q, dim)
    per_document = max(n_q * l_q * max(l_d, 1), 1)
    step = max(1, chunk_elements // per_document)
    for start in range(0, n_d, step):
        chunk = d[start : start + step].to(dtype)
        n_c = chunk.shape[0]
        # Documents x queries keeps the max over document tokens a reduction over rows of contiguous
        # query-token vectors, which vectorises better than the transposed layout.
        sims = (chunk.reshape(n_c * l_d, dim) @ flat_q.T).view(n_c, l_d, n_q, l_q)
        if d_mask is not None:
            sims.masked_fill_(~d_mask[start : start + step][:, :, None, None], float("-inf"))
        # The max is exact in any dtype; the sum is accumulated in float32.
        best = sims.amax(dim=1).float() if l_d > 0 else sims.new_full((n_c, n_q, l_q), float("-inf")).float()
        if q_mask is not None:
            best = best.masked_fill(~q_mask[None, :, :], 0.0)
        scores[:, start : start + n_c] = best.sum(dim=2).T
    return scores


def colbert_scores_pairwise(
    queries_embeddings: Embeddings,
    documents_embeddings: Embeddings,
    queries_mask: ArrayLike | None = None,
    documents_mask: ArrayLike | None = None,
    *,
    chunk_elements: int | None = None,
    compute_dtype: torch.dtype | None = None,
) -> Tensor:
    """MaxSim of each query with the document at the same index (PyLate's ``colbert_scores_pairwise``).

    Args:
        queries_embeddings: ``(n, Lq, dim)`` padded batch, or a list of ``(Lq_i, dim)`` matrices.
        documents_embeddings: ``(n, Ld, dim)`` padded batch, or a list of ``(Ld_i, dim)`` matrices.
        queries_mask: ``(n, Lq)`` mask, True on real query tokens. None: all real.
        documents_mask: ``(n, Ld)`` mask, True on real document tokens. None: all real.
        chunk_elements: how many similarity values may be materialised at once (default: all pairs at once
            up to 256 MiB of floats on a GPU, 2 MiB on the CPU).
        compute_dtype: dtype of the matrix products (default: the inputs' common dtype); the max and the sum
            are accumulated in float32.

    Returns:
        ``(n,)`` float32 tensor on the documents' device.

    Examples:
        >>> import torch
        >>> q = torch.tensor([[[1.0, 0.0]], [[0.0, 1.0]]])
        >>> d = torch.tensor([[[0.5, 0.5]], [[0.0, -1.0]]])
        >>> colbert_scores_pairwise(q, d).tolist()
        [0.5, -1.0]
    """
    q, q_mask, d, d_mask = _batch_pair(queries_embeddings, documents_embeddings, queries_mask, documents_mask)
    if q.shape[0] != d.shape[0]:
        msg = f"Pairwise scoring needs as many queries ({q.shape[0]}) as documents ({d.shape[0]})."
        raise DimensionMismatchError(msg)
    dtype = compute_dtype or _common_dtype(q, d)
    if chunk_elements is None:
        chunk_elements = GPU_CHUNK_ELEMENTS if d.device.type == "cuda" else DEFAULT_CHUNK_ELEMENTS
    q = q.to(device=d.device, dtype=dtype)
    q_mask = None if q_mask is None else q_mask.to(d.device)
    d_mask = None if d_mask is None else d_mask.to(d.device)
    step = max(1, chunk_elements // max(q.shape[1] * d.shape[1], 1))
    parts = []
    for start in range(0, d.shape[0], step):
        rows = slice(start, start + step)
        masks = (None if q_mask is None else q_mask[rows], None if d_mask is None else d_mask[rows])
        parts.append(_pairs(q[rows], d[rows].to(dtype), *masks))
    return torch.cat(parts) if parts else torch.empty(0, dtype=torch.float32, device=d.device)


def _pairs(q: Tensor, d: Tensor, q_mask: Tensor | None, d_mask: Tensor | None) -> Tensor:
    """Pairwise MaxSim of one chunk of aligned pairs."""
    sims = torch.bmm(q, d.transpose(1, 2)).float()
    if d_mask is not None:
        sims.masked_fill_(~d_mask[:, None, :], float("-inf"))
    best = sims.amax(dim=-1) if sims.shape[-1] > 0 else sims.new_full(sims.shape[:2], float("-inf"))
    if q_mask is not None:
        best = best.masked_fill(~q_mask, 0.0)
    return best.sum(dim=1)
