"""PyLate's ``rank`` module: rerank each query's candidates by MaxSim.

``from colbert_retrieval.pylate import rank`` then ``rank.rerank(documents_ids=..., queries_embeddings=...,
documents_embeddings=...)``, exactly as with ``from pylate import rank``.

Examples:
    >>> import numpy as np
    >>> from colbert_retrieval.pylate import rank
    >>> rank.rerank(documents_ids=[[7]], queries_embeddings=[np.eye(2)], documents_embeddings=[[np.eye(2)]])
    [[{'id': 7, 'score': 2.0}]]
"""

from __future__ import annotations

from colbert_retrieval.scores import RerankResult, rerank

__all__ = ["RerankResult", "rerank"]
