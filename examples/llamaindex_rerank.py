"""LlamaIndex: rerank a VectorStoreIndex's candidates with ColBERT MaxSim inside a query engine.

Run: python examples/llamaindex_rerank.py ["your question"]

Offline this uses LlamaIndex's MockLLM and MockEmbedding (random first stage); swap in a real LLM and
embedding model (Settings.llm, Settings.embed_model) for real answers.
"""

from __future__ import annotations

import sys

from llama_index.core import VectorStoreIndex
from llama_index.core.embeddings import MockEmbedding
from llama_index.core.llms import MockLLM
from llama_index.core.schema import TextNode
from llama_index.postprocessor.colbert_retrieval import ColBERTRerank

TEXTS = [
    "Scurvy is a disease resulting from a lack of vitamin C.",
    "Citrus fruits such as oranges and lemons are rich in vitamin C.",
    "Statins lower LDL cholesterol and the risk of heart attacks.",
    "Paris is the capital and most populous city of France.",
    "Sailors once carried limes on long voyages to prevent scurvy.",
]


def main(question: str) -> list[str]:
    nodes = [TextNode(text=text, id_=f"node-{i}") for i, text in enumerate(TEXTS)]
    index = VectorStoreIndex(nodes, embed_model=MockEmbedding(embed_dim=16))
    reranker = ColBERTRerank(top_n=2)  # the offline default model; or model="lightonai/GTE-ModernColBERT-v1"
    engine = index.as_query_engine(similarity_top_k=5, node_postprocessors=[reranker], llm=MockLLM())
    response = engine.query(question)
    for source in response.source_nodes:
        print(f"{source.score:6.2f}  {source.node.get_content()}")
    return [source.node.node_id for source in response.source_nodes]


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "What does a lack of vitamin C cause?")
