"""``ColBERTIndex``: pooled ColBERT multi-vectors in Qdrant, with exact, two-stage and hybrid search.

The index composes a storage :class:`~colbert_retrieval.qdrant.backends.Backend` (Qdrant's engine in-process
by default, or a Qdrant server), a :class:`~colbert_retrieval.qdrant.writer.DocumentWriter` (ingest) and a
:class:`~colbert_retrieval.qdrant.searcher.Searcher` (the modes of :mod:`colbert_retrieval.qdrant.search`).

Examples:
    >>> from colbert_retrieval import default_model
    >>> from colbert_retrieval.qdrant import ColBERTIndex
    >>> index = ColBERTIndex(default_model(), "docs", location=":memory:")
    >>> summary = index.add([{"id": 1, "text": "Scurvy comes from a lack of vitamin C."}, "Paris is in France."])
    >>> hit = index.search("vitamin C deficiency", k=1)[0]
    >>> hit.id, hit.text
    (1, 'Scurvy comes from a lack of vitamin C.')
    >>> index.close()
"""

from __future__ import annotations

import weakref
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from qdrant_client import QdrantClient
from qdrant_client import models as qm

from colbert_retrieval._inputs import positive_int, texts_or_raise
from colbert_retrieval.errors import CollectionNotFoundError
from colbert_retrieval.models.colbert import ColBERT
from colbert_retrieval.qdrant import ingest
from colbert_retrieval.qdrant.asynchronous import AsyncMethods
from colbert_retrieval.qdrant.backends import Backend, ServerBackend
from colbert_retrieval.qdrant.backends.base import PointData, open_collection
from colbert_retrieval.qdrant.backends.factory import make_backend
from colbert_retrieval.qdrant.filters import to_filter
from colbert_retrieval.qdrant.schema import settings_for
from colbert_retrieval.qdrant.search import SearchConfig, SearchMode
from colbert_retrieval.qdrant.searcher import Searcher, SearchHit, query_vectors_or_raise
from colbert_retrieval.qdrant.storage import StoragePreset, storage_preset
from colbert_retrieval.qdrant.stored import StoredDocuments
from colbert_retrieval.qdrant.writer import DocumentWriter
from colbert_retrieval.records import Record

__all__ = ["ColBERTIndex"]


class ColBERTIndex(StoredDocuments, AsyncMethods):
    """A Qdrant collection of ColBERT documents: idempotent, resumable ingest; exact, two-stage and hybrid search.

    Args:
        model: the encoder (e.g. :func:`colbert_retrieval.default_model`).
        collection: the collection name.
        path: folder of the embedded store (Qdrant's engine in-process; default ``colbert_index``).
        location: ``":memory:"`` for an embedded store in a temporary folder, or a server URL.
        url: a Qdrant server, Qdrant Cloud or cluster URL.
        api_key: API key for ``url`` (never logged).
        client: an existing ``QdrantClient`` (wins over path/location/url; a client in local mode works too);
            :meth:`close` leaves it open.
        model_name: name stored in the collection (default: the model's name or path).
        first_stage: ``"muvera"`` (default) or ``"mean"`` single vector for the HNSW first stage.
        pool_factor: token pooling applied at ingest (stored in the collection; queries are never pooled).
            None: the stored one, or 2 for a new collection; another value than the stored one raises.
        datatype: storage of the ColBERT vectors (``"float16"`` or ``"float32"``).
        muvera: MUVERA parameters (``k_sim``, ``dim_proj``, ``repetitions``, ``seed``).
        bm25: BM25 parameters (``k``, ``b``, ``avg_len``, ``language``); False stores no BM25 vectors.
        mode: default search mode (``hybrid``, ``colbert``, ``exact``; None: hybrid where BM25 is stored).
        prefetch_limit: first-stage candidates per query (default: :class:`SearchConfig`'s, 200).
        bm25_limit: BM25 candidates per query (default 100).
        bm25_weight: weight of BM25 in the hybrid fusion (default 0.3).
        exact_below: collections of at most this many documents take exact MaxSim candidates (default 300).
        storage: storage preset of a new collection (``fast``: default; ``balanced``; ``small``: 1/14 of the RAM;
            :mod:`~colbert_retrieval.qdrant.storage`); on an existing one it sets the search-side rescoring only.
        on_disk: keep the ColBERT vectors on disk, memory-mapped (``Memory.Cold`` in the embedded engine).
        quantization: Qdrant quantization config for the ColBERT vectors.
        first_stage_int8: keep the first-stage vector as int8 in RAM, originals on disk (None: the preset's,
            int8 for ``fast``; a new collection only).
        rescore_oversampling: rescore the best ``k x rescore_oversampling`` candidates of a quantized MaxSim
            with the originals (None: the preset's; without one, every candidate is scored with the originals).
        shard_number: shards of a new collection (cluster).
        sharding_method: ``auto`` or ``custom`` sharding (cluster).
        replication_factor: copies of each shard (cluster).
        write_consistency_factor: replicas that must confirm a write (cluster).
        shard_key_selector: shard key for writes and searches with custom sharding.
        create: create the collection if missing (False: raise CollectionNotFoundError).
        client_kwargs: more ``QdrantClient`` arguments (``timeout``, ``prefer_grpc``, ...).

    Raises:
        IndexMismatchError: the collection was built with another model, encoding (markers, lengths,
            expansion, skiplist, projection head), dimension, first stage or ``pool_factor``.
        CollectionNotFoundError: the collection is missing and ``create=False``.
        StoreLockedError: the embedded folder is open in another process.
        StoreFormatError: the folder was written by 0.1.0 (the message names the migration command).
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
        pool_factor: int | None = None,
        datatype: str = "float16",
        muvera: Mapping[str, int] | None = None,
        bm25: Mapping[str, Any] | bool | None = None,
        mode: str | SearchMode | None = None,
        prefetch_limit: int | None = None,
        bm25_limit: int | None = None,
        bm25_weight: float | None = None,
        exact_below: int | None = None,
        storage: str | StoragePreset | None = None,
        on_disk: bool | None = None,
        quantization: Any = None,
        first_stage_int8: bool | None = None,
        rescore_oversampling: float | None = None,
        shard_number: int | None = None,
        sharding_method: qm.ShardingMethod | None = None,
        replication_factor: int | None = None,
        write_consistency_factor: int | None = None,
        shard_key_selector: Any = None,
        create: bool = True,
        **client_kwargs: Any,
    ) -> None:
        self._model = model
        self.collection = collection
        options, search_defaults = storage_preset(
            storage, on_disk=on_disk, quantization=quantization, first_stage_int8=first_stage_int8
        )
        self.search_config = SearchConfig(mode, **search_defaults).override(
            prefetch_limit=prefetch_limit,
            bm25_limit=bm25_limit,
            bm25_weight=bm25_weight,
            exact_below=exact_below,
            rescore_oversampling=rescore_oversampling,
        )
        self._backend = make_backend(
            collection,
            path=path,
            location=location,
            url=url,
            api_key=api_key,
            client=client,
            shard_number=shard_number,
            sharding_method=sharding_method,
            replication_factor=replication_factor,
            write_consistency_factor=write_consistency_factor,
            shard_key_selector=shard_key_selector,
            **client_kwargs,
        )
        try:
            self.settings = open_collection(
                self._backend,
                settings_for(model, model_name, first_stage, pool_factor, datatype, muvera, bm25),
                options,
                create=create,
                pool_factor_given=pool_factor is not None,
            )
        except BaseException:
            self._backend.close()
            raise
        # Closed at exit even if the caller forgets (no interpreter-shutdown noise from the client).
        self._closer = weakref.finalize(self, self._backend.close)
        self._writer = DocumentWriter(self._backend, model, self.settings, on_written=self._after_write)
        self._searcher = Searcher(self._backend, model, self.settings, collection)

    # ------------------------------------------------------------------ properties
    @property
    def backend(self) -> Backend:
        """The storage backend (read-only)."""
        return self._backend

    @property
    def client(self) -> QdrantClient:
        """The ``QdrantClient`` of a server-backed index (``AttributeError`` when embedded: see :attr:`backend`)."""
        if isinstance(self._backend, ServerBackend):
            return self._backend.client
        msg = "An embedded index has no QdrantClient (it runs Qdrant's engine in-process); use index.backend."
        raise AttributeError(msg)

    @property
    def model(self) -> ColBERT:
        """The encoder."""
        return self._model

    @property
    def embedded(self) -> bool:
        """Whether the index runs Qdrant's engine in-process (rather than through a client)."""
        return self._backend.kind == "embedded"

    def close(self) -> None:
        """Release the store (the lock of an embedded folder, a client's connections)."""
        self._closer()

    def __enter__(self) -> ColBERTIndex:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _require_collection(self) -> None:
        if not self._backend.exists():
            msg = f"Collection {self.collection!r} does not exist (was it deleted?); re-create the index."
            raise CollectionNotFoundError(msg)

    def _after_write(self) -> None:
        self._searcher.forget_count()
        self._backend.optimize(wait=False)

    def optimize(self) -> None:
        """Build the HNSW graphs now and wait for them.

        After every ingest the embedded store builds them in a background thread (a server does it by itself),
        so this is only needed to time searches on a fully indexed store.
        """
        self._backend.optimize(wait=True)

    # ------------------------------------------------------------------ ingest
    def add(
        self,
        documents: Iterable[str | Record | Mapping[str, Any]],
        *,
        batch_size: int = 32,
        chunk_size: int = 256,
        overwrite: bool = False,
        show_progress_bar: bool = False,
    ) -> ingest.IngestSummary:
        """Encode and store documents (strings, :class:`Record` or ``{"id", "text", "metadata"}`` dicts).

        Ids are UUIDv5 of the user id (or of the text): re-running writes no duplicates, and documents
        already stored are skipped unless ``overwrite=True``, so an interrupted ingest resumes. Each point
        holds the pooled float16 multivector, the first-stage vector, the BM25 vector and the payload; the
        upload of one chunk overlaps the encoding of the next.

        Args:
            documents: any iterable, read lazily (a generator of millions of documents works).
            batch_size: documents per forward pass.
            chunk_size: documents read, encoded and uploaded together.
            overwrite: re-encode and replace documents already stored.
            show_progress_bar: show a tqdm bar of documents processed.

        Returns:
            An :class:`IngestSummary` (documents, skipped, vectors, seconds, docs/s).

        Raises:
            InputTypeError, EmptyInputError: a bad document (the message gives its position); documents
                are checked a chunk at a time, so the chunks before its chunk are stored, its chunk is not.
        """
        self._require_collection()
        return self._writer.add(
            documents,
            batch_size=batch_size,
            chunk_size=chunk_size,
            overwrite=overwrite,
            show_progress_bar=show_progress_bar,
        )

    def add_embeddings(
        self,
        documents: Sequence[str | Record | Mapping[str, Any]],
        embeddings: Sequence[Any],
    ) -> ingest.IngestSummary:
        """Store documents whose multi-vectors were computed elsewhere (e.g. on a GPU box), as ``add`` would.

        The embeddings are stored as given (pool them first if wanted); ids are deterministic as in ``add``,
        and existing documents are replaced.

        Args:
            documents: the documents, one per embedding.
            embeddings: ``(n_tokens, dim)`` float arrays or tensors with the collection's dimension.

        Raises:
            DimensionMismatchError: a wrong dimension or a count that does not match the documents.
        """
        self._require_collection()
        return self._writer.add_embeddings(documents, embeddings)

    def add_points(self, points: Iterable[PointData], *, overwrite: bool = False) -> ingest.IngestSummary:
        """Store points built elsewhere (``PointEncoder``, Parquet shards); stored ids skipped unless ``overwrite``.

        Raises:
            DimensionMismatchError: a point whose ColBERT vectors have another dimension.
        """
        self._require_collection()
        return self._writer.add_points(points, overwrite=overwrite)

    # ------------------------------------------------------------------ search
    def search_batch(
        self,
        queries: Sequence[str],
        k: int = 10,
        *,
        filter: qm.Filter | Mapping[str, Any] | None = None,
        mode: str | SearchMode | None = None,
        exact: bool | None = None,
        prefetch_limit: int | None = None,
        bm25_limit: int | None = None,
        bm25_weight: float | None = None,
        hnsw_ef: int | None = None,
    ) -> list[list[SearchHit]]:
        """Search several queries at once (one batched call to the engine, plus one to read hybrid payloads).

        Args:
            queries: query texts.
            k: results per query.
            filter: a Qdrant ``Filter`` or a simple dict (see :mod:`colbert_retrieval.qdrant.filters`); it
                applies in every stage.
            mode: ``hybrid``, ``colbert`` or ``exact`` (see :mod:`colbert_retrieval.qdrant.search`); default:
                the index's ``mode``.
            exact: shorthand kept from 0.1.0: True is ``mode="exact"``, False ``mode="colbert"``.
            prefetch_limit: first-stage candidates per query.
            bm25_limit: BM25 candidates per query.
            bm25_weight: BM25's weight in the fusion (hybrid).
            hnsw_ef: HNSW beam width of the first-stage search (None: the engine's default).

        Returns:
            For each query, hits best first.

        Raises:
            IndexMismatchError: hybrid search on a collection without BM25 vectors.
        """
        self._require_collection()
        queries = texts_or_raise(queries)
        positive_int(k, "k")
        if not queries:
            return []
        resolved = self._searcher.resolve_mode(mode, exact, self.search_config.mode)
        config = self.search_config.override(
            prefetch_limit=prefetch_limit, bm25_limit=bm25_limit, bm25_weight=bm25_weight, hnsw_ef=hnsw_ef
        )
        return self._searcher.search(queries, k, to_filter(filter), resolved, config)

    def search(
        self,
        query: str,
        k: int = 10,
        *,
        filter: qm.Filter | Mapping[str, Any] | None = None,
        mode: str | SearchMode | None = None,
        exact: bool | None = None,
        prefetch_limit: int | None = None,
        bm25_limit: int | None = None,
        bm25_weight: float | None = None,
        hnsw_ef: int | None = None,
    ) -> list[SearchHit]:
        """Search one query (see :meth:`search_batch` for the arguments).

        Returns:
            Up to ``k`` hits, best first (``[]`` on an empty collection).
        """
        return self.search_batch(
            [query],
            k,
            filter=filter,
            mode=mode,
            exact=exact,
            prefetch_limit=prefetch_limit,
            bm25_limit=bm25_limit,
            bm25_weight=bm25_weight,
            hnsw_ef=hnsw_ef,
        )[0]

    def search_vectors(
        self,
        queries: Sequence[Any],
        k: int = 10,
        *,
        filter: qm.Filter | Mapping[str, Any] | None = None,
        mode: str | SearchMode | None = None,
        prefetch_limit: int | None = None,
        hnsw_ef: int | None = None,
    ) -> list[list[SearchHit]]:
        """Search with query vectors computed elsewhere (e.g. ``model.encode(query, is_query=True)``).

        Args:
            queries: per query, its token vectors ``(n_tokens, dim)`` (two-stage or exact MaxSim, as
                :meth:`search`), or the collection's first-stage vector ``(first_stage_dim,)`` (the first stage
                alone: approximate, without MaxSim).
            k: results per query.
            filter: a Qdrant ``Filter`` or a simple dict, applied in every stage.
            mode: ``colbert`` (default) or ``exact``; ``hybrid`` needs the query text (BM25) and is refused.
            prefetch_limit: first-stage candidates per query.
            hnsw_ef: HNSW beam width of the first-stage search.

        Raises:
            DimensionMismatchError: a query's shape does not fit the collection.
        """
        self._require_collection()
        positive_int(k, "k")
        arrays = query_vectors_or_raise(queries, self.settings)
        if not arrays:
            return []
        resolved = SearchMode.COLBERT if mode is None else self._searcher.resolve_mode(mode, None, None)
        config = self.search_config.override(prefetch_limit=prefetch_limit, hnsw_ef=hnsw_ef)
        return self._searcher.search_vectors(arrays, k, to_filter(filter), resolved, config)
