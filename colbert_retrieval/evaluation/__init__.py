"""Retrieval evaluation: BEIR-format loading and trec_eval-compatible metrics.

Examples:
    >>> from colbert_retrieval.evaluation import ndcg_at_k
    >>> ndcg_at_k({"q": {"d1": 1}}, {"q": ["d1", "d2"]}, k=10)
    1.0
"""

from __future__ import annotations

from colbert_retrieval.evaluation.beir import BeirDataset, load_beir
from colbert_retrieval.evaluation.metrics import mrr_at_k, ndcg_at_k, recall_at_k

__all__ = ["BeirDataset", "load_beir", "mrr_at_k", "ndcg_at_k", "recall_at_k"]
