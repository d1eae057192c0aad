"""The index: ColBERT documents in Qdrant (extra: ``pip install "colbert-retrieval[qdrant]"``).

Rule: storage is reached only through a backend (:mod:`.backends`: Qdrant's engine in-process, or a Qdrant
server); what is stored and how it is searched (:mod:`.schema`, :mod:`.search`) is the same for both.

Examples:
    >>> from colbert_retrieval.qdrant import ColBERTIndex
    >>> ColBERTIndex.__name__
    'ColBERTIndex'
"""

from __future__ import annotations

try:
    import qdrant_client  # noqa: F401
    import qdrant_edge  # noqa: F401
except ImportError as error:  # pragma: no cover - exercised by tests with the module hidden
    from colbert_retrieval._extras import missing_extra

    package = {"qdrant_edge": "qdrant-edge-py"}.get(error.name or "", "qdrant-client")
    raise missing_extra("qdrant", package) from error

from colbert_retrieval.qdrant.backends.factory import DEFAULT_PATH, Store
from colbert_retrieval.qdrant.index import ColBERTIndex
from colbert_retrieval.qdrant.ingest import IngestSummary
from colbert_retrieval.qdrant.migration import MigrationSummary, migrate
from colbert_retrieval.qdrant.schema import IndexSettings, Schema
from colbert_retrieval.qdrant.search import SearchConfig, SearchMode
from colbert_retrieval.qdrant.searcher import SearchHit
from colbert_retrieval.qdrant.storage import Storage, StoragePreset
from colbert_retrieval.records import Record

__all__ = [
    "DEFAULT_PATH",
    "ColBERTIndex",
    "IndexSettings",
    "IngestSummary",
    "MigrationSummary",
    "Record",
    "Schema",
    "SearchConfig",
    "SearchHit",
    "SearchMode",
    "Storage",
    "StoragePreset",
    "Store",
    "migrate",
]
