"""ColBERT reranker for LlamaIndex (``pip install llama-index-postprocessor-colbert-retrieval``)."""

from llama_index.postprocessor.colbert_retrieval.base import ColBERTRerank

__all__ = ["ColBERTRerank"]
