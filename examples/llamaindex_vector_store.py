"""LlamaIndex's standard path on ColBERT: VectorStoreIndex.from_documents -> as_query_engine().

Run: python examples/llamaindex_vector_store.py ["your question"]

Embedded Qdrant in memory and the offline default model; MockLLM stands in for a real LLM. The store encodes
each node with ColBERT once; NO_EMBEDDING keeps LlamaIndex from running a second embedding model.
"""

from __future__ import annotations

import sys

from llama_index.core import Document, StorageContext, VectorStoreIndex
from llama_index.core.llms import MockLLM
from llama_index.core.node_parser import SentenceSplitter
from llama_index.core.vector_stores.types import MetadataFilter, MetadataFilters
from llama_index.vector_stores.colbert_retrieval import NO_EMBEDDING, ColBERTVectorStore

DOCUMENTS = [
    Document(
        text="Vitamin D is made in the skin under sunlight. Deficiency weakens bones and causes rickets in children.",
        metadata={"topic": "health"},
    ),
    Document(
        text="Lisbon sits on seven hills by the Tagus estuary; trams climb its steep streets.",
        metadata={"topic": "travel"},
    ),
    Document(
        text="Regular exercise lowers blood pressure and improves insulin sensitivity.", metadata={"topic": "health"}
    ),
]


def main(question: str) -> list[str]:
    store = ColBERTVectorStore(location=":memory:", collection_name="llamaindex")  # or path=..., url=...
    index = VectorStoreIndex.from_documents(
        DOCUMENTS,
        storage_context=StorageContext.from_defaults(vector_store=store),
        embed_model=NO_EMBEDDING,
        transformations=[SentenceSplitter(chunk_size=64, chunk_overlap=0)],
    )
    health = MetadataFilters(filters=[MetadataFilter(key="topic", value="health")])
    engine = index.as_query_engine(llm=MockLLM(), similarity_top_k=2, filters=health)
    response = engine.query(question)
    for source in response.source_nodes:
        print(f"{source.score:6.2f}  [{source.node.metadata['topic']}] {source.node.get_content()}")
    store.client.close()
    return [source.node.get_content() for source in response.source_nodes]


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "What does a lack of sunlight do to bones?")
