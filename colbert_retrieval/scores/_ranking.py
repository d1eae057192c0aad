"""Reranking: each query's candidate documents (ragged) ordered by MaxSim, PyLate's ``rank.rerank``.

Candidates are padded and scored ``batch_size`` at a time, shortest first, so memory stays bounded and
padding small, whatever the number and length of candidates.

Examples:
    >>> import numpy as np
    >>> query = np.eye(2, dtype=np.float32)
    >>> rerank([["a", "b"]], [query], [[np.eye(2)[:1], np.eye(2)]])
    [[{'id': 'b', 'score': 2.0}, {'id': 'a', 'score': 1.0}]]
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypedDict

import numpy as np
import torch
from torch import Tensor

from colbert_retrieval.errors import DimensionMismatchError, InvalidArgumentError
from colbert_retrieval.scores._maxsim import colbert_scores
from colbert_retrieval.scores._padding import ArrayLike, as_tensor, pad_embeddings

__all__ = ["RerankResult", "candidate_scores", "rerank"]


class RerankResult(TypedDict):
    """One reranked document: its id and its MaxSim score."""

    id: int | str
    score: float


def candidate_scores(
    query: ArrayLike,
    documents: Sequence[ArrayLike],
    *,
    batch_size: int = 1024,
    device: str | torch.device | None = None,
) -> Tensor:
    """MaxSim of one query against each of its ragged candidates, in the candidates' order.

    Args:
        query: ``(Lq, dim)`` query vectors.
        documents: candidate ``(Ld_i, dim)`` matrices.
        batch_size: candidates padded and scored together.
        device: where to score (default: the query's device).

    Returns:
        ``(n_candidates,)`` float32 scores on the CPU.

    Raises:
        DimensionMismatchError: the query is not one ``(Lq, dim)`` matrix, or the dimensions differ.
    """
    q = as_tensor(query)
    if q.ndim != 2:
        msg = f"A query must be one (n_tokens, dim) matrix, got shape {tuple(q.shape)}."
        raise DimensionMismatchError(msg)
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        msg = f"batch_size must be an integer >= 1, got {batch_size!r}."
        raise InvalidArgumentError(msg)
    target = torch.device(device) if device is not None else q.device
    q = q.to(target)
    order = sorted(range(len(documents)), key=lambda i: len(documents[i]))
    result = torch.empty(len(documents), dtype=torch.float32)
    for start in range(0, len(order), batch_size):
        chunk = order[start : start + batch_size]
        padded, mask = pad_embeddings([documents[i] for i in chunk])
        result[torch.tensor(chunk)] = colbert_scores(q[None], padded.to(target), None, mask.to(target))[0].cpu()
    return result


def _queries(queries_embeddings: ArrayLike | Sequence[ArrayLike]) -> list[ArrayLike]:
    if isinstance(queries_embeddings, (Tensor, np.ndarray)) and queries_embeddings.ndim == 2:
        return [queries_embeddings]  # one query, as PyLate reshapes it
    return list(queries_embeddings)


def rerank(
    documents_ids: Sequence[Sequence[int | str]],
    queries_embeddings: ArrayLike | Sequence[ArrayLike],
    documents_embeddings: Sequence[Sequence[ArrayLike]],
    device: str | torch.device | None = None,
    *,
    batch_size: int = 1024,
) -> list[list[RerankResult]]:
    """Order each query's candidates by MaxSim, best first (PyLate's ``rank.rerank``, with correct masking).

    Args:
        documents_ids: for each query, the ids of its candidates.
        queries_embeddings: one ``(Lq, dim)`` matrix per query (a list, or a padded ``(n, Lq, dim)`` batch).
        documents_embeddings: for each query, its candidates' ``(Ld_i, dim)`` matrices (ragged).
        device: where to score (None: each query's device).
        batch_size: candidates padded and scored together (bounds memory).

    Returns:
        For each query, ``{"id", "score"}`` dicts sorted by descending score.

    Raises:
        InvalidArgumentError: the three inputs do not have one entry per query, or a query's ids and
            embeddings differ in number.
        DimensionMismatchError: a query is not a matrix, or the dimensions differ.
    """
    queries = _queries(queries_embeddings)
    if not len(queries) == len(documents_ids) == len(documents_embeddings):
        msg = (
            f"rerank needs one entry per query in each input; got {len(queries)} queries, "
            f"{len(documents_ids)} id lists and {len(documents_embeddings)} embedding lists."
        )
        raise InvalidArgumentError(msg)
    results: list[list[RerankResult]] = []
    for position, (query, ids, candidates) in enumerate(zip(queries, documents_ids, documents_embeddings)):
        if len(ids) != len(candidates):
            msg = f"Query {position} has {len(ids)} document ids but {len(candidates)} document embeddings."
            raise InvalidArgumentError(msg)
        if not len(candidates):
            results.append([])
            continue
        scores = candidate_scores(query, list(candidates), batch_size=batch_size, device=device)
        values, order = torch.sort(scores, descending=True, stable=True)
        results.append([RerankResult(id=ids[i], score=s) for i, s in zip(order.tolist(), values.tolist())])
    return results
