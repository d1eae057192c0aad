"""``ColBERTRerank``: rerank any retriever's documents with ColBERT MaxSim."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from langchain_core.callbacks import Callbacks
from langchain_core.documents import BaseDocumentCompressor, Document
from pydantic import ConfigDict, PrivateAttr

from colbert_retrieval import ColBERT, load_model

__all__ = ["RERANK_SCORE_KEY", "ColBERTRerank"]

#: Metadata key of the MaxSim score on reranked documents (LangChain rerankers' convention).
RERANK_SCORE_KEY = "relevance_score"


class ColBERTRerank(BaseDocumentCompressor):
    """Rerank documents with real ColBERT MaxSim (batched), for ``ContextualCompressionRetriever``.

    Setup:
        ``pip install langchain-colbert-retrieval``

    Key init args:
        model: a ``colbert_retrieval.ColBERT``, a model name or path, or None for the offline default model.
        top_n: documents kept (best first).
        batch_size: documents per forward pass.
        device: where to run the model.

    Instantiate:
        .. code-block:: python

            from langchain_classic.retrievers import ContextualCompressionRetriever  # or langchain.retrievers
            from langchain_colbert_retrieval import ColBERTRerank

            reranker = ColBERTRerank(top_n=3)
            retriever = ContextualCompressionRetriever(base_compressor=reranker, base_retriever=any_retriever)

    Use:
        .. code-block:: python

            reranker.compress_documents(documents, "what causes scurvy?")
            # new Document objects, best first, with metadata["relevance_score"] (MaxSim)

    Async:
        .. code-block:: python

            await reranker.acompress_documents(documents, "what causes scurvy?")

    Input documents are never mutated: the results are copies with the score added to their metadata.
    """

    model: Any = None
    top_n: int | None = 3
    batch_size: int = 32
    device: str | None = None

    model_config = ConfigDict(arbitrary_types_allowed=True, protected_namespaces=())
    _encoder: ColBERT = PrivateAttr()

    def model_post_init(self, context: Any, /) -> None:
        """Load the encoder."""
        self._encoder = load_model(self.model, device=self.device)

    def compress_documents(
        self, documents: Sequence[Document], query: str, callbacks: Callbacks | None = None
    ) -> Sequence[Document]:
        """Documents reranked by MaxSim against the query, best first, at most ``top_n``."""
        texts = [d.page_content for d in documents]
        ranked = self._encoder.rank(query, texts, top_k=self.top_n, batch_size=self.batch_size)
        return [
            Document(
                page_content=documents[hit["corpus_id"]].page_content,
                metadata={**documents[hit["corpus_id"]].metadata, RERANK_SCORE_KEY: hit["score"]},
                id=documents[hit["corpus_id"]].id,
            )
            for hit in ranked
        ]

    async def acompress_documents(
        self, documents: Sequence[Document], query: str, callbacks: Callbacks | None = None
    ) -> Sequence[Document]:
        """Async :meth:`compress_documents` (runs in a worker thread)."""
        return await asyncio.to_thread(self.compress_documents, documents, query, callbacks)
