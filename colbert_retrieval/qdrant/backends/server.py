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

import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
from qdrant_client import QdrantClient
from qdrant_client import models as qm

from colbert_retrieval.bm25 import SparseVector
from colbert_retrieval.first_stage import FirstStage
from colbert_retrieval.qdrant.backends.base import Candidates, PointData, QueryPlan, StoredPoint
from colbert_retrieval.qdrant.schema import (
    BM25_VECTOR,
    COLBERT_VECTOR,
    FIRST_STAGE_VECTOR,
    IndexSettings,
    StorageOptions,
)

__all__ = ["ServerBackend", "sparse_config", "vectors_config"]


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
    first = qm.VectorParams(
        size=settings.first_stage_dim(),
        distance=distance,
        hnsw_config=qm.HnswConfigDiff(m=options.hnsw_m, ef_construct=options.hnsw_ef_construct),
        on_disk=options.on_disk,
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


def _prefetch(source: Candidates, query_filter: qm.Filter | None) -> qm.Prefetch:
    return qm.Prefetch(
        query=_vector(source.vector),
        using=source.using,
        limit=source.limit,
        filter=query_filter,
        params=qm.SearchParams(exact=True) if source.exact else None,
    )


def _request(plan: QueryPlan) -> qm.QueryRequest:
    return qm.QueryRequest(
        prefetch=[_prefetch(c, plan.filter) for c in plan.candidates] or None,
        query=_vector(plan.vector),
        using=plan.using,
        limit=plan.limit,
        filter=plan.filter,
        params=qm.SearchParams(exact=True) if plan.exact else None,
        with_payload=plan.with_payload,
    )


def _stored(point: Any) -> StoredPoint:
    vectors = getattr(point, "vector", None)
    return StoredPoint(
        id=str(point.id),
        payload=dict(point.payload or {}),
        score=getattr(point, "score", None),
        vectors=dict(vectors) if isinstance(vectors, dict) else None,
    )


class ServerBackend:
    """One collection on a Qdrant server (or any ``QdrantClient``).

    Args:
        client: the client.
        collection: the collection name.
        shard_number, sharding_method, replication_factor, write_consistency_factor: cluster settings of a
            new collection, passed through.
        shard_key_selector: shard key for writes and reads with custom sharding.
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
        owns_client: bool = False,
    ) -> None:
        self.client = client
        self.owns_client = owns_client
        self.collection = collection
        self._cluster = {
            "shard_number": shard_number,
            "sharding_method": sharding_method,
            "replication_factor": replication_factor,
            "write_consistency_factor": write_consistency_factor,
        }
        self.shard_key_selector = shard_key_selector

    def exists(self) -> bool:
        return self.client.collection_exists(self.collection)

    def read_settings(self) -> IndexSettings | None:
        info = self.client.get_collection(self.collection)
        return IndexSettings.from_metadata(info.config.metadata)

    def create(self, settings: IndexSettings, options: StorageOptions) -> None:
        self.client.create_collection(
            self.collection,
            vectors_config=vectors_config(settings, options),
            sparse_vectors_config=sparse_config(settings),
            metadata=settings.to_metadata(),
            **self._cluster,
        )

    def upsert(self, points: Sequence[PointData]) -> None:
        structs = []
        for point in points:
            vector: dict[str, Any] = {COLBERT_VECTOR: point.colbert, FIRST_STAGE_VECTOR: point.first_stage}
            if point.bm25 is not None:
                vector[BM25_VECTOR] = _vector(point.bm25)
            structs.append(qm.PointStruct(id=point.id, vector=vector, payload=point.payload))
        self.client.upsert(self.collection, points=structs, wait=True, shard_key_selector=self.shard_key_selector)

    def existing(self, ids: Sequence[str]) -> set[str]:
        found = self.client.retrieve(
            self.collection,
            ids=list(ids),
            with_payload=False,
            with_vectors=False,
            shard_key_selector=self.shard_key_selector,
        )
        return {str(p.id) for p in found}

    def retrieve(self, ids: Sequence[str], *, with_vectors: bool = False) -> list[StoredPoint]:
        points = self.client.retrieve(
            self.collection,
            ids=list(ids),
            with_payload=True,
            with_vectors=with_vectors,
            shard_key_selector=self.shard_key_selector,
        )
        return [_stored(p) for p in points]

    def query_batch(self, plans: Sequence[QueryPlan]) -> list[list[StoredPoint]]:
        requests = [_request(plan) for plan in plans]
        if self.shard_key_selector is not None:
            requests = [r.model_copy(update={"shard_key": self.shard_key_selector}) for r in requests]
        with warnings.catch_warnings():
            # qdrant-client's local mode always scores exactly and warns about it on every exact request.
            warnings.filterwarnings("ignore", message="Local mode performs exact", category=UserWarning)
            responses = self.client.query_batch_points(self.collection, requests=requests)
        return [[_stored(p) for p in response.points] for response in responses]

    def set_payload(self, ids: Sequence[str], payload: dict[str, Any]) -> None:
        self.client.set_payload(
            self.collection, payload=payload, points=list(ids), shard_key_selector=self.shard_key_selector
        )

    def delete(self, ids: Sequence[str]) -> None:
        selector = qm.PointIdsList(points=list(ids))
        self.client.delete(
            self.collection, points_selector=selector, wait=True, shard_key_selector=self.shard_key_selector
        )

    def delete_where(self, filter: qm.Filter) -> None:
        self.client.delete(
            self.collection,
            points_selector=qm.FilterSelector(filter=filter),
            wait=True,
            shard_key_selector=self.shard_key_selector,
        )

    def count(self, filter: qm.Filter | None = None) -> int:
        return self.client.count(self.collection, count_filter=filter, exact=True).count

    def scroll(
        self, offset: str | None, limit: int, *, with_vectors: bool = False
    ) -> tuple[list[StoredPoint], str | None]:
        points, next_offset = self.client.scroll(
            self.collection,
            offset=offset,
            limit=limit,
            with_payload=True,
            with_vectors=with_vectors,
            shard_key_selector=self.shard_key_selector,
        )
        return [_stored(p) for p in points], (str(next_offset) if next_offset is not None else None)

    def optimize(self) -> None:
        """Nothing to do: the server builds its indexes in the background."""

    def drop(self) -> None:
        self.client.delete_collection(self.collection)

    def close(self) -> None:
        if self.owns_client:
            self.client.close()
