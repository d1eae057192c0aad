"""colbert-retrieval: ColBERT late-interaction retrieval for real RAG stacks.

Examples:
    >>> import colbert_retrieval
    >>> sorted(colbert_retrieval.__all__)[:3]
    ['ColBERT', 'ColBERTRetrievalError', 'DimensionMismatchError']
"""

from __future__ import annotations

from colbert_retrieval import models, pooling, scores
from colbert_retrieval.errors import (
    ColBERTRetrievalError,
    DimensionMismatchError,
    EmptyInputError,
    InputTypeError,
    InvalidArgumentError,
    ModelNotAvailableError,
)
from colbert_retrieval.models import ColBERT, default_model, load_model

__version__ = "0.2.0"

__all__ = [
    "ColBERT",
    "ColBERTRetrievalError",
    "DimensionMismatchError",
    "EmptyInputError",
    "InputTypeError",
    "InvalidArgumentError",
    "ModelNotAvailableError",
    "__version__",
    "default_model",
    "load_model",
    "models",
    "pooling",
    "scores",
]
