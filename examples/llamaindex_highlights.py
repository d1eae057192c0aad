"""LlamaIndex: show which words of each retrieved node matched the question (highlights).

Run: python examples/llamaindex_highlights.py ["your question"]

``ColBERTRetriever(index, highlights=True)`` (or ``ColBERTVectorStore(..., highlights=True)``) puts the matched
words into ``node.metadata["highlights"]`` (offsets into ``node.text``), hidden from the LLM and the embedding.
"""

from __future__ import annotations

import sys

from llama_index.core.schema import TextNode
from llama_index.retrievers.colbert_retrieval import ColBERTRetriever, add_nodes

from colbert_retrieval import default_model
from colbert_retrieval.qdrant import ColBERTIndex


def main(question: str = "what causes scurvy") -> list[tuple[str, list[str]]]:
    index = ColBERTIndex(default_model(), "nodes", store=":memory:")
    add_nodes(index, [TextNode(text="Scurvy is caused by a lack of vitamin C."), TextNode(text="Paris is in France.")])
    node = ColBERTRetriever(index, similarity_top_k=1, highlights=True).retrieve(question)[0].node
    spans = [(span["text"], span["query_tokens"]) for span in node.metadata["highlights"]]
    print(spans)  # e.g. [('Scurvy', ['scurvy'])]
    index.close()
    return spans


if __name__ == "__main__":
    main(*sys.argv[1:2])
