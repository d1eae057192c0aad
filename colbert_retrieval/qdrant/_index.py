"""``ColBERTIndex``: pooled ColBERT multi-vectors in Qdrant, with exact, two-stage and hybrid search.

The index composes a storage :class:`~colbert_retrieval.qdrant.backends.Backend` (Qdrant's engine in-process
by default, or a Qdrant server), a :class:`~colbert_retrieval.qdrant._writer.DocumentWriter` (ingest) and a
:class:`~colbert_retrieval.qdrant._searcher.Searcher` (the modes of :mod:`colbert_retrieval.qdrant._plans`).
It is built from value objects: where it lives (:class:`Store`), what it stores (:class:`Schema`), how
(:class:`Storage`) and how it searches (:class:`SearchConfig`); one ``search`` takes texts or vectors.

Examples:
    >>> from colbert_retrieval import default_model
    >>> from colbert_retrieval.qdrant import ColBERTIndex
    >>> index = ColBERTIndex(default_model(), "docs", store=":memory:")
    >>> summary = index.add([{"id": 1, "text": "Scurvy comes from a lack of vitamin C."}, "Paris is in France."])
    >>> hit = index.search("vitamin C deficiency", k=1)[0]
    >>> hit.id, hit.text
    (1, 'Scurvy comes from a lack of vitamin C.')
    >>> [len(hits) for hits in index.search(["vitamin C", "France"], k=1, config={"mode": "exact"})]
    [1, 1]
    >>> index.close()
"""

from __future__ import annotations

import asyncio
import os
import weakref
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any, TypeVar, overload

import numpy as np
from qdrant_client import QdrantClient
from qdrant_client import models as qm

from colbert_retrieval._inputs import many, positive_int
from colbert_retrieval.documents import ID_KEY, PayloadKeys, Record, point_ids
from colbert_retrieval.errors import DocumentNotFoundError, InputTypeError, InvalidArgumentError
from colbert_retrieval.models import ColBERT, Relevance
from colbert_retrieval.qdrant import _writer_steps as ingest
from colbert_retrieval.qdrant._client_view import EmbeddedClient
from colbert_retrieval.qdrant._derived import DerivedVectors
from colbert_retrieval.qdrant._filters import require_condition, to_filter
from colbert_retrieval.qdrant._plans import SearchConfig
from colbert_retrieval.qdrant._relevance import fit_relevance
from colbert_retrieval.qdrant._schema import COLBERT_VECTOR, Schema, settings_for
from colbert_retrieval.qdrant._searcher import OneQuery, Queries, Searcher, SearchHit, to_hit
from colbert_retrieval.qdrant._storage import Storage, StoragePreset
from colbert_retrieval.qdrant._sync import SyncSummary, source_states, stored_sources, sync_sources
from colbert_retrieval.qdrant._writer import DocumentWriter
from colbert_retrieval.qdrant.backends import (
    Backend,
    PointData,
    ServerBackend,
    Store,
    StoredPoint,
    make_backend,
    open_collection,
)

__all__ = ["ColBERTIndex"]

Filter = qm.Filter | Mapping[str, Any] | None
T = TypeVar("T")


def _wrote_documents(summary: Any) -> bool:
    return bool(summary.documents)


class ColBERTIndex:
    """A Qdrant collection of ColBERT documents: idempotent, resumable ingest; exact, two-stage and hybrid search.

    Args:
        model: the encoder (e.g. :func:`colbert_retrieval.default_model`).
        collection: the collection name.
        store: where it lives: a folder of the embedded store (Qdrant's engine in-process; default
            ``colbert_index``), ``":memory:"`` (a temporary folder), a server URL, a ``QdrantClient`` (left
            open by :meth:`close`), or a :class:`Store` (API key, cluster settings, client options).
        schema: what a new collection stores (:class:`Schema`: ``pool_factor``, first stage, datatype, MUVERA
            and BM25 parameters); checked against an existing one.
        storage: how a new collection is stored: a preset name (``fast``: default; ``balanced``; ``small``: 1/14
            of the RAM) or a :class:`Storage`; on an existing one it sets the search-side rescoring only.
        search: the search defaults (:class:`SearchConfig`, or a dict of its fields).
        create: create the collection if missing (False: raise CollectionNotFoundError).

    Raises:
        IndexMismatchError: the collection was built with another model, encoding (markers, lengths,
            expansion, skiplist, projection head), dimension, first stage or ``pool_factor``.
        CollectionNotFoundError: the collection is missing and ``create=False``.
        StoreLockedError: the embedded folder is open in another process.
        StoreFormatError: the folder was written by 0.1.0 (the message names the migration command).
        StoreUnavailableError: the server does not answer.
    """

    def __init__(
        self,
        model: ColBERT,
        collection: str = "colbert",
        *,
        store: str | os.PathLike[str] | QdrantClient | Store | None = None,
        schema: Schema | None = None,
        storage: str | StoragePreset | Storage | None = None,
        search: SearchConfig | Mapping[str, Any] | None = None,
        create: bool = True,
    ) -> None:
        if schema is not None and not isinstance(schema, Schema):
            msg = f"schema must be a Schema, got {type(schema).__name__} (e.g. Schema(pool_factor=2))."
            raise InputTypeError(msg)
        self._model = model
        self.collection = collection
        self.store = Store.of(store)
        schema = schema or Schema()
        options, search_defaults = Storage.of(storage).resolve()
        # The preset's rescoring unless the config sets its own (SearchConfig.of: the rule of every call too).
        self.search_config = SearchConfig.of(search, SearchConfig(**search_defaults))
        self._backend = make_backend(collection, self.store)
        try:
            self.settings = open_collection(
                self._backend,
                settings_for(model, schema),
                options,
                create=create,
                pool_factor_given=schema.pool_factor is not None,
                payload_keys_given=schema.named_payload_keys(),
            )
            derived = DerivedVectors(self.settings)  # one per index: ingest and search derive vectors alike
            self._searcher = Searcher(self._backend, model, self.settings, collection, derived)
            self._searcher.refresh_count()
        except BaseException:
            self._backend.close()
            raise
        # Closed at exit even if the caller forgets (no interpreter-shutdown noise from the client).
        self._closer = weakref.finalize(self, self._backend.close)
        self._writer = DocumentWriter(self._backend, model, self.settings, derived)

    #: The constructor's own keyword arguments (:meth:`from_arguments` passes them through).
    ARGUMENTS = ("store", "schema", "storage", "search", "create")

    @classmethod
    def from_arguments(cls, model: ColBERT, collection: str, **kwargs: Any) -> ColBERTIndex:
        """An index from a framework's keywords: the constructor's own, or ``QdrantClient``'s for the store.

        ``store``, ``schema``, ``storage``, ``search`` and ``create`` pass through; ``location``, ``url``,
        ``path``, ``api_key``, ``host``, ``port``, ``prefer_grpc``, ``timeout``... (``QdrantClient``'s
        arguments, as langchain-qdrant and LlamaIndex's Qdrant store take them) become the :class:`Store`
        (:meth:`Store.from_client_arguments`). Both frameworks' adapters open their index here.

        Raises:
            InvalidArgumentError: both ``store=`` and client arguments, or client arguments an embedded store
                cannot take.

        Examples:
            >>> from colbert_retrieval import default_model
            >>> with ColBERTIndex.from_arguments(default_model(), "docs", location=":memory:") as index:
            ...     index.store.embedded
            True
        """
        own = {name: kwargs.pop(name) for name in cls.ARGUMENTS if name in kwargs}
        where = {name: value for name, value in kwargs.items() if value is not None}
        if where:
            if own.get("store") is not None:
                msg = f"Pass store= or QdrantClient arguments {sorted(where)}, not both."
                raise InvalidArgumentError(msg)
            own["store"] = Store.from_client_arguments(**where)
        return cls(model, collection, **own)

    # ------------------------------------------------------------------ properties
    @property
    def _keys(self) -> PayloadKeys:
        """Where this collection's payload keeps the text and the metadata."""
        return self.settings.payload_keys

    @property
    def backend(self) -> Backend:
        """The storage backend (read-only)."""
        return self._backend

    @property
    def client(self) -> QdrantClient | EmbeddedClient:
        """The ``QdrantClient`` of a server-backed index; for an embedded one, a handle of the same shape.

        The embedded handle (:class:`~colbert_retrieval.qdrant._client_view.EmbeddedClient`) answers ``count``,
        ``retrieve``, ``scroll``, ``delete``, ``collection_exists`` and ``close``; other client methods raise an
        ``AttributeError`` naming the index method that does the same.
        """
        if isinstance(self._backend, ServerBackend):
            return self._backend.client
        return EmbeddedClient(self)

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

    def _writing(self, write: Callable[[], T], changed: Callable[[T], bool] | None = None) -> T:
        """Run a write; after one that stored documents (or failed part-way), refresh what depends on them.

        That is the document count searches rely on, and the indexes the embedded engine builds in the
        background; a re-run that finds every document stored changes nothing and refreshes nothing.
        ``changed`` tells from the write's result whether it changed anything (default: documents written).
        """
        try:
            summary = write()
        except BaseException:
            self._written()
            raise
        if (changed or _wrote_documents)(summary):
            self._written()
        return summary

    def _written(self) -> None:
        """After the index's own writes: the document count, and indexes built in the background (embedded)."""
        self._searcher.refresh_count()
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

        Ids are UUIDv5 of the user id (or of the text): re-running writes no duplicates. A document stored with
        the same text and metadata is skipped unless ``overwrite=True`` (so an interrupted ingest resumes); a
        changed text or metadata under a stored id replaces it. Each point holds the pooled float16
        multivector, the first-stage vector, the BM25 vector and the payload; the upload of one chunk overlaps
        the encoding of the next. Texts longer than the model reads are encoded whole by a model loaded with
        ``truncation=False`` (sliding windows); otherwise ColBERT reads their first ``document_length`` tokens,
        and the summary counts them and one :class:`~colbert_retrieval.errors.TruncationWarning` names the
        first. To replace everything a source holds (an edited or deleted file), use :meth:`sync`.

        Args:
            documents: any iterable, read lazily (a generator of millions of documents works).
            batch_size: documents per forward pass.
            chunk_size: documents read, encoded and uploaded together.
            overwrite: re-encode and replace documents stored unchanged.
            show_progress_bar: show a tqdm bar of documents processed.

        Returns:
            An :class:`IngestSummary` (documents, skipped, vectors, seconds, docs/s, truncated).

        Raises:
            InputTypeError, EmptyInputError: a bad document (the message gives its position); documents
                are checked a chunk at a time, so the chunks before its chunk are stored, its chunk is not.
        """
        summary = self._writing(
            lambda: self._writer.add(
                documents,
                batch_size=batch_size,
                chunk_size=chunk_size,
                overwrite=overwrite,
                show_progress_bar=show_progress_bar,
            )
        )
        ingest.warn_truncated(summary.truncated)
        return summary

    def sync(
        self,
        sources: Mapping[str, Iterable[str | Record | Mapping[str, Any]]],
        *,
        versions: Mapping[str, str] | None = None,
        atomic: bool = True,
        overwrite: bool = False,
        batch_size: int = 32,
        show_progress_bar: bool = False,
    ) -> SyncSummary:
        """Make the stored documents of each source exactly the given ones: "these are the documents of S now".

        A source is what documents came from (a file, a URL, a table); its name is stored in their metadata
        (``source``, so ``filter={"source": ...}`` selects them). Nothing is encoded for a source whose stored
        version is its version (``versions``; default: a hash of its documents' ids, texts and metadata).
        Otherwise its new documents are written and then every stored document of it that is not among them
        is deleted: an edited source keeps no old text, a shorter one no old tail, and a source given no
        documents is removed. The new documents of all changed sources are encoded in one ingest.

        With ``atomic=True`` (default) each source is replaced as one unit: the new version is written beside
        the old (versioned point ids; ``get`` and ``delete`` by user id still find them) and the old is
        deleted after it. If the process dies in between, the next ``sync`` of the source keeps the newest
        complete version and deletes the rest: each source is fully old or fully new, never both or neither.
        With ``atomic=False`` (a corpus whose records keep their own ids) only changed documents are encoded
        again, each replaced by one upsert.

        Args:
            sources: source name (a file path, a URL...) -> its documents now (read into memory once).
            versions: source name -> its version (e.g. ``colbert_retrieval.documents.file_version``); a source
                not named here is versioned by a hash of its documents.
            atomic: replace each source as one unit (True) or document by document (False).
            overwrite: encode and write the documents even when their version is stored.
            batch_size: documents per forward pass.
            show_progress_bar: show a tqdm bar of documents encoded.

        Returns:
            A :class:`SyncSummary`: per source its status (``unchanged``, ``added``, ``updated``, ``removed``),
            documents written and points removed, and the ingest of the new documents (with the texts the
            model cut, if any).

        Raises:
            InvalidArgumentError: ``sources`` is not a mapping, a source name is empty, or a document's metadata
                names another source.

        Examples:
            >>> from colbert_retrieval import default_model
            >>> index = ColBERTIndex(default_model(), "synced", store=":memory:")
            >>> print(index.sync({"notes.md": ["Scurvy comes from a lack of vitamin C.", "Limes prevent it."]}))
            sources: 0 unchanged, 0 updated, 1 added, 0 removed; 2 documents written, 0 removed
            >>> print(index.sync({"notes.md": ["Scurvy comes from a lack of vitamin C.", "Limes prevent it."]}))
            sources: 1 unchanged, 0 updated, 0 added, 0 removed; 0 documents written, 0 removed
            >>> str(index.sync({"notes.md": ["Scurvy comes from a lack of vitamin C."]}).sources["notes.md"])
            'updated (1 written, 2 removed)'
            >>> index.count()
            1
            >>> index.close()
        """
        summary = self._writing(
            lambda: sync_sources(
                self._backend,
                self._writer,
                sources,
                versions=versions,
                atomic=atomic,
                overwrite=overwrite,
                batch_size=batch_size,
                show_progress_bar=show_progress_bar,
                keys=self._keys,
            ),
            changed=lambda summary: summary.ingest.documents > 0 or summary.removed > 0,
        )
        ingest.warn_truncated(summary.ingest.truncated)
        return summary

    def fit_relevance(
        self,
        queries: Mapping[str, str],
        qrels: Mapping[str, Mapping[str, int]],
        *,
        k: int = 10,
        mode: str | None = None,
    ) -> Relevance:
        """Fit the model's relevance calibration on judged queries, set it on the model, and return it.

        Each judged query's top ``k`` hits (the default search, or ``mode``) are labelled by ``qrels`` (a hit is
        relevant when judged above 0) and a logistic map from their scores to ``P(relevant)`` is fitted; from
        then on hits carry ``relevance`` and searches take ``min_relevance``. Fit on training queries only;
        ``model.save(folder)`` keeps it (``relevance.json``).

        Args:
            queries: query id -> text (held-out training queries).
            qrels: query id -> document id -> grade (BEIR's ``qrels``; ``load_beir`` reads them).
            k: hits per query (the depth users read and threshold).
            mode: the search mode (None: the index's default).

        Raises:
            InvalidArgumentError: no judged query, or hits of one label only.
        """
        self._model.relevance = fit_relevance(self, queries, qrels, k=k, mode=mode)
        return self._model.relevance

    def sources(self) -> dict[str, str | None]:
        """The stored sources (documents with a ``source`` metadata field) and their versions.

        Returns:
            Source name -> the version stored by :meth:`sync`, or None where its next ``sync`` has something to
            do (documents added by :meth:`add`, or what an interrupted sync left behind).
        """
        return stored_sources(source_states(self._backend, keys=self._keys))

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
        return self._writing(lambda: self._writer.add_embeddings(documents, embeddings))

    def add_points(self, points: Iterable[PointData], *, overwrite: bool = False) -> ingest.IngestSummary:
        """Store points built elsewhere (``PointEncoder``, Parquet shards); stored ids skipped unless ``overwrite``.

        Raises:
            DimensionMismatchError: a point whose ColBERT vectors have another dimension.
        """
        return self._writing(lambda: self._writer.add_points(points, overwrite=overwrite))

    # ------------------------------------------------------------------ search
    @overload
    def search(
        self,
        queries: str | OneQuery,
        k: int = 10,
        *,
        filter: Filter = None,
        config: SearchConfig | Mapping[str, Any] | None = None,
    ) -> list[SearchHit]: ...

    @overload
    def search(
        self,
        queries: Sequence[str | OneQuery],
        k: int = 10,
        *,
        filter: Filter = None,
        config: SearchConfig | Mapping[str, Any] | None = None,
    ) -> list[list[SearchHit]]: ...

    def search(
        self,
        queries: Queries,
        k: int = 10,
        *,
        filter: Filter = None,
        config: SearchConfig | Mapping[str, Any] | None = None,
    ) -> list[SearchHit] | list[list[SearchHit]]:
        """Search one query or many, by text or by vectors (one batched call to the engine).

        Args:
            queries: a query text, or one query's vectors (``(n_tokens, dim)`` token vectors from
                ``model.encode(query, is_query=True)``, or the collection's first-stage vector
                ``(first_stage_dim,)``: the first stage alone, approximate), or a list of either.
            k: results per query.
            filter: a Qdrant ``Filter`` or a simple dict (see :mod:`colbert_retrieval.qdrant._filters`); it
                applies in every stage.
            config: this call's settings: a dict of :class:`SearchConfig` fields overriding the index's
                (``{"mode": "exact"}``, ``{"prefetch_limit": 400}``), or a whole :class:`SearchConfig`. Vectors
                have no text for BM25: they search ``colbert`` (or ``exact``), and an explicit ``hybrid`` raises.

        Returns:
            For one query, its hits best first (``[]`` on an empty collection); for a list, a list per query.

        Raises:
            InputTypeError, EmptyInputError: queries that are neither texts nor vectors, or an empty text.
            DimensionMismatchError: query vectors that do not fit the collection.
            IndexMismatchError: hybrid search on a collection without BM25 vectors.
        """
        return self._searcher.run(queries, k, filter, self.search_config, config)

    @overload
    async def asearch(
        self,
        queries: str | OneQuery,
        k: int = 10,
        *,
        filter: Filter = None,
        config: SearchConfig | Mapping[str, Any] | None = None,
    ) -> list[SearchHit]: ...

    @overload
    async def asearch(
        self,
        queries: Sequence[str | OneQuery],
        k: int = 10,
        *,
        filter: Filter = None,
        config: SearchConfig | Mapping[str, Any] | None = None,
    ) -> list[list[SearchHit]]: ...

    async def asearch(
        self,
        queries: Queries,
        k: int = 10,
        *,
        filter: Filter = None,
        config: SearchConfig | Mapping[str, Any] | None = None,
    ) -> list[SearchHit] | list[list[SearchHit]]:
        """:meth:`search` in a worker thread (encoding is CPU/GPU bound)."""
        return await asyncio.to_thread(self.search, queries, k, filter=filter, config=config)

    async def aadd(self, documents: Iterable[str | Record | Mapping[str, Any]], **options: Any) -> ingest.IngestSummary:
        """:meth:`add` in a worker thread."""
        return await asyncio.to_thread(self.add, documents, **options)

    # ------------------------------------------------------------------ stored documents
    def _point_ids(self, ids: Iterable[str | int]) -> list[str]:
        return point_ids(ids, self.settings.id_scheme)

    def _find(self, ids: Iterable[str | int], *, with_vectors: bool = False) -> list[StoredPoint]:
        """Stored points by user id: by their point id, then (for the ids not found) by the payload's id.

        The second look finds the documents of a source synced as one unit, whose point ids carry its version.
        """
        wanted = list(many(ids, "ids"))
        found = self._backend.retrieve(self._point_ids(wanted), with_vectors=with_vectors)
        seen = {to_hit(p, keys=self._keys).id for p in found}
        missing = [i for i in wanted if i not in seen]
        condition = _user_ids(missing)
        if not condition.should:
            return found
        offset: str | None = None
        while True:
            page, offset = self._backend.scroll(offset, 256, with_vectors=with_vectors, filter=condition)
            found += page
            if offset is None:
                return found

    def get(self, ids: Iterable[str | int]) -> list[SearchHit]:
        """Stored documents by user id (missing ids are left out)."""
        return [to_hit(p, keys=self._keys) for p in self._find(ids)]

    def vectors(self, ids: Iterable[str | int]) -> dict[str | int, np.ndarray]:
        """The stored (pooled) ColBERT multivectors of documents by user id, as float32 ``(n, dim)`` arrays."""
        found = {}
        for point in self._find(ids, with_vectors=True):
            hit = to_hit(point, keys=self._keys)
            found[hit.id] = np.asarray((point.vectors or {})[COLBERT_VECTOR], dtype=np.float32)
        return found

    def documents(
        self, filter: qm.Filter | Mapping[str, Any] | None = None, *, page_size: int = 256
    ) -> Iterator[SearchHit]:
        """Every stored document (matching ``filter``), read page by page in id order.

        Args:
            filter: a Qdrant ``Filter`` or a simple dict (see :mod:`colbert_retrieval.qdrant._filters`).
            page_size: documents read per call to the store.
        """
        positive_int(page_size, "page_size")
        condition = to_filter(filter, self._keys)
        offset: str | None = None
        while True:
            points, offset = self._backend.scroll(offset, page_size, filter=condition)
            yield from (to_hit(p, keys=self._keys) for p in points)
            if offset is None:
                return

    def update(self, id: str | int, *, text: str | None = None, metadata: Mapping[str, Any] | None = None) -> None:
        """Replace a document's text (re-encoded) and/or its metadata.

        Raises:
            DocumentNotFoundError: no document has this id (a ``KeyError``).
        """
        found = self._find([id])
        if not found:
            msg = f"No document with id {id!r} in collection {self.collection!r}."
            raise DocumentNotFoundError(msg)
        if text is not None:
            kept = metadata if metadata is not None else to_hit(found[0], keys=self._keys).metadata
            self.add([Record(text=text, id=id, metadata=dict(kept))], overwrite=True)
            # A document of a synced source was stored under a versioned point id: the new one replaces it.
            stable = set(self._point_ids([id]))
            if versioned := [p.id for p in found if p.id not in stable]:
                self._backend.delete(versioned)
                self._searcher.refresh_count()
        elif metadata is not None:
            self._backend.set_payload([p.id for p in found], {self._keys.metadata: dict(metadata)})

    def delete(
        self,
        ids: Iterable[str | int] | None = None,
        *,
        filter: qm.Filter | Mapping[str, Any] | None = None,
    ) -> None:
        """Delete documents by user id or by filter (one of the two is required; :meth:`clear` deletes all)."""
        if ids is None and filter is None:
            msg = "delete() needs ids or a filter; to delete everything, call clear()."
            raise InvalidArgumentError(msg)
        if ids is not None:
            wanted = list(many(ids, "ids"))
            self._backend.delete(sorted({*self._point_ids(wanted), *(p.id for p in self._find(wanted))}))
        else:
            self._backend.delete_where(require_condition(to_filter(filter, self._keys)))
        self._searcher.refresh_count()

    def clear(self) -> None:
        """Delete every document; the collection and its settings stay (unlike dropping the collection)."""
        self._backend.delete_where(qm.Filter())
        self._searcher.refresh_count()

    def count(self, filter: qm.Filter | Mapping[str, Any] | None = None) -> int:
        """Number of stored documents (matching ``filter``)."""
        return self._backend.count(to_filter(filter, self._keys))


def _user_ids(ids: Sequence[str | int]) -> qm.Filter:
    """Points whose payload id is one of ``ids`` (Qdrant matches strings and integers separately)."""
    # An integer outside int64 cannot be matched (nor stored as one): its point is found by its point id only.
    groups = [[i for i in ids if isinstance(i, str)], [i for i in ids if isinstance(i, int) and -(2**63) <= i < 2**63]]
    return qm.Filter(should=[qm.FieldCondition(key=ID_KEY, match=qm.MatchAny(any=group)) for group in groups if group])
