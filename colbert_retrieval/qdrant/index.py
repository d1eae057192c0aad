"""``ColBERTIndex``: pooled ColBERT multi-vectors in a Qdrant collection, two-stage MaxSim search.

Examples:
    >>> from colbert_retrieval import default_model
    >>> from colbert_retrieval.qdrant import ColBERTIndex
    >>> index = ColBERTIndex(default_model(), "docs", location=":memory:")
    >>> summary = index.add([{"id": 1, "text": "Scurvy comes from a lack of vitamin C."}, "Paris is in France."])
    >>> hit = index.search("vitamin C deficiency", k=1)[0]
    >>> hit.id, hit.text
    (1, 'Scurvy comes from a lack of vitamin C.')
"""

from __future__ import annotations

import asyncio
import logging
import warnings
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from qdrant_client import QdrantClient
from qdrant_client import models as qm

from colbert_retrieval.errors import CollectionNotFoundError, IndexMismatchError
from colbert_retrieval.models.colbert import ColBERT
from colbert_retrieval.qdrant import ingest
from colbert_retrieval.qdrant.filters import to_filter
from colbert_retrieval.qdrant.first_stage import FirstStage, MuveraConfig, first_stage_vectors
from colbert_retrieval.qdrant.records import Record, point_id
from colbert_retrieval.qdrant.schema import (
    COLBERT_VECTOR,
    FIRST_STAGE_VECTOR,
    IndexSettings,
    check_compatible,
    vectors_config,
)
from colbert_retrieval.qdrant.writer import IndexWriter

__all__ = ["DEFAULT_PATH", "ColBERTIndex", "SearchHit"]

logger = logging.getLogger(__name__)

#: Folder of the embedded Qdrant store when no location is given.
DEFAULT_PATH = "colbert_index"


@dataclass(frozen=True)
class SearchHit:
    """One search result (or a stored document from :meth:`ColBERTIndex.get`, with score None)."""

    id: str | int | None
    score: float | None
    text: str
    metadata: dict[str, Any] = field(default_factory=dict)
    point_id: str = ""


def _hit(point: Any) -> SearchHit:
    payload = point.payload or {}
    return SearchHit(
        id=payload.get("id"),
        score=getattr(point, "score", None),
        text=payload.get("text", ""),
        metadata=payload.get("metadata") or {},
        point_id=str(point.id),
    )


def make_client(
    path: str | None, location: str | None, url: str | None, api_key: str | None, **kwargs: Any
) -> QdrantClient:
    """A client for a server (``url``), a ``location`` (``":memory:"``) or an embedded folder (default)."""
    if url is not None:
        return QdrantClient(url=url, api_key=api_key, **kwargs)
    if location is not None:
        return QdrantClient(location=location, api_key=api_key, **kwargs)
    return QdrantClient(path=path or DEFAULT_PATH, **kwargs)


class ColBERTIndex(IndexWriter):
    """A Qdrant collection of ColBERT documents: idempotent, resumable ingest and two-stage search.

    Args:
        model: the encoder (e.g. :func:`colbert_retrieval.default_model`).
        collection: the collection name.
        path: folder of an embedded Qdrant store (the default, ``colbert_index``).
        location: ``":memory:"`` for an in-memory store, or a server URL.
        url: a Qdrant server, Qdrant Cloud or cluster URL.
        api_key: API key for ``url`` (never logged).
        client: an existing ``QdrantClient`` (wins over path/location/url).
        model_name: name stored in the collection (default: the model's name or path).
        first_stage: ``"muvera"`` (default) or ``"mean"`` single vector for the HNSW first stage.
        pool_factor: token pooling applied at ingest (stored in the collection; queries are never pooled).
        datatype: storage of the ColBERT vectors (``"float16"`` or ``"float32"``).
        muvera: MUVERA parameters (``k_sim``, ``dim_proj``, ``repetitions``, ``seed``).
        prefetch_limit: first-stage candidates reranked by MaxSim on a server (default 200).
        on_disk: keep vectors on disk (server only; embedded mode ignores it).
        quantization: Qdrant quantization config for the ColBERT vectors (server only).
        shard_number: shards of a new collection (cluster).
        sharding_method: ``auto`` or ``custom`` sharding (cluster).
        replication_factor: copies of each shard (cluster).
        write_consistency_factor: replicas that must confirm a write (cluster).
        shard_key_selector: shard key for writes and searches with custom sharding.
        create: create the collection if missing (False: raise CollectionNotFoundError).
        client_kwargs: more ``QdrantClient`` arguments (``timeout``, ``prefer_grpc``, ...).

    Raises:
        IndexMismatchError: the collection was built with another model, dimension or first stage.
        CollectionNotFoundError: the collection is missing and ``create=False``.
    """

    def __init__(
        self,
        model: ColBERT,
        collection: str = "colbert",
        *,
        path: str | None = None,
        location: str | None = None,
        url: str | None = None,
        api_key: str | None = None,
        client: QdrantClient | None = None,
        model_name: str | None = None,
        first_stage: str = "muvera",
        pool_factor: int = 2,
        datatype: str = "float16",
        muvera: Mapping[str, int] | None = None,
        prefetch_limit: int = 200,
        on_disk: bool | None = None,
        quantization: qm.QuantizationConfig | None = None,
        shard_number: int | None = None,
        sharding_method: qm.ShardingMethod | None = None,
        replication_factor: int | None = None,
        write_consistency_factor: int | None = None,
        shard_key_selector: Any = None,
        create: bool = True,
        **client_kwargs: Any,
    ) -> None:
        self._model = model
        self._client = client or make_client(path, location, url, api_key, **client_kwargs)
        self.collection = collection
        self.prefetch_limit = prefetch_limit
        self.shard_key_selector = shard_key_selector
        dim = model.output_dimension
        kind = FirstStage(first_stage)
        muvera_config = MuveraConfig(dim=dim, **dict(muvera or {})) if kind is FirstStage.MUVERA else None
        wanted = IndexSettings(
            model_name=model_name or str(getattr(model, "model_name_or_path", None) or "custom"),
            dim=dim,
            first_stage=kind.value,
            pool_factor=pool_factor,
            datatype=datatype,
            muvera=muvera_config.to_dict() if muvera_config else {},
            encoding={
                "query_prefix": model.query_prefix,
                "document_prefix": model.document_prefix,
                "query_length": model.query_length,
                "document_length": model.document_length,
                "do_query_expansion": model.do_query_expansion,
            },
        )
        if self._client.collection_exists(collection):
            info = self._client.get_collection(collection)
            stored = IndexSettings.from_metadata(info.config.metadata)
            if stored is None:
                msg = (
                    f"Collection {collection!r} exists but was not created by colbert-retrieval (no settings in its "
                    "metadata); use another collection name."
                )
                raise IndexMismatchError(msg)
            check_compatible(stored, wanted, collection)
            self.settings = stored
        elif not create:
            msg = f"Collection {collection!r} does not exist; create it with create=True or index documents first."
            raise CollectionNotFoundError(msg)
        else:
            self._client.create_collection(
                collection,
                vectors_config=vectors_config(wanted, on_disk=on_disk, quantization=quantization),
                shard_number=shard_number,
                sharding_method=sharding_method,
                replication_factor=replication_factor,
                write_consistency_factor=write_consistency_factor,
                metadata=wanted.to_metadata(),
            )
            self.settings = wanted
        self._muvera = self.settings.muvera_config()

    # ------------------------------------------------------------------ properties
    @property
    def client(self) -> QdrantClient:
        """The underlying Qdrant client (read-only)."""
        return self._client

    @property
    def model(self) -> ColBERT:
        """The encoder."""
        return self._model

    @property
    def embedded(self) -> bool:
        """Whether the client is qdrant-client's embedded (local) mode rather than a Qdrant server."""
        try:
            from qdrant_client.local.qdrant_local import QdrantLocal
        except ImportError:  # pragma: no cover
            return False
        return isinstance(getattr(self._client, "_client", None), QdrantLocal)

    def close(self) -> None:
        """Close the client (releases the lock of an embedded store)."""
        self._client.close()

    # ------------------------------------------------------------------ search
    def _query_vectors(self, queries: list[str]) -> tuple[list[np.ndarray], list[np.ndarray]]:
        encoded = self._model.encode(queries, is_query=True, show_progress_bar=False)
        first = first_stage_vectors(encoded, FirstStage(self.settings.first_stage), self._muvera, True)
        return encoded, first

    def _request(
        self,
        multivector: np.ndarray,
        first: np.ndarray,
        k: int,
        query_filter: qm.Filter | None,
        exact: bool,
        prefetch_limit: int | None,
    ) -> qm.QueryRequest:
        if exact:
            return qm.QueryRequest(
                query=multivector.tolist(),
                using=COLBERT_VECTOR,
                limit=k,
                filter=query_filter,
                params=qm.SearchParams(exact=True),
                with_payload=True,
            )
        prefetch = qm.Prefetch(
            query=first.tolist(),
            using=FIRST_STAGE_VECTOR,
            limit=max(prefetch_limit or self.prefetch_limit, k),
            filter=query_filter,
        )
        return qm.QueryRequest(
            prefetch=prefetch,
            query=multivector.tolist(),
            using=COLBERT_VECTOR,
            limit=k,
            filter=query_filter,
            with_payload=True,
        )

    def search_batch(
        self,
        queries: Sequence[str],
        k: int = 10,
        *,
        filter: qm.Filter | Mapping[str, Any] | None = None,
        exact: bool | None = None,
        prefetch_limit: int | None = None,
    ) -> list[list[SearchHit]]:
        """Search several queries at once (one request to Qdrant).

        Args:
            queries: query texts.
            k: results per query.
            filter: a Qdrant ``Filter`` or a simple dict (see :mod:`colbert_retrieval.qdrant.filters`).
            exact: MaxSim over every (filtered) document instead of first-stage candidates. None (default):
                exact in embedded mode, two-stage on a Qdrant server. Embedded qdrant-client computes MaxSim
                for every point even behind a prefetch, so there two-stage search is slower than exact and
                less accurate (docs/benchmarks/qdrant-nfcorpus.md); on a server the first stage uses HNSW
                and only the candidates are reranked.
            prefetch_limit: first-stage candidates per query (default: the index's ``prefetch_limit``).

        Returns:
            For each query, hits best first.
        """
        self._require_collection()
        if not queries:
            return []
        query_filter = to_filter(filter)
        if exact is None:
            exact = self.embedded
        encoded, first = self._query_vectors(list(queries))
        requests = [self._request(m, f, k, query_filter, exact, prefetch_limit) for m, f in zip(encoded, first)]
        with warnings.catch_warnings():
            # Embedded mode always searches exactly and says so for every exact request.
            warnings.filterwarnings("ignore", message="Local mode performs exact", category=UserWarning)
            responses = ingest.with_retries(lambda: self._client.query_batch_points(self.collection, requests=requests))
        return [[_hit(p) for p in response.points] for response in responses]

    def search(
        self,
        query: str,
        k: int = 10,
        *,
        filter: qm.Filter | Mapping[str, Any] | None = None,
        exact: bool | None = None,
        prefetch_limit: int | None = None,
    ) -> list[SearchHit]:
        """Search one query: two-stage on a Qdrant server, exact MaxSim in embedded mode.

        On a server the first-stage vector fetches candidates through HNSW and Qdrant reranks them by MaxSim;
        ``exact`` overrides the choice (see :meth:`search_batch`).

        Returns:
            Up to ``k`` hits, best first (``[]`` on an empty collection).
        """
        return self.search_batch([query], k, filter=filter, exact=exact, prefetch_limit=prefetch_limit)[0]

    async def asearch(self, query: str, k: int = 10, **kwargs: Any) -> list[SearchHit]:
        """Async :meth:`search` (runs in a worker thread: encoding is CPU/GPU bound)."""
        return await asyncio.to_thread(self.search, query, k, **kwargs)

    async def asearch_batch(self, queries: Sequence[str], k: int = 10, **kwargs: Any) -> list[list[SearchHit]]:
        """Async :meth:`search_batch`."""
        return await asyncio.to_thread(self.search_batch, queries, k, **kwargs)

    async def aadd(self, documents: Iterable[Any], **kwargs: Any) -> ingest.IngestSummary:
        """Async :meth:`add`."""
        return await asyncio.to_thread(self.add, documents, **kwargs)

    # ------------------------------------------------------------------ CRUD
    def _point_ids(self, ids: Iterable[str | int]) -> list[str]:
        return [point_id(Record(text="-", id=i)) for i in ids]

    def get(self, ids: Iterable[str | int]) -> list[SearchHit]:
        """Stored documents by user id (missing ids are left out)."""
        self._require_collection()
        points = self._client.retrieve(self.collection, ids=self._point_ids(ids), with_payload=True)
        return [_hit(p) for p in points]

    def update(self, id: str | int, *, text: str | None = None, metadata: Mapping[str, Any] | None = None) -> None:
        """Replace a document's text (re-encoded) and/or its metadata.

        Raises:
            KeyError: no document has this id.
        """
        current = self.get([id])
        if not current:
            msg = f"No document with id {id!r} in collection {self.collection!r}."
            raise KeyError(msg)
        if text is not None:
            record = Record(text=text, id=id, metadata=dict(metadata if metadata is not None else current[0].metadata))
            self.add([record], overwrite=True)
        elif metadata is not None:
            self._client.set_payload(
                self.collection, payload={"metadata": dict(metadata)}, points=self._point_ids([id])
            )

    def delete(
        self,
        ids: Iterable[str | int] | None = None,
        *,
        filter: qm.Filter | Mapping[str, Any] | None = None,
    ) -> None:
        """Delete documents by user id or by filter (one of the two is required)."""
        self._require_collection()
        if ids is None and filter is None:
            msg = "delete() needs ids or a filter; to drop everything, delete the collection."
            raise ValueError(msg)
        if ids is not None:
            selector: Any = qm.PointIdsList(points=self._point_ids(ids))
        else:
            selector = qm.FilterSelector(filter=to_filter(filter))
        self._client.delete(self.collection, points_selector=selector, wait=True)

    def count(self, filter: qm.Filter | Mapping[str, Any] | None = None) -> int:
        """Number of stored documents (matching ``filter``)."""
        self._require_collection()
        return self._client.count(self.collection, count_filter=to_filter(filter), exact=True).count
