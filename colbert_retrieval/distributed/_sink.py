"""Writing straight into a Qdrant server or cluster from the Ray workers: a target and a Ray datasink.

:class:`QdrantTarget` says where (URL, collection, API key, shard key, write ordering, client options) and
opens a :class:`~colbert_retrieval.qdrant.backends.ServerBackend` in whichever process needs one; it pickles
without the API key's value when the key comes from an environment variable (``api_key_env``), so the key
never enters Ray's object store or logs. :class:`QdrantDatasink` is the ``ray.data.Datasink``: each write task
upserts its blocks in batches with retries on transient errors. Point ids are deterministic, so a block
retried after a worker died overwrites the same points: nothing is duplicated.

Examples:
    >>> target = QdrantTarget("http://localhost:6333", "docs", write_ordering="strong")
    >>> target.collection, target.write_ordering
    ('docs', 'strong')
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from ray.data import Datasink
from ray.data.block import BlockAccessor

from colbert_retrieval.distributed._rows import to_points, truncated_rows
from colbert_retrieval.qdrant import Truncated, chunked
from colbert_retrieval.qdrant.backends import ServerBackend

__all__ = ["QdrantDatasink", "QdrantTarget"]


@dataclass(frozen=True)
class QdrantTarget:
    """A collection on a Qdrant server or cluster that Ray workers write to directly.

    Args:
        url: the server, Qdrant Cloud or cluster URL.
        collection: the collection name.
        api_key_env: name of the environment variable holding the API key on every node (default
            ``QDRANT_API_KEY``; the key itself is never pickled).
        shard_key_selector: shard key of the writes (custom sharding).
        write_ordering: ``weak``, ``medium`` or ``strong`` (Qdrant's ``WriteOrdering``).
        client_kwargs: more ``QdrantClient`` arguments (``timeout``, ``prefer_grpc``, ...).
        cluster: settings of a new collection (``shard_number``, ``sharding_method``, ``replication_factor``,
            ``write_consistency_factor``), used when the driver creates it.
        connect: a picklable callable returning a ``QdrantClient``, used instead of ``url`` (tests use a
            local-mode stand-in shared by processes).
    """

    url: str | None
    collection: str
    api_key_env: str = "QDRANT_API_KEY"
    shard_key_selector: Any = None
    write_ordering: str | None = None
    client_kwargs: dict[str, Any] = field(default_factory=dict)
    cluster: dict[str, Any] = field(default_factory=dict)
    connect: Callable[[], Any] | None = None

    def client(self) -> Any:
        """A new client for this target (the API key read from the environment here)."""
        if self.connect is not None:
            return self.connect()
        from qdrant_client import QdrantClient

        return QdrantClient(url=self.url, api_key=os.environ.get(self.api_key_env), **self.client_kwargs)

    def backend(self) -> ServerBackend:
        """A backend on a new client (closed with the backend)."""
        return ServerBackend(
            self.client(),
            self.collection,
            shard_key_selector=self.shard_key_selector,
            write_ordering=self.write_ordering,
            owns_client=True,
        )


class QdrantDatasink(Datasink):
    """A Ray datasink upserting encoded point rows into a :class:`QdrantTarget`.

    Args:
        target: where to write.
        dim: the collection's ColBERT dimension.
        write_batch_size: points per upsert request.

    After ``Dataset.write_datasink`` returns, :attr:`written` and :attr:`skipped` hold the totals.
    """

    def __init__(self, target: QdrantTarget, dim: int, write_batch_size: int = 64) -> None:
        self.target = target
        self.dim = dim
        self.write_batch_size = write_batch_size
        self.written = 0
        self.skipped = 0
        self.vectors = 0
        self.truncated = Truncated()

    def write(self, blocks: Iterable[Any], ctx: Any) -> tuple[int, int, int, Truncated]:
        """Upsert the blocks of one write task; returns (written, skipped, vectors, documents the model cut)."""
        backend = self.target.backend()
        written = skipped = vectors = 0
        truncated = Truncated()
        try:
            for block in blocks:
                batch = BlockAccessor.for_block(block).to_numpy()
                points = to_points(batch, self.dim)
                skipped += int(batch["skipped"].sum())
                truncated += truncated_rows(batch, 0)
                for chunk in chunked(points, self.write_batch_size):
                    backend.upsert(chunk)
                written += len(points)
                vectors += sum(len(p.colbert) for p in points)
        finally:
            backend.close()
        return written, skipped, vectors, truncated

    def on_write_complete(self, write_result: Any) -> None:
        """Add up the write tasks' counts (runs in the driver)."""
        for written, skipped, vectors, truncated in write_result.write_returns:
            self.written += written
            self.skipped += skipped
            self.vectors += vectors
            self.truncated += truncated
