"""Encoder models (``from colbert_retrieval import models; models.ColBERT``, as in PyLate).

Examples:
    >>> from colbert_retrieval import models
    >>> models.ColBERT.__name__
    'ColBERT'
"""

from __future__ import annotations

from colbert_retrieval.models.colbert import ColBERT

__all__ = ["ColBERT"]
