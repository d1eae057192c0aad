"""One vector per text or per multi-vector: for the index's first stage and for interfaces that want one vector.

Rule: one module per way of making a single vector (``sentence`` embeddings from the model, MUVERA encodings,
the normalised mean); nothing here ranks (MaxSim does, in :mod:`colbert_retrieval.scores`).

Examples:
    >>> import numpy as np
    >>> from colbert_retrieval.single_vector import mean_vector
    >>> mean_vector(np.array([[3.0, 0.0], [1.0, 0.0]])).tolist()
    [1.0, 0.0]
"""

from __future__ import annotations

from colbert_retrieval.single_vector._encode import SINGLE_VECTOR_METHODS, encode_single_vectors
from colbert_retrieval.single_vector._mean import mean_vector
from colbert_retrieval.single_vector._muvera import (
    FirstStage,
    MuveraConfig,
    first_stage_vectors,
    muvera_document,
    muvera_query,
)

__all__ = [
    "SINGLE_VECTOR_METHODS",
    "FirstStage",
    "MuveraConfig",
    "encode_single_vectors",
    "first_stage_vectors",
    "mean_vector",
    "muvera_document",
    "muvera_query",
]
