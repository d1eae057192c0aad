"""Embedded backend: Qdrant's engine in-process (``qdrant-edge-py``), one shard per collection.

A store folder holds one sub-folder per collection: ``<path>/<collection>/shard`` (segments and a write-ahead
log, so an interrupted process loses nothing that was acknowledged) and ``<path>/<collection>/colbert_retrieval.json``
(the settings). The shard is locked while open: a second process (or a second index on the same folder)
gets :class:`~colbert_retrieval.errors.StoreLockedError`. A folder written by 0.1.0 (qdrant-client's local
mode) gets :class:`~colbert_retrieval.errors.StoreFormatError` naming ``colbert-retrieval migrate``.

The engine builds HNSW graphs only when asked (:meth:`EdgeBackend.optimize`). After an ingest the index asks for
it in a background thread, as a Qdrant server would: searches run meanwhile (on the segments as they are),
further writes wait for it, and :meth:`EdgeBackend.close` (or process exit) waits for it to finish.

Examples:
    >>> backend = EdgeBackend(None, "docs")  # a temporary folder, removed on close
    >>> backend.kind, backend.exists()
    ('embedded', False)
    >>> backend.close()
"""

from __future__ import annotations

import atexit
import json
import logging
import os
import re
import shutil
import tempfile
import threading
import uuid
import weakref
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import qdrant_edge as qe
from qdrant_client import models as qm

from colbert_retrieval.errors import CollectionNotFoundError, InvalidArgumentError, StoreFormatError, StoreLockedError
from colbert_retrieval.qdrant._bm25 import SparseVector
from colbert_retrieval.qdrant._schema import (
    BM25_VECTOR,
    COLBERT_VECTOR,
    FIRST_STAGE_VECTOR,
    IndexSettings,
    StorageOptions,
)
from colbert_retrieval.qdrant._storage import quantization_config
from colbert_retrieval.qdrant.backends._base import Candidates, PointData, QueryPlan, StageParams, StoredPoint
from colbert_retrieval.qdrant.backends._edge_filters import to_edge_filter
from colbert_retrieval.single_vector import FirstStage

__all__ = ["SETTINGS_FILE", "EdgeBackend", "edge_config", "edge_quantization"]

logger = logging.getLogger(__name__)

SETTINGS_FILE = "colbert_retrieval.json"
_SHARD = "shard"
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,254}$")
#: HNSW is skipped for segments smaller than this many KB of vectors (a full scan is faster there).
FULL_SCAN_THRESHOLD_KB = 10_000


def edge_config(settings: IndexSettings, options: StorageOptions) -> qe.EdgeConfig:
    """The shard configuration for these settings."""
    datatype = qe.VectorStorageDatatype.Float16 if settings.datatype == "float16" else qe.VectorStorageDatatype.Float32
    colbert = qe.EdgeVectorParams(
        size=settings.dim,
        distance=qe.Distance.Dot,
        multivector_config=qe.MultiVectorConfig(qe.MultiVectorComparator.MaxSim),
        datatype=datatype,
        hnsw_config=qe.HnswIndexConfig(m=0, ef_construct=100, full_scan_threshold=FULL_SCAN_THRESHOLD_KB),
        memory=qe.Memory.Cold if options.on_disk else None,
        quantization_config=edge_quantization(options.quantization),
    )
    mean = FirstStage(settings.first_stage) is FirstStage.MEAN
    quantized = options.first_stage_quantization
    first = qe.EdgeVectorParams(
        size=settings.first_stage_dim(),
        distance=qe.Distance.Cosine if mean else qe.Distance.Dot,
        hnsw_config=qe.HnswIndexConfig(
            m=options.hnsw_m, ef_construct=options.hnsw_ef_construct, full_scan_threshold=FULL_SCAN_THRESHOLD_KB
        ),
        quantization_config=edge_quantization(quantization_config(quantized)),
        memory=qe.Memory.Cold if quantized or options.on_disk else None,
    )
    sparse = {BM25_VECTOR: qe.EdgeSparseVectorParams(modifier=qe.Modifier.Idf)} if settings.has_bm25 else None
    return qe.EdgeConfig(vectors={COLBERT_VECTOR: colbert, FIRST_STAGE_VECTOR: first}, sparse_vectors=sparse)


def edge_quantization(config: Any) -> Any:
    """The engine's quantization config for a ``qdrant_client`` one (scalar int8 or binary; None stays None).

    Raises:
        ValueError: a quantization the embedded engine does not take from a ``qdrant_client`` config.
    """
    if config is None or type(config).__module__.startswith("qdrant_edge"):
        return config
    if isinstance(config, qm.ScalarQuantization):
        scalar = config.scalar
        return qe.ScalarQuantizationConfig(qe.ScalarType.Int8, quantile=scalar.quantile, always_ram=scalar.always_ram)
    if isinstance(config, qm.BinaryQuantization):
        return qe.BinaryQuantizationConfig(always_ram=config.binary.always_ram)
    msg = (
        f"{type(config).__name__} is not available in the embedded store; use ScalarQuantization or "
        "BinaryQuantization, a qdrant_edge config, or a Qdrant server."
    )
    raise InvalidArgumentError(msg)


def _native_id(point_id: str) -> uuid.UUID | int:
    return int(point_id) if point_id.isdigit() else uuid.UUID(point_id)


def _vector(value: Any) -> Any:
    if isinstance(value, SparseVector):
        return qe.SparseVector(value.indices, value.values)
    if isinstance(value, np.ndarray):
        return np.ascontiguousarray(value, dtype=np.float32)
    return value


def _query(using: str, vector: Any) -> Any:
    return qe.Query.Nearest(_vector(vector), using=using)


def _scored(point: Any) -> StoredPoint:
    """A query result (hot path: hundreds per hybrid query, so no vectors and no copies)."""
    payload = point.payload
    return StoredPoint(str(point.id), payload if payload is not None else {}, point.score)


def _params(params: StageParams | None) -> qe.SearchParams | None:
    """The neutral stage parameters as the engine's type."""
    if params is None:
        return None
    quantization = qe.QuantizationSearchParams(**dict(params.quantization)) if params.quantization else None
    return qe.SearchParams(exact=params.exact, hnsw_ef=params.hnsw_ef, quantization=quantization)


class EdgeBackend:
    """One collection in an embedded store folder.

    Args:
        path: the store folder (None: a temporary folder deleted by :meth:`close`, for ``":memory:"``).
        collection: the collection name (letters, digits, ``.``, ``_``, ``-``).

    Raises:
        ValueError: a collection name that is not a safe folder name.
        StoreFormatError: the folder was written by colbert-retrieval 0.1.0 (qdrant-client local mode).
    """

    kind = "embedded"

    def __init__(self, path: str | os.PathLike[str] | None, collection: str) -> None:
        if not _NAME.match(collection):
            msg = f"Collection name {collection!r} must be letters, digits, '.', '_' or '-' (it names a folder)."
            raise InvalidArgumentError(msg)
        self._temporary = tempfile.TemporaryDirectory(prefix="colbert-edge-") if path is None else None
        self.root = Path(self._temporary.name if self._temporary else path)  # type: ignore[arg-type]
        if (self.root / "meta.json").exists() and (self.root / "collection").is_dir():
            msg = (
                f"{self.root} is a store written by colbert-retrieval 0.1.0 (qdrant-client's local mode), which this "
                f"version does not open. Copy it into the embedded engine with: colbert-retrieval migrate "
                f"--from-local {self.root} --to-path NEW_FOLDER (then use NEW_FOLDER)."
            )
            raise StoreFormatError(msg)
        self.collection = collection
        self.folder = self.root / collection
        self._shard: qe.EdgeShard | None = None
        self._lock = threading.Lock()  # writes and optimisation, one at a time
        self._state = threading.Lock()  # the background optimiser's bookkeeping
        self._optimizer: threading.Thread | None = None
        self._pending = False
        reference = weakref.ref(self)
        atexit.register(lambda: (backend := reference()) is not None and backend.wait_optimized())
        if (self.folder / _SHARD / "edge_config.json").exists():
            self._shard = self._load()

    # ------------------------------------------------------------------ lifecycle
    def _load(self) -> qe.EdgeShard:
        try:
            return qe.EdgeShard.load(str(self.folder / _SHARD))
        except Exception as error:
            if "WouldBlock" in str(error) or "lock" in str(error).lower():
                msg = (
                    f"The embedded store {self.folder} is open in another process (or another index object). "
                    "Close it there first (index.close()), or serve the data from a Qdrant server "
                    "(url=...) for several processes."
                )
                raise StoreLockedError(msg) from error
            msg = (
                f"The embedded store {self.folder} could not be opened ({error}); it may be damaged. Restore the "
                "folder from a backup, or delete it and index the documents again (ids are deterministic)."
            )
            raise StoreFormatError(msg) from error

    @property
    def shard(self) -> qe.EdgeShard:
        """The open shard (raises CollectionNotFoundError when the collection does not exist)."""
        if self._shard is None:
            msg = f"Collection {self.collection!r} does not exist in {self.root}."
            raise CollectionNotFoundError(msg)
        return self._shard

    def exists(self) -> bool:
        """Whether the collection exists."""
        return self._shard is not None and self.folder.exists()

    def read_settings(self) -> IndexSettings | None:
        """The stored settings (None: not written by colbert-retrieval)."""
        file = self.folder / SETTINGS_FILE
        if not file.exists():
            return None
        try:
            return IndexSettings.from_metadata(json.loads(file.read_text(encoding="utf8")))
        except (ValueError, TypeError) as error:
            msg = (
                f"{file} is damaged ({error}). Restore it from a backup (it holds the model and encoding settings "
                "of the collection), or delete the folder and index the documents again."
            )
            raise StoreFormatError(msg) from error

    def create(self, settings: IndexSettings, options: StorageOptions) -> None:
        """Create the collection with these settings."""
        self.folder.mkdir(parents=True, exist_ok=True)
        temporary = self.folder / (SETTINGS_FILE + ".tmp")
        temporary.write_text(json.dumps(settings.to_metadata(), indent=2), encoding="utf8")
        os.replace(temporary, self.folder / SETTINGS_FILE)
        self._shard = qe.EdgeShard.create(str(self.folder / _SHARD), edge_config(settings, options))

    def optimize(self, *, wait: bool = True) -> None:
        """Build the HNSW graphs and payload indexes of new segments.

        Args:
            wait: block until done (True), or run in a background thread (False; one at a time, and a request
                made while it runs makes it run once more).
        """
        if wait:
            self.wait_optimized()
            with self._lock:
                self.shard.optimize()
            return
        with self._state:
            self._pending = True
            if self._optimizer is None:
                self._optimizer = threading.Thread(
                    target=self._optimize_loop, name="colbert-edge-optimize", daemon=True
                )
                self._optimizer.start()

    def _optimize_loop(self) -> None:
        while True:
            with self._state:
                if not self._pending or self._shard is None:
                    self._optimizer = None
                    return
                self._pending = False
            try:
                with self._lock:
                    if self._shard is not None:
                        self._shard.optimize()
            except Exception:  # searches still work on unoptimised segments; the next write retries
                logger.exception("Background optimisation of %s failed", self.folder)

    def wait_optimized(self) -> None:
        """Wait for a background optimisation to finish."""
        thread = self._optimizer
        if thread is not None:
            thread.join()

    def drop(self) -> None:
        """Delete the collection."""
        self.close_shard()
        shutil.rmtree(self.folder, ignore_errors=True)

    def close_shard(self) -> None:
        """Close the shard and release its lock (the folder stays), after a background optimisation."""
        with self._state:
            self._pending = False
        self.wait_optimized()
        if self._shard is not None:
            self._shard.close()
            self._shard = None

    def close(self) -> None:
        """Release the store."""
        self.close_shard()
        if self._temporary is not None:
            self._temporary.cleanup()
            self._temporary = None

    # ------------------------------------------------------------------ writes
    def upsert(self, points: Sequence[PointData]) -> None:
        """Insert or replace points (durable when it returns)."""
        native = []
        for point in points:
            vector: dict[str, Any] = {
                COLBERT_VECTOR: _vector(point.colbert),
                FIRST_STAGE_VECTOR: _vector(point.first_stage),
            }
            if point.bm25 is not None:
                vector[BM25_VECTOR] = _vector(point.bm25)
            native.append(qe.Point(_native_id(point.id), vector, point.payload))
        with self._lock:
            self.shard.update(qe.UpdateOperation.upsert_points(native))

    def set_payload(self, ids: Sequence[str], payload: dict[str, Any]) -> None:
        """Overwrite these payload keys of these points."""
        with self._lock:
            self.shard.update(qe.UpdateOperation.set_payload([_native_id(i) for i in ids], payload))

    def delete(self, ids: Sequence[str]) -> None:
        """Delete points by id."""
        with self._lock:
            self.shard.update(qe.UpdateOperation.delete_points([_native_id(i) for i in ids]))

    def delete_where(self, filter: qm.Filter) -> None:
        """Delete the points matching a filter."""
        with self._lock:
            self.shard.update(qe.UpdateOperation.delete_points_by_filter(to_edge_filter(filter)))

    # ------------------------------------------------------------------ reads
    def existing(self, ids: Sequence[str]) -> set[str]:
        """Which of these point ids are stored."""
        return {str(p.id) for p in self.shard.retrieve([_native_id(i) for i in ids], False, False)}

    def retrieve(self, ids: Sequence[str], *, with_vectors: bool | Sequence[str] = False) -> list[StoredPoint]:
        """Points by id with payload (missing ids are left out); ``with_vectors``: all, or these names."""
        wanted = with_vectors if isinstance(with_vectors, bool) else list(with_vectors)
        points = self.shard.retrieve([_native_id(i) for i in ids], True, wanted)
        return [StoredPoint.from_native(p) for p in points]

    def _prefetch(self, source: Candidates, edge_filter: Any) -> qe.Prefetch:
        query = _query(source.using, source.vector)
        return qe.Prefetch(limit=source.limit, query=query, filter=edge_filter, params=_params(source.params()))

    def _request(self, plan: QueryPlan) -> qe.QueryRequest:
        edge_filter = to_edge_filter(plan.filter)
        return qe.QueryRequest(
            limit=plan.limit,
            query=_query(plan.using, plan.vector),
            prefetches=[self._prefetch(c, edge_filter) for c in plan.candidates] or None,
            filter=edge_filter,
            params=_params(plan.params()),
            with_payload=plan.with_payload,
        )

    def query_batch(self, plans: Sequence[QueryPlan]) -> list[list[StoredPoint]]:
        """Run several query plans in one call; results best first."""
        requests = [self._request(plan) for plan in plans]
        results = self.shard.query_batch(qe.QueryBatchRequest(requests))
        return [[_scored(p) for p in points] for points in results]

    def count(self, filter: qm.Filter | None = None) -> int:
        """Number of points (matching ``filter``)."""
        return self.shard.count(qe.CountRequest(filter=to_edge_filter(filter), exact=True))

    def scroll(
        self, offset: str | None, limit: int, *, with_vectors: bool = False, filter: qm.Filter | None = None
    ) -> tuple[list[StoredPoint], str | None]:
        """A page of points (matching ``filter``) and the offset of the next page (None at the end)."""
        request = qe.ScrollRequest(
            offset=_native_id(offset) if offset is not None else None,
            limit=limit,
            filter=to_edge_filter(filter),
            with_payload=True,
            with_vector=with_vectors,
        )
        points, next_offset = self.shard.scroll(request)
        return [StoredPoint.from_native(p) for p in points], (str(next_offset) if next_offset is not None else None)
