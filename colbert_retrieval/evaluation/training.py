"""PyLate's training-time evaluators, as thin mappings onto sentence-transformers' multi-vector evaluators.

Pass them to the trainer as ``evaluator=``, as in PyLate (``from colbert_retrieval import evaluation``):

=========================================== ===============================================================
PyLate                                      sentence-transformers (what runs)
=========================================== ===============================================================
``ColBERTTripletEvaluator``                 ``MultiVectorTripletEvaluator`` (MaxSim accuracy on triplets)
``ColBERTDistillationEvaluator``            ``MultiVectorDistillationEvaluator`` (KL to teacher scores)
``PyLateInformationRetrievalEvaluator``     ``MultiVectorInformationRetrievalEvaluator`` (exact MaxSim IR)
``NanoBEIREvaluator``                       ``MultiVectorNanoBEIREvaluator`` (downloads NanoBEIR)
=========================================== ===============================================================

Differences: ``truncate_dim`` must stay None (multi-vector models have no Matryoshka truncation); the
triplet evaluator's metric is ``MaxSim_accuracy`` (its CSV column ``accuracy_MaxSim``; PyLate:
``accuracy``); the distillation evaluator reports sentence-transformers' metric names. PyLate's scripts also
run with sentence-transformers' ``SentenceTransformerTrainer`` unchanged: it trains a ``ColBERT`` as well.
For BEIR evaluation outside training use :func:`colbert_retrieval.evaluation.load_beir` and the metrics of
this package, or ``colbert-retrieval evaluate``.

Examples:
    >>> evaluator = ColBERTTripletEvaluator(["fruits?"], ["fruits are healthy."], ["cars are fast."])
    >>> type(evaluator).__mro__[1].__name__
    'MultiVectorTripletEvaluator'
"""

from __future__ import annotations

from typing import Any

from sentence_transformers.multi_vector_encoder.evaluation import (
    MultiVectorDistillationEvaluator,
    MultiVectorInformationRetrievalEvaluator,
    MultiVectorNanoBEIREvaluator,
    MultiVectorTripletEvaluator,
)

from colbert_retrieval.errors import InvalidArgumentError
from colbert_retrieval.scores import MinMaxScores, colbert_kd_scores

__all__ = [
    "ColBERTDistillationEvaluator",
    "ColBERTTripletEvaluator",
    "NanoBEIREvaluator",
    "PyLateInformationRetrievalEvaluator",
]


def _no_truncation(truncate_dim: int | None) -> None:
    if truncate_dim is not None:
        msg = "truncate_dim is not available for ColBERT (token vectors have no Matryoshka truncation); drop it."
        raise InvalidArgumentError(msg)


class ColBERTTripletEvaluator(MultiVectorTripletEvaluator):
    """Accuracy of MaxSim(anchor, positive) > MaxSim(anchor, negative) (PyLate's arguments)."""

    def __init__(
        self,
        anchors: list[str],
        positives: list[str],
        negatives: list[str],
        name: str = "",
        batch_size: int = 32,
        show_progress_bar: bool = False,
        write_csv: bool = True,
        truncate_dim: int | None = None,
    ) -> None:
        _no_truncation(truncate_dim)
        super().__init__(
            anchors=anchors,
            positives=positives,
            negatives=negatives,
            name=name,
            batch_size=batch_size,
            show_progress_bar=show_progress_bar,
            write_csv=write_csv,
        )


class ColBERTDistillationEvaluator(MultiVectorDistillationEvaluator):
    """KL divergence between teacher scores and the model's MaxSim scores (PyLate's arguments).

    ``normalize_scores`` min-max normalises the model's scores per query first, as PyLate does.
    """

    def __init__(
        self,
        queries: list[str],
        documents: list[list[str]],
        scores: list[list[float]],
        name: str = "",
        batch_size: int = 16,
        show_progress_bar: bool = False,
        write_csv: bool = True,
        truncate_dim: int | None = None,
        normalize_scores: bool = True,
    ) -> None:
        _no_truncation(truncate_dim)
        super().__init__(
            queries,
            documents,
            scores,
            similarity_fct=MinMaxScores(colbert_kd_scores) if normalize_scores else colbert_kd_scores,
            name=name,
            batch_size=batch_size,
            show_progress_bar=show_progress_bar,
            write_csv=write_csv,
        )


class PyLateInformationRetrievalEvaluator(MultiVectorInformationRetrievalEvaluator):
    """Exact MaxSim retrieval metrics (nDCG, MRR, recall...) over a small corpus during training."""

    def __init__(
        self, queries: dict[str, str], corpus: dict[str, str], relevant_docs: dict[str, Any], **kwargs: Any
    ) -> None:
        _no_truncation(kwargs.pop("truncate_dim", None))
        relevant = {query: set(docs) for query, docs in relevant_docs.items()}
        super().__init__(queries, corpus, relevant, **kwargs)


class NanoBEIREvaluator(MultiVectorNanoBEIREvaluator):
    """NanoBEIR retrieval metrics (needs the NanoBEIR datasets from the Hugging Face hub)."""
