"""LangChain's own standard test suites, subclassed with nothing overridden or skipped."""

from __future__ import annotations

from collections.abc import Generator

import pytest
from langchain_colbert_retrieval import ColBERTEmbeddings, ColBERTRetriever, ColBERTVectorStore
from langchain_core.vectorstores import VectorStore
from langchain_tests.integration_tests import (
    EmbeddingsIntegrationTests,
    RetrieversIntegrationTests,
    VectorStoreIntegrationTests,
)
from lc_shared import TEXTS, shared_model

from colbert_retrieval.qdrant import ColBERTIndex


class TestColBERTEmbeddingsIntegration(EmbeddingsIntegrationTests):
    @property
    def embeddings_class(self) -> type[ColBERTEmbeddings]:
        return ColBERTEmbeddings

    @property
    def embedding_model_params(self) -> dict:
        return {"model": shared_model()}


class TestColBERTVectorStore(VectorStoreIntegrationTests):
    @pytest.fixture
    def vectorstore(self) -> Generator[VectorStore, None, None]:  # type: ignore[override]
        index = ColBERTIndex(shared_model(), "standard", store=":memory:")
        # LangChain's suite compares metadata exactly, so it runs without langchain-qdrant's extra _id keys.
        store = ColBERTVectorStore(index, qdrant_metadata=False)
        try:
            yield store
        finally:
            index.close()


_RETRIEVER_INDEX: ColBERTIndex | None = None


def retriever_index() -> ColBERTIndex:
    global _RETRIEVER_INDEX
    if _RETRIEVER_INDEX is None:
        _RETRIEVER_INDEX = ColBERTIndex(shared_model(), "retriever", store=":memory:")
        _RETRIEVER_INDEX.add([{"id": i, "text": t} for i, t in enumerate(TEXTS)])
    return _RETRIEVER_INDEX


class TestColBERTRetriever(RetrieversIntegrationTests):
    @property
    def retriever_constructor(self) -> type[ColBERTRetriever]:
        return ColBERTRetriever

    @property
    def retriever_constructor_params(self) -> dict:
        return {"index": retriever_index(), "k": 2}

    @property
    def retriever_query_example(self) -> str:
        return "what causes scurvy?"
