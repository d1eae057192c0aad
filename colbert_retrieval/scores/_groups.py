"""MaxSim over groups of documents per query: PyLate's ``colbert_kd_scores`` and ``ColBERTScores``.

Both are the training-time shapes of :func:`~colbert_retrieval.scores._maxsim.colbert_scores` (same maths and
masking): distillation scores each query against its own ``N`` candidates; contrastive scoring scores every
query against every group's candidates.

Examples:
    >>> import torch
    >>> q = torch.tensor([[[1.0], [0.0]], [[0.0], [2.0]]])
    >>> d = torch.tensor([[[[3.0]], [[1.0]]], [[[5.0]], [[7.0]]]])
    >>> colbert_kd_scores(q, d).tolist()
    [[3.0, 1.0], [10.0, 14.0]]
    >>> ColBERTScores()(q, d).tolist()
    [[3.0, 1.0, 5.0, 7.0], [6.0, 2.0, 10.0, 14.0]]
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from torch import Tensor

from colbert_retrieval.errors import DimensionMismatchError
from colbert_retrieval.scores._maxsim import colbert_scores, colbert_scores_pairwise
from colbert_retrieval.scores._padding import ArrayLike, as_tensor

__all__ = ["ColBERTScores", "MinMaxScores", "colbert_kd_scores"]


def _groups(documents_embeddings: ArrayLike, caller: str) -> Tensor:
    documents = as_tensor(documents_embeddings)
    if documents.ndim != 4:
        msg = f"{caller} expects documents as (n_groups, n_per_group, n_tokens, dim), got {tuple(documents.shape)}."
        raise DimensionMismatchError(msg)
    return documents


def colbert_kd_scores(
    queries_embeddings: ArrayLike,
    documents_embeddings: ArrayLike,
    queries_mask: ArrayLike | None = None,
    documents_mask: ArrayLike | None = None,
) -> Tensor:
    """MaxSim of each query with each of its own ``N`` documents (knowledge distillation).

    Args:
        queries_embeddings: ``(Q, Lq, dim)``.
        documents_embeddings: ``(Q, N, Ld, dim)``: the candidates of each query.
        queries_mask: ``(Q, Lq)`` mask (None: all real).
        documents_mask: ``(Q, N, Ld)`` mask (None: all real).

    Returns:
        ``(Q, N)`` scores.

    Raises:
        DimensionMismatchError: the shapes do not fit together.
    """
    queries = as_tensor(queries_embeddings)
    documents = _groups(documents_embeddings, "colbert_kd_scores")
    n_queries, n_per_query, length, dim = documents.shape
    if queries.ndim != 3 or queries.shape[0] != n_queries:
        msg = f"colbert_kd_scores needs (Q, Lq, dim) queries for {n_queries} groups, got {tuple(queries.shape)}."
        raise DimensionMismatchError(msg)
    repeated = queries.repeat_interleave(n_per_query, dim=0)
    q_mask = None if queries_mask is None else as_tensor(queries_mask).repeat_interleave(n_per_query, dim=0)
    d_mask = None if documents_mask is None else as_tensor(documents_mask).reshape(n_queries * n_per_query, length)
    flat = documents.reshape(n_queries * n_per_query, length, dim)
    return colbert_scores_pairwise(repeated, flat, q_mask, d_mask).reshape(n_queries, n_per_query)


class ColBERTScores:
    """Contrastive MaxSim: every query against every group's documents, query-major.

    Called with ``(Q, Lq, dim)`` queries and ``(D, N, Ld, dim)`` documents, it returns ``(Q, D * N)`` scores
    where column ``d * N + k`` is slot ``k`` of group ``d`` (with ``Q == D``, query ``i``'s positive sits at
    column ``i * N``), as PyLate's ``ColBERTScores``.
    """

    def __call__(
        self,
        queries_embeddings: ArrayLike,
        documents_embeddings: ArrayLike,
        queries_mask: ArrayLike | None = None,
        documents_mask: ArrayLike | None = None,
    ) -> Tensor:
        """Score every query against every document of every group: a ``(Q, D * N)`` tensor."""
        documents = _groups(documents_embeddings, "ColBERTScores")
        n_groups, n_per_group, length, dim = documents.shape
        flat = documents.reshape(n_groups * n_per_group, length, dim)
        d_mask = None if documents_mask is None else as_tensor(documents_mask).reshape(n_groups * n_per_group, length)
        queries = as_tensor(queries_embeddings)
        # Training needs gradients and exact float32 arithmetic: compute in the inputs' dtype.
        return colbert_scores(
            queries, flat, queries_mask, d_mask, compute_dtype=torch.promote_types(queries.dtype, flat.dtype)
        )


def min_max_per_query(scores: Tensor) -> Tensor:
    """Each row of ``(Q, N)`` scores mapped to ``[0, 1]`` by its own minimum and maximum (PyLate's rule).

    Examples:
        >>> min_max_per_query(torch.tensor([[3.0, 1.0, 2.0]])).tolist()
        [[1.0, 0.0, 0.5]]
    """
    low = scores.min(dim=1, keepdim=True).values
    high = scores.max(dim=1, keepdim=True).values
    return (scores - low) / (high - low + 1e-8)


class MinMaxScores:
    """Wraps a ``(Q, N)`` scorer so that each query's scores are min-max normalised to ``[0, 1]``.

    PyLate's distillation loss and evaluator normalise the student's scores this way (``normalize_scores``).

    Examples:
        >>> import torch
        >>> scorer = MinMaxScores(colbert_kd_scores)
        >>> scorer(torch.ones(1, 2, 3), torch.stack([torch.ones(1, 2, 3), -torch.ones(1, 2, 3)], dim=1))
        tensor([[1., 0.]])
    """

    def __init__(self, scorer: Callable[..., Tensor]) -> None:
        self.scorer = scorer
        self.__name__ = f"min_max({getattr(scorer, '__name__', type(scorer).__name__)})"

    def __call__(self, *args: Any, **kwargs: Any) -> Tensor:
        """The wrapped scorer's ``(Q, N)`` scores, each row mapped to ``[0, 1]``."""
        return min_max_per_query(self.scorer(*args, **kwargs))
