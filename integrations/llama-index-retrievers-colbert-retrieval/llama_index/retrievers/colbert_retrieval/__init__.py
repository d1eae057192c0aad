"""ColBERT retriever for LlamaIndex (``pip install llama-index-retrievers-colbert-retrieval``)."""

from llama_index.retrievers.colbert_retrieval.base import ColBERTRetriever
from llama_index.retrievers.colbert_retrieval.filters import to_qdrant_filter
from llama_index.retrievers.colbert_retrieval.ingest import ColBERTIndexWriter, add_nodes

__all__ = ["ColBERTIndexWriter", "ColBERTRetriever", "add_nodes", "to_qdrant_filter"]
