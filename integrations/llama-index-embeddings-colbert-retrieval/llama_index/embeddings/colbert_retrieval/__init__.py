"""Single-vector ColBERT embeddings for LlamaIndex (``pip install llama-index-embeddings-colbert-retrieval``)."""

from llama_index.embeddings.colbert_retrieval.base import ColBERTEmbedding

__all__ = ["ColBERTEmbedding"]
