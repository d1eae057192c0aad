"""Retrieval evaluation: BEIR-format loading and trec_eval-compatible metrics.

Rule of this folder: plain data in, numbers out; it imports only ``colbert_retrieval.errors`` (never the
encoder or the index), so any retriever's runs can be scored.

Examples:
    >>> from colbert_retrieval.evaluation import ndcg_at_k
    >>> ndcg_at_k({"q": {"d1": 1}}, {"q": ["d1", "d2"]}, k=10)
    1.0
"""

from __future__ import annotations

from colbert_retrieval.evaluation.beir import BeirDataset, load_beir
from colbert_retrieval.evaluation.metrics import mrr_at_k, ndcg_at_k, recall_at_k

__all__ = ["BeirDataset", "load_beir", "mrr_at_k", "ndcg_at_k", "recall_at_k"]
