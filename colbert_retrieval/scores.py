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
    >>> [round(score, 4) for score in colbert_scores_ragged(q, d)[0].tolist()]
    [1.0, 1.4]
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from torch import Tensor

from colbert_retrieval.errors import DimensionMismatchError, EmptyInputError

__all__ = [
    "DEFAULT_CHUNK_ELEMENTS",
    "GPU_CHUNK_ELEMENTS",
    "compute_dtype_for",
    "rerank",
    "colbert_scores",
    "colbert_scores_pairwise",
    "colbert_scores_ragged",
    "mask_from_padded",
    "pad_embeddings",
    "to_padded",
]

#: Similarity values materialised at once on the CPU (``2**19`` floats = 2 MiB: the block stays in cache).
DEFAULT_CHUNK_ELEMENTS = 2**19
#: Similarity values materialised at once on a GPU (``2**27`` = 256 MiB of float16).
GPU_CHUNK_ELEMENTS = 2**27

ArrayLike = Tensor | np.ndarray
Embeddings = ArrayLike | Sequence[ArrayLike]


def _as_tensor(array: ArrayLike) -> Tensor:
    tensor = array if isinstance(array, Tensor) else torch.from_numpy(np.asarray(array))
    if not tensor.is_floating_point():
        tensor = tensor.float()
    return tensor


def pad_embeddings(embeddings: Sequence[ArrayLike]) -> tuple[Tensor, Tensor]:
    """Pad a ragged list of ``(n_i, dim)`` matrices into one batch and its mask.

    Args:
        embeddings: ``list`` of ``(n_i, dim)`` float arrays or tensors (``n_i`` may be 0).

    Returns:
        A ``(batch, max_n, dim)`` tensor, zero-padded, and a ``(batch, max_n)`` bool mask that is True on
        real vectors.

    Raises:
        EmptyInputError: The list is empty.
        DimensionMismatchError: The matrices do not share one dimension, or one is not 2-D.

    Examples:
        >>> import numpy as np
        >>> padded, mask = pad_embeddings([np.ones((2, 3)), np.ones((1, 3))])
        >>> tuple(padded.shape), mask.tolist()
        ((2, 2, 3), [[True, True], [True, False]])
    """
    if len(embeddings) == 0:
        msg = "Cannot pad an empty list of embeddings: pass at least one (n_tokens, dim) matrix."
        raise EmptyInputError(msg)
    tensors = [_as_tensor(e) for e in embeddings]
    for index, tensor in enumerate(tensors):
        if tensor.ndim != 2:
            msg = f"Embedding {index} has shape {tuple(tensor.shape)}; expected a 2-D (n_tokens, dim) matrix."
            raise DimensionMismatchError(msg)
    dims = {t.shape[1] for t in tensors}
    if len(dims) > 1:
        msg = f"Embeddings have different dimensions {sorted(dims)}; encode them all with the same model."
        raise DimensionMismatchError(msg)
    dtype = torch.promote_types(tensors[0].dtype, torch.float32) if len({t.dtype for t in tensors}) > 1 else None
    if dtype is not None:
        tensors = [t.to(dtype) for t in tensors]
    lengths = torch.tensor([t.shape[0] for t in tensors])
    padded = torch.nn.utils.rnn.pad_sequence(tensors, batch_first=True, padding_value=0.0)
    if padded.shape[1] == 0:
        padded = padded.new_zeros((len(tensors), 0, dims.pop()))
    mask = torch.arange(padded.shape[1])[None, :] < lengths[:, None]
    return padded, mask.to(padded.device)


def mask_from_padded(embeddings: ArrayLike) -> Tensor:
    """Recover the mask of a zero-padded ``(batch, n, dim)`` array returned by ``encode(padding=True)``.

    Real token vectors are L2-normalised, so they are never all zeros; padding rows are exactly zero.

    Args:
        embeddings: ``(batch, n, dim)`` array or tensor.

    Returns:
        ``(batch, n)`` bool tensor, True on real token vectors.

    Examples:
        >>> import numpy as np
        >>> mask_from_padded(np.array([[[1.0, 0.0], [0.0, 0.0]]])).tolist()
        [[True, False]]
    """
    tensor = _as_tensor(embeddings)
    return tensor.ne(0).any(dim=-1)


def to_padded(embeddings: Embeddings, mask: ArrayLike | None = None) -> tuple[Tensor, Tensor]:
    """Bring any accepted embeddings form to a padded batch and its mask.

    Args:
        embeddings: a ragged list of ``(n_i, dim)`` matrices, one ``(n, dim)`` matrix (a batch of one), or a
            padded ``(batch, n, dim)`` array.
        mask: optional ``(batch, n)`` mask for a padded array; without it, all-zero rows count as padding.

    Returns:
        ``(batch, n, dim)`` tensor and ``(batch, n)`` bool mask.

    Examples:
        >>> import numpy as np
        >>> padded, mask = to_padded(np.ones((4, 8)))
        >>> tuple(padded.shape), tuple(mask.shape)
        ((1, 4, 8), (1, 4))
    """
    if isinstance(embeddings, (Tensor, np.ndarray)):
        tensor = _as_tensor(embeddings)
        if tensor.ndim == 2:
            tensor = tensor.unsqueeze(0)
        if tensor.ndim != 3:
            msg = f"Expected (n_tokens, dim) or (batch, n_tokens, dim) embeddings, got shape {tuple(tensor.shape)}."
            raise DimensionMismatchError(msg)
        if mask is None:
            return tensor, mask_from_padded(tensor)
        mask_tensor = _as_tensor(mask).bool().to(tensor.device)
        if mask_tensor.ndim == 1:
            mask_tensor = mask_tensor.unsqueeze(0)
        if tuple(mask_tensor.shape) != tuple(tensor.shape[:2]):
            msg = f"Mask shape {tuple(mask_tensor.shape)} does not match embeddings {tuple(tensor.shape[:2])}."
            raise DimensionMismatchError(msg)
        return tensor, mask_tensor
    return pad_embeddings(list(embeddings))


def _check_dims(queries: Tensor, documents: Tensor) -> None:
    if queries.shape[-1] != documents.shape[-1]:
        msg = (
            f"Query vectors have dimension {queries.shape[-1]} but document vectors have "
            f"{documents.shape[-1]}; encode both with the same model and truncate_dim."
        )
        raise DimensionMismatchError(msg)


def _padded_pair(queries: ArrayLike, documents: ArrayLike, caller: str) -> tuple[Tensor, Tensor]:
    q = _as_tensor(queries)
    d = _as_tensor(documents)
    if q.ndim != 3 or d.ndim != 3:
        msg = (
            f"{caller} expects padded 3-D batches (n, n_tokens, dim); use colbert_scores_ragged for lists of matrices."
        )
        raise DimensionMismatchError(msg)
    _check_dims(q, d)
    return q, d


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
    queries: ArrayLike,
    documents: ArrayLike,
    queries_mask: ArrayLike | None = None,
    documents_mask: ArrayLike | None = None,
    *,
    chunk_elements: int | None = None,
    compute_dtype: torch.dtype | None = None,
) -> Tensor:
    """All-pairs MaxSim between padded batches of queries and documents.

    Args:
        queries: ``(n_queries, Lq, dim)`` float array or tensor.
        documents: ``(n_documents, Ld, dim)`` float array or tensor.
        queries_mask: ``(n_queries, Lq)`` bool/0-1 mask, True on real query tokens. None: all real.
        documents_mask: ``(n_documents, Ld)`` mask, True on real document tokens. None: all real.
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
    q, d = _padded_pair(queries, documents, "colbert_scores")
    dtype = compute_dtype or compute_dtype_for(d.device, _common_dtype(q, d))
    if chunk_elements is None:
        chunk_elements = GPU_CHUNK_ELEMENTS if d.device.type == "cuda" else DEFAULT_CHUNK_ELEMENTS
    q = q.to(device=d.device, dtype=dtype)
    n_q, l_q, dim = q.shape
    n_d, l_d, _ = d.shape
    q_mask = None if queries_mask is None else _as_tensor(queries_mask).bool().to(d.device)
    d_mask = None if documents_mask is None else _as_tensor(documents_mask).bool().to(d.device)
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
    queries: ArrayLike,
    documents: ArrayLike,
    queries_mask: ArrayLike | None = None,
    documents_mask: ArrayLike | None = None,
) -> Tensor:
    """MaxSim of each query with the document at the same index.

    Args:
        queries: ``(n, Lq, dim)`` float array or tensor.
        documents: ``(n, Ld, dim)`` float array or tensor.
        queries_mask: ``(n, Lq)`` mask, True on real query tokens. None: all real.
        documents_mask: ``(n, Ld)`` mask, True on real document tokens. None: all real.

    Returns:
        ``(n,)`` float tensor.

    Examples:
        >>> import torch
        >>> q = torch.tensor([[[1.0, 0.0]], [[0.0, 1.0]]])
        >>> d = torch.tensor([[[0.5, 0.5]], [[0.0, -1.0]]])
        >>> colbert_scores_pairwise(q, d).tolist()
        [0.5, -1.0]
    """
    q, d = _padded_pair(queries, documents, "colbert_scores_pairwise")
    if q.shape[0] != d.shape[0]:
        msg = f"Pairwise scoring needs as many queries ({q.shape[0]}) as documents ({d.shape[0]})."
        raise DimensionMismatchError(msg)
    dtype = _common_dtype(q, d)
    q = q.to(device=d.device, dtype=dtype)
    sims = torch.bmm(q, d.to(dtype).transpose(1, 2)).float()
    if documents_mask is not None:
        d_mask = _as_tensor(documents_mask).bool().to(d.device)
        sims.masked_fill_(~d_mask[:, None, :], float("-inf"))
    best = sims.amax(dim=-1) if sims.shape[-1] > 0 else sims.new_full(sims.shape[:2], float("-inf"))
    if queries_mask is not None:
        best = best.masked_fill(~_as_tensor(queries_mask).bool().to(d.device), 0.0)
    return best.sum(dim=1)


def colbert_scores_ragged(
    queries: Embeddings,
    documents: Embeddings,
    *,
    chunk_elements: int | None = None,
) -> Tensor:
    """All-pairs MaxSim between ragged lists (or any form :func:`to_padded` accepts).

    Args:
        queries: list of ``(Lq_i, dim)`` matrices, one matrix, or a padded batch.
        documents: list of ``(Ld_j, dim)`` matrices, one matrix, or a padded batch.
        chunk_elements: how many similarity values may be materialised at once.

    Returns:
        ``(n_queries, n_documents)`` float tensor.

    Examples:
        >>> import numpy as np
        >>> colbert_scores_ragged([np.eye(2)], [np.eye(2)[:1]]).tolist()
        [[1.0]]
    """
    q, q_mask = to_padded(queries)
    d, d_mask = to_padded(documents)
    return colbert_scores(q, d, q_mask, d_mask, chunk_elements=chunk_elements)


def rerank(
    query: ArrayLike,
    documents: Sequence[ArrayLike],
    k: int | None = None,
    *,
    batch_size: int = 1024,
    device: str | torch.device | None = None,
) -> tuple[list[int], list[float]]:
    """Order ragged candidate documents by MaxSim against one query.

    Candidates are padded and scored ``batch_size`` at a time (bounded memory), sorted by length first so
    that padding stays small.

    Args:
        query: ``(Lq, dim)`` query vectors.
        documents: candidate ``(Ld_i, dim)`` matrices.
        k: keep the best ``k`` (None: all).
        batch_size: candidates padded and scored together.
        device: where to score (default: the query's device).

    Returns:
        Candidate indices best first, and their scores.

    Examples:
        >>> import numpy as np
        >>> rerank(np.eye(2, dtype=np.float32), [np.eye(2)[:1], np.eye(2)], k=1)
        ([1], [2.0])
    """
    if len(documents) == 0:
        return [], []
    q = _as_tensor(query)
    if q.ndim != 2:
        msg = f"rerank expects one (n_tokens, dim) query, got shape {tuple(q.shape)}."
        raise DimensionMismatchError(msg)
    target = torch.device(device) if device is not None else q.device
    q = q.to(target)
    order = sorted(range(len(documents)), key=lambda i: len(documents[i]))
    all_scores = torch.empty(len(documents), dtype=torch.float32)
    for start in range(0, len(order), batch_size):
        chunk = order[start : start + batch_size]
        padded, mask = pad_embeddings([documents[i] for i in chunk])
        result = colbert_scores(q[None], padded.to(target), None, mask.to(target))[0].cpu()
        all_scores[torch.tensor(chunk)] = result
    keep = len(documents) if k is None else min(k, len(documents))
    best = torch.topk(all_scores, keep)
    return best.indices.tolist(), best.values.tolist()
