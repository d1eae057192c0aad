"""Server backend: a Qdrant server, Qdrant Cloud or cluster through ``qdrant-client``.

Sharding, replication, write consistency and shard keys are passed through to the server (they cannot be
exercised without one; the tests run this backend against qdrant-client's local mode as a stand-in, which
is also what an existing ``QdrantClient(path=...)`` gives). Settings live in the collection metadata.

Examples:
    >>> from qdrant_client import QdrantClient
    >>> backend = ServerBackend(QdrantClient(location=":memory:"), "docs")
    >>> backend.kind, backend.exists()
    ('server', False)
"""

from __future__ import annotations

import logging
import threading
import time
import warnings
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import numpy as np
from qdrant_client import QdrantClient
from qdrant_client import models as qm
from qdrant_client.http.exceptions import ResponseHandlingException, UnexpectedResponse

from colbert_retrieval.errors import CollectionNotFoundError, StoreUnavailableError
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
from colbert_retrieval.single_vector import FirstStage

__all__ = ["ServerBackend", "is_transient", "sparse_config", "vectors_config", "with_retries"]

logger = logging.getLogger(__name__)
T = TypeVar("T")


def is_transient(error: BaseException) -> bool:
    """Whether a Qdrant client error is worth retrying (connection problems, timeouts, 429 and 5xx).

    Examples:
        >>> is_transient(TimeoutError()), is_transient(ValueError())
        (True, False)
    """
    if isinstance(error, (ConnectionError, TimeoutError, ResponseHandlingException)):
        return True
    if isinstance(error, UnexpectedResponse):
        return error.status_code == 429 or error.status_code >= 500
    return type(error).__name__ in {"AioRpcError", "_InactiveRpcError"}  # gRPC transport errors


def with_retries(call: Callable[[], T], *, attempts: int = 5, base_delay: float = 0.5) -> T:
    """Run ``call``, retrying transient errors with exponential backoff (0.5 s, 1 s, 2 s, ...).

    Examples:
        >>> with_retries(lambda: 42)
        42
    """
    for attempt in range(attempts):
        try:
            return call()
        except Exception as error:
            if attempt == attempts - 1 or not is_transient(error):
                raise
            delay = base_delay * 2**attempt
            logger.warning("Transient Qdrant error (%s); retrying in %.1f s", type(error).__name__, delay)
            time.sleep(delay)
    msg = "unreachable"
    raise AssertionError(msg)  # pragma: no cover


def _missing_collection(error: BaseException) -> bool:
    """Whether a client error says the collection does not exist (a server's 404, local mode's ValueError)."""
    if isinstance(error, UnexpectedResponse):
        return error.status_code == 404 and b"ollection" in (error.content or b"")
    return isinstance(error, ValueError) and str(error).startswith("Collection ") and "not found" in str(error)


def vectors_config(settings: IndexSettings, options: StorageOptions) -> dict[str, qm.VectorParams]:
    """Dense vector parameters of a collection with these settings."""
    colbert = qm.VectorParams(
        size=settings.dim,
        distance=qm.Distance.DOT,
        multivector_config=qm.MultiVectorConfig(comparator=qm.MultiVectorComparator.MAX_SIM),
        hnsw_config=qm.HnswConfigDiff(m=0),
        datatype=qm.Datatype(settings.datatype),
        on_disk=options.on_disk,
        quantization_config=options.quantization,
    )
    distance = qm.Distance.COSINE if FirstStage(settings.first_stage) is FirstStage.MEAN else qm.Distance.DOT
    quantized = options.first_stage_quantization
    first = qm.VectorParams(
        size=settings.first_stage_dim(),
        distance=distance,
        hnsw_config=qm.HnswConfigDiff(m=options.hnsw_m, ef_construct=options.hnsw_ef_construct),
        on_disk=True if quantized else options.on_disk,
        quantization_config=quantization_config(quantized),
    )
    return {COLBERT_VECTOR: colbert, FIRST_STAGE_VECTOR: first}


def sparse_config(settings: IndexSettings) -> dict[str, qm.SparseVectorParams] | None:
    """The BM25 sparse vector (IDF applied by the engine), if the settings have one."""
    if not settings.has_bm25:
        return None
    return {BM25_VECTOR: qm.SparseVectorParams(modifier=qm.Modifier.IDF)}


def _vector(value: Any) -> Any:
    if isinstance(value, SparseVector):
        return qm.SparseVector(indices=value.indices, values=value.values)
    return value.tolist() if isinstance(value, np.ndarray) else value


def _params(params: StageParams | None) -> qm.SearchParams | None:
    """The neutral stage parameters as qdrant-client's type."""
    if params is None:
        return None
    quantization = qm.QuantizationSearchParams(**dict(params.quantization)) if params.quantization else None
    return qm.SearchParams(exact=params.exact, hnsw_ef=params.hnsw_ef, quantization=quantization)


def _prefetch(source: Candidates, query_filter: qm.Filter | None) -> qm.Prefetch:
    return qm.Prefetch(
        query=_vector(source.vector),
        using=source.using,
        limit=source.limit,
        filter=query_filter,
        params=_params(source.params()),
    )


def _request(plan: QueryPlan) -> qm.QueryRequest:
    return qm.QueryRequest(
        prefetch=[_prefetch(c, plan.filter) for c in plan.candidates] or None,
        query=_vector(plan.vector),
        using=plan.using,
        limit=plan.limit,
        filter=plan.filter,
        params=_params(plan.params()),
        with_payload=plan.with_payload,
    )


def is_local_mode(client: QdrantClient) -> bool:
    """Whether a client runs qdrant-client's local mode (pure Python, in-process) instead of talking to a server."""
    try:
        from qdrant_client.local.qdrant_local import QdrantLocal
    except ImportError:  # pragma: no cover
        return False
    return isinstance(getattr(client, "_client", None), QdrantLocal)


class _Serialised:
    """A client whose calls run one at a time (qdrant-client's local mode is not thread-safe)."""

    def __init__(self, client: QdrantClient) -> None:
        self._client = client
        self._lock = threading.RLock()

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._client, name)
        if not callable(attribute):
            return attribute

        def locked(*args: Any, **kwargs: Any) -> Any:
            with self._lock:
                return attribute(*args, **kwargs)

        return locked


class ServerBackend:
    """One collection on a Qdrant server (or any ``QdrantClient``).

    Args:
        client: the client.
        collection: the collection name.
        shard_number: shards of a new collection (cluster, passed through).
        sharding_method: ``auto`` or ``custom`` sharding of a new collection.
        replication_factor: copies of each shard of a new collection.
        write_consistency_factor: replicas that must confirm a write.
        shard_key_selector: shard key for writes and reads with custom sharding.
        write_ordering: ordering guarantee of writes (``weak``, ``medium``, ``strong``: Qdrant's
            ``WriteOrdering``; None: the server's default, weak).
        owns_client: :meth:`close` closes the client (True when the index created it; a client passed in by
            the caller stays open).
    """

    kind = "server"

    def __init__(
        self,
        client: QdrantClient,
        collection: str,
        *,
        shard_number: int | None = None,
        sharding_method: qm.ShardingMethod | None = None,
        replication_factor: int | None = None,
        write_consistency_factor: int | None = None,
        shard_key_selector: Any = None,
        write_ordering: str | qm.WriteOrdering | None = None,
        owns_client: bool = False,
    ) -> None:
        self.client = client
        self.owns_client = owns_client
        # Searching while another thread writes gives wrong results and IndexErrors in local mode: serialise.
        self._calls: Any = _Serialised(client) if is_local_mode(client) else client
        self.collection = collection
        self._cluster = {
            "shard_number": shard_number,
            "sharding_method": sharding_method,
            "replication_factor": replication_factor,
            "write_consistency_factor": write_consistency_factor,
        }
        self.shard_key_selector = shard_key_selector
        self.write_ordering = qm.WriteOrdering(write_ordering) if write_ordering else None

    def _call(self, method: str, *args: Any, **kwargs: Any) -> Any:
        """One client call, with transient errors retried and a missing collection named.

        Retries live here only (the embedded engine has no network); a missing collection is raised as
        :class:`CollectionNotFoundError` from the call itself, so no call pays an existence round trip.
        """
        call = getattr(self._calls, method)
        try:
            return with_retries(lambda: call(*args, **kwargs))
        except (UnexpectedResponse, ValueError) as error:
            if not _missing_collection(error):
                raise
            msg = f"Collection {self.collection!r} does not exist (was it deleted?); re-create the index."
            raise CollectionNotFoundError(msg) from error

    def exists(self) -> bool:
        """Whether the collection exists (the first call to the server: an unreachable one raises).

        Raises:
            StoreUnavailableError: the server did not answer (wrong URL, server down, network).
        """
        try:
            return self._calls.collection_exists(self.collection)  # first contact: fails fast, no retries
        except (ResponseHandlingException, ConnectionError, TimeoutError) as error:
            cause = error.source if isinstance(error, ResponseHandlingException) else error
            msg = (
                f"Cannot reach the Qdrant server for collection {self.collection!r}: {cause}. Check the URL, "
                "that the server is running, the network and the API key (Store(api_key=...) or "
                "Store(api_key_env=...); the command line reads $QDRANT_API_KEY)."
            )
            raise StoreUnavailableError(msg) from error

    def read_settings(self) -> IndexSettings | None:
        """The stored settings (None: not written by colbert-retrieval)."""
        info = self._call("get_collection", self.collection)
        return IndexSettings.from_metadata(info.config.metadata)

    def create(self, settings: IndexSettings, options: StorageOptions) -> None:
        """Create the collection with these settings."""
        self._call(
            "create_collection",
            self.collection,
            vectors_config=vectors_config(settings, options),
            sparse_vectors_config=sparse_config(settings),
            metadata=settings.to_metadata(),
            **self._cluster,
        )

    def upsert(self, points: Sequence[PointData]) -> None:
        """Insert or replace points (durable when it returns)."""
        structs = []
        for point in points:
            vector: dict[str, Any] = {COLBERT_VECTOR: point.colbert, FIRST_STAGE_VECTOR: point.first_stage}
            if point.bm25 is not None:
                vector[BM25_VECTOR] = _vector(point.bm25)
            structs.append(qm.PointStruct(id=point.id, vector=vector, payload=point.payload))
        self._call(
            "upsert",
            self.collection,
            points=structs,
            wait=True,
            ordering=self.write_ordering,
            shard_key_selector=self.shard_key_selector,
        )

    def existing(self, ids: Sequence[str]) -> set[str]:
        """Which of these point ids are stored."""
        found = self._call(
            "retrieve",
            self.collection,
            ids=list(ids),
            with_payload=False,
            with_vectors=False,
            shard_key_selector=self.shard_key_selector,
        )
        return {str(p.id) for p in found}

    def retrieve(self, ids: Sequence[str], *, with_vectors: bool | Sequence[str] = False) -> list[StoredPoint]:
        """Points by id with payload (missing ids are left out); ``with_vectors``: all, or these names."""
        points = self._call(
            "retrieve",
            self.collection,
            ids=list(ids),
            with_payload=True,
            with_vectors=with_vectors if isinstance(with_vectors, bool) else list(with_vectors),
            shard_key_selector=self.shard_key_selector,
        )
        return [StoredPoint.from_native(p) for p in points]

    def query_batch(self, plans: Sequence[QueryPlan]) -> list[list[StoredPoint]]:
        """Run several query plans in one call; results best first."""
        requests = [_request(plan) for plan in plans]
        if self.shard_key_selector is not None:
            requests = [r.model_copy(update={"shard_key": self.shard_key_selector}) for r in requests]
        with warnings.catch_warnings():
            # qdrant-client's local mode always scores exactly and warns about it on every exact request.
            warnings.filterwarnings("ignore", message="Local mode performs exact", category=UserWarning)
            responses = self._call("query_batch_points", self.collection, requests=requests)
        return [[StoredPoint.from_native(p) for p in response.points] for response in responses]

    def set_payload(self, ids: Sequence[str], payload: dict[str, Any]) -> None:
        """Overwrite these payload keys of these points."""
        self._call(
            "set_payload",
            self.collection,
            payload=payload,
            points=list(ids),
            shard_key_selector=self.shard_key_selector,
        )

    def delete(self, ids: Sequence[str]) -> None:
        """Delete points by id (no ids: nothing to do; the server refuses an empty request)."""
        if not ids:
            return
        selector = qm.PointIdsList(points=list(ids))
        self._call(
            "delete", self.collection, points_selector=selector, wait=True, shard_key_selector=self.shard_key_selector
        )

    def delete_where(self, filter: qm.Filter) -> None:
        """Delete the points matching a filter."""
        self._call(
            "delete",
            self.collection,
            points_selector=qm.FilterSelector(filter=filter),
            wait=True,
            shard_key_selector=self.shard_key_selector,
        )

    def count(self, filter: qm.Filter | None = None) -> int:
        """Number of points (matching ``filter``)."""
        return self._call("count", self.collection, count_filter=filter, exact=True).count

    def scroll(
        self, offset: str | None, limit: int, *, with_vectors: bool = False, filter: qm.Filter | None = None
    ) -> tuple[list[StoredPoint], str | None]:
        """A page of points (matching ``filter``) and the offset of the next page (None at the end)."""
        points, next_offset = self._call(
            "scroll",
            self.collection,
            scroll_filter=filter,
            offset=offset,
            limit=limit,
            with_payload=True,
            with_vectors=with_vectors if isinstance(with_vectors, bool) else list(with_vectors),
            shard_key_selector=self.shard_key_selector,
        )
        return [StoredPoint.from_native(p) for p in points], (str(next_offset) if next_offset is not None else None)

    def optimize(self, *, wait: bool = True) -> None:
        """Nothing to do: the server builds its indexes in the background."""

    def drop(self) -> None:
        """Delete the collection."""
        self._call("delete_collection", self.collection)

    def close(self) -> None:
        """Release the store."""
        if self.owns_client:
            self.client.close()
