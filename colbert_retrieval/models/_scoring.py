"""MaxSim scoring and token pooling as methods of the encoder (PyLate's ``similarity`` and pooling API).

The maths lives in :mod:`colbert_retrieval.scores` and :mod:`colbert_retrieval.pooling`; these methods apply
the model's ``similarity_fn_name`` (``maxsim`` or ``meanmaxsim``).

Examples:
    >>> import numpy as np
    >>> from colbert_retrieval import default_model
    >>> default_model().similarity([np.eye(2, dtype=np.float32)], [np.eye(2, dtype=np.float32)]).tolist()
    [[2.0]]
"""

from __future__ import annotations

from typing import Any

from torch import Tensor

from colbert_retrieval import pooling, scores

__all__ = ["ScoringMixin"]


class ScoringMixin:
    """``similarity``, ``similarity_pairwise`` and ``pool_embeddings_hierarchical`` of the encoder."""

    similarity_fn_name: str

    def similarity(self, embeddings1: Any, embeddings2: Any, **kwargs: Any) -> Tensor:
        """All-pairs MaxSim between query and document embeddings (ragged lists, one matrix or padded).

        Args:
            embeddings1: query embeddings.
            embeddings2: document embeddings.
            **kwargs: ``chunk_elements`` / ``compute_dtype`` of :func:`colbert_retrieval.scores.colbert_scores`.

        Returns:
            ``(n_queries, n_documents)`` tensor (divided by the query token count for ``meanmaxsim``).
        """
        q, q_mask = scores.to_padded(embeddings1)
        d, d_mask = scores.to_padded(embeddings2)
        result = scores.colbert_scores(q, d, q_mask, d_mask, **kwargs)
        if self.similarity_fn_name == "meanmaxsim":
            result = result / q_mask.sum(dim=1, keepdim=True).clamp(min=1).to(result)
        return result

    def similarity_pairwise(self, embeddings1: Any, embeddings2: Any, **kwargs: Any) -> Tensor:
        """MaxSim of each query with the document at the same position: a ``(n,)`` tensor."""
        q, q_mask = scores.to_padded(embeddings1)
        d, d_mask = scores.to_padded(embeddings2)
        result = scores.colbert_scores_pairwise(q, d, q_mask, d_mask)
        if self.similarity_fn_name == "meanmaxsim":
            result = result / q_mask.sum(dim=1).clamp(min=1).to(result)
        return result

    @staticmethod
    def pool_embeddings_hierarchical(
        documents_embeddings: list[Tensor], pool_factor: int = 1, protected_tokens: int = 1
    ) -> list[Tensor]:
        """Ward token pooling (see :func:`colbert_retrieval.pooling.pool_embeddings_hierarchical`)."""
        return pooling.pool_embeddings_hierarchical(documents_embeddings, pool_factor, protected_tokens)
