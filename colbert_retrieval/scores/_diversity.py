"""Maximal marginal relevance (MMR) with MaxSim: diverse results from multi-vector candidates.

Relevance is the query's MaxSim with a candidate divided by the query's token count; the similarity of two
candidates is their symmetric mean MaxSim (each document's tokens matched in the other, averaged, both ways).
Both are then in ``[-1, 1]``, like the cosines of single-vector MMR, so ``lambda_mult`` means what it means
in LangChain: 1 ranks by relevance alone, 0 by diversity alone.

Examples:
    >>> import numpy as np
    >>> query = np.array([[1.0, 0.0]], dtype=np.float32)
    >>> docs = [np.array([[1.0, 0.0]]), np.array([[0.99, 0.14]]), np.array([[0.6, 0.8]])]
    >>> maximal_marginal_relevance(query, docs, k=2, lambda_mult=0.3)
    [0, 2]
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from colbert_retrieval.errors import InvalidArgumentError
from colbert_retrieval.scores._maxsim import colbert_scores
from colbert_retrieval.scores._padding import ArrayLike, as_tensor, pad_embeddings

__all__ = ["maximal_marginal_relevance"]


def maximal_marginal_relevance(
    query: ArrayLike, documents: Sequence[ArrayLike], k: int = 4, lambda_mult: float = 0.5
) -> list[int]:
    """Positions of ``k`` candidates chosen greedily for relevance to ``query`` and novelty among themselves.

    Args:
        query: ``(Lq, dim)`` query vectors.
        documents: the candidates' ``(Ld_i, dim)`` vectors.
        k: how many to choose (fewer if there are fewer candidates).
        lambda_mult: weight of relevance against diversity, in ``[0, 1]``.

    Returns:
        Candidate positions in the order chosen.

    Raises:
        InvalidArgumentError: ``k`` below 1 or ``lambda_mult`` outside ``[0, 1]``.
    """
    if isinstance(k, bool) or not isinstance(k, int) or k < 1:
        raise InvalidArgumentError(f"k must be an integer >= 1; got {k!r}.")
    if not 0.0 <= float(lambda_mult) <= 1.0:
        raise InvalidArgumentError(f"lambda_mult must be in [0, 1]; got {lambda_mult!r}.")
    if not documents:
        return []
    q = as_tensor(query).float()
    d, d_mask = pad_embeddings([as_tensor(doc).float() for doc in documents])
    relevance = colbert_scores(q[None], d, None, d_mask)[0] / q.shape[0]
    lengths = d_mask.sum(dim=1).clamp(min=1).to(relevance)
    pairwise = colbert_scores(d, d, d_mask, d_mask) / lengths[:, None]  # row i: i's tokens matched in j
    similarity = (pairwise + pairwise.T) / 2
    chosen: list[int] = []
    remaining = list(range(len(documents)))
    while remaining and len(chosen) < k:
        if chosen:
            redundancy = similarity[remaining][:, chosen].max(dim=1).values
        else:
            redundancy = torch.zeros(len(remaining), dtype=relevance.dtype)
        gain = lambda_mult * relevance[remaining] - (1.0 - lambda_mult) * redundancy
        best = remaining[int(torch.argmax(gain))]
        chosen.append(best)
        remaining.remove(best)
    return chosen
