"""The encoder: ``models.ColBERT`` (PyLate's API on sentence-transformers), the offline default, ``load_model``.

Rule of this folder: everything about turning text into token vectors lives here, and only here are the
encoder's private members touched; it imports ``pooling``, ``scores`` and ``errors`` below it, never the
index or a framework. Public: :class:`ColBERT`, :func:`load_model`, :func:`default_model`.

Examples:
    >>> from colbert_retrieval import models
    >>> models.ColBERT.__name__
    'ColBERT'
"""

from __future__ import annotations

from colbert_retrieval.models.colbert import ColBERT
from colbert_retrieval.models.default import default_model
from colbert_retrieval.models.loading import load_model

__all__ = ["ColBERT", "default_model", "load_model"]
