"""LangChain integration of colbert-retrieval.

Examples:
    >>> import langchain_colbert_retrieval
    >>> sorted(langchain_colbert_retrieval.__all__)[0]
    'ColBERTEmbeddings'
"""

from __future__ import annotations

from langchain_colbert_retrieval.compressors import ColBERTReranker
from langchain_colbert_retrieval.embeddings import ColBERTEmbeddings
from langchain_colbert_retrieval.retrievers import ColBERTRetriever
from langchain_colbert_retrieval.vectorstores import ColBERTVectorStore

__all__ = ["ColBERTEmbeddings", "ColBERTReranker", "ColBERTRetriever", "ColBERTVectorStore"]
