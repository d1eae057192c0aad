"""Storage backends of the index. Rule: the index talks to storage only through :class:`Backend`.

* :class:`EdgeBackend`: Qdrant's engine in-process (``qdrant-edge-py``), the default for ``path=`` and
  ``location=":memory:"``;
* :class:`ServerBackend`: a Qdrant server, Qdrant Cloud or cluster (``url=``, or any ``QdrantClient``);
* :func:`make_backend`: which of the two a store address means.

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
    open_collection,
)
from colbert_retrieval.qdrant.backends._edge import EdgeBackend
from colbert_retrieval.qdrant.backends._factory import DEFAULT_PATH, Store, make_backend
from colbert_retrieval.qdrant.backends._server import ServerBackend

__all__ = [
    "DEFAULT_PATH",
    "Backend",
    "Candidates",
    "EdgeBackend",
    "PointData",
    "QueryPlan",
    "ServerBackend",
    "Store",
    "StoredPoint",
    "make_backend",
    "open_collection",
]
