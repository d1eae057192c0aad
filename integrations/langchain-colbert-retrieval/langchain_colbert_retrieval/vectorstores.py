"""``ColBERTVectorStore``: a LangChain ``VectorStore`` over the colbert-retrieval Qdrant index."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
from langchain_core.documents import Document
from langchain_core.embeddings import Embeddings
from langchain_core.vectorstores import VectorStore

from colbert_retrieval import load_model
from colbert_retrieval.documents import Record
from colbert_retrieval.errors import InputTypeError, InvalidArgumentError
from colbert_retrieval.qdrant import ColBERTIndex, SearchHit
from colbert_retrieval.scores import maximal_marginal_relevance
from langchain_colbert_retrieval._qdrant_args import (
    check_payload_keys,
    one_collection,
    search_mode,
    search_options,
    to_document,
    vector_search_options,
    with_payload_keys,
)
from langchain_colbert_retrieval.embeddings import ColBERTEmbeddings

__all__ = ["ColBERTVectorStore"]


class ColBERTVectorStore(VectorStore):
    """LangChain vector store that ranks with real ColBERT MaxSim inside Qdrant.

    Each text is stored as its pooled token vectors (a Qdrant multivector) plus a first-stage vector;
    searches are two-stage (HNSW candidates, then MaxSim rerank). All logic lives in
    ``colbert_retrieval.qdrant.ColBERTIndex``; this class translates LangChain types.

    Setup:
        ``pip install langchain-colbert-retrieval``

    Key init args:
        index: a ``colbert_retrieval.qdrant.ColBERTIndex`` (model, collection and Qdrant location); or, as
            ``QdrantVectorStore(client, collection_name, embedding)``: ``client`` (a ``QdrantClient``),
            ``collection_name`` and ``embedding`` (a ``ColBERTEmbeddings``), the collection created if missing.
        retrieval_mode: default search mode (langchain-qdrant's ``RetrievalMode.DENSE`` -> MaxSim, ``HYBRID``
            -> MaxSim + BM25; or ``"colbert"``, ``"hybrid"``, ``"exact"``).
        qdrant_metadata: put ``_id`` and ``_collection_name`` into returned metadata, as langchain-qdrant does
            (default True).
        score_scale: the scale of returned scores and of ``score_threshold``: ``"cosine"`` (default: mean MaxSim
            per query token, at most 1, as langchain-qdrant's cosine scores, so a ported threshold filters alike;
            in hybrid mode too, while the order stays the fused one) or ``"raw"`` (the index's ranking score:
            MaxSim summed over query tokens, or the fused score in hybrid mode).
        content_payload_key: the payload key of the text (langchain-qdrant's argument): a collection created
            here keeps the text under it (None: ``text``); an existing collection's must match.
        metadata_payload_key: the payload key of the metadata (None: ``metadata``); filters address
            ``<key>.<field>``.

    Instantiate:
        .. code-block:: python

            from langchain_colbert_retrieval import ColBERTVectorStore

            store = ColBERTVectorStore.from_texts(
                ["Scurvy is caused by a lack of vitamin C.", "Paris is in France."],
                location=":memory:",  # or path="colbert_index", url="http://localhost:6333", store=Store(...)
            )

    Use:
        .. code-block:: python

            store.similarity_search("vitamin C deficiency", k=1)
            # [Document(id='...', page_content='Scurvy is caused by a lack of vitamin C.')]
            store.similarity_search_with_score("vitamin C deficiency", k=1, filter={"lang": "en"})
            retriever = store.as_retriever(search_kwargs={"k": 4})

    Async:
        .. code-block:: python

            await store.aadd_texts(["..."])
            await store.asimilarity_search("query")

    ``store.client`` is the ``QdrantClient`` of a server-backed store; an embedded store gives a handle of the
    same shape for ``count``, ``retrieve``, ``scroll``, ``delete``, ``collection_exists`` and ``close``.

    Ids: documents keep the ids you give (``ids=`` or ``Document.id``; strings or ints); adding an id again
    replaces the document. Texts without an id get a random UUID. Returned documents carry the id as
    ``Document.id`` (a string) and, as langchain-qdrant's do, ``metadata["_id"]`` (with its type) and
    ``metadata["_collection_name"]``.

    Coming from langchain-qdrant: change the class and the embedding argument; what still differs and why
    is listed in docs/benchmarks/langchain-qdrant-swap.md (the payload stores the text under ``text`` unless
    ``content_payload_key`` names another key, BM25 is built in, empty queries are refused).
    """

    def __init__(
        self,
        index: ColBERTIndex | None = None,
        *,
        client: Any = None,
        collection_name: str | None = None,
        embedding: Embeddings | None = None,
        retrieval_mode: Any = None,
        qdrant_metadata: bool = True,
        score_scale: str = "cosine",
        content_payload_key: str | None = None,
        metadata_payload_key: str | None = None,
    ) -> None:
        SearchHit.check_scale(score_scale)
        if index is not None and not isinstance(index, ColBERTIndex):
            client, index = index, None  # langchain-qdrant's first positional argument is the client
        keys = {"content_payload_key": content_payload_key, "metadata_payload_key": metadata_payload_key}
        if index is None:
            if client is None or collection_name is None:
                msg = "ColBERTVectorStore needs an index, or client= and collection_name= (langchain-qdrant's form)."
                raise InvalidArgumentError(msg)
            index = self._open_index(embedding, None, collection_name, client=client, **keys)
        elif client is not None or collection_name not in (None, index.collection):
            msg = "Pass either an index or client=/collection_name=, not both."
            raise InvalidArgumentError(msg)
        check_payload_keys(index, content_payload_key, metadata_payload_key)
        self._index = index
        self.retrieval_mode = search_mode(retrieval_mode)
        self.qdrant_metadata = qdrant_metadata
        self.score_scale = score_scale

    @property
    def index(self) -> ColBERTIndex:
        """The underlying ColBERT index (read-only)."""
        return self._index

    @property
    def collection_name(self) -> str:
        """The Qdrant collection (``QdrantVectorStore.collection_name``)."""
        return self._index.collection

    @property
    def client(self) -> Any:
        """The ``QdrantClient`` of a server-backed store, or the embedded index's handle of the same shape."""
        return self._index.client

    @property
    def embeddings(self) -> Embeddings:
        """The single vectors this store keeps: ``embed_query`` gives the collection's first-stage vector.

        ``similarity_search_by_vector(store.embeddings.embed_query(q))`` therefore searches the first stage
        (approximate); ``embed_query_multi`` gives the query's token vectors, which search with MaxSim.
        """
        settings = self._index.settings
        muvera = settings.muvera_config()
        return ColBERTEmbeddings(
            model=self._index.model,
            single_vector=settings.first_stage,
            muvera=None if muvera is None else muvera.to_dict(),
        )

    def _document(self, hit: SearchHit) -> Document:
        return to_document(hit, self.collection_name if self.qdrant_metadata else None)

    def add_texts(
        self,
        texts: Iterable[str],
        metadatas: list[dict] | None = None,
        ids: Sequence[str | int] | None = None,
        batch_size: int = 32,
        **kwargs: Any,
    ) -> list[str | int]:
        """Encode and store texts; returns their ids (as given, ints stay ints; a random UUID where none)."""
        texts = list(texts)
        if metadatas is not None and len(metadatas) != len(texts):
            msg = f"Got {len(texts)} texts but {len(metadatas)} metadatas."
            raise InvalidArgumentError(msg)
        if ids is not None and len(ids) != len(texts):
            msg = f"Got {len(texts)} texts but {len(ids)} ids."
            raise InvalidArgumentError(msg)
        given = list(ids) if ids is not None else [None] * len(texts)
        final_ids = [i if i is not None else str(uuid.uuid4()) for i in given]
        records = [
            Record(text=text, id=identifier, metadata=dict(metadatas[n]) if metadatas else {})
            for n, (text, identifier) in enumerate(zip(texts, final_ids))
        ]
        self._index.add(records, overwrite=True, batch_size=batch_size, **kwargs)
        return final_ids

    def _ranked(
        self, hits: list[SearchHit], offset: int, score_threshold: float | None
    ) -> list[tuple[Document, float]]:
        results = [(self._document(hit), hit.score_on(self.score_scale)) for hit in hits[offset:]]
        if score_threshold is not None:
            results = [(doc, score) for doc, score in results if score >= score_threshold]
        return results

    def similarity_search_with_score(
        self,
        query: str,
        k: int = 4,
        filter: Any = None,
        search_params: Any = None,
        offset: int = 0,
        score_threshold: float | None = None,
        **kwargs: Any,
    ) -> list[tuple[Document, float]]:
        """Documents most similar to the query with their scores (higher is better; on ``score_scale``).

        Args:
            query: the query text.
            k: number of documents.
            filter: a dict of metadata conditions or a Qdrant ``Filter``.
            search_params: a Qdrant ``SearchParams`` (``exact``, ``hnsw_ef``), as langchain-qdrant takes it.
            offset: skip the first hits (paging).
            score_threshold: keep scores at or above it (on ``score_scale``).
            kwargs: ``config`` (a ``SearchConfig`` or a dict of its fields) or its fields by name (``mode``:
                ``hybrid``, ``colbert``, ``exact``, default ``retrieval_mode``; ``prefetch_limit``, ...).
        """
        offset = int(offset or 0)
        options = search_options({**kwargs, "search_params": search_params}, self.retrieval_mode)
        hits = self._index.search(query, k=k + offset, filter=filter, config=options)
        return self._ranked(hits, offset, score_threshold)

    def similarity_search(
        self,
        query: str,
        k: int = 4,
        filter: Any = None,
        search_params: Any = None,
        offset: int = 0,
        score_threshold: float | None = None,
        **kwargs: Any,
    ) -> list[Document]:
        """Documents most similar to the query (MaxSim; arguments of :meth:`similarity_search_with_score`)."""
        scored = self.similarity_search_with_score(query, k, filter, search_params, offset, score_threshold, **kwargs)
        return [doc for doc, _ in scored]

    def similarity_search_with_score_by_vector(
        self,
        embedding: Any,
        k: int = 4,
        filter: Any = None,
        search_params: Any = None,
        offset: int = 0,
        score_threshold: float | None = None,
        **kwargs: Any,
    ) -> list[tuple[Document, float]]:
        """Documents nearest to query vectors, with scores.

        Args:
            embedding: the query's token vectors (``embeddings.embed_query_multi(q)``: two-stage MaxSim), or
                the collection's first-stage vector (``store.embeddings.embed_query(q)``: the first stage
                alone, approximate).
            k: number of documents.
            filter: a dict of metadata conditions or a Qdrant ``Filter``.
            search_params: a Qdrant ``SearchParams`` (``exact``, ``hnsw_ef``).
            offset: skip the first hits (paging).
            score_threshold: keep scores at or above it (on ``score_scale``).
            kwargs: ``config`` or its fields (``mode``: ``colbert`` or ``exact``; ``prefetch_limit``, ``hnsw_ef``).

        Raises:
            DimensionMismatchError: the vectors fit neither form (the message gives both shapes).
        """
        offset = int(offset or 0)
        options = vector_search_options({**kwargs, "search_params": search_params})
        hits = self._index.search([embedding], k=k + offset, filter=filter, config=options)[0]
        return self._ranked(hits, offset, score_threshold)

    def similarity_search_by_vector(
        self, embedding: Any, k: int = 4, filter: Any = None, **kwargs: Any
    ) -> list[Document]:
        """Documents nearest to query vectors (see :meth:`similarity_search_with_score_by_vector`)."""
        return [doc for doc, _ in self.similarity_search_with_score_by_vector(embedding, k, filter, **kwargs)]

    def _similarity_search_with_relevance_scores(
        self, query: str, k: int = 4, **kwargs: Any
    ) -> list[tuple[Document, float]]:
        # Mean MaxSim per query token is in [-1, 1], mapped to [0, 1]; in hybrid mode too (the MaxSim part), so
        # relevance means the same in every mode.
        query_filter = kwargs.pop("filter", None)
        offset = int(kwargs.pop("offset", 0) or 0)
        options = search_options(kwargs, self.retrieval_mode)
        hits = self._index.search(query, k=k + offset, filter=query_filter, config=options)[offset:]
        return [(self._document(hit), (hit.score_on("cosine") + 1.0) / 2.0) for hit in hits]

    def max_marginal_relevance_search(
        self, query: str, k: int = 4, fetch_k: int = 20, lambda_mult: float = 0.5, filter: Any = None, **kwargs: Any
    ) -> list[Document]:
        """Relevant but diverse documents: MMR over the top ``fetch_k`` hits, with MaxSim between documents.

        The candidates' stored multivectors are compared token by token (no single-vector approximation);
        ``as_retriever(search_type="mmr")`` uses this.

        Args:
            query: the query text.
            k: number of documents.
            fetch_k: candidates to choose from.
            lambda_mult: 1 ranks by relevance alone, 0 by diversity alone.
            filter: a dict of metadata conditions or a Qdrant ``Filter``.
            kwargs: search options as in :meth:`similarity_search_with_score`.
        """
        options = search_options(kwargs, self.retrieval_mode)
        hits = self._index.search(query, k=max(fetch_k, k), filter=filter, config=options)
        return self._diverse(hits, self._index.model.encode(query, is_query=True), k, lambda_mult)

    def max_marginal_relevance_search_by_vector(
        self, embedding: Any, k: int = 4, fetch_k: int = 20, lambda_mult: float = 0.5, filter: Any = None, **kwargs: Any
    ) -> list[Document]:
        """MMR from the query's token vectors (``embeddings.embed_query_multi(q)``).

        As :meth:`max_marginal_relevance_search`, with vectors instead of the text.

        Raises:
            InvalidArgumentError: a single vector (MMR weighs relevance by MaxSim, which needs token vectors).
        """
        vectors = np.asarray(embedding, dtype=np.float32)
        if vectors.ndim != 2:
            msg = (
                "MMR on ColBERT needs the query's token vectors: pass embeddings.embed_query_multi(query) "
                "(or call max_marginal_relevance_search with the text)."
            )
            raise InvalidArgumentError(msg)
        options = vector_search_options(kwargs)
        hits = self._index.search([vectors], k=max(fetch_k, k), filter=filter, config=options)[0]
        return self._diverse(hits, vectors, k, lambda_mult)

    def _diverse(self, hits: list[SearchHit], query_vectors: Any, k: int, lambda_mult: float) -> list[Document]:
        if not hits:
            return []
        stored = self._index.vectors([hit.id for hit in hits])
        hits = [hit for hit in hits if hit.id in stored]
        chosen = maximal_marginal_relevance(query_vectors, [stored[hit.id] for hit in hits], k, lambda_mult)
        return [self._document(hits[i]) for i in chosen]

    def delete(self, ids: Sequence[str | int] | None = None, **kwargs: Any) -> bool | None:
        """Delete documents by id (missing ids are ignored)."""
        if ids is None:
            msg = "ColBERTVectorStore.delete needs ids."
            raise InvalidArgumentError(msg)
        self._index.delete(list(ids))
        return True

    def get_by_ids(self, ids: Sequence[str | int], /) -> list[Document]:
        """Stored documents with these ids (missing ids are left out; order not guaranteed)."""
        return [self._document(hit) for hit in self._index.get(list(ids))]

    @classmethod
    def from_texts(
        cls,
        texts: list[str],
        embedding: Embeddings | None = None,
        metadatas: list[dict] | None = None,
        ids: Sequence[str | int] | None = None,
        collection_name: str | None = None,
        *,
        index: ColBERTIndex | None = None,
        model: Any = None,
        collection: str | None = None,
        force_recreate: bool = False,
        retrieval_mode: Any = None,
        qdrant_metadata: bool = True,
        score_scale: str = "cosine",
        batch_size: int = 32,
        content_payload_key: str | None = None,
        metadata_payload_key: str | None = None,
        **kwargs: Any,
    ) -> ColBERTVectorStore:
        """Build a store (and its index) from texts (langchain-qdrant's ``from_texts``, same argument names).

        Args:
            texts: texts to add.
            embedding: a ``ColBERTEmbeddings`` whose model is used (other embeddings are not ColBERT and are
                rejected); or pass ``model``.
            metadatas: one dict per text.
            ids: one id per text (strings or ints; a random UUID where none).
            collection_name: the Qdrant collection (default ``"langchain"``).
            index: an existing ``ColBERTIndex`` (then ``model``/``collection``/location are ignored).
            model: a ``ColBERT``, a model name or path, or None for the offline default model.
            collection: the same as ``collection_name`` (colbert-retrieval's name).
            force_recreate: delete the documents already in the collection first (langchain-qdrant's argument).
            retrieval_mode: the default search mode: langchain-qdrant's ``RetrievalMode.DENSE`` (MaxSim,
                ``"colbert"``) or ``HYBRID`` (MaxSim fused with BM25, which the collection computes itself: no
                sparse embedding needed), or ``"exact"``; None: the index's default (hybrid).
            qdrant_metadata: add ``_id`` and ``_collection_name`` to returned documents' metadata, as
                langchain-qdrant does (``Document.id`` is set either way).
            score_scale: ``"cosine"`` (default) or ``"raw"`` scores (see the class).
            batch_size: texts per encoding batch.
            content_payload_key: the payload key of the text in a new collection (langchain-qdrant's argument;
                None: ``text``, or the existing collection's); an existing collection's must match.
            metadata_payload_key: the payload key of the metadata (None: ``metadata``, or the collection's).
            kwargs: where the store is, as langchain-qdrant takes it (``location``, ``path``, ``url``, ``api_key``,
                ``prefer_grpc``, ``timeout``, ...), or ``ColBERTIndex``'s own ``store``, ``schema``, ``storage``,
                ``search``.
        """
        if index is None:
            name = one_collection(collection, collection_name)
            index = cls._open_index(embedding, model, name, content_payload_key, metadata_payload_key, **kwargs)
        store = cls(
            index,
            retrieval_mode=retrieval_mode,
            qdrant_metadata=qdrant_metadata,
            score_scale=score_scale,
            content_payload_key=content_payload_key,
            metadata_payload_key=metadata_payload_key,
        )
        if force_recreate:
            index.clear()
        if texts:
            store.add_texts(texts, metadatas, ids=ids, batch_size=batch_size)
        return store

    @staticmethod
    def _open_index(
        embedding: Embeddings | None,
        model: Any,
        collection: str,
        content_payload_key: str | None = None,
        metadata_payload_key: str | None = None,
        **kwargs: Any,
    ) -> ColBERTIndex:
        if embedding is not None and not isinstance(embedding, ColBERTEmbeddings):
            msg = "ColBERTVectorStore needs ColBERT vectors: pass a ColBERTEmbeddings, a model or an index."
            raise InputTypeError(msg)
        encoder = embedding.encoder if isinstance(embedding, ColBERTEmbeddings) else load_model(model)
        kwargs = with_payload_keys(kwargs, content_payload_key, metadata_payload_key)
        return ColBERTIndex.from_arguments(encoder, collection, **kwargs)

    @classmethod
    def from_existing_collection(
        cls,
        collection_name: str,
        embedding: Embeddings | None = None,
        retrieval_mode: Any = None,
        *,
        model: Any = None,
        qdrant_metadata: bool = True,
        score_scale: str = "cosine",
        content_payload_key: str | None = None,
        metadata_payload_key: str | None = None,
        **kwargs: Any,
    ) -> ColBERTVectorStore:
        """A store over a collection that already exists (langchain-qdrant's constructor of that name).

        Args:
            collection_name: the collection.
            embedding: a ``ColBERTEmbeddings`` whose model is used; or pass ``model``.
            retrieval_mode: the default search mode (see :meth:`from_texts`).
            model: a ``ColBERT``, a model name or path, or None for the offline default model.
            qdrant_metadata: add ``_id`` / ``_collection_name`` to returned metadata (see :meth:`from_texts`).
            score_scale: ``"cosine"`` (default) or ``"raw"`` scores (see the class).
            content_payload_key: checked against the collection's payload key of the text (None: not checked).
            metadata_payload_key: checked against the collection's payload key of the metadata.
            kwargs: where it is (``path``, ``location``, ``url``, ``api_key``, ... or ``store=``) and other
                ``ColBERTIndex`` arguments.

        Raises:
            CollectionNotFoundError: there is no such collection.
            IndexMismatchError: it was built with another model or encoding.
        """
        keys = {"content_payload_key": content_payload_key, "metadata_payload_key": metadata_payload_key}
        index = cls._open_index(embedding, model, collection_name, create=False, **keys, **kwargs)
        return cls(
            index, retrieval_mode=retrieval_mode, qdrant_metadata=qdrant_metadata, score_scale=score_scale, **keys
        )

    @classmethod
    def from_documents(  # type: ignore[override]
        cls, documents: list[Document], embedding: Embeddings | None = None, **kwargs: Any
    ) -> ColBERTVectorStore:
        """Build a store from documents (their ids are kept); see :meth:`from_texts` for the arguments."""
        ids = kwargs.pop("ids", None)
        if ids is None and any(d.id is not None for d in documents):
            ids = [d.id for d in documents]
        return cls.from_texts(
            [d.page_content for d in documents], embedding, [dict(d.metadata) for d in documents], ids=ids, **kwargs
        )
