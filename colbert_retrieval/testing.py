"""Test support shared by this distribution and the adapter distributions: a small corpus and one model.

The framework adapters live in separate distributions; their tests take the same few documents and the
same offline model from here instead of copying them.

Examples:
    >>> from colbert_retrieval.testing import SAMPLE_QUERY, SAMPLE_TEXTS
    >>> len(SAMPLE_TEXTS), SAMPLE_QUERY.endswith("?")
    (5, True)
"""

from __future__ import annotations

from functools import lru_cache

from colbert_retrieval.models import ColBERT, default_model

__all__ = ["SAMPLE_QUERY", "SAMPLE_TEXTS", "shared_model"]

#: Five short documents on distinct topics; the first answers :data:`SAMPLE_QUERY`.
SAMPLE_TEXTS = [
    "Scurvy is a disease resulting from a lack of vitamin C.",
    "Citrus fruits such as oranges and lemons are rich in vitamin C.",
    "Statins lower LDL cholesterol and the risk of heart attacks.",
    "Paris is the capital and most populous city of France.",
    "Regular exercise improves blood pressure, sleep and mood.",
]
SAMPLE_QUERY = "which disease comes from a lack of vitamin c?"


@lru_cache(maxsize=1)
def shared_model() -> ColBERT:
    """The offline default model on the CPU, built once per process (tests share it)."""
    return default_model(device="cpu")
