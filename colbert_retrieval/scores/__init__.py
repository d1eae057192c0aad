"""MaxSim scoring: padded or ragged batches, pairs, groups, and reranking of candidates.

Rule of this folder: pure tensor maths on token vectors; it imports only ``colbert_retrieval.errors`` (never
the encoder, the index or a framework). One entry point per shape: :func:`colbert_scores` (all pairs of a
padded batch or of ragged lists), :func:`colbert_scores_pairwise` (query ``i`` with document ``i``),
:func:`colbert_kd_scores` / :class:`ColBERTScores` (training groups, PyLate's names) and
:func:`rerank` (each query's ragged candidates, on :func:`candidate_scores`). The names and
keywords are PyLate's (``queries_embeddings=``, ``documents_embeddings=``).

Examples:
    >>> import torch
    >>> from colbert_retrieval import scores
    >>> scores.colbert_scores(queries_embeddings=torch.ones(1, 2, 3), documents_embeddings=torch.ones(2, 4, 3)).shape
    torch.Size([1, 2])
"""

from __future__ import annotations

from colbert_retrieval.scores._diversity import maximal_marginal_relevance
from colbert_retrieval.scores._groups import ColBERTScores, MinMaxScores, colbert_kd_scores
from colbert_retrieval.scores._maxsim import (
    DEFAULT_CHUNK_ELEMENTS,
    GPU_CHUNK_ELEMENTS,
    colbert_scores,
    colbert_scores_pairwise,
    compute_dtype_for,
)
from colbert_retrieval.scores._padding import mask_from_padded, pad_embeddings, to_padded
from colbert_retrieval.scores._ranking import RerankResult, candidate_scores, rerank

__all__ = [
    "RerankResult",
    "rerank",
    "DEFAULT_CHUNK_ELEMENTS",
    "GPU_CHUNK_ELEMENTS",
    "ColBERTScores",
    "MinMaxScores",
    "candidate_scores",
    "colbert_kd_scores",
    "colbert_scores",
    "colbert_scores_pairwise",
    "compute_dtype_for",
    "mask_from_padded",
    "maximal_marginal_relevance",
    "pad_embeddings",
    "to_padded",
]

# For the sibling packages of colbert_retrieval (not public API: not in __all__, may change without notice).
from colbert_retrieval.scores._groups import min_max_per_query as min_max_per_query
