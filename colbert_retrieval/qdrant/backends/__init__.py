"""Storage backends of the index. Rule: the index talks to storage only through :class:`Backend`.

* :class:`EdgeBackend`: Qdrant's engine in-process (``qdrant-edge-py``), for a folder (``store="path"``, the
  default) and ``store=":memory:"``;
* :class:`ServerBackend`: a Qdrant server, Qdrant Cloud or cluster (``store="http://..."``, ``Store(url=...)``,
  or any ``QdrantClient``);
* :func:`make_backend`: which of the two a store address (``Store``) means.

Examples:
    >>> from colbert_retrieval.qdrant.backends import EdgeBackend, ServerBackend
    >>> EdgeBackend.kind, ServerBackend.kind
    ('embedded', 'server')
"""

from __future__ import annotations

from colbert_retrieval.qdrant.backends._base import (
    Backend,
    Candidates,
    PointData,
    QueryPlan,
    StoredPoint,
)
from colbert_retrieval.qdrant.backends._edge import EdgeBackend
from colbert_retrieval.qdrant.backends._factory import make_backend
from colbert_retrieval.qdrant.backends._server import ServerBackend

__all__ = [
    "Backend",
    "Candidates",
    "EdgeBackend",
    "PointData",
    "QueryPlan",
    "ServerBackend",
    "StoredPoint",
    "make_backend",
]

# For the index's own modules (Store and DEFAULT_PATH are public from colbert_retrieval.qdrant: one name each).
from colbert_retrieval.qdrant.backends._base import open_collection as open_collection
from colbert_retrieval.qdrant.backends._factory import API_KEY_VARIABLE as API_KEY_VARIABLE
from colbert_retrieval.qdrant.backends._factory import DEFAULT_PATH as DEFAULT_PATH
from colbert_retrieval.qdrant.backends._factory import Store as Store
