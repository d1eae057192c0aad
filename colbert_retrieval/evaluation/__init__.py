"""Retrieval evaluation: BEIR-format loading and trec_eval-compatible metrics.

Rule of this folder: plain data in, numbers out; it never imports the encoder or the index, so any
retriever's runs can be scored. :mod:`.training` holds PyLate's training-time evaluators (``evaluator=`` of
the trainer), thin mappings onto sentence-transformers' multi-vector evaluators (loaded on first use).

Examples:
    >>> from colbert_retrieval.evaluation import ndcg_at_k
    >>> ndcg_at_k({"q": {"d1": 1}}, {"q": ["d1", "d2"]}, k=10)
    1.0
"""

from __future__ import annotations

from colbert_retrieval.evaluation._beir import BeirDataset, load_beir
from colbert_retrieval.evaluation._calibration import calibration
from colbert_retrieval.evaluation._metrics import mrr_at_k, ndcg_at_k, recall_at_k

# For the sibling packages of colbert_retrieval (not public API: not in __all__, may change without notice).
from colbert_retrieval.evaluation._metrics import ndcg_per_query as ndcg_per_query
from colbert_retrieval.evaluation._metrics import retrieval_metrics as retrieval_metrics

__all__ = [
    "BeirDataset",
    "ColBERTDistillationEvaluator",
    "ColBERTTripletEvaluator",
    "NanoBEIREvaluator",
    "PyLateInformationRetrievalEvaluator",
    "calibration",
    "load_beir",
    "mrr_at_k",
    "ndcg_at_k",
    "recall_at_k",
]

_TRAINING = {
    "ColBERTDistillationEvaluator",
    "ColBERTTripletEvaluator",
    "NanoBEIREvaluator",
    "PyLateInformationRetrievalEvaluator",
}


def __getattr__(name: str) -> object:
    """PyLate's training evaluators, imported on first use (they load sentence-transformers' evaluators)."""
    if name in _TRAINING:
        from colbert_retrieval.evaluation import _training

        return getattr(_training, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
