"""The Ray datasink of a server target: each write task upserts its blocks itself.

:class:`QdrantDatasink` is the ``ray.data.Datasink`` of a
:class:`~colbert_retrieval.distributed.QdrantTarget`: each write task opens a backend on the target's server
(the API key read from the environment on that node) and upserts its blocks in batches with retries on transient
errors. Point ids are deterministic, so a block retried after a worker died overwrites the same points: nothing
is duplicated.

Examples:
    >>> QdrantDatasink.__mro__[1].__name__
    'Datasink'
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ray.data import Datasink
from ray.data.block import BlockAccessor

from colbert_retrieval.distributed._rows import to_points, truncated_rows
from colbert_retrieval.qdrant import Truncated, chunked

__all__ = ["QdrantDatasink"]


class QdrantDatasink(Datasink):
    """A Ray datasink upserting encoded point rows into a :class:`QdrantTarget`.

    Args:
        target: where to write (a ``QdrantTarget``: anything with ``backend()``).
        dim: the collection's ColBERT dimension.
        write_batch_size: points per upsert request.

    After ``Dataset.write_datasink`` returns, :attr:`written` and :attr:`skipped` hold the totals.
    """

    def __init__(self, target: Any, dim: int, write_batch_size: int = 64) -> None:
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
