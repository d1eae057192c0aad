"""Where an index lives (:class:`Store`), and the backend that address means.

An existing client or a URL means a server; a folder (default ``colbert_index``) or ``":memory:"`` means Qdrant's
engine in-process.

Examples:
    >>> Store.of(":memory:").embedded, Store.of("http://localhost:6333").url
    (True, 'http://localhost:6333')
    >>> backend = make_backend("docs", Store.of(":memory:"))
    >>> backend.kind
    'embedded'
    >>> backend.close()
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from qdrant_client import QdrantClient

from colbert_retrieval.errors import InputTypeError, InvalidArgumentError
from colbert_retrieval.qdrant.backends._base import Backend
from colbert_retrieval.qdrant.backends._edge import EdgeBackend
from colbert_retrieval.qdrant.backends._server import ServerBackend

__all__ = ["API_KEY_VARIABLE", "DEFAULT_PATH", "MEMORY", "Store", "make_backend"]

logger = logging.getLogger(__name__)

#: Folder of the embedded store when no address is given.
DEFAULT_PATH = "colbert_index"
#: The address of an embedded store in a temporary folder (removed on close).
MEMORY = ":memory:"
#: The environment variable the command line (and the Ray workers) read a server's API key from.
API_KEY_VARIABLE = "QDRANT_API_KEY"
_SCHEMES = ("http://", "https://", "grpc://", "grpcs://")
_WRITE_ORDERINGS = ("weak", "medium", "strong")


@dataclass(frozen=True)
class Store:
    """Where an index lives: an embedded folder, a Qdrant server (or cluster), or an existing client.

    Give one of ``path``, ``url`` or ``client`` (none: the embedded folder ``colbert_index``). A plain string or
    client works wherever a ``Store`` is taken (:meth:`of`).

    Args:
        path: folder of the embedded store (Qdrant's engine in-process), or ``":memory:"`` for a temporary one.
        url: a Qdrant server, Qdrant Cloud or cluster URL.
        api_key: the server's API key (never logged; not in ``repr``).
        api_key_env: the name of an environment variable holding the API key, read when a client opens (so a
            store shipped to Ray workers carries the name, never the key); ``api_key`` wins when both are set.
        client: an existing ``QdrantClient`` (local mode works too); the index leaves it open on close.
        options: more ``QdrantClient`` arguments for ``url`` (``timeout``, ``prefer_grpc``, ...).
        shard_number: shards of a new collection (cluster).
        sharding_method: ``auto`` or ``custom`` sharding of a new collection (cluster).
        replication_factor: copies of each shard of a new collection (cluster).
        write_consistency_factor: replicas that must confirm a write (cluster).
        shard_key_selector: shard key of writes and searches with custom sharding.
        write_ordering: ``weak``, ``medium`` or ``strong``: Qdrant's ordering guarantee for writes to replicated
            shards (None: the server's default, weak; the embedded engine writes in order anyway).

    Examples:
        >>> Store(url="https://xyz.cloud.qdrant.io", api_key="secret")
        Store(url='https://xyz.cloud.qdrant.io')
        >>> Store(url="http://qdrant:6333", api_key_env="QDRANT_API_KEY", write_ordering="strong").write_ordering
        'strong'
    """

    path: str | os.PathLike[str] | None = None
    url: str | None = None
    api_key: str | None = None
    client: QdrantClient | None = None
    options: Mapping[str, Any] = field(default_factory=dict)
    shard_number: int | None = None
    sharding_method: Any = None
    replication_factor: int | None = None
    write_consistency_factor: int | None = None
    shard_key_selector: Any = None
    api_key_env: str | None = None
    write_ordering: str | None = None

    def __post_init__(self) -> None:
        given = [name for name in ("path", "url", "client") if getattr(self, name) is not None]
        if len(given) > 1:
            msg = f"A Store is one of path, url or client; got {', '.join(given)}."
            raise InvalidArgumentError(msg)
        if self.options and self.url is None:
            msg = (
                f"options {sorted(self.options)} are QdrantClient arguments for a server url; "
                f"{'a client passed in' if self.client is not None else 'the embedded store'} does not take them."
            )
            raise InvalidArgumentError(msg)
        if self.write_ordering is not None and str(self.write_ordering) not in _WRITE_ORDERINGS:
            msg = f"write_ordering must be one of {', '.join(_WRITE_ORDERINGS)}, got {self.write_ordering!r}."
            raise InvalidArgumentError(msg)

    def __repr__(self) -> str:
        names = ("path", "url", "client", "options", "shard_number", "sharding_method", "replication_factor")
        names += ("write_consistency_factor", "shard_key_selector", "api_key_env", "write_ordering")
        shown = {name: getattr(self, name) for name in names if getattr(self, name)}
        return f"Store({', '.join(f'{name}={value!r}' for name, value in shown.items())})"

    @property
    def embedded(self) -> bool:
        """Whether this address means Qdrant's engine in-process."""
        return self.url is None and self.client is None

    @classmethod
    def of(cls, value: str | os.PathLike[str] | QdrantClient | Store | None) -> Store:
        """A store from what a user wrote: a Store, a client, a URL, a folder, ``":memory:"`` or None (default folder).

        Raises:
            InputTypeError: anything else.
        """
        if value is None:
            return cls()
        if isinstance(value, Store):
            return value
        if isinstance(value, QdrantClient):
            return cls(client=value)
        if isinstance(value, str) and value.startswith(_SCHEMES):
            return cls(url=value)
        if isinstance(value, (str, os.PathLike)):
            return cls(path=value)
        msg = (
            f"store must be a folder, ':memory:', a server URL, a QdrantClient or a Store, got {type(value).__name__}."
        )
        raise InputTypeError(msg)

    @classmethod
    def from_client_arguments(
        cls,
        *,
        location: str | None = None,
        url: str | None = None,
        path: str | os.PathLike[str] | None = None,
        host: str | None = None,
        api_key: str | None = None,
        client: QdrantClient | None = None,
        **options: Any,
    ) -> Store:
        """A store from ``QdrantClient``'s own arguments (what langchain-qdrant and LlamaIndex users pass).

        ``path`` and ``location=":memory:"`` mean the embedded engine (Qdrant's engine in-process, rather than
        qdrant-client's pure-Python local mode); ``url``, ``host`` or another ``location`` mean a server, with
        the other arguments (``port``, ``prefer_grpc``, ``timeout``, ``https``, ...) passed to its client.

        Examples:
            >>> Store.from_client_arguments(location=":memory:").embedded
            True
            >>> Store.from_client_arguments(url="http://localhost:6333", timeout=5).options
            {'timeout': 5}
        """
        if client is not None:
            return cls(client=client)
        server = url or host or (location if location not in (None, MEMORY) else None)
        if server is not None:  # QdrantClient(url="http://host", port=...) is how a host is reached
            return cls(url=server if "://" in server else f"http://{server}", api_key=api_key, options=options)
        if options:
            msg = f"{sorted(options)} are QdrantClient arguments for a server; an embedded store takes path= only."
            raise InvalidArgumentError(msg)
        return cls(path=MEMORY if location == MEMORY else path)

    def cluster(self) -> dict[str, Any]:
        """The cluster settings of a new collection."""
        names = ("shard_number", "sharding_method", "replication_factor", "write_consistency_factor")
        return {name: getattr(self, name) for name in names}

    def key(self) -> str | None:
        """The server's API key: ``api_key``, else the variable ``api_key_env`` names (the one place it is read)."""
        if self.api_key is not None or self.api_key_env is None:
            return self.api_key
        return os.environ.get(self.api_key_env)

    def open_client(self) -> QdrantClient:
        """A new client for this store's server URL (the caller closes it)."""
        if self.url is None:
            msg = "open_client needs a server url; an embedded store or a client passed in has none to open."
            raise InvalidArgumentError(msg)
        return QdrantClient(url=self.url, api_key=self.key(), **dict(self.options))

    def with_client(self, client: QdrantClient) -> Store:
        """The same store reached through ``client`` (cluster, shard key and write ordering kept)."""
        return replace(self, path=None, url=None, api_key=None, options={}, client=client)

    def server_backend(self, client: QdrantClient, collection: str, *, owns_client: bool) -> ServerBackend:
        """A server backend on ``client`` with this store's cluster settings, shard key and write ordering."""
        return ServerBackend(
            client,
            collection,
            shard_key_selector=self.shard_key_selector,
            write_ordering=self.write_ordering,
            owns_client=owns_client,
            **self.cluster(),
        )


def make_backend(collection: str, store: Store) -> Backend:
    """The backend of one collection at this address.

    Examples:
        >>> make_backend("docs", Store(path=":memory:")).kind
        'embedded'
    """
    if store.client is not None:
        return store.server_backend(store.client, collection, owns_client=False)
    if store.url is not None:
        return store.server_backend(store.open_client(), collection, owns_client=True)
    if store.shard_key_selector is not None or any(v is not None for v in store.cluster().values()):
        logger.info("Cluster settings are ignored by the embedded store (one shard per collection).")
    if store.write_ordering is not None:
        logger.info("write_ordering is ignored by the embedded store (one process writes, in order).")
    path = store.path if store.path is not None else DEFAULT_PATH
    return EdgeBackend(None if str(path) == MEMORY else path, collection)
