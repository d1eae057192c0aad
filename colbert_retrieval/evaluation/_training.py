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

import torch
from scipy.stats import spearmanr
from sentence_transformers.multi_vector_encoder.evaluation import (
    MultiVectorDistillationEvaluator,
    MultiVectorInformationRetrievalEvaluator,
    MultiVectorNanoBEIREvaluator,
    MultiVectorTripletEvaluator,
)

from colbert_retrieval.errors import InvalidArgumentError
from colbert_retrieval.scores import min_max_per_query

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

    ``normalize_scores`` (PyLate's default) min-max normalises the model's scores of each query's candidates
    before the softmax, as PyLate's evaluator and loss do; without it, sentence-transformers' evaluator runs
    as is. Reports ``kl_divergence`` (lower is better) and ``spearman``.
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
            queries, documents, scores, name=name, batch_size=batch_size, show_progress_bar=show_progress_bar
        )
        self.write_csv = write_csv
        self.normalize_scores = normalize_scores
        if normalize_scores and not self.nested_documents:
            raise InvalidArgumentError("normalize_scores needs several candidate documents per query (a list each).")
        if normalize_scores:
            self.primary_metric = "kl_divergence"
            self.greater_is_better = False

    def __call__(self, model: Any, output_path: str | None = None, epoch: int = -1, steps: int = -1) -> dict:
        """KL divergence and Spearman correlation with the teacher, names prefixed with the evaluator's."""
        if not self.normalize_scores:
            return super().__call__(model, output_path, epoch, steps)
        queries = model.encode_query(self.queries, batch_size=self.batch_size)
        ways = len(self.documents[0])
        flat = model.encode_document([d for row in self.documents for d in row], batch_size=self.batch_size)
        student = torch.stack(
            [model.similarity_pairwise(queries, flat[way::ways]).cpu() for way in range(ways)], dim=1
        ).float()
        student = min_max_per_query(student)
        kl = torch.nn.functional.kl_div(
            torch.log_softmax(student, -1), torch.log_softmax(self.scores, -1), reduction="batchmean", log_target=True
        ).item()
        correlations = [spearmanr(t, s)[0] for t, s in zip(self.scores.numpy(), student.numpy())]
        valid = [c for c in correlations if c == c]
        metrics = {"kl_divergence": kl, "spearman": float(sum(valid) / len(valid)) if valid else 0.0}
        return self.prefix_name_to_metrics(metrics, self.name)


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
