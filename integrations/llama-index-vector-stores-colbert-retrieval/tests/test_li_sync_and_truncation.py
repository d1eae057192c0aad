"""What users bring to the LlamaIndex store: long nodes (counted, never cut silently) and an
``IngestionPipeline`` with a docstore re-run after a document changed (upserts: the old nodes are gone)."""

from __future__ import annotations

import os

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from llama_index.core import Document
from llama_index.core.ingestion import DocstoreStrategy, IngestionPipeline
from llama_index.core.node_parser import SentenceSplitter
from llama_index.core.schema import TextNode
from llama_index.core.storage.docstore import SimpleDocumentStore
from llama_index.core.vector_stores.types import VectorStoreQuery
from llama_index.vector_stores.colbert_retrieval import NO_EMBEDDING, ColBERTVectorStore

from colbert_retrieval.errors import TruncationWarning
from colbert_retrieval.pooling import compile_cpu_kernels
from colbert_retrieval.testing import shared_model

MODEL = shared_model()
LONG = "Lemons and limes were carried on long voyages to prevent scurvy. " * 60  # ~780 tokens


def _texts(store: ColBERTVectorStore) -> list[str]:
    result = store.query(VectorStoreQuery(query_str="scurvy vitamin paris sailors", similarity_top_k=20))
    return sorted(node.get_content() for node in result.nodes)


def test_add_warns_about_nodes_longer_than_the_model_reads() -> None:
    store = ColBERTVectorStore(model=MODEL, location=":memory:", collection_name="long")
    # numba compiles the pooling kernels in a background thread under warnings.catch_warnings, which is not
    # thread-safe: a warning raised meanwhile lands in numba's record. Have them ready before asserting one.
    compile_cpu_kernels()
    with pytest.warns(TruncationWarning, match=r"1 longer than the model reads \(256 tokens; first: n-long\)"):
        store.add([TextNode(text=LONG, id_="n-long"), TextNode(text="short", id_="n-short")])


def test_an_ingestion_pipeline_with_a_docstore_upserts_changed_documents() -> None:
    store = ColBERTVectorStore(model=MODEL, location=":memory:", collection_name="pipeline")
    docstore = SimpleDocumentStore()

    def run(documents: list[Document]) -> None:
        IngestionPipeline(
            # NO_EMBEDDING: LlamaIndex hands the vector store only nodes with an embedding; the store encodes them.
            transformations=[SentenceSplitter(chunk_size=64, chunk_overlap=0), NO_EMBEDDING],
            vector_store=store,
            docstore=docstore,
            docstore_strategy=DocstoreStrategy.UPSERTS,
        ).run(documents=documents)

    run(
        [
            Document(text="Scurvy comes from a lack of vitamin C.", id_="a"),
            Document(text="Paris is in France.", id_="b"),
        ]
    )
    run([Document(text="Scurvy is a disease of sailors.", id_="a"), Document(text="Paris is in France.", id_="b")])
    assert _texts(store) == ["Paris is in France.", "Scurvy is a disease of sailors."]
