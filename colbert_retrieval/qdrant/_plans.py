"""Search modes and score fusion: how a query becomes backend query plans, and how hybrid results are ranked.

Modes (:class:`SearchMode`):

* ``exact``: MaxSim over every (filtered) document.
* ``colbert``: two-stage: the candidates are the union of the first-stage vector's ``prefetch_limit`` nearest
  documents (MUVERA, through HNSW) and BM25's ``bm25_limit`` best; MaxSim ranks them (one engine request).
  BM25 recovers what the approximate first stage misses: on NFCorpus MUVERA top-200 alone reranks to 0.022
  nDCG@10 below exact MaxSim, the union to exact MaxSim's score (docs/benchmarks/qdrant-engine.md).
* ``hybrid`` (the default where the collection has BM25 vectors): the same candidates, ranked by a fusion of
  their MaxSim and BM25 scores, ``(1 - bm25_weight) * z(MaxSim) + bm25_weight * z(BM25)``, each z-normalised
  over the candidates (a candidate outside BM25's top ``bm25_limit`` counts as BM25 0). Both scores come back
  from one batched engine call.

In ``colbert`` and ``hybrid`` mode a collection of at most ``exact_below`` documents takes its MaxSim
candidates by exact search instead of the first stage (exact is fast and lossless there). Filters apply in
every stage. The defaults were chosen on NFCorpus dev queries, never on test (docs/benchmarks/qdrant-engine.md).

Examples:
    >>> SearchConfig().mode, SearchMode("hybrid")
    (None, <SearchMode.HYBRID: 'hybrid'>)
    >>> fuse([("a", 10.0), ("b", 8.0)], {"a": 0.0, "b": 3.0}, bm25_weight=0.6)[0][0]
    'b'
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from enum import Enum
from typing import Any

import numpy as np

from colbert_retrieval._inputs import member
from colbert_retrieval.errors import InputTypeError, InvalidArgumentError
from colbert_retrieval.qdrant._bm25 import SparseVector
from colbert_retrieval.qdrant._schema import BM25_VECTOR, COLBERT_VECTOR, FIRST_STAGE_VECTOR
from colbert_retrieval.qdrant.backends import Candidates, QueryPlan

__all__ = ["SearchConfig", "SearchMode", "fuse", "parse_mode", "plans_for"]


class SearchMode(str, Enum):
    """How candidates are found and ranked (see the module docstring)."""

    EXACT = "exact"
    COLBERT = "colbert"
    HYBRID = "hybrid"

    @classmethod
    def of(cls, mode: SearchMode | str) -> SearchMode:
        """A mode from its name, or :class:`InvalidArgumentError` naming the modes (the check of every entry point).

        Examples:
            >>> SearchMode.of("colbert")
            <SearchMode.COLBERT: 'colbert'>
        """
        return member(cls, mode, "search mode")


def parse_mode(mode: SearchMode | str) -> SearchMode:
    """:meth:`SearchMode.of` (the name the index's modules use).

    Examples:
        >>> parse_mode("colbert")
        <SearchMode.COLBERT: 'colbert'>
    """
    return SearchMode.of(mode)


@dataclass(frozen=True)
class SearchConfig:
    """Search defaults of an index (each can be overridden per call).

    Args:
        mode: the default mode; None: ``hybrid`` where the collection stores BM25 vectors, else ``colbert``.
        prefetch_limit: first-stage (MUVERA) candidates per query.
        bm25_limit: BM25 candidates per query in hybrid mode.
        bm25_weight: weight of the z-normalised BM25 score in hybrid mode (MaxSim gets ``1 - bm25_weight``).
        exact_below: collections of at most this many documents take exact MaxSim candidates.
        hnsw_ef: HNSW beam width of the first-stage search (None: the engine's default; larger finds more of
            the true nearest candidates, slower).
        rescore_oversampling: with quantized ColBERT vectors (storage presets ``balanced``, ``small``): rank the
            candidates by quantized MaxSim and rescore the best ``k x rescore_oversampling`` with the original
            vectors. None: score every candidate with the originals.
        first_stage_oversampling: with a binary first stage (storage preset ``small``): take
            ``prefetch_limit x first_stage_oversampling`` candidates by the binary vectors and keep the best
            ``prefetch_limit`` by the float32 originals (on disk). None: the quantized first stage alone.
        min_relevance: keep only hits whose calibrated relevance (``SearchHit.relevance``, the probability that
            the hit is relevant, from the model's :class:`~colbert_retrieval.models.Relevance`) is at least this
            (between 0 and 1). None: no threshold. A model without a calibration raises instead of guessing.
        highlights: give each hit the words its query matched (``SearchHit.highlights``; text queries only).
            Reads the hits' stored vectors back (one more call to the store), so it is off by default (None).
    """

    mode: SearchMode | None = None
    prefetch_limit: int = 200
    bm25_limit: int = 100
    bm25_weight: float = 0.3
    exact_below: int = 300
    hnsw_ef: int | None = None
    rescore_oversampling: float | None = None
    first_stage_oversampling: float | None = None
    min_relevance: float | None = None
    highlights: bool | None = None

    def __post_init__(self) -> None:
        if self.mode is not None and not isinstance(self.mode, SearchMode):
            object.__setattr__(self, "mode", parse_mode(self.mode))
        for name in ("prefetch_limit", "bm25_limit", "exact_below"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                msg = f"{name} must be an integer >= 0, got {value!r}."
                raise InvalidArgumentError(msg)
        ef = self.hnsw_ef
        if ef is not None and (not isinstance(ef, int) or isinstance(ef, bool) or ef < 1):
            msg = f"hnsw_ef must be an integer >= 1 or None, got {ef!r}."
            raise InvalidArgumentError(msg)
        for name in ("rescore_oversampling", "first_stage_oversampling"):
            over = getattr(self, name)
            if over is not None and (isinstance(over, bool) or not isinstance(over, (int, float)) or over < 1):
                msg = f"{name} must be a number >= 1 or None, got {over!r}."
                raise InvalidArgumentError(msg)
        least = self.min_relevance
        number = isinstance(least, (int, float)) and not isinstance(least, bool)
        if least is not None and not (number and 0 <= least <= 1):
            msg = f"min_relevance must be a probability between 0 and 1 or None, got {least!r}."
            raise InvalidArgumentError(msg)
        if self.highlights is not None and not isinstance(self.highlights, bool):
            msg = f"highlights must be True, False or None, got {self.highlights!r}."
            raise InvalidArgumentError(msg)
        if not 0.0 <= float(self.bm25_weight) <= 1.0:
            msg = f"bm25_weight must be between 0 and 1, got {self.bm25_weight!r}."
            raise InvalidArgumentError(msg)

    def override(self, **changes: Any) -> SearchConfig:
        """A copy with the given (non-None) values replaced."""
        return replace(self, **{k: v for k, v in changes.items() if v is not None})

    @classmethod
    def of(cls, value: SearchConfig | Mapping[str, Any] | None, base: SearchConfig | None = None) -> SearchConfig:
        """The settings ``value`` gives over ``base`` (None: the defaults): the one rule, everywhere.

        A mapping overrides the fields it names; a :class:`SearchConfig` overrides every field it sets, and the
        fields it leaves None (``mode``, the rescoring of a storage preset) keep ``base``'s. The constructor of
        an index, each search call and every framework adapter apply it the same way.

        Raises:
            InvalidArgumentError: a mapping with a key that is not a field.
            InputTypeError: anything else than a SearchConfig, a mapping or None.

        Examples:
            >>> base = SearchConfig(rescore_oversampling=4.0, prefetch_limit=400)
            >>> SearchConfig.of({"mode": "exact"}, base).prefetch_limit
            400
            >>> SearchConfig.of(SearchConfig(mode="exact"), base).rescore_oversampling
            4.0
        """
        base = base if base is not None else cls()
        if value is None:
            return base
        if isinstance(value, SearchConfig):
            return base.override(**{name: getattr(value, name) for name in cls.__dataclass_fields__})
        if isinstance(value, Mapping):
            if unknown := sorted(set(value) - set(cls.__dataclass_fields__)):
                msg = f"Unknown search settings {unknown}; SearchConfig takes {sorted(cls.__dataclass_fields__)}."
                raise InvalidArgumentError(msg)
            return base.override(**value)
        msg = f"config must be a SearchConfig or a dict of its fields, got {type(value).__name__}."
        raise InputTypeError(msg)

    @staticmethod
    def with_mode(
        value: SearchConfig | Mapping[str, Any] | None, mode: str | SearchMode | None
    ) -> SearchConfig | Mapping[str, Any] | None:
        """``value`` with its mode set to ``mode`` (None: unchanged), of the same kind (what adapters pass on).

        Examples:
            >>> SearchConfig.with_mode({"prefetch_limit": 50}, "exact")
            {'prefetch_limit': 50, 'mode': 'exact'}
        """
        return SearchConfig.with_fields(value, mode=mode)

    @staticmethod
    def with_fields(
        value: SearchConfig | Mapping[str, Any] | None, **fields: Any
    ) -> SearchConfig | Mapping[str, Any] | None:
        """``value`` with these fields set (None values: unchanged), of the same kind (what adapters pass on).

        A dict stays a dict and a ``SearchConfig`` a ``SearchConfig``, so the index applies its one rule
        (:meth:`of`) to what the caller gave.

        Examples:
            >>> SearchConfig.with_fields(None, min_relevance=0.5, mode=None)
            {'min_relevance': 0.5}
        """
        changes = {name: given for name, given in fields.items() if given is not None}
        if not changes:
            return value
        if isinstance(value, SearchConfig):
            return value.override(**changes)
        return {**dict(value or {}), **changes}


def plans_for(
    mode: SearchMode,
    multivector: np.ndarray,
    first: np.ndarray,
    sparse: SparseVector | None,
    k: int,
    query_filter: Any,
    config: SearchConfig,
    *,
    small: bool,
) -> list[QueryPlan]:
    """The backend query plans of one query.

    One plan, or two in hybrid mode: MaxSim over the candidates, and BM25's own top list.

    Args:
        mode: the search mode.
        multivector: the query's token vectors.
        first: the query's first-stage vector.
        sparse: the query's BM25 vector (None where the collection has none).
        k: results wanted.
        query_filter: a Qdrant filter applied in every stage.
        config: limits and weights.
        small: the collection is at most ``config.exact_below`` documents.
    """
    if mode is SearchMode.EXACT:
        return [QueryPlan(COLBERT_VECTOR, multivector, k, filter=query_filter, exact=True)]
    prefetch = max(config.prefetch_limit, k)
    if small:
        sources = [Candidates(COLBERT_VECTOR, multivector, prefetch, exact=True)]
    else:
        # It only proposes candidates: an int8 first stage needs no rescoring with its originals; a binary one
        # (``small``) is oversampled and rescored with them when first_stage_oversampling is set.
        over = config.first_stage_oversampling
        sources = [
            Candidates(
                FIRST_STAGE_VECTOR, first, prefetch, rescore=over is not None, hnsw_ef=config.hnsw_ef, oversampling=over
            )
        ]
    lexical = sparse is not None and len(sparse) > 0 and config.bm25_limit > 0
    if lexical:
        sources.append(Candidates(BM25_VECTOR, sparse, config.bm25_limit))
    over = config.rescore_oversampling
    if mode is SearchMode.COLBERT:
        return [QueryPlan(COLBERT_VECTOR, multivector, k, tuple(sources), query_filter, oversampling=over)]
    limit = sum(source.limit for source in sources)
    maxsim = QueryPlan(
        COLBERT_VECTOR, multivector, limit, tuple(sources), query_filter, with_payload=False, oversampling=over
    )
    if not lexical:
        return [maxsim]
    return [maxsim, QueryPlan(BM25_VECTOR, sparse, config.bm25_limit, (), query_filter, with_payload=False)]


def _z(values: np.ndarray) -> np.ndarray:
    std = float(values.std())
    return (values - values.mean()) / std if std > 0 else np.zeros_like(values)


def fuse(
    maxsim: Sequence[tuple[str, float]], bm25: Mapping[str, float], bm25_weight: float
) -> list[tuple[str, float, float, float]]:
    """Rank candidates by the weighted sum of their z-normalised MaxSim and BM25 scores.

    Args:
        maxsim: ``(id, MaxSim)`` of every candidate.
        bm25: BM25 score by id (a candidate that shares no term with the query scores 0).
        bm25_weight: weight of BM25 (MaxSim gets ``1 - bm25_weight``).

    Returns:
        ``(id, fused, maxsim, bm25)`` best first.
    """
    if not maxsim:
        return []
    ids = [i for i, _ in maxsim]
    colbert = np.array([s for _, s in maxsim], dtype=np.float64)
    lexical = np.array([bm25.get(i, 0.0) for i in ids], dtype=np.float64)
    fused = (1.0 - bm25_weight) * _z(colbert) + bm25_weight * _z(lexical)
    order = np.argsort(-fused, kind="stable")
    return [(ids[i], float(fused[i]), float(colbert[i]), float(lexical[i])) for i in order]
