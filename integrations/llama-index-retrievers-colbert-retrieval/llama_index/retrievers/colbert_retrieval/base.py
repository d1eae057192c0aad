"""``ColBERTRetriever``: LlamaIndex retriever over the colbert-retrieval Qdrant index."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

from llama_index.core.base.base_retriever import BaseRetriever
from llama_index.core.callbacks import CallbackManager
from llama_index.core.schema import NodeWithScore, QueryBundle
from llama_index.core.vector_stores.types import MetadataFilters
from llama_index.retrievers.colbert_retrieval.filters import to_qdrant_filter
from llama_index.retrievers.colbert_retrieval.ingest import node_from_hit

from colbert_retrieval.qdrant import ColBERTIndex, SearchConfig, SearchHit, SearchMode

__all__ = ["ColBERTRetriever"]


class ColBERTRetriever(BaseRetriever):
    """ColBERT search in Qdrant (hybrid BM25 + ColBERT by default) returning the stored nodes.

    Args:
        index: a ``colbert_retrieval.qdrant.ColBERTIndex`` filled with :func:`add_nodes`.
        similarity_top_k: number of nodes.
        filters: LlamaIndex ``MetadataFilters`` (translated to a Qdrant filter).
        mode: ``"hybrid"``, ``"colbert"`` (first stage + MaxSim) or ``"exact"``; None: the index's default.
        config: more search settings, passed to ``ColBERTIndex.search`` as they are (a ``SearchConfig`` or a
            dict of its fields); ``mode`` wins over its mode.
        score_scale: ``"cosine"`` (default: mean MaxSim per query token, at most 1), ``"raw"`` (the index's
            ranking score) or ``"relevance"`` (the calibrated probability of being relevant, for a model with a
            relevance calibration) for ``NodeWithScore.score``.
        similarity_cutoff: keep nodes whose score (on ``score_scale``) is at least this (LlamaIndex's name, as in
            ``SimilarityPostprocessor``); on the relevance scale it is the index's ``min_relevance``.
        highlights: put the words each node matched into ``node.metadata["highlights"]`` (``start``/``end``
            offsets into ``node.text``, ``text``, ``query_tokens``, ``share``; hidden from the LLM); off by
            default (it reads the hits' stored vectors back: one more call to the store).
        callback_manager: LlamaIndex callbacks.

    Examples:
        >>> from colbert_retrieval import default_model
        >>> from colbert_retrieval.qdrant import ColBERTIndex
        >>> from llama_index.core.schema import TextNode
        >>> from llama_index.retrievers.colbert_retrieval import ColBERTRetriever, add_nodes
        >>> index = ColBERTIndex(default_model(), "nodes", store=":memory:")
        >>> _ = add_nodes(index, [TextNode(text="Scurvy: no vitamin C.", id_="n1"), TextNode(text="Paris.", id_="n2")])
        >>> ColBERTRetriever(index, similarity_top_k=1).retrieve("vitamin C deficiency")[0].node.node_id
        'n1'
    """

    def __init__(
        self,
        index: ColBERTIndex,
        similarity_top_k: int = 10,
        filters: MetadataFilters | None = None,
        mode: str | None = None,
        config: SearchConfig | Mapping[str, Any] | None = None,
        score_scale: str = "cosine",
        similarity_cutoff: float | None = None,
        highlights: bool = False,
        callback_manager: CallbackManager | None = None,
        **kwargs: Any,
    ) -> None:
        self._index = index
        self.similarity_top_k = similarity_top_k
        self.filters = filters
        self.mode = None if mode is None else SearchMode.of(mode).value
        SearchHit.check_scale(score_scale)
        self.config = config
        self.score_scale = score_scale
        self.similarity_cutoff = similarity_cutoff
        self.highlights = highlights
        super().__init__(callback_manager=callback_manager, **kwargs)

    @property
    def index(self) -> ColBERTIndex:
        """The ColBERT index."""
        return self._index

    def _retrieve(self, query_bundle: QueryBundle) -> list[NodeWithScore]:
        config = self.config
        if self.mode is not None:
            config = SearchConfig.with_mode(config, self.mode)
        if self.score_scale == "relevance":  # the index filters: the same hits as index.search(min_relevance=)
            config = SearchConfig.with_fields(config, min_relevance=self.similarity_cutoff)
        if self.highlights:
            config = SearchConfig.with_fields(config, highlights=True)
        condition = to_qdrant_filter(self.filters, self._index.settings.metadata_key)
        hits = self._index.search(query_bundle.query_str, k=self.similarity_top_k, filter=condition, config=config)
        scored = [(hit, hit.score_on(self.score_scale)) for hit in hits]
        cutoff = self.similarity_cutoff
        return [
            NodeWithScore(node=node_from_hit(hit), score=score)
            for hit, score in scored
            if cutoff is None or score >= cutoff
        ]

    async def _aretrieve(self, query_bundle: QueryBundle) -> list[NodeWithScore]:
        return await asyncio.to_thread(self._retrieve, query_bundle)
