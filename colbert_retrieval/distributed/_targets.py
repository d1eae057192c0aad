"""Where ``index_with_ray`` writes: three target types, each knowing how to prepare its collection and write rows.

* :class:`IndexTarget`: a :class:`~colbert_retrieval.qdrant.ColBERTIndex` (embedded store, or any server): the
  driver streams the encoded rows into it (Ray encodes, one process writes: the embedded engine is
  single-process);
* :class:`QdrantTarget`: a collection on a Qdrant server or cluster, addressed by a
  :class:`~colbert_retrieval.qdrant.Store`: every Ray write task upserts its blocks itself
  (:class:`~colbert_retrieval.distributed.QdrantDatasink`), so writing scales with the workers; the driver
  creates or checks the collection first;
* :class:`ShardTarget`: a folder of Parquet shards plus the settings file, bulk-loaded later by
  ``colbert-retrieval load``.

:func:`as_target` is the one place a user's target (an index, a ``QdrantTarget`` or a folder) is told apart.

Examples:
    >>> target = QdrantTarget("http://localhost:6333", "docs")
    >>> target.store.url, target.store.api_key_env
    ('http://localhost:6333', 'QDRANT_API_KEY')
    >>> type(as_target("shards/")).__name__
    'ShardTarget'
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, ClassVar, Protocol

import pyarrow.parquet as pq
import ray.data

from colbert_retrieval.distributed._rows import to_points, truncated_rows
from colbert_retrieval.distributed._shards import (
    SETTINGS_FILE,
    read_shard_settings,
    shard_files,
    stored_ids,
    write_shard_settings,
)
from colbert_retrieval.distributed._sink import QdrantDatasink
from colbert_retrieval.errors import InputTypeError, InvalidArgumentError
from colbert_retrieval.models import ColBERT
from colbert_retrieval.qdrant import (
    ColBERTIndex,
    IndexSettings,
    Schema,
    Store,
    Truncated,
    check_compatible,
    settings_for,
)
from colbert_retrieval.qdrant.backends import API_KEY_VARIABLE, ServerBackend

__all__ = ["IndexTarget", "Prepared", "QdrantTarget", "ShardTarget", "Target", "Written", "as_target"]

#: Write tasks wait on the network or the disk: they take no CPU slot, so encoder actors holding every CPU of a
#: node (2 actors on 2 cores) cannot starve them (Ray would otherwise wait forever for a free CPU).
_IO_TASK = {"num_cpus": 0}


@dataclass(frozen=True)
class Prepared:
    """What the driver decided before encoding: the collection's settings and how actors find stored ids.

    ``stored`` is shipped once to every actor; ``ask`` is a server the actors ask per batch instead.
    """

    settings: IndexSettings
    stored: frozenset[str] = frozenset()
    ask: QdrantTarget | None = None


@dataclass(frozen=True)
class Written:
    """What a target wrote: documents, skipped (already stored), vectors, and the documents the model cut."""

    documents: int
    skipped: int
    vectors: int
    truncated: Truncated


class Target(Protocol):
    """A place ``index_with_ray`` writes to."""

    #: The model the target was opened with (an index's), or None.
    model: ColBERT | None

    def prepare(self, model: ColBERT, schema: Schema | None, storage: Any, overwrite: bool) -> Prepared:
        """Create or check the collection for ``model`` and say which ids are stored."""
        ...

    def write(self, rows: ray.data.Dataset, prepared: Prepared, limit: int, workers: int) -> Written:
        """Run the pipeline into the target."""
        ...


class IndexTarget:
    """An open index: the driver writes every encoded row into it.

    Args:
        index: the index (its schema and storage are its own: ``index_with_ray`` takes none for it).
    """

    def __init__(self, index: ColBERTIndex) -> None:
        self.index = index
        self.model: ColBERT | None = index.model

    def prepare(self, model: ColBERT, schema: Schema | None, storage: Any, overwrite: bool) -> Prepared:
        if schema is not None or storage is not None:
            msg = "A ColBERTIndex target has its own schema and storage; open the index with schema= and storage=."
            raise InvalidArgumentError(msg)
        stored = frozenset() if overwrite else frozenset(self._ids())
        return Prepared(self.index.settings, stored)

    def _ids(self) -> set[str]:
        """Every point id stored in the index (what a re-run skips)."""
        ids: set[str] = set()
        offset: str | None = None
        while True:
            points, offset = self.index.backend.scroll(offset, 1024)
            ids.update(p.id for p in points)
            if offset is None:
                return ids

    def write(self, rows: ray.data.Dataset, prepared: Prepared, limit: int, workers: int) -> Written:
        documents = skipped = vectors = 0
        truncated = Truncated(limit=limit)
        for batch in rows.iter_batches(batch_size=None, batch_format="numpy"):
            skipped += int(batch["skipped"].sum())
            truncated += truncated_rows(batch, limit)
            points = to_points(batch, prepared.settings.dim)
            if points:
                part = self.index.add_points(points, overwrite=True)
                documents += part.documents
                vectors += part.vectors
        return Written(documents, skipped, vectors, truncated)


@dataclass(frozen=True)
class QdrantTarget:
    """A collection on a Qdrant server or cluster that Ray workers write to directly.

    Args:
        store: the server: a URL or a :class:`~colbert_retrieval.qdrant.Store` with its cluster settings (used
            when the driver creates the collection), shard key, write ordering and client options. The API key
            comes from the variable ``store.api_key_env`` names (default ``QDRANT_API_KEY``), read on each node:
            the key itself is never pickled.
        collection: the collection name.
        connect: a picklable callable returning a ``QdrantClient``, used instead of the store's URL (tests use a
            local-mode stand-in shared by processes).

    Raises:
        InvalidArgumentError: an embedded store or a client (workers cannot reach either), or an API key given
            as a value (it would travel through Ray's object store).
    """

    store: Store | str | None
    collection: str
    connect: Callable[[], Any] | None = None
    #: A server target holds no model (the driver loads one).
    model: ClassVar[None] = None

    def __post_init__(self) -> None:
        store = Store.of(self.store)
        if self.connect is None and store.url is None:
            msg = "A QdrantTarget is a server URL every worker can reach; write an embedded store through an index."
            raise InvalidArgumentError(msg)
        if store.api_key is not None:
            msg = "Give a QdrantTarget its API key through Store(api_key_env=...): a key value would be pickled."
            raise InvalidArgumentError(msg)
        if store.api_key_env is None:
            store = replace(store, api_key_env=API_KEY_VARIABLE)
        object.__setattr__(self, "store", store)

    @property
    def address(self) -> Store:
        """The server's address (``store`` as a :class:`Store`)."""
        assert isinstance(self.store, Store)
        return self.store

    def client(self) -> Any:
        """A new client for this target (the API key read from the environment here)."""
        return self.connect() if self.connect is not None else self.address.open_client()

    def backend(self) -> ServerBackend:
        """A backend on a new client (closed with the backend)."""
        return self.address.server_backend(self.client(), self.collection, owns_client=True)

    def prepare(self, model: ColBERT, schema: Schema | None, storage: Any, overwrite: bool) -> Prepared:
        client = self.client()
        try:
            store = self.address.with_client(client)
            with ColBERTIndex(model, self.collection, store=store, schema=schema, storage=storage) as index:
                settings = index.settings
        finally:
            client.close()
        return Prepared(settings, ask=None if overwrite else self)

    def write(self, rows: ray.data.Dataset, prepared: Prepared, limit: int, workers: int) -> Written:
        sink = QdrantDatasink(self, prepared.settings.dim)
        rows.write_datasink(sink, ray_remote_args=_IO_TASK, concurrency=workers)
        return Written(sink.written, sink.skipped, sink.vectors, Truncated(limit=limit) + sink.truncated)


class ShardTarget:
    """A folder of Parquet shards and their settings file (loaded later with ``colbert-retrieval load``).

    Args:
        folder: the shard folder (created; a folder written before is checked and resumed).
    """

    model: ColBERT | None = None

    def __init__(self, folder: str | os.PathLike[str]) -> None:
        self.folder = Path(folder)

    def prepare(self, model: ColBERT, schema: Schema | None, storage: Any, overwrite: bool) -> Prepared:
        if storage is not None:
            msg = "Parquet shards have no storage preset; give storage= to `colbert-retrieval load` instead."
            raise InvalidArgumentError(msg)
        schema = schema or Schema()
        wanted = settings_for(model, schema)
        if (self.folder / SETTINGS_FILE).is_file():
            settings = read_shard_settings(self.folder)
            given = {
                "pool_factor_given": schema.pool_factor is not None,
                "payload_keys_given": schema.named_payload_keys(),
            }
            check_compatible(settings, wanted, str(self.folder), **given)
        else:
            write_shard_settings(self.folder, wanted)
            settings = wanted
        return Prepared(settings, frozenset() if overwrite else frozenset(stored_ids(self.folder)))

    def write(self, rows: ray.data.Dataset, prepared: Prepared, limit: int, workers: int) -> Written:
        before = set(shard_files(self.folder))
        rows.write_parquet(str(self.folder), ray_remote_args=_IO_TASK)
        documents = skipped = vectors = 0
        truncated = Truncated(limit=limit)
        for path in sorted(set(shard_files(self.folder)) - before):
            table = pq.read_table(path, columns=["skipped", "n_vectors", "payload", "truncated"])
            flags = table["skipped"].to_pylist()
            skipped += sum(flags)
            documents += len(flags) - sum(flags)
            vectors += sum(table["n_vectors"].to_pylist())
            truncated += truncated_rows(table.to_pydict(), limit)
        return Written(documents, skipped, vectors, truncated)


def as_target(value: Any) -> Target:
    """The target a user named: an index, a :class:`QdrantTarget`, or a folder for Parquet shards.

    Raises:
        InputTypeError: anything else.
    """
    if isinstance(value, ColBERTIndex):
        return IndexTarget(value)
    if isinstance(value, QdrantTarget):
        return value
    if isinstance(value, (str, os.PathLike)):
        return ShardTarget(value)
    msg = f"target is a {type(value).__name__}; give a ColBERTIndex, a QdrantTarget or a folder for Parquet shards."
    raise InputTypeError(msg)
