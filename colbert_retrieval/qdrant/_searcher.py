"""Running a search, the whole request: validate, mode, config, filter, plan, one engine call, fusion, hits.

:class:`Searcher` is composed into :class:`~colbert_retrieval.qdrant.ColBERTIndex`, whose ``search`` hands it
the request as given; what the modes mean and how scores are fused is in :mod:`colbert_retrieval.qdrant._plans`.
A search on a server makes at most two round trips: the batched query, and (hybrid) one read of the payloads
of the fused top ``k``. The document count that picks exact candidates on small collections is read when the
index opens and after its own writes, and again when it is older than ``COUNT_TTL`` (other writers).

Examples:
    >>> hit = SearchHit(id=1, score=2.5, text="hello")
    >>> hit.metadata, hit.scores
    ({}, {})
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

import numpy as np

from colbert_retrieval._inputs import positive_int, texts_or_raise
from colbert_retrieval.documents import PAYLOAD_KEYS, PayloadKeys, from_payload
from colbert_retrieval.errors import DimensionMismatchError, IndexMismatchError, InputTypeError, InvalidArgumentError
from colbert_retrieval.models import Relevance
from colbert_retrieval.qdrant._derived import DerivedVectors
from colbert_retrieval.qdrant._filters import to_filter
from colbert_retrieval.qdrant._highlights import Highlight, attach_highlights, mark
from colbert_retrieval.qdrant._plans import SearchConfig, SearchMode, fuse, plans_for
from colbert_retrieval.qdrant._schema import FIRST_STAGE_VECTOR, IndexSettings
from colbert_retrieval.qdrant.backends import Backend, QueryPlan, StoredPoint

if TYPE_CHECKING:
    from colbert_retrieval.models import ColBERT

__all__ = [
    "COUNT_TTL",
    "SCORE_SCALES",
    "OneQuery",
    "Queries",
    "SearchHit",
    "Searcher",
    "call_config",
    "query_vectors_or_raise",
    "to_hit",
]

#: Seconds a document count is trusted (the index's own writes refresh it at once; this bounds other writers').
COUNT_TTL = 60.0

#: One query: a text, or its vectors (a NumPy array or a torch tensor).
OneQuery = Any
#: What ``ColBERTIndex.search`` takes: one query text, one query's vectors, or a list of either.
Queries = Any


#: The scales a hit's score can be read on (:meth:`SearchHit.score_on`).
SCORE_SCALES = ("cosine", "raw", "relevance")


@dataclass(frozen=True)
class SearchHit:
    """One search result (or a stored document from ``ColBERTIndex.get``, with score None).

    ``score`` is what the hits are ranked by: MaxSim (a sum over the query's tokens), or the fused score in
    hybrid mode. ``scores`` holds its parts: ``maxsim``, ``mean_maxsim`` (MaxSim divided by the query's token
    count: sentence-transformers' ``meanmaxsim``, on the cosine scale, at most 1) and, in hybrid mode, ``bm25``.
    ``relevance`` is the probability that the hit is relevant, from the model's calibration
    (:class:`~colbert_retrieval.models.Relevance`; None for a model without one, and for ``get``).
    ``highlights`` holds the words the query matched (:class:`Highlight`, in text order) when the search asked for
    them (``SearchConfig(highlights=True)``), else None.

    Examples:
        >>> hit = SearchHit(id=1, score=9.6, text="x", scores={"maxsim": 9.6, "mean_maxsim": 0.3})
        >>> hit.score_on("cosine"), hit.score_on("raw")
        (0.3, 9.6)
    """

    id: str | int | None
    score: float | None
    text: str
    metadata: dict[str, Any] = field(default_factory=dict)
    point_id: str = ""
    scores: dict[str, float] = field(default_factory=dict)
    relevance: float | None = None
    highlights: tuple[Highlight, ...] | None = None

    def marked(self, before: str = "[", after: str = "]", start: int = 0, end: int | None = None) -> str:
        """The hit's text (or ``text[start:end]``) with its highlighted words wrapped in ``before`` / ``after``.

        Examples:
            >>> from colbert_retrieval.qdrant._highlights import Highlight
            >>> hit = SearchHit(id=1, score=1.0, text="lemons have vitamin c",
            ...                 highlights=(Highlight(12, 19, "vitamin", ("vitamin",), 0.5),))
            >>> hit.marked("<b>", "</b>")
            'lemons have <b>vitamin</b> c'
        """
        return mark(self.text, self.highlights or (), before, after, start, end)

    @staticmethod
    def check_scale(scale: str) -> str:
        """``scale`` if it is one of :data:`SCORE_SCALES` (every adapter's ``score_scale=`` is checked here).

        Raises:
            InvalidArgumentError: another scale.

        Examples:
            >>> SearchHit.check_scale("raw")
            'raw'
        """
        if scale not in SCORE_SCALES:
            msg = f"Unknown score_scale {scale!r}; use one of {SCORE_SCALES}."
            raise InvalidArgumentError(msg)
        return scale

    def score_on(self, scale: str) -> float:
        """The score on a scale: ``"cosine"``, ``"raw"`` or ``"relevance"``.

        ``"cosine"``: mean MaxSim per query token; ``"raw"``: the ranking score; ``"relevance"``: the calibrated
        probability that the hit is relevant. The cosine scale is what a single-vector cosine store gives, so
        thresholds port from langchain-qdrant.
        The relevance scale means the same across queries and corpora (what a threshold should be set on).

        A first-stage-only search (a single query vector) has no MaxSim: the cosine and raw scales give its raw
        score, and it has no relevance.

        Raises:
            InvalidArgumentError: another scale, or ``"relevance"`` for a hit without one (a model without a
                calibration, or a first-stage-only search).
        """
        scale = self.check_scale(scale)
        if scale == "relevance":
            if self.relevance is None:
                msg = (
                    "This hit has no relevance: its model has no relevance calibration (fit one with "
                    "colbert_retrieval.evaluation.fit_relevance, or use score_scale='cosine')."
                )
                raise InvalidArgumentError(msg)
            return self.relevance
        if scale == "cosine" and "mean_maxsim" in self.scores:
            return float(self.scores["mean_maxsim"])
        return float(self.score or 0.0)


def to_hit(
    point: StoredPoint,
    score: float | None = None,
    scores: dict[str, float] | None = None,
    keys: PayloadKeys = PAYLOAD_KEYS,
) -> SearchHit:
    """The hit for a stored point (its payload read back as a document, under the collection's ``keys``)."""
    record = from_payload(point.payload, keys)
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
    """Turns a search request into hits.

    Args:
        backend: the store.
        model: the encoder (its public ``encode`` only).
        settings: the collection's settings (first stage, BM25).
        collection: the collection name (for messages).
        derived: the collection's first-stage and BM25 vectors (the index's one object, shared with its writer).
    """

    def __init__(
        self, backend: Backend, model: ColBERT, settings: IndexSettings, collection: str, derived: DerivedVectors
    ) -> None:
        self._backend = backend
        self._model = model
        self._settings = settings
        self._collection = collection
        self._count: tuple[float, int] | None = None
        self._derived = derived

    def refresh_count(self) -> None:
        """Read the document count now (after the index's own writes and deletes)."""
        self._count = (time.monotonic(), self._backend.count())

    def _document_count(self) -> int:
        if self._count is None or time.monotonic() - self._count[0] > COUNT_TTL:
            self.refresh_count()
        assert self._count is not None
        return self._count[1]

    def run(
        self,
        queries: Queries,
        k: int,
        filter: Any,
        defaults: SearchConfig,
        config: SearchConfig | Mapping[str, Any] | None,
    ) -> list[SearchHit] | list[list[SearchHit]]:
        """The hits of a search request (``ColBERTIndex.search``): a list for one query, a list per query for many.

        Raises:
            InputTypeError, EmptyInputError: queries that are neither texts nor vectors, or an empty text.
            DimensionMismatchError: query vectors that do not fit the collection.
            IndexMismatchError: hybrid search on a collection without BM25 vectors.
            InvalidArgumentError: a bad ``k``, config value or mode (hybrid needs the query text).
        """
        positive_int(k, "k")
        one, batch = _one_or_many(queries)
        chosen, explicit = call_config(defaults, config)
        condition = to_filter(filter, self._settings.payload_keys)
        if batch and all(isinstance(q, str) for q in batch):
            mode = self._mode(chosen.mode)
            hits = self._texts(texts_or_raise(batch), k, condition, mode, chosen)
        elif any(isinstance(q, str) for q in batch):
            msg = "Give query texts or query vectors, not both in one call."
            raise InputTypeError(msg)
        else:
            if explicit is SearchMode.HYBRID:
                msg = "Hybrid search needs the query text (for BM25); search vectors with mode='colbert' or 'exact'."
                raise InvalidArgumentError(msg)
            if chosen.highlights:
                msg = "Highlights need the query text (the matched query tokens are named from it); search texts."
                raise InvalidArgumentError(msg)
            wanted = explicit if explicit is not None else chosen.mode  # the index's hybrid default: colbert
            mode = SearchMode.EXACT if wanted is SearchMode.EXACT else SearchMode.COLBERT
            hits = self._vectors(query_vectors_or_raise(batch, self._settings), k, condition, mode, chosen)
        return hits[0] if one else hits

    def _mode(self, mode: SearchMode | None) -> SearchMode:
        resolved = mode if mode is not None else (SearchMode.HYBRID if self._settings.has_bm25 else SearchMode.COLBERT)
        if resolved is SearchMode.HYBRID and not self._settings.has_bm25:
            msg = (
                f"Collection {self._collection!r} stores no BM25 vectors (written by colbert-retrieval 0.1.0), so "
                "hybrid search is not available; search with mode='colbert' or 'exact', or copy it into a new "
                "collection with `colbert-retrieval migrate`, which adds them."
            )
            raise IndexMismatchError(msg)
        return resolved

    def _texts(
        self, texts: list[str], k: int, query_filter: Any, mode: SearchMode, config: SearchConfig
    ) -> list[list[SearchHit]]:
        if not texts:
            return []
        multivectors = self._model.encode(texts, is_query=True, show_progress_bar=False)
        exact = mode is SearchMode.EXACT
        sparse = [None] * len(texts) if exact else self._derived.sparse(texts, is_query=True)
        hits = self._run(multivectors, sparse, k, query_filter, mode, config)
        if config.highlights:
            hits = attach_highlights(hits, texts, multivectors, self._backend, self._model)
        return hits

    def _vectors(
        self, queries: Sequence[np.ndarray], k: int, query_filter: Any, mode: SearchMode, config: SearchConfig
    ) -> list[list[SearchHit]]:
        """Hits for checked query vectors.

        Token vectors run ``mode`` (``colbert`` or ``exact``); a first-stage vector searches the first stage
        alone (its HNSW graph, or every point with ``exact``): approximate, without MaxSim.
        """
        tokens = [query for query in queries if query.ndim == 2]
        firsts = [
            QueryPlan(FIRST_STAGE_VECTOR, query, k, (), query_filter, exact=mode is SearchMode.EXACT)
            for query in queries
            if query.ndim == 1
        ]
        ranked = iter(self._run(tokens, [None] * len(tokens), k, query_filter, mode, config) if tokens else [])
        found = iter(self._backend.query_batch(firsts) if firsts else [])
        keys = self._settings.payload_keys
        return [next(ranked) if query.ndim == 2 else [to_hit(p, keys=keys) for p in next(found)] for query in queries]

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
        small = mode is not SearchMode.EXACT and config.exact_below > 0 and self._document_count() <= config.exact_below
        per_query = [
            plans_for(mode, m, f, s, k, query_filter, config, small=small)
            for m, f, s in zip(multivectors, first, sparse)
        ]
        results = self._backend.query_batch([plan for plans in per_query for plan in plans])
        tokens = [max(len(m), 1) for m in multivectors]
        if mode is not SearchMode.HYBRID:
            hits = [
                [to_hit(p, None, _maxsim_parts(float(p.score or 0.0), n), self._settings.payload_keys) for p in points]
                for points, n in zip(results, tokens)
            ]
        else:
            hits = self._fused(per_query, results, k, config.bm25_weight, tokens)
        return with_relevance(hits, tokens, self._model.relevance, config.min_relevance)

    def _fused(
        self,
        per_query: list[list[QueryPlan]],
        results: list[list[StoredPoint]],
        k: int,
        weight: float,
        tokens: list[int],
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
        stored = {p.id: p for p in self._backend.retrieve(wanted)} if wanted else {}
        return [
            [
                to_hit(stored[i], score, {**_maxsim_parts(colbert, n), "bm25": lexical}, self._settings.payload_keys)
                for i, score, colbert, lexical in rows
                if i in stored
            ]
            for rows, n in zip(ranked, tokens)
        ]


def with_relevance(
    hits: list[list[SearchHit]], tokens: Sequence[int], calibration: Relevance | None, least: float | None
) -> list[list[SearchHit]]:
    """Each query's hits with their calibrated relevance, those below ``least`` left out (best first still).

    Raises:
        InvalidArgumentError: a threshold for a model without a calibration (nothing is guessed).
    """
    if calibration is None:
        if least is not None:
            msg = (
                "min_relevance needs a model with a relevance calibration (model.relevance is None); fit one with "
                "colbert_retrieval.evaluation.fit_relevance, or filter on scores instead."
            )
            raise InvalidArgumentError(msg)
        return hits
    kept = []
    for query_hits, n in zip(hits, tokens):
        chances = calibration.of_query([h.scores.get("mean_maxsim", 0.0) for h in query_hits], n)
        scored = [replace(h, relevance=round(float(p), 6)) for h, p in zip(query_hits, chances)]
        kept.append([h for h in scored if least is None or h.relevance >= least])
    return kept


def _maxsim_parts(maxsim: float, query_tokens: int) -> dict[str, float]:
    return {"maxsim": maxsim, "mean_maxsim": maxsim / query_tokens}


def _one_or_many(queries: Queries) -> tuple[bool, list[Any]]:
    """Whether the request is one query, and the queries as a list.

    One query: a text, or an array/tensor of one query's vectors (``(n_tokens, dim)`` or ``(first_stage_dim,)``).
    Many: a list or tuple of those, or a 3-d array of token vectors.
    """
    if isinstance(queries, str):
        return True, [queries]
    ndim = getattr(queries, "ndim", None)
    if ndim is not None and hasattr(queries, "shape"):
        if ndim in (1, 2):
            return True, [queries]
        return False, list(queries)
    if isinstance(queries, (list, tuple)):
        return False, list(queries)
    if isinstance(queries, Sequence) and not isinstance(queries, bytes):
        return False, list(queries)
    msg = f"Give a query text, query vectors, or a list of either; got {type(queries).__name__}."
    raise InputTypeError(msg)


def call_config(
    defaults: SearchConfig, config: SearchConfig | Mapping[str, Any] | None
) -> tuple[SearchConfig, SearchMode | None]:
    """The config of one call (:meth:`SearchConfig.of` over the index's), and the mode it names (None: the index's)."""
    chosen = SearchConfig.of(config, defaults)
    named = config.mode if isinstance(config, SearchConfig) else (config or {}).get("mode")
    return chosen, chosen.mode if named is not None else None
