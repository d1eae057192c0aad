"""A model's relevance calibration: the probability that a hit is relevant, from the scores its search gave.

MaxSim on the cosine scale (the mean over query tokens) removes the query-length effect but is no probability:
what a score of 0.6 means moves with the model and the corpus. A :class:`Relevance` is a logistic map, fitted
on held-out training queries with judged documents (:func:`colbert_retrieval.evaluation.fit_relevance`), from
three features of a hit to ``P(relevant)``:

* ``mean_maxsim``: its MaxSim per query token (cosine scale);
* ``gap_to_top``: how far below the query's best hit it is, on the same scale (a hit close to the best one of
  its query is more often relevant than its raw score alone says);
* ``log_query_tokens``: the query's length in tokens (short queries match fewer words well).

It is stored with the model (``relevance.json`` beside the weights, written by ``save``); a model without one
has ``relevance=None`` and its hits carry no relevance (nothing is guessed).

Examples:
    >>> calibration = Relevance(coefficients=(10.0, -5.0, 0.0), intercept=-6.0)
    >>> round(calibration.probability(mean_maxsim=0.7, top_mean_maxsim=0.7, query_tokens=8), 3)
    0.731
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from colbert_retrieval.errors import InvalidArgumentError

__all__ = ["FEATURES", "RELEVANCE_FILE", "Relevance", "logistic_fit", "query_features", "relevance_features"]

#: The file beside a saved model's weights.
RELEVANCE_FILE = "relevance.json"
#: The features of a hit, in the order of :attr:`Relevance.coefficients`.
FEATURES = ("mean_maxsim", "gap_to_top", "log_query_tokens")


def relevance_features(
    mean_maxsim: Sequence[float] | np.ndarray, top_mean_maxsim: float, query_tokens: int
) -> np.ndarray:
    """The feature rows (:data:`FEATURES`) of one query's hits.

    Examples:
        >>> relevance_features([0.7, 0.5], 0.7, 8).round(3).tolist()
        [[0.7, 0.0, 2.079], [0.5, 0.2, 2.079]]
    """
    scores = np.asarray(mean_maxsim, dtype=np.float64)
    tokens = np.full_like(scores, math.log(max(int(query_tokens), 1)))
    return np.stack([scores, top_mean_maxsim - scores, tokens], axis=1) if len(scores) else np.zeros((0, 3))


def query_features(mean_maxsim: Sequence[float], query_tokens: int) -> np.ndarray:
    """The feature rows of one query's hits, measured against the best of them (what fitting and search both use).

    Examples:
        >>> query_features([0.5, 0.7], 8).round(3).tolist()
        [[0.5, 0.2, 2.079], [0.7, 0.0, 2.079]]
    """
    return relevance_features(mean_maxsim, max(mean_maxsim, default=0.0), query_tokens)


@dataclass(frozen=True)
class Relevance:
    """``P(relevant | hit) = sigmoid(intercept + coefficients . features)`` (see the module docstring).

    Args:
        coefficients: one weight per feature of :data:`FEATURES`.
        intercept: the bias.
        features: the feature names (checked against :data:`FEATURES`: a file written for others is refused).
        mode: the search mode whose hits it was fitted on (``hybrid``, the default search).
        fitted_on: what it was fitted on (corpus, splits, queries, hits), for the model card and ``repr``.
        metrics: held-out calibration measured when it was fitted (expected calibration error, Brier skill).
    """

    coefficients: tuple[float, ...]
    intercept: float
    features: tuple[str, ...] = FEATURES
    mode: str = "hybrid"
    fitted_on: str = ""
    metrics: Mapping[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if tuple(self.features) != FEATURES or len(self.coefficients) != len(FEATURES):
            msg = (
                f"A relevance calibration for features {list(self.features)} with {len(self.coefficients)} "
                f"coefficients cannot be used: this version computes {list(FEATURES)}; fit it again "
                "(colbert_retrieval.evaluation.fit_relevance)."
            )
            raise InvalidArgumentError(msg)
        object.__setattr__(self, "coefficients", tuple(float(c) for c in self.coefficients))
        object.__setattr__(self, "features", tuple(self.features))

    @classmethod
    def fit(
        cls, features: np.ndarray, labels: np.ndarray, *, mode: str = "hybrid", fitted_on: str = "", l2: float = 1e-3
    ) -> Relevance:
        """A calibration fitted on feature rows (:func:`relevance_features`) and 0/1 relevance labels.

        Raises:
            InvalidArgumentError: no examples, or labels of one class only.
        """
        coefficients, intercept = logistic_fit(features, labels, l2=l2)
        return cls(tuple(coefficients.tolist()), intercept, mode=mode, fitted_on=fitted_on)

    def probabilities(self, features: np.ndarray) -> np.ndarray:
        """``P(relevant)`` for feature rows (:func:`relevance_features`)."""
        logits = self.intercept + np.asarray(features, dtype=np.float64) @ np.asarray(self.coefficients)
        return 1.0 / (1.0 + np.exp(-np.clip(logits, -50, 50)))

    def of_query(self, mean_maxsim: Sequence[float], query_tokens: int) -> np.ndarray:
        """``P(relevant)`` of each of one query's hits, from their MaxSim per query token (cosine scale)."""
        return self.probabilities(query_features(mean_maxsim, query_tokens))

    def probability(self, mean_maxsim: float, top_mean_maxsim: float, query_tokens: int) -> float:
        """``P(relevant)`` of one hit."""
        return float(self.probabilities(relevance_features([mean_maxsim], top_mean_maxsim, query_tokens))[0])

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (what ``relevance.json`` holds)."""
        data = asdict(self)
        data["coefficients"] = list(self.coefficients)
        data["features"] = list(self.features)
        data["metrics"] = dict(self.metrics)
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Relevance:
        """The calibration a dict (``relevance.json``) holds."""
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        known["coefficients"] = tuple(known.get("coefficients", ()))
        known["features"] = tuple(known.get("features", FEATURES))
        return cls(**known)

    def save(self, folder: str | os.PathLike[str]) -> Path:
        """Write ``relevance.json`` into a model folder; its path."""
        path = Path(folder) / RELEVANCE_FILE
        path.write_text(json.dumps(self.to_dict(), indent=2) + "\n")
        return path

    @classmethod
    def read(cls, path: str | os.PathLike[str] | None) -> Relevance | None:
        """The calibration in a ``relevance.json`` file (None: no file)."""
        if path is None or not Path(path).is_file():
            return None
        return cls.from_dict(json.loads(Path(path).read_text()))


def logistic_fit(
    features: np.ndarray, labels: np.ndarray, l2: float = 1e-3, steps: int = 50
) -> tuple[np.ndarray, float]:
    """L2-regularised logistic regression (Newton's method); the coefficients on the raw features and the intercept.

    Features are standardised for the fit (a constant column gets weight 0) and the weights mapped back, so the
    result applies to raw feature rows: ``sigmoid(intercept + features @ coefficients)``.

    Examples:
        >>> import numpy as np
        >>> x = np.array([[0.1], [0.2], [0.8], [0.9]]); y = np.array([0, 0, 1, 1])
        >>> coef, bias = logistic_fit(x, y, l2=0.1)
        >>> bool(coef[0] > 0)
        True

    Raises:
        InvalidArgumentError: no examples, or labels of one class only.
    """
    x = np.asarray(features, dtype=np.float64)
    y = np.asarray(labels, dtype=np.float64).ravel()
    if x.ndim != 2 or len(x) != len(y) or not len(y):
        msg = f"logistic_fit needs one feature row per label; got {x.shape} and {len(y)} labels."
        raise InvalidArgumentError(msg)
    if y.min() == y.max():
        msg = "logistic_fit needs both relevant and irrelevant examples; the labels are all the same."
        raise InvalidArgumentError(msg)
    mean, scale = x.mean(axis=0), x.std(axis=0)
    varies = scale > 1e-12
    z = np.where(varies, (x - mean) / np.where(varies, scale, 1.0), 0.0)
    design = np.hstack([np.ones((len(z), 1)), z])
    weights = np.zeros(design.shape[1])
    penalty = np.full(design.shape[1], l2 * len(y))
    penalty[0] = 0.0  # the intercept is not shrunk
    for _ in range(steps):
        p = 1.0 / (1.0 + np.exp(-np.clip(design @ weights, -50, 50)))
        gradient = design.T @ (p - y) + penalty * weights
        hessian = (design * (p * (1 - p))[:, None]).T @ design + np.diag(penalty + 1e-9)
        step = np.linalg.solve(hessian, gradient)
        weights -= step
        if np.max(np.abs(step)) < 1e-10:
            break
    coefficients = np.where(varies, weights[1:] / np.where(varies, scale, 1.0), 0.0)
    intercept = float(weights[0] - np.sum(coefficients * mean))
    return coefficients, intercept
