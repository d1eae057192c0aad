"""Running a search: query vectors, backend plans, one batched engine call, fusion, hits.

:class:`Searcher` is composed into :class:`~colbert_retrieval.qdrant.ColBERTIndex`; what the modes mean and how
scores are fused is in :mod:`colbert_retrieval.qdrant.search`.

Examples:
    >>> hit = SearchHit(id=1, score=2.5, text="hello")
    >>> hit.metadata, hit.scores
    ({}, {})
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from colbert_retrieval.errors import DimensionMismatchError, IndexMismatchError, InputTypeError, InvalidArgumentError
from colbert_retrieval.qdrant import ingest
from colbert_retrieval.qdrant.backends.base import Backend, QueryPlan, StoredPoint
from colbert_retrieval.qdrant.derived import DerivedVectors
from colbert_retrieval.qdrant.schema import FIRST_STAGE_VECTOR, IndexSettings
from colbert_retrieval.qdrant.search import SearchConfig, SearchMode, fuse, parse_mode, plans_for
from colbert_retrieval.records import from_payload

if TYPE_CHECKING:
    from colbert_retrieval.models.colbert import ColBERT

__all__ = ["COUNT_TTL", "SearchHit", "Searcher", "query_vectors_or_raise", "to_hit"]

#: Seconds a cached document count is trusted (:meth:`Searcher.forget_count` after writes refreshes it).
COUNT_TTL = 30.0


@dataclass(frozen=True)
class SearchHit:
    """One search result (or a stored document from ``ColBERTIndex.get``, with score None).

    ``scores`` holds the parts of a hybrid score (``maxsim``, ``bm25``); ``score`` is what the hits are
    ranked by (MaxSim, or the fused score in hybrid mode).
    """

    id: str | int | None
    score: float | None
    text: str
    metadata: dict[str, Any] = field(default_factory=dict)
    point_id: str = ""
    scores: dict[str, float] = field(default_factory=dict)


def to_hit(point: StoredPoint, score: float | None = None, scores: dict[str, float] | None = None) -> SearchHit:
    """The hit for a stored point (its payload read back as a document)."""
    record = from_payload(point.payload)
    return SearchHit(
        id=record.id,
        score=point.score if score is None else score,
        text=record.text,
        metadata=record.metadata,
        point_id=point.id,
        scores=scores or {},
    )


def query_vectors_or_raise(queries: Sequence[Any], settings: IndexSettings) -> list[np.ndarray]:
    """Query vectors as float32 arrays: ``(n_tokens, dim)`` token vectors or ``(first_stage_dim,)`` vectors.

    Raises:
        InputTypeError: a query is not numeric.
        DimensionMismatchError: a query has the wrong shape for the collection.
        InvalidArgumentError: a query holds NaN or infinite values.
    """
    if isinstance(queries, (str, bytes)) or not isinstance(queries, Sequence):
        msg = f"Give a list of query vectors, got {type(queries).__name__}."
        raise InputTypeError(msg)
    dim, first_dim = settings.dim, settings.first_stage_dim()
    arrays: list[np.ndarray] = []
    for position, query in enumerate(queries):
        try:
            array = np.asarray(query, dtype=np.float32)
        except (TypeError, ValueError) as error:
            msg = f"Query vectors #{position} are not numeric ({error})."
            raise InputTypeError(msg) from None
        token_shape = array.ndim == 2 and array.shape[0] > 0 and array.shape[1] == dim
        if not (token_shape or (array.ndim == 1 and array.shape[0] == first_dim)):
            msg = (
                f"Query vectors #{position} have shape {array.shape}; the collection takes token vectors of shape "
                f"(n_tokens, {dim}) (model.encode(query, is_query=True)) or a first-stage vector of length {first_dim}."
            )
            raise DimensionMismatchError(msg)
        if not np.isfinite(array).all():
            msg = f"Query vectors #{position} hold NaN or infinite values."
            raise InvalidArgumentError(msg)
        arrays.append(array)
    return arrays


class Searcher:
    """Turns query texts into hits.

    Args:
        backend: the store.
        model: the encoder (its public ``encode`` only).
        settings: the collection's settings (first stage, BM25).
        collection: the collection name (for messages).
    """

    def __init__(
        self,
        backend: Backend,
        model: ColBERT,
        settings: IndexSettings,
        collection: str,
    ) -> None:
        self._backend = backend
        self._model = model
        self._settings = settings
        self._collection = collection
        self._count: tuple[float, int] | None = None
        self._derived = DerivedVectors(settings)

    def forget_count(self) -> None:
        """Drop the cached document count (after a write or delete)."""
        self._count = None

    def _document_count(self) -> int:
        now = time.monotonic()
        if self._count is None or now - self._count[0] > COUNT_TTL:
            self._count = (now, self._backend.count())
        return self._count[1]

    def resolve_mode(self, mode: str | SearchMode | None, exact: bool | None, default: SearchMode | None) -> SearchMode:
        """The mode to run: explicit ``mode``, else the 0.1.0 ``exact`` shorthand, else the default.

        Raises:
            IndexMismatchError: hybrid search on a collection without BM25 vectors.
        """
        if mode is None and exact is not None:
            mode = SearchMode.EXACT if exact else SearchMode.COLBERT
        resolved = parse_mode(mode) if mode is not None else default
        if resolved is None:
            resolved = SearchMode.HYBRID if self._settings.has_bm25 else SearchMode.COLBERT
        if resolved is SearchMode.HYBRID and not self._settings.has_bm25:
            msg = (
                f"Collection {self._collection!r} stores no BM25 vectors (written by colbert-retrieval 0.1.0), so "
                "hybrid search is not available; search with mode='colbert' or 'exact', or copy it into a new "
                "collection with `colbert-retrieval migrate`, which adds them."
            )
            raise IndexMismatchError(msg)
        return resolved

    def search(
        self, queries: Sequence[str], k: int, query_filter: Any, mode: SearchMode, config: SearchConfig
    ) -> list[list[SearchHit]]:
        """Hits for each query, best first (one batched engine call, plus a payload read in hybrid mode)."""
        texts = list(queries)
        multivectors = self._model.encode(texts, is_query=True, show_progress_bar=False)
        exact = mode is SearchMode.EXACT
        sparse = [None] * len(texts) if exact else self._derived.sparse(texts, is_query=True)
        return self._run(multivectors, sparse, k, query_filter, mode, config)

    def search_vectors(
        self, queries: Sequence[np.ndarray], k: int, query_filter: Any, mode: SearchMode, config: SearchConfig
    ) -> list[list[SearchHit]]:
        """Hits for query vectors (checked by :func:`query_vectors_or_raise`; no BM25: there is no text).

        Token vectors run ``mode`` (``colbert`` or ``exact``); a first-stage vector searches the first stage
        alone (its HNSW graph, or every point with ``exact``): approximate, without MaxSim.
        """
        if mode is SearchMode.HYBRID:
            msg = "Hybrid search needs the query text (for BM25); search vectors with mode='colbert' or 'exact'."
            raise InvalidArgumentError(msg)
        tokens = [query for query in queries if query.ndim == 2]
        firsts = [
            QueryPlan(FIRST_STAGE_VECTOR, query, k, (), query_filter, exact=mode is SearchMode.EXACT)
            for query in queries
            if query.ndim == 1
        ]
        ranked = iter(self._run(tokens, [None] * len(tokens), k, query_filter, mode, config) if tokens else [])
        found = iter(ingest.with_retries(lambda: self._backend.query_batch(firsts)) if firsts else [])
        return [next(ranked) if query.ndim == 2 else [to_hit(p) for p in next(found)] for query in queries]

    def _run(
        self,
        multivectors: Sequence[np.ndarray],
        sparse: Sequence[Any],
        k: int,
        query_filter: Any,
        mode: SearchMode,
        config: SearchConfig,
    ) -> list[list[SearchHit]]:
        first = self._derived.first_stage(multivectors, is_query=True)
        small = mode is not SearchMode.EXACT and self._document_count() <= config.exact_below
        per_query = [
            plans_for(mode, m, f, s, k, query_filter, config, small=small)
            for m, f, s in zip(multivectors, first, sparse)
        ]
        flat = [plan for plans in per_query for plan in plans]
        results = ingest.with_retries(lambda: self._backend.query_batch(flat))
        if mode is not SearchMode.HYBRID:
            return [[to_hit(p) for p in points] for points in results]
        return self._fused(per_query, results, k, config.bm25_weight)

    def _fused(
        self, per_query: list[list[QueryPlan]], results: list[list[StoredPoint]], k: int, weight: float
    ) -> list[list[SearchHit]]:
        ranked: list[list[tuple[str, float, float, float]]] = []
        position = 0
        for plans in per_query:
            maxsim = results[position]
            bm25 = results[position + 1] if len(plans) == 2 else []
            position += len(plans)
            fused = fuse(
                [(p.id, float(p.score or 0.0)) for p in maxsim],
                {p.id: float(p.score or 0.0) for p in bm25},
                weight if bm25 else 0.0,
            )
            ranked.append(fused[:k])
        wanted = sorted({row[0] for rows in ranked for row in rows})
        stored = {p.id: p for p in ingest.with_retries(lambda: self._backend.retrieve(wanted))} if wanted else {}
        return [
            [
                to_hit(stored[i], score, {"maxsim": colbert, "bm25": lexical})
                for i, score, colbert, lexical in rows
                if i in stored
            ]
            for rows in ranked
        ]
