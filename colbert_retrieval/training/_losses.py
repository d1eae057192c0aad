"""PyLate's training losses, as thin mappings onto sentence-transformers' multi-vector losses.

A PyLate training script ports by changing ``from pylate import losses`` to
``from colbert_retrieval import losses``. Each class keeps PyLate's constructor arguments and maps them:

- ``Contrastive`` runs ``MultiVectorMultipleNegativesRankingLoss`` with ``scale = 1 / temperature``;
- ``CachedContrastive`` runs ``CachedMultiVectorMultipleNegativesRankingLoss``, the same mapping;
- ``Distillation`` runs ``MultiVectorDistillKLDivLoss`` at temperature 1, plus ``normalize_scores`` (below).

``score_metric`` becomes ``similarity_fct`` (PyLate's ``ColBERTScores`` / ``colbert_kd_scores`` from
:mod:`colbert_retrieval.scores` work as they are); ``size_average=False`` sums the per-query losses instead of
averaging them, as in PyLate. ``Distillation(normalize_scores=True)`` (PyLate's default) min-max normalises the
student's scores per query before the softmax, as PyLate does; the teacher's scores are used as given. Its
input is sentence-transformers' layout, ``(query, document_1, ..., document_N)`` columns with ``(N,)`` teacher
scores; PyLate's ``documents`` list column is expanded into those columns by
:class:`colbert_retrieval.pylate.utils.ColBERTCollator`.

Examples:
    >>> from colbert_retrieval.testing import shared_model
    >>> loss = Contrastive(shared_model(), temperature=0.05)
    >>> loss.scale
    20.0
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import torch
from sentence_transformers.multi_vector_encoder.losses import (
    CachedMultiVectorMultipleNegativesRankingLoss,
    MultiVectorDistillKLDivLoss,
    MultiVectorMultipleNegativesRankingLoss,
)
from torch import Tensor

from colbert_retrieval.errors import InvalidArgumentError
from colbert_retrieval.scores import MinMaxScores, colbert_kd_scores

__all__ = ["CachedContrastive", "Contrastive", "Distillation"]


def _scale(temperature: float) -> float:
    if not 0.0 < float(temperature) < float("inf"):
        raise InvalidArgumentError(f"temperature must be a positive number, got {temperature!r}.")
    return 1.0 / float(temperature)


def _batch_size(sentence_features: Iterable[dict[str, Tensor]]) -> int:
    first = next(iter(sentence_features))
    return int(first["input_ids"].shape[0])


class _SummedOrAveraged:
    """PyLate's ``size_average``: average the per-query losses (True) or sum them."""

    size_average: bool

    def forward(self, sentence_features: Iterable[dict[str, Tensor]], labels: Tensor | None = None) -> Tensor:
        """The loss of one batch (``labels`` are unused, as in PyLate)."""
        features = list(sentence_features)
        loss = super().forward(features, labels)  # type: ignore[misc]
        return loss if self.size_average else loss * _batch_size(features)


class Contrastive(_SummedOrAveraged, MultiVectorMultipleNegativesRankingLoss):
    """PyLate's ``Contrastive``: cross-entropy of each query's positive against in-batch and hard negatives.

    Args:
        model: the ColBERT model.
        score_metric: scores ``(Q, Lq, dim)`` queries against ``(Q, N, Ld, dim)`` documents (default: MaxSim).
        score_mini_batch_size: score the queries in chunks of this size (less transient memory).
        size_average: average over the batch (True) or sum.
        gather_across_devices: share documents across GPUs as negatives.
        temperature: divides the scores before the softmax.
    """

    def __init__(
        self,
        model: Any,
        score_metric: Callable | None = None,
        score_mini_batch_size: int | None = None,
        size_average: bool = True,
        gather_across_devices: bool = False,
        temperature: float = 1.0,
    ) -> None:
        super().__init__(
            model,
            scale=_scale(temperature),
            similarity_fct=score_metric,
            score_mini_batch_size=score_mini_batch_size,
            gather_across_devices=gather_across_devices,
        )
        self.size_average = size_average
        self.temperature = temperature


class CachedContrastive(_SummedOrAveraged, CachedMultiVectorMultipleNegativesRankingLoss):
    """PyLate's ``CachedContrastive``: :class:`Contrastive` with GradCache, for large batches in little memory.

    Args:
        model: the ColBERT model.
        score_metric: as :class:`Contrastive`.
        mini_batch_size: rows per forward pass in the embedding phase.
        size_average: average over the batch (True) or sum.
        gather_across_devices: share documents across GPUs as negatives.
        temperature: divides the scores before the softmax.
        show_progress_bar: show the mini-batch progress.
    """

    def __init__(
        self,
        model: Any,
        score_metric: Callable | None = None,
        mini_batch_size: int = 32,
        size_average: bool = True,
        gather_across_devices: bool = False,
        temperature: float = 1.0,
        show_progress_bar: bool = False,
    ) -> None:
        super().__init__(
            model,
            scale=_scale(temperature),
            similarity_fct=score_metric,
            mini_batch_size=mini_batch_size,
            gather_across_devices=gather_across_devices,
            show_progress_bar=show_progress_bar,
        )
        self.size_average = size_average
        self.temperature = temperature


class Distillation(MultiVectorDistillKLDivLoss):
    """PyLate's ``Distillation``: KL divergence between the teacher's and the model's score distributions.

    Args:
        model: the ColBERT model.
        score_metric: scores ``(Q, Lq, dim)`` queries against their own ``(Q, N, Ld, dim)`` documents
            (default: :func:`colbert_retrieval.scores.colbert_kd_scores`).
        size_average: average over the batch (True, ``batchmean``) or sum.
        normalize_scores: min-max normalise the model's scores per query first (PyLate's default).
    """

    def __init__(
        self,
        model: Any,
        score_metric: Callable = colbert_kd_scores,
        size_average: bool = True,
        normalize_scores: bool = True,
    ) -> None:
        super().__init__(model, similarity_fct=MinMaxScores(score_metric) if normalize_scores else score_metric)
        self.loss_function = torch.nn.KLDivLoss(reduction="batchmean" if size_average else "sum", log_target=True)
        self.size_average = size_average
        self.normalize_scores = normalize_scores
