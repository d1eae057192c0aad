"""Which backend a store address means: an existing client or a URL -> server; otherwise the embedded engine.

Examples:
    >>> backend = make_backend("docs", location=":memory:")
    >>> backend.kind
    'embedded'
    >>> backend.close()
"""

from __future__ import annotations

import logging
from typing import Any

from qdrant_client import QdrantClient

from colbert_retrieval.errors import InvalidArgumentError
from colbert_retrieval.qdrant.backends.base import Backend
from colbert_retrieval.qdrant.backends.edge import EdgeBackend
from colbert_retrieval.qdrant.backends.server import ServerBackend

__all__ = ["DEFAULT_PATH", "make_backend"]

logger = logging.getLogger(__name__)

#: Folder of the embedded store when no location is given.
DEFAULT_PATH = "colbert_index"
_CLUSTER_KEYS = ("shard_number", "sharding_method", "replication_factor", "write_consistency_factor")


def make_backend(
    collection: str,
    *,
    path: str | None = None,
    location: str | None = None,
    url: str | None = None,
    api_key: str | None = None,
    client: QdrantClient | None = None,
    shard_key_selector: Any = None,
    **server_kwargs: Any,
) -> Backend:
    """The backend for a store address.

    Args:
        collection: the collection name.
        path: an embedded store folder (default ``colbert_index``).
        location: ``":memory:"`` for an embedded store in a temporary folder; anything else is a server URL.
        url: a Qdrant server, Qdrant Cloud or cluster URL.
        api_key: the server's API key.
        client: an existing ``QdrantClient`` (wins; left open by the backend's ``close``).
        shard_key_selector: shard key for writes and searches with custom sharding (server).
        server_kwargs: cluster settings of a new collection (``shard_number``, ``sharding_method``,
            ``replication_factor``, ``write_consistency_factor``) and more ``QdrantClient`` arguments.

    Raises:
        InvalidArgumentError: ``QdrantClient`` arguments for an embedded store or alongside ``client``.
    """
    cluster = {k: server_kwargs.pop(k) for k in _CLUSTER_KEYS if k in server_kwargs}
    remote = client is None and (url is not None or (location is not None and location != ":memory:"))
    if server_kwargs and not remote:  # nothing would read them: refuse instead of silently dropping them
        where = "a client passed in" if client is not None else "the embedded store"
        msg = (
            f"Arguments {sorted(server_kwargs)} are QdrantClient options; {where} does not take them "
            "(misspelt? the collection is `collection`)."
        )
        raise InvalidArgumentError(msg)
    if client is not None:
        return ServerBackend(client, collection, shard_key_selector=shard_key_selector, **cluster)
    if url is not None or (location is not None and location != ":memory:"):
        server = QdrantClient(url=url, location=location, api_key=api_key, **server_kwargs)
        return ServerBackend(server, collection, shard_key_selector=shard_key_selector, owns_client=True, **cluster)
    if shard_key_selector is not None or any(v is not None for v in cluster.values()):
        logger.info("Cluster settings are ignored by the embedded store (one shard per collection).")
    return EdgeBackend(None if location == ":memory:" else (path or DEFAULT_PATH), collection)
