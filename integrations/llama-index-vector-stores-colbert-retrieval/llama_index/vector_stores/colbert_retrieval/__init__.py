"""ColBERT vector store for LlamaIndex (``pip install llama-index-vector-stores-colbert-retrieval``)."""

from llama_index.vector_stores.colbert_retrieval.base import NO_EMBEDDING, ColBERTVectorStore

__all__ = ["NO_EMBEDDING", "ColBERTVectorStore"]
