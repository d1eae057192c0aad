"""LangChain integration of colbert-retrieval.

Examples:
    >>> import langchain_colbert_retrieval
    >>> sorted(langchain_colbert_retrieval.__all__)[0]
    'ColBERTEmbeddings'
"""

from __future__ import annotations

import warnings

from langchain_colbert_retrieval.compressors import ColBERTRerank
from langchain_colbert_retrieval.embeddings import ColBERTEmbeddings
from langchain_colbert_retrieval.retrievers import ColBERTRetriever
from langchain_colbert_retrieval.vectorstores import ColBERTVectorStore

__all__ = ["ColBERTEmbeddings", "ColBERTRerank", "ColBERTRetriever", "ColBERTVectorStore"]


def __getattr__(name: str) -> object:
    """``ColBERTReranker``, the 0.1 name of :class:`ColBERTRerank`, kept for one release (removed in 0.3)."""
    if name == "ColBERTReranker":
        message = "ColBERTReranker is deprecated; use ColBERTRerank (LangChain's naming, like CohereRerank)."
        warnings.warn(message, DeprecationWarning, stacklevel=2)
        return ColBERTRerank
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
