"""Calibration of predicted probabilities against judged labels.

Plain arrays in, numbers out: :func:`calibration` gives the expected calibration error over equal-width bins,
the Brier score, its skill over always predicting the base rate, and the reliability curve.

Examples:
    >>> import numpy as np
    >>> report = calibration(np.array([0.9, 0.8, 0.2, 0.1]), np.array([1, 1, 0, 0]))
    >>> round(report.brier, 3), round(report.skill, 3)
    (0.025, 0.9)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from colbert_retrieval.errors import InvalidArgumentError

__all__ = ["Calibration", "calibration"]


@dataclass(frozen=True)
class Calibration:
    """How well probabilities match outcomes.

    Attributes:
        ece: expected calibration error: the mean over bins of ``|mean prediction - share relevant|``, weighted
            by the bin's share of the examples (0 is perfect).
        brier: mean squared error of the probabilities.
        base_rate: the share of positive labels.
        skill: ``1 - brier / brier of always predicting the base rate`` (0: no better than the base rate).
        bins: the reliability curve: ``(lower edge, upper edge, mean prediction, share positive, count)`` per
            non-empty bin.
        count: examples.
    """

    ece: float
    brier: float
    base_rate: float
    skill: float
    bins: tuple[tuple[float, float, float, float, int], ...]
    count: int


def calibration(probabilities: np.ndarray, labels: np.ndarray, bins: int = 10) -> Calibration:
    """Expected calibration error (``bins`` equal-width bins), Brier score and Brier skill of ``probabilities``.

    Raises:
        InvalidArgumentError: arrays of different lengths, empty ones, or probabilities outside [0, 1].
    """
    p = np.asarray(probabilities, dtype=np.float64).ravel()
    y = np.asarray(labels, dtype=np.float64).ravel()
    if len(p) != len(y) or not len(p):
        msg = f"calibration needs as many labels as probabilities, at least one; got {len(p)} and {len(y)}."
        raise InvalidArgumentError(msg)
    if p.min() < 0 or p.max() > 1:
        msg = "calibration needs probabilities between 0 and 1."
        raise InvalidArgumentError(msg)
    edges = np.linspace(0.0, 1.0, bins + 1)
    which = np.clip(np.digitize(p, edges[1:-1], right=False), 0, bins - 1)
    curve = []
    ece = 0.0
    for b in range(bins):
        inside = which == b
        n = int(inside.sum())
        if n:
            mean_p, share = float(p[inside].mean()), float(y[inside].mean())
            curve.append((float(edges[b]), float(edges[b + 1]), mean_p, share, n))
            ece += n / len(p) * abs(mean_p - share)
    brier = float(np.mean((p - y) ** 2))
    base = float(y.mean())
    reference = float(np.mean((base - y) ** 2))
    skill = 1.0 - brier / reference if reference > 0 else 0.0
    return Calibration(ece=ece, brier=brier, base_rate=base, skill=skill, bins=tuple(curve), count=len(p))
