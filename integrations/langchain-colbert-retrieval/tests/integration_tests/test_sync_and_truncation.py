"""What users bring to the LangChain store: long texts (counted, never cut silently) and LangChain's own sync
API (``langchain_core.indexing.index`` with a record manager), which must keep serving no stale text."""

from __future__ import annotations

import pytest
from langchain_colbert_retrieval import ColBERTVectorStore
from langchain_core.documents import Document
from langchain_core.indexing import InMemoryRecordManager, index
from lc_shared import TEXTS, shared_model

from colbert_retrieval.errors import TruncationWarning
from colbert_retrieval.pooling import compile_cpu_kernels
from colbert_retrieval.qdrant import ColBERTIndex

LONG = "Lemons and limes were carried on long voyages to prevent scurvy. " * 60  # ~780 tokens


def _store() -> ColBERTVectorStore:
    return ColBERTVectorStore.from_texts(TEXTS[:1], model=shared_model(), location=":memory:")


def test_add_texts_and_add_documents_warn_about_texts_longer_than_the_model_reads() -> None:
    store = _store()
    # numba compiles the pooling kernels in a background thread under warnings.catch_warnings, which is not
    # thread-safe: a warning raised meanwhile lands in numba's record. Have them ready before asserting one.
    compile_cpu_kernels()
    with pytest.warns(TruncationWarning, match=r"1 longer than the model reads \(256 tokens; first: long-1\)"):
        store.add_texts([LONG, "short"], ids=["long-1", "short-1"])
    with pytest.warns(TruncationWarning, match="first: long-2"):
        store.add_documents([Document(page_content=LONG, id="long-2")])


@pytest.mark.parametrize("cleanup", ["incremental", "full"])
def test_langchain_indexing_api_syncs_the_store(cleanup: str) -> None:
    store = ColBERTVectorStore(ColBERTIndex(shared_model(), "synced", store=":memory:"))
    manager = InMemoryRecordManager(namespace="colbert/test")
    manager.create_schema()
    docs = [
        Document(page_content="Scurvy comes from a lack of vitamin C.", metadata={"source": "a.md"}),
        Document(page_content="Paris is the capital of France.", metadata={"source": "b.md"}),
    ]
    first = index(docs, manager, store, cleanup=cleanup, source_id_key="source")
    assert (first["num_added"], first["num_deleted"]) == (2, 0)
    edited = [Document(page_content="Scurvy is a disease of sailors.", metadata={"source": "a.md"}), docs[1]]
    second = index(edited, manager, store, cleanup=cleanup, source_id_key="source")
    assert (second["num_added"], second["num_skipped"], second["num_deleted"]) == (1, 1, 1)
    texts = [d.page_content for d in store.similarity_search("scurvy vitamin paris", k=10)]
    assert sorted(texts) == ["Paris is the capital of France.", "Scurvy is a disease of sailors."]
