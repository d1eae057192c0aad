"""``ColBERTVectorStore``: a LlamaIndex vector store over the colbert-retrieval Qdrant multivector index.

LlamaIndex's own Qdrant store keeps one vector per node (multivector support was declined upstream,
run-llama/llama_index#14953); this store keeps each node's ColBERT token vectors and ranks by MaxSim.
It stores the text (``stores_text=True``) and needs no query embedding (``is_embedding_query=False``): the
store encodes node and query texts with its ColBERT model, once each. Give ``VectorStoreIndex`` the
placeholder :data:`NO_EMBEDDING` so LlamaIndex does not run a second embedding model over every node.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from llama_index.core.bridge.pydantic import PrivateAttr
from llama_index.core.embeddings import MockEmbedding
from llama_index.core.schema import BaseNode
from llama_index.core.vector_stores.types import (
    BasePydanticVectorStore,
    MetadataFilters,
    VectorStoreQuery,
    VectorStoreQueryMode,
    VectorStoreQueryResult,
)
from llama_index.retrievers.colbert_retrieval import add_nodes, to_qdrant_filter
from llama_index.retrievers.colbert_retrieval.ingest import node_from_hit, node_from_payload
from qdrant_client import models as qm

from colbert_retrieval import load_model
from colbert_retrieval.documents import ID_KEY, PayloadKeys
from colbert_retrieval.errors import InvalidArgumentError
from colbert_retrieval.qdrant import ColBERTIndex, SearchHit, SearchMode

__all__ = ["NO_EMBEDDING", "ColBERTVectorStore"]

#: Pass as ``embed_model`` to ``VectorStoreIndex``: a 1-dimensional constant that costs nothing. The store
#: encodes every node with ColBERT itself, so a real embedding model would run for nothing.
NO_EMBEDDING = MockEmbedding(embed_dim=1)

_MODES = {
    VectorStoreQueryMode.DEFAULT: "colbert",
    VectorStoreQueryMode.HYBRID: "hybrid",
}


def _any_of(key: str, values: Sequence[Any]) -> qm.FieldCondition:
    return qm.FieldCondition(key=key, match=qm.MatchAny(any=list(values)))


def _combine(*conditions: qm.Condition | None) -> qm.Filter | None:
    present = [c for c in conditions if c is not None]
    return qm.Filter(must=present) if present else None


class ColBERTVectorStore(BasePydanticVectorStore):
    """Nodes as ColBERT multi-vectors in Qdrant (embedded engine or server), searched with MaxSim.

    Args:
        index: an open ``colbert_retrieval.qdrant.ColBERTIndex`` (wins over the arguments below).
        model: a ``ColBERT``, a model name or folder, or None for the offline default model.
        collection_name: the collection.
        path: folder of the embedded store (default ``colbert_index``).
        location: ``":memory:"`` for a throwaway embedded store.
        url: a Qdrant server.
        api_key: its API key (never logged).
        mode: search mode for ``VectorStoreQueryMode.DEFAULT`` queries: ``"colbert"`` (first stage + MaxSim,
            default), ``"exact"`` (MaxSim over every node) or ``"hybrid"`` (BM25 + MaxSim).
        score_scale: ``"cosine"`` (default: mean MaxSim per query token, at most 1, as a cosine vector store's
            similarities) or ``"raw"`` (the index's ranking score) for the query result's similarities.
        highlights: put the words each node matched into ``node.metadata["highlights"]`` (offsets into
            ``node.text``; hidden from the LLM); off by default (one more call to the store per query).
        index_kwargs: ``ColBERTIndex``'s own arguments (``store``, ``schema``, ``storage``, ``search``) or more
            ``QdrantClient`` arguments for ``url`` (``timeout``, ``prefer_grpc``, ...).

    Query modes: ``DEFAULT`` -> ``mode``, ``HYBRID`` -> ``"hybrid"`` (``hybrid_top_k`` wins over
    ``similarity_top_k`` when set); other LlamaIndex modes raise ``InvalidArgumentError``.

    Examples:
        >>> from llama_index.core import Document, StorageContext, VectorStoreIndex
        >>> from llama_index.vector_stores.colbert_retrieval import NO_EMBEDDING, ColBERTVectorStore
        >>> store = ColBERTVectorStore(location=":memory:")  # or path=..., url=..., store=Store(...)
        >>> index = VectorStoreIndex.from_documents(
        ...     [Document(text="Scurvy comes from a lack of vitamin C."), Document(text="Paris is in France.")],
        ...     storage_context=StorageContext.from_defaults(vector_store=store),
        ...     embed_model=NO_EMBEDDING,
        ... )
        >>> index.as_retriever(similarity_top_k=1).retrieve("vitamin C deficiency")[0].text
        'Scurvy comes from a lack of vitamin C.'
    """

    stores_text: bool = True
    is_embedding_query: bool = False
    flat_metadata: bool = False
    collection_name: str = "colbert"
    mode: str = "colbert"
    score_scale: str = "cosine"
    highlights: bool = False

    _index: ColBERTIndex = PrivateAttr()

    def __init__(
        self,
        index: ColBERTIndex | None = None,
        *,
        model: Any = None,
        collection_name: str = "colbert",
        path: str | None = None,
        location: str | None = None,
        url: str | None = None,
        api_key: str | None = None,
        mode: str = "colbert",
        score_scale: str = "cosine",
        highlights: bool = False,
        **index_kwargs: Any,
    ) -> None:
        mode = SearchMode.of(mode).value
        SearchHit.check_scale(score_scale)
        if index is None:
            where = {"path": path, "location": location, "url": url, "api_key": api_key}
            index = ColBERTIndex.from_arguments(load_model(model), collection_name, **where, **index_kwargs)
        super().__init__(collection_name=index.collection, mode=mode, score_scale=score_scale, highlights=highlights)
        self._index = index

    @classmethod
    def class_name(cls) -> str:
        """LlamaIndex's serialisation name."""
        return "ColBERTVectorStore"

    @property
    def _keys(self) -> PayloadKeys:
        """Where the collection's payload keeps the text and the metadata."""
        return self._index.settings.payload_keys

    @property
    def client(self) -> ColBERTIndex:
        """The ``ColBERTIndex`` behind the store."""
        return self._index

    # ------------------------------------------------------------------ writes
    def add(self, nodes: Sequence[BaseNode], **add_kwargs: Any) -> list[str]:
        """Encode and store ``nodes`` (ids, text, metadata and relationships kept; same ids replaced)."""
        if nodes:
            add_nodes(self._index, nodes, **add_kwargs)
        return [node.node_id for node in nodes]

    def delete(self, ref_doc_id: str, **delete_kwargs: Any) -> None:
        """Delete every node of the source document ``ref_doc_id``."""
        self._index.delete(filter=qm.Filter(must=[_any_of(self._keys.field("ref_doc_id"), [ref_doc_id])]))

    def delete_nodes(
        self, node_ids: list[str] | None = None, filters: MetadataFilters | None = None, **delete_kwargs: Any
    ) -> None:
        """Delete nodes by id, by metadata filter, or both (the nodes matching both)."""
        if node_ids is None and filters is None:
            raise InvalidArgumentError("delete_nodes() needs node_ids or filters; use clear() to delete all.")
        if node_ids is not None and filters is None:
            self._index.delete(ids=node_ids)
            return
        by_metadata = to_qdrant_filter(filters, self._keys.metadata)
        condition = _combine(_any_of(ID_KEY, node_ids) if node_ids is not None else None, by_metadata)
        if condition is not None:
            self._index.delete(filter=condition)

    def clear(self) -> None:
        """Delete every node (the collection and its settings stay)."""
        self._index.clear()

    # ------------------------------------------------------------------ reads
    def get_nodes(self, node_ids: list[str] | None = None, filters: MetadataFilters | None = None) -> list[BaseNode]:
        """Stored nodes by id and/or metadata filter (all nodes when both are None)."""
        if node_ids is not None and filters is None:
            hits = self._index.get(node_ids)
        else:
            by_metadata = to_qdrant_filter(filters, self._keys.metadata)
            condition = _combine(_any_of(ID_KEY, node_ids) if node_ids else None, by_metadata)
            hits = list(self._index.documents(filter=condition))
        return [node_from_payload(hit.metadata) for hit in hits]

    def query(self, query: VectorStoreQuery, **kwargs: Any) -> VectorStoreQueryResult:
        """MaxSim search for ``query.query_str`` with its filters, node and document id restrictions."""
        if not query.query_str:
            msg = "ColBERTVectorStore searches query text (query_str); a query embedding alone is not enough."
            raise InvalidArgumentError(msg)
        if query.mode not in _MODES:
            supported = ", ".join(m.value for m in _MODES)
            raise InvalidArgumentError(f"Query mode {query.mode.value!r} is not supported; use {supported}.")
        mode = self.mode if query.mode == VectorStoreQueryMode.DEFAULT else _MODES[query.mode]
        k = query.hybrid_top_k if query.mode == VectorStoreQueryMode.HYBRID and query.hybrid_top_k else None
        condition = _combine(
            to_qdrant_filter(query.filters, self._keys.metadata),
            _any_of(ID_KEY, query.node_ids) if query.node_ids else None,
            _any_of(self._keys.field("ref_doc_id"), query.doc_ids) if query.doc_ids else None,
        )
        config = {"mode": mode, "highlights": True if self.highlights else None}
        hits = self._index.search(query.query_str, k=k or query.similarity_top_k, filter=condition, config=config)
        nodes = [node_from_hit(hit) for hit in hits]
        similarities = [hit.score_on(self.score_scale) for hit in hits]
        return VectorStoreQueryResult(nodes=nodes, similarities=similarities, ids=[node.node_id for node in nodes])

    # ------------------------------------------------------------------ async (off the event loop)
    async def async_add(self, nodes: Sequence[BaseNode], **kwargs: Any) -> list[str]:
        """:meth:`add` in a worker thread."""
        return await asyncio.to_thread(self.add, nodes, **kwargs)

    async def adelete(self, ref_doc_id: str, **delete_kwargs: Any) -> None:
        """:meth:`delete` in a worker thread."""
        await asyncio.to_thread(self.delete, ref_doc_id, **delete_kwargs)

    async def adelete_nodes(
        self, node_ids: list[str] | None = None, filters: MetadataFilters | None = None, **delete_kwargs: Any
    ) -> None:
        """:meth:`delete_nodes` in a worker thread."""
        await asyncio.to_thread(self.delete_nodes, node_ids, filters, **delete_kwargs)

    async def aclear(self) -> None:
        """:meth:`clear` in a worker thread."""
        await asyncio.to_thread(self.clear)

    async def aget_nodes(
        self, node_ids: list[str] | None = None, filters: MetadataFilters | None = None
    ) -> list[BaseNode]:
        """:meth:`get_nodes` in a worker thread."""
        return await asyncio.to_thread(self.get_nodes, node_ids, filters)

    async def aquery(self, query: VectorStoreQuery, **kwargs: Any) -> VectorStoreQueryResult:
        """:meth:`query` in a worker thread."""
        return await asyncio.to_thread(self.query, query, **kwargs)
