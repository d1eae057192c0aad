"""The storage interface of :class:`~colbert_retrieval.qdrant.ColBERTIndex` and its neutral data types.

The index (ingest, search modes, fusion, migration) talks to storage only through :class:`Backend`; each
implementation translates these types into one engine's calls: ``_edge.py`` (Qdrant's engine in-process,
``qdrant-edge-py``) and ``_server.py`` (a Qdrant server or cluster through ``qdrant-client``). Filters are
given as ``qdrant_client.models.Filter`` (the public filter type of the library) and translated by the
embedded backend.

Examples:
    >>> plan = QueryPlan(using="colbert", vector=[[1.0, 0.0]], limit=3, exact=True)
    >>> plan.candidates
    ()
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from colbert_retrieval.errors import CollectionNotFoundError, IndexMismatchError
from colbert_retrieval.qdrant._bm25 import SparseVector
from colbert_retrieval.qdrant._schema import IndexSettings, StorageOptions, check_compatible

__all__ = ["Backend", "Candidates", "PointData", "QueryPlan", "StageParams", "StoredPoint", "open_collection"]

#: A query vector: a multivector (``colbert``), a dense vector (``first_stage``) or a sparse one (``bm25``).
QueryVector = np.ndarray | SparseVector | list


@dataclass(frozen=True)
class PointData:
    """One document as stored: point id, the three vectors and the payload."""

    id: str
    colbert: np.ndarray
    first_stage: np.ndarray
    bm25: SparseVector | None
    payload: dict[str, Any]


@dataclass(slots=True)
class StoredPoint:
    """A point read back: id, payload (may be empty when not asked for), score of a query, vectors if asked."""

    id: str
    payload: dict[str, Any] = field(default_factory=dict)
    score: float | None = None
    vectors: dict[str, Any] | None = None

    @classmethod
    def from_native(cls, point: Any) -> StoredPoint:
        """A point, record or scored point of either engine (``id``, ``payload``, ``score``, ``vector``)."""
        vectors = getattr(point, "vector", None)
        return cls(
            id=str(point.id),
            payload=dict(point.payload or {}),
            score=getattr(point, "score", None),
            vectors=dict(vectors) if isinstance(vectors, dict) else None,
        )


@dataclass(frozen=True)
class StageParams:
    """The engine parameters of one search stage, decided once here; each backend only maps them to its types.

    ``exact`` scores every point; ``hnsw_ef`` widens the HNSW beam; ``quantization`` holds the set fields of
    Qdrant's ``QuantizationSearchParams`` (``ignore``, ``rescore``, ``oversampling``), empty for none.

    Examples:
        >>> Candidates("first_stage", [1.0], 10, rescore=False).params()
        StageParams(exact=False, hnsw_ef=None, quantization=(('rescore', False),))
        >>> QueryPlan("colbert", [[1.0]], 3, candidates=(Candidates("bm25", [1.0], 10),)).params().quantization
        (('ignore', True),)
    """

    exact: bool = False
    hnsw_ef: int | None = None
    quantization: tuple[tuple[str, Any], ...] = ()


@dataclass(frozen=True)
class Candidates:
    """A candidate source of a two-stage query: the ``limit`` best points for ``vector`` on ``using``.

    ``exact`` scores every (filtered) point instead of walking the HNSW graph. ``rescore=False`` keeps the
    scores of a quantized vector as they are (a source that only proposes candidates needs no more).
    ``hnsw_ef`` widens (or narrows) the HNSW beam of this search (None: the engine's default).
    """

    using: str
    vector: QueryVector
    limit: int
    exact: bool = False
    rescore: bool = True
    hnsw_ef: int | None = None
    oversampling: float | None = None

    def params(self) -> StageParams | None:
        """Exact, or the beam and how a quantized copy is read (None: the engine's defaults)."""
        if self.exact:
            return StageParams(exact=True)
        if self.rescore and self.hnsw_ef is None and self.oversampling is None:
            return None
        quantization = {"rescore": self.rescore, "oversampling": self.oversampling}
        return StageParams(hnsw_ef=self.hnsw_ef, quantization=_set(quantization))


def _set(fields: dict[str, Any]) -> tuple[tuple[str, Any], ...]:
    return tuple((name, value) for name, value in fields.items() if value is not None)


@dataclass(frozen=True)
class QueryPlan:
    """One query: score by ``vector`` on ``using`` the union of ``candidates`` (or search the whole collection).

    Without candidates, ``exact`` scores every (filtered) point instead of using the vector's index (HNSW,
    or the inverted index of a sparse vector). ``filter`` applies to every stage. With candidates, the
    original vectors score them (a quantized copy is ignored), unless ``oversampling`` is set: then the
    quantized vectors rank them and the best ``limit x oversampling`` are rescored with the originals.
    """

    using: str
    vector: QueryVector
    limit: int
    candidates: tuple[Candidates, ...] = ()
    filter: Any = None
    with_payload: bool = True
    exact: bool = False
    oversampling: float | None = None

    def params(self) -> StageParams | None:
        """Exact, or how a rerank of candidates reads a quantized copy: ignore it, or oversample and rescore."""
        if self.exact:
            return StageParams(exact=True)
        if not self.candidates:
            return None
        if self.oversampling is None:
            return StageParams(quantization=(("ignore", True),))
        return StageParams(quantization=(("rescore", True), ("oversampling", self.oversampling)))


class Backend(Protocol):
    """What the index needs from a store; one collection per backend object."""

    #: ``"embedded"`` or ``"server"``.
    kind: str
    collection: str

    def exists(self) -> bool:
        """Whether the collection exists."""
        ...

    def read_settings(self) -> IndexSettings | None:
        """The stored settings (None: the collection exists but was not written by colbert-retrieval)."""
        ...

    def create(self, settings: IndexSettings, options: StorageOptions) -> None:
        """Create the collection with these settings."""
        ...

    def upsert(self, points: Sequence[PointData]) -> None:
        """Insert or replace points (durable when it returns)."""
        ...

    def existing(self, ids: Sequence[str]) -> set[str]:
        """Which of these point ids are stored."""
        ...

    def retrieve(self, ids: Sequence[str], *, with_vectors: bool | Sequence[str] = False) -> list[StoredPoint]:
        """Points by id, with payload (missing ids are left out); ``with_vectors``: all, or these names."""
        ...

    def query_batch(self, plans: Sequence[QueryPlan]) -> list[list[StoredPoint]]:
        """Run several queries in one call; results best first."""
        ...

    def set_payload(self, ids: Sequence[str], payload: dict[str, Any]) -> None:
        """Overwrite these payload keys of these points."""
        ...

    def delete(self, ids: Sequence[str]) -> None:
        """Delete points by id."""
        ...

    def delete_where(self, filter: Any) -> None:
        """Delete the points matching a filter."""
        ...

    def count(self, filter: Any = None) -> int:
        """Number of points (matching ``filter``)."""
        ...

    def scroll(
        self, offset: str | None, limit: int, *, with_vectors: bool = False, filter: Any = None
    ) -> tuple[list[StoredPoint], str | None]:
        """A page of points (matching ``filter``) in id order, and the next page's offset (None at the end)."""
        ...

    def optimize(self, *, wait: bool = True) -> None:
        """Build indexes after writes (embedded; in a background thread with ``wait=False``).

        A server optimises in the background by itself.
        """
        ...

    def drop(self) -> None:
        """Delete the collection."""
        ...

    def close(self) -> None:
        """Release the store (files, locks, connections)."""
        ...


def open_collection(
    backend: Backend,
    wanted: IndexSettings,
    options: StorageOptions,
    *,
    create: bool,
    pool_factor_given: bool = True,
    payload_keys_given: tuple[str, ...] = ("text_key", "metadata_key"),
) -> IndexSettings:
    """Open the backend's collection, creating it if allowed; its settings.

    The stored settings, checked against ``wanted``, or ``wanted`` for a collection created now.

    Raises:
        IndexMismatchError: the collection was not written by colbert-retrieval, or with another model,
            dimension or first stage.
        CollectionNotFoundError: the collection is missing and ``create`` is False.
    """
    collection = backend.collection
    if backend.exists():
        stored = backend.read_settings()
        if stored is None:
            msg = (
                f"Collection {collection!r} exists but was not created by colbert-retrieval (no settings "
                "stored with it); use another collection name."
            )
            raise IndexMismatchError(msg)
        check_compatible(
            stored, wanted, collection, pool_factor_given=pool_factor_given, payload_keys_given=payload_keys_given
        )
        return stored
    if not create:
        msg = f"Collection {collection!r} does not exist; create it with create=True or index documents first."
        raise CollectionNotFoundError(msg)
    backend.create(wanted, options)
    return wanted.as_stored()
