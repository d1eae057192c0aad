"""``ColBERTVectorStore``: a LangChain ``VectorStore`` over the colbert-retrieval Qdrant index."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from typing import Any

from langchain_core.documents import Document
from langchain_core.embeddings import Embeddings
from langchain_core.vectorstores import VectorStore

from colbert_retrieval import load_model
from colbert_retrieval.errors import InputTypeError, InvalidArgumentError
from colbert_retrieval.qdrant import ColBERTIndex, Record, SearchHit
from colbert_retrieval.scores import maximal_marginal_relevance
from langchain_colbert_retrieval.embeddings import ColBERTEmbeddings

__all__ = ["ColBERTVectorStore"]

_SEARCH_OPTIONS = {"mode", "exact", "prefetch_limit", "bm25_limit", "bm25_weight"}


def _collection(collection: str | None, collection_name: str | None) -> str:
    if collection is not None and collection_name is not None and collection != collection_name:
        msg = f"Got collection={collection!r} and collection_name={collection_name!r}; pass one of them."
        raise InvalidArgumentError(msg)
    return collection or collection_name or "langchain"


def to_document(hit: SearchHit) -> Document:
    """A LangChain ``Document`` from a stored hit (the id is the one given at insertion)."""
    return Document(page_content=hit.text, metadata=dict(hit.metadata), id=None if hit.id is None else str(hit.id))


class ColBERTVectorStore(VectorStore):
    """LangChain vector store that ranks with real ColBERT MaxSim inside Qdrant.

    Each text is stored as its pooled token vectors (a Qdrant multivector) plus a first-stage vector;
    searches are two-stage (HNSW candidates, then MaxSim rerank). All logic lives in
    ``colbert_retrieval.qdrant.ColBERTIndex``; this class translates LangChain types.

    Setup:
        ``pip install langchain-colbert-retrieval``

    Key init args:
        index: a ``colbert_retrieval.qdrant.ColBERTIndex`` (model, collection and Qdrant location).

    Instantiate:
        .. code-block:: python

            from langchain_colbert_retrieval import ColBERTVectorStore

            store = ColBERTVectorStore.from_texts(
                ["Scurvy is caused by a lack of vitamin C.", "Paris is in France."],
                location=":memory:",  # or path="colbert_index", or url="http://localhost:6333"
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

    Ids: documents keep the ids you give (``ids=`` or ``Document.id``); adding an id again replaces the
    document. Texts without an id get a random UUID, as in LangChain's in-memory store.
    """

    def __init__(self, index: ColBERTIndex) -> None:
        self._index = index

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
        """The ``QdrantClient`` of a server-backed store (an embedded store has none: see ``index.backend``)."""
        return self._index.client

    @property
    def embeddings(self) -> Embeddings:
        """Single-vector embeddings sharing the index's model (see ``ColBERTEmbeddings``)."""
        return ColBERTEmbeddings(model=self._index.model)

    def add_texts(
        self,
        texts: Iterable[str],
        metadatas: list[dict] | None = None,
        *,
        ids: list[str] | None = None,
        **kwargs: Any,
    ) -> list[str]:
        """Encode and store texts; returns their ids."""
        texts = list(texts)
        if metadatas is not None and len(metadatas) != len(texts):
            msg = f"Got {len(texts)} texts but {len(metadatas)} metadatas."
            raise InvalidArgumentError(msg)
        if ids is not None and len(ids) != len(texts):
            msg = f"Got {len(texts)} texts but {len(ids)} ids."
            raise InvalidArgumentError(msg)
        given = list(ids) if ids is not None else [None] * len(texts)
        final_ids = [str(i) if i is not None else str(uuid.uuid4()) for i in given]
        records = [
            Record(text=text, id=identifier, metadata=dict(metadatas[n]) if metadatas else {})
            for n, (text, identifier) in enumerate(zip(texts, final_ids))
        ]
        self._index.add(records, overwrite=True, **kwargs)
        return final_ids

    def similarity_search_with_score(
        self, query: str, k: int = 4, filter: Any = None, **kwargs: Any
    ) -> list[tuple[Document, float]]:
        """Documents most similar to the query with their scores (higher is better; fused in hybrid mode).

        Args:
            query: the query text.
            k: number of documents.
            filter: a dict of metadata conditions or a Qdrant ``Filter``.
            kwargs: ``offset`` (skip the first hits, for paging), ``score_threshold`` (keep scores at or above
                it), ``mode`` (``hybrid``, ``colbert``, ``exact``), ``exact``, ``prefetch_limit``, ``bm25_limit``,
                ``bm25_weight`` (see ``ColBERTIndex.search``).
        """
        offset = int(kwargs.pop("offset", 0) or 0)
        score_threshold = kwargs.pop("score_threshold", None)
        if unknown := set(kwargs) - _SEARCH_OPTIONS:
            msg = f"Unsupported search arguments {sorted(unknown)}; ColBERTVectorStore takes {sorted(_SEARCH_OPTIONS)}."
            raise InvalidArgumentError(msg)
        hits = self._index.search(query, k=k + offset, filter=filter, **kwargs)[offset:]
        results = [(to_document(hit), float(hit.score or 0.0)) for hit in hits]
        if score_threshold is not None:
            results = [(doc, score) for doc, score in results if score >= score_threshold]
        return results

    def similarity_search(self, query: str, k: int = 4, filter: Any = None, **kwargs: Any) -> list[Document]:
        """Documents most similar to the query (MaxSim)."""
        return [doc for doc, _ in self.similarity_search_with_score(query, k, filter, **kwargs)]

    def _similarity_search_with_relevance_scores(
        self, query: str, k: int = 4, **kwargs: Any
    ) -> list[tuple[Document, float]]:
        # MaxSim sums one cosine per query token: dividing by the token count gives [-1, 1], mapped to [0, 1].
        # In hybrid mode the MaxSim part of the score is used, so relevance means the same in every mode.
        tokens = max(self._index.model.encode(query, is_query=True).shape[0], 1)
        hits = self._index.search(query, k=k, **kwargs)
        results = [(to_document(hit), hit.scores.get("maxsim", hit.score or 0.0)) for hit in hits]
        return [(doc, (score / tokens + 1.0) / 2.0) for doc, score in results]

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
        hits = self._index.search(query, k=max(fetch_k, k), filter=filter, **kwargs)
        if not hits:
            return []
        stored = self._index.vectors([hit.id for hit in hits])
        hits = [hit for hit in hits if hit.id in stored]
        query_vectors = self._index.model.encode(query, is_query=True)
        chosen = maximal_marginal_relevance(query_vectors, [stored[hit.id] for hit in hits], k, lambda_mult)
        return [to_document(hits[i]) for i in chosen]

    def max_marginal_relevance_search_by_vector(self, embedding: list[float], *args: Any, **kwargs: Any) -> Any:
        """Not available: ColBERT searches with the query's token vectors, computed from its text."""
        msg = "ColBERTVectorStore needs the query text for MMR: call max_marginal_relevance_search(query, ...)."
        raise NotImplementedError(msg)

    def delete(self, ids: list[str] | None = None, **kwargs: Any) -> bool | None:
        """Delete documents by id (missing ids are ignored)."""
        if ids is None:
            msg = "ColBERTVectorStore.delete needs ids."
            raise InvalidArgumentError(msg)
        self._index.delete(list(ids))
        return True

    def get_by_ids(self, ids: Sequence[str], /) -> list[Document]:
        """Stored documents with these ids (missing ids are left out; order not guaranteed)."""
        return [to_document(hit) for hit in self._index.get(list(ids))]

    @classmethod
    def from_texts(
        cls,
        texts: list[str],
        embedding: Embeddings | None = None,
        metadatas: list[dict] | None = None,
        *,
        ids: list[str] | None = None,
        index: ColBERTIndex | None = None,
        model: Any = None,
        collection: str | None = None,
        collection_name: str | None = None,
        force_recreate: bool = False,
        **kwargs: Any,
    ) -> ColBERTVectorStore:
        """Build a store (and its index) from texts.

        Args:
            texts: texts to add.
            embedding: a ``ColBERTEmbeddings`` whose model is used (other embeddings are not ColBERT and are
                rejected); or pass ``model``.
            metadatas: one dict per text.
            ids: one id per text.
            index: an existing ``ColBERTIndex`` (then ``model``/``collection``/location are ignored).
            model: a ``ColBERT``, a model name or path, or None for the offline default model.
            collection: the Qdrant collection (default ``"langchain"``).
            collection_name: the same, under langchain-qdrant's name.
            force_recreate: delete the documents already in the collection first (langchain-qdrant's argument).
            kwargs: ``ColBERTIndex`` arguments (``path``, ``location``, ``url``, ``api_key``, ``pool_factor``...).
        """
        if index is None:
            index = cls._open_index(embedding, model, _collection(collection, collection_name), **kwargs)
        store = cls(index)
        if force_recreate:
            index.clear()
        if texts:
            store.add_texts(texts, metadatas, ids=ids)
        return store

    @staticmethod
    def _open_index(embedding: Embeddings | None, model: Any, collection: str, **kwargs: Any) -> ColBERTIndex:
        if embedding is not None and not isinstance(embedding, ColBERTEmbeddings):
            msg = "ColBERTVectorStore needs ColBERT vectors: pass a ColBERTEmbeddings, a model or an index."
            raise InputTypeError(msg)
        encoder = embedding.encoder if isinstance(embedding, ColBERTEmbeddings) else load_model(model)
        return ColBERTIndex(encoder, collection, **kwargs)

    @classmethod
    def from_existing_collection(
        cls,
        collection_name: str,
        embedding: Embeddings | None = None,
        *,
        model: Any = None,
        **kwargs: Any,
    ) -> ColBERTVectorStore:
        """A store over a collection that already exists (langchain-qdrant's constructor of that name).

        Args:
            collection_name: the collection.
            embedding: a ``ColBERTEmbeddings`` whose model is used; or pass ``model``.
            model: a ``ColBERT``, a model name or path, or None for the offline default model.
            kwargs: where it is (``path``, ``location``, ``url``, ``api_key``) and other ``ColBERTIndex`` arguments.

        Raises:
            CollectionNotFoundError: there is no such collection.
            IndexMismatchError: it was built with another model or encoding.
        """
        return cls(cls._open_index(embedding, model, collection_name, create=False, **kwargs))

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
