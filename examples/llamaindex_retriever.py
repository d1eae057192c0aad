"""LlamaIndex: ingest documents through a node parser into the Qdrant ColBERT index and query them.

Run: python examples/llamaindex_retriever.py ["your question"]

Embedded Qdrant in memory and the offline default model; MockLLM stands in for a real LLM.
"""

from __future__ import annotations

import sys

from llama_index.core.ingestion import IngestionPipeline
from llama_index.core.llms import MockLLM
from llama_index.core.node_parser import SentenceSplitter
from llama_index.core.query_engine import RetrieverQueryEngine
from llama_index.core.schema import Document
from llama_index.core.vector_stores.types import MetadataFilter, MetadataFilters
from llama_index.retrievers.colbert_retrieval import ColBERTIndexWriter, ColBERTRetriever

from colbert_retrieval import default_model
from colbert_retrieval.qdrant import ColBERTIndex

DOCUMENTS = [
    Document(
        text="Scurvy is a disease resulting from a lack of vitamin C. Sailors once carried limes to prevent it.",
        metadata={"topic": "health"},
    ),
    Document(text="Paris is the capital of France. The Seine flows through the city.", metadata={"topic": "travel"}),
    Document(text="Statins lower LDL cholesterol and the risk of heart attacks.", metadata={"topic": "health"}),
]


def main(question: str) -> list[str]:
    index = ColBERTIndex(default_model(), "llamaindex", store=":memory:")  # or path="colbert_index"
    pipeline = IngestionPipeline(
        transformations=[SentenceSplitter(chunk_size=64, chunk_overlap=0), ColBERTIndexWriter(index=index)]
    )
    nodes = pipeline.run(documents=DOCUMENTS)
    print(f"indexed {len(nodes)} nodes")
    retriever = ColBERTRetriever(
        index, similarity_top_k=2, filters=MetadataFilters(filters=[MetadataFilter(key="topic", value="health")])
    )
    engine = RetrieverQueryEngine.from_args(retriever, llm=MockLLM())
    response = engine.query(question)
    for source in response.source_nodes:
        print(f"{source.score:6.2f}  [{source.node.metadata['topic']}] {source.node.get_content()}")
    return [source.node.get_content() for source in response.source_nodes]


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "What does a lack of vitamin C cause?")
