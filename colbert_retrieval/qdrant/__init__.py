"""Qdrant multivector index (extra: ``pip install "colbert-retrieval[qdrant]"``).

Examples:
    >>> from colbert_retrieval.qdrant import ColBERTIndex
    >>> ColBERTIndex.__name__
    'ColBERTIndex'
"""

from __future__ import annotations

try:
    import qdrant_client  # noqa: F401
except ImportError as error:  # pragma: no cover - exercised by tests with the module hidden
    from colbert_retrieval._extras import missing_extra

    raise missing_extra("qdrant", "qdrant-client") from error

from colbert_retrieval.qdrant.index import DEFAULT_PATH, ColBERTIndex, SearchHit
from colbert_retrieval.qdrant.ingest import IngestSummary
from colbert_retrieval.qdrant.records import Record
from colbert_retrieval.qdrant.schema import IndexSettings

__all__ = ["DEFAULT_PATH", "ColBERTIndex", "IndexSettings", "IngestSummary", "Record", "SearchHit"]
