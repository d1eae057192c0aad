"""The vectors a collection derives from each text besides the ColBERT multivector: first stage and BM25.

One object per collection, built from its settings, serves ingest (documents), search (queries) and
migration, so the three always compute them the same way.

Examples:
    >>> import numpy as np
    >>> from colbert_retrieval.qdrant._schema import IndexSettings
    >>> derived = DerivedVectors(IndexSettings(model_name="m", dim=4, first_stage="mean"))
    >>> derived.first_stage([np.eye(4, dtype=np.float32)], is_query=False)[0].shape
    (4,)
    >>> len(derived.sparse(["vitamins prevent scurvy"], is_query=False)[0]) > 0
    True
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from colbert_retrieval.qdrant._bm25 import BM25Encoder, SparseVector
from colbert_retrieval.qdrant._schema import IndexSettings
from colbert_retrieval.single_vector import FirstStage, first_stage_vectors

__all__ = ["DerivedVectors"]


class DerivedVectors:
    """First-stage (MUVERA or mean) and BM25 vectors with a collection's parameters.

    Args:
        settings: the collection's settings.
    """

    def __init__(self, settings: IndexSettings) -> None:
        self._kind = FirstStage(settings.first_stage)
        self._muvera = settings.muvera_config()
        config = settings.bm25_config()
        self._bm25 = BM25Encoder(config) if config is not None else None

    @property
    def has_bm25(self) -> bool:
        """Whether the collection stores BM25 vectors."""
        return self._bm25 is not None

    def first_stage(self, multivectors: Sequence[np.ndarray], *, is_query: bool) -> list[np.ndarray]:
        """One first-stage vector per ``(n_tokens, dim)`` multivector."""
        return first_stage_vectors(
            [np.asarray(m, dtype=np.float32) for m in multivectors], self._kind, self._muvera, is_query
        )

    def sparse(
        self, texts: Sequence[str], *, is_query: bool, titles: Sequence[str | None] | None = None
    ) -> list[SparseVector | None]:
        """One BM25 vector per text (None for each where the collection stores none).

        ``titles``: documents' section heading paths (metadata ``section``), weighed as a title field.
        """
        if self._bm25 is None:
            return [None] * len(texts)
        return self._bm25.embed_queries(texts) if is_query else self._bm25.embed_documents(texts, titles)
