"""The index: ColBERT documents in Qdrant (extra: ``pip install "colbert-retrieval[qdrant]"``).

Rule: storage is reached only through a backend (:mod:`.backends`: Qdrant's engine in-process, or a Qdrant
server), chosen by the store's address (:class:`Store`); what is stored and how it is searched (:class:`Schema`,
:class:`Storage`, :class:`SearchConfig`) is the same for both.

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

from colbert_retrieval.qdrant._index import ColBERTIndex
from colbert_retrieval.qdrant._migration import MigrationSummary, migrate
from colbert_retrieval.qdrant._plans import SearchConfig, SearchMode
from colbert_retrieval.qdrant._schema import IndexSettings, Schema
from colbert_retrieval.qdrant._searcher import SearchHit
from colbert_retrieval.qdrant._storage import Storage, StoragePreset
from colbert_retrieval.qdrant._sync import SourceSync, SyncSummary
from colbert_retrieval.qdrant._writer_steps import IngestSummary
from colbert_retrieval.qdrant.backends import DEFAULT_PATH, Store

__all__ = [
    "DEFAULT_PATH",
    "ColBERTIndex",
    "IndexSettings",
    "IngestSummary",
    "MigrationSummary",
    "Schema",
    "SearchConfig",
    "SearchHit",
    "SearchMode",
    "SourceSync",
    "Storage",
    "StoragePreset",
    "Store",
    "SyncSummary",
    "migrate",
]

# For the sibling packages of colbert_retrieval (not public API: not in __all__, may change without notice).
from colbert_retrieval.qdrant._bm25 import SparseVector as SparseVector
from colbert_retrieval.qdrant._highlights import SPANS_KEY as SPANS_KEY
from colbert_retrieval.qdrant._highlights import Highlight as Highlight
from colbert_retrieval.qdrant._schema import (
    check_compatible as check_compatible,
)
from colbert_retrieval.qdrant._schema import (
    encoding_settings as encoding_settings,
)
from colbert_retrieval.qdrant._schema import (
    settings_for as settings_for,
)
from colbert_retrieval.qdrant._searcher import SCORE_SCALES as SCORE_SCALES
from colbert_retrieval.qdrant._writer import PointEncoder as PointEncoder
from colbert_retrieval.qdrant._writer_steps import NAMED_IDS as NAMED_IDS
from colbert_retrieval.qdrant._writer_steps import Truncated as Truncated
from colbert_retrieval.qdrant._writer_steps import chunked as chunked
from colbert_retrieval.qdrant._writer_steps import warn_truncated as warn_truncated
