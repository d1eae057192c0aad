"""``ColBERTRetriever``: a LangChain retriever over the colbert-retrieval Qdrant index."""

from __future__ import annotations

import asyncio
from typing import Any

from langchain_core.callbacks import AsyncCallbackManagerForRetrieverRun, CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from pydantic import ConfigDict

from colbert_retrieval.qdrant import ColBERTIndex, SearchConfig, SearchHit, SearchMode
from langchain_colbert_retrieval._qdrant_args import to_document

__all__ = ["SCORE_KEY", "ColBERTRetriever"]

#: Metadata key of the MaxSim score on retrieved documents.
SCORE_KEY = "score"


class ColBERTRetriever(BaseRetriever):
    """Retrieve documents from a ColBERT index (hybrid BM25 + ColBERT search by default, MaxSim in Qdrant).

    Setup:
        ``pip install langchain-colbert-retrieval``

    Key init args:
        index: a ``colbert_retrieval.qdrant.ColBERTIndex``.
        k: number of documents (also accepted per call: ``retriever.invoke(query, k=2)``).
        filter: a dict of metadata conditions or a Qdrant ``Filter`` (also per call).
        mode: ``"hybrid"`` (BM25 + ColBERT, the index's default), ``"colbert"`` (first stage + MaxSim) or
            ``"exact"`` (MaxSim over every document); None: the index's default.
        config: more search settings, passed to ``ColBERTIndex.search`` as they are (a ``SearchConfig`` or a
            dict of its fields); ``mode`` wins over its mode.
        score_scale: ``"cosine"`` (default: mean MaxSim per query token, at most 1) or ``"raw"`` (the index's
            ranking score) for ``metadata["score"]``.
        highlights: put the words each document matched into ``metadata["highlights"]`` (``start``/``end``
            offsets into ``page_content``, ``text``, ``query_tokens``, ``share``); off by default (it reads the
            hits' stored vectors back: one more call to the store).

    Instantiate:
        .. code-block:: python

            from colbert_retrieval import default_model
            from colbert_retrieval.qdrant import ColBERTIndex
            from langchain_colbert_retrieval import ColBERTRetriever

            index = ColBERTIndex(default_model(), "docs", store=":memory:")
            index.add(["Scurvy is caused by a lack of vitamin C.", "Paris is in France."])
            retriever = ColBERTRetriever(index=index, k=1)

    Use:
        .. code-block:: python

            retriever.invoke("vitamin C deficiency")
            # [Document(id=None, metadata={'score': 0.41}, page_content='Scurvy is caused by ...')]

    Async:
        .. code-block:: python

            await retriever.ainvoke("vitamin C deficiency", k=2)

    The score is in ``metadata["score"]`` (higher is better; on ``score_scale``).
    """

    index: ColBERTIndex
    k: int = 4
    filter: Any = None
    mode: str | None = None
    config: Any = None
    score_scale: str = "cosine"
    highlights: bool = False

    model_config = ConfigDict(arbitrary_types_allowed=True)

    def model_post_init(self, context: Any, /) -> None:
        """Check the mode and the score scale now, not at the first query."""
        if self.mode is not None:
            SearchMode.of(self.mode)
        SearchHit.check_scale(self.score_scale)

    def _search(self, query: str, k: int | None, filter: Any) -> list[Document]:
        config = self.config
        if self.mode is not None:
            config = SearchConfig.with_mode(config, self.mode)
        if self.highlights:
            config = SearchConfig.with_fields(config, highlights=True)
        hits = self.index.search(
            query,
            k=k if k is not None else self.k,
            filter=filter if filter is not None else self.filter,
            config=config,
        )
        documents = []
        for hit in hits:
            document = to_document(hit)
            document.metadata[SCORE_KEY] = hit.score_on(self.score_scale)
            documents.append(document)
        return documents

    def _get_relevant_documents(
        self, query: str, *, run_manager: CallbackManagerForRetrieverRun, k: int | None = None, filter: Any = None
    ) -> list[Document]:
        return self._search(query, k, filter)

    async def _aget_relevant_documents(
        self,
        query: str,
        *,
        run_manager: AsyncCallbackManagerForRetrieverRun,
        k: int | None = None,
        filter: Any = None,
    ) -> list[Document]:
        return await asyncio.to_thread(self._search, query, k, filter)
