"""``index_with_ray``: read -> encode on an actor pool -> write, on a Ray cluster (or a local Ray instance).

Three targets:

* a :class:`~colbert_retrieval.qdrant.ColBERTIndex` (embedded store, or any server): the driver streams the
  encoded rows into it (Ray encodes, one process writes: the embedded engine is single-process);
* a :class:`~colbert_retrieval.distributed.QdrantTarget` (server or cluster): every Ray write task upserts
  its blocks itself (:class:`~colbert_retrieval.distributed.QdrantDatasink`), so writing scales with the
  workers; the driver creates or checks the collection first;
* a folder: Parquet shards plus the settings file, bulk-loaded later by ``colbert-retrieval load``
  (:func:`~colbert_retrieval.distributed.load_shards`) into an embedded store or a server.

Idempotent and resumable: point ids are derived from document ids; ids already in the target (or in the
folder's shards) are skipped before encoding unless ``overwrite``; Ray restarts a dead actor and retries its
batch, whose points overwrite the same ids.

Examples:
    >>> import tempfile
    >>> summary = index_with_ray(  # doctest: +SKIP
    ...     "corpus.jsonl", tempfile.mkdtemp(), num_workers=2
    ... )
"""

from __future__ import annotations

import contextlib
import logging
import os
import time
from collections.abc import Iterator, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import ray
import ray.data

from colbert_retrieval._inputs import positive_int
from colbert_retrieval.distributed._encoder import EncoderActor
from colbert_retrieval.distributed._rows import to_points, truncated_rows
from colbert_retrieval.distributed._shards import (
    SETTINGS_FILE,
    read_shard_settings,
    shard_files,
    stored_ids,
    write_shard_settings,
)
from colbert_retrieval.distributed._sink import QdrantDatasink, QdrantTarget
from colbert_retrieval.distributed._sources import read_documents
from colbert_retrieval.errors import InputTypeError
from colbert_retrieval.models import ColBERT, load_model
from colbert_retrieval.qdrant import (
    ColBERTIndex,
    IndexSettings,
    IngestSummary,
    Schema,
    Store,
    Truncated,
    check_compatible,
    encoding_settings,
    settings_for,
    warn_truncated,
)

__all__ = ["index_with_ray"]

logger = logging.getLogger(__name__)

#: Write tasks wait on the network or the disk: they take no CPU slot, so encoder actors holding every CPU of a
#: node (2 actors on 2 cores) cannot starve them (Ray would otherwise wait forever for a free CPU).
_IO_TASK = {"num_cpus": 0}


def _index_ids(index: ColBERTIndex) -> set[str]:
    """Every point id stored in an index (what a re-run skips)."""
    ids: set[str] = set()
    offset: str | None = None
    while True:
        points, offset = index.backend.scroll(offset, 1024)
        ids.update(p.id for p in points)
        if offset is None:
            return ids


def _folder_settings(folder: Path, wanted: IndexSettings, pool_factor_given: bool) -> IndexSettings:
    if (folder / SETTINGS_FILE).is_file():
        stored = read_shard_settings(folder)
        check_compatible(stored, wanted, str(folder), pool_factor_given=pool_factor_given)
        return stored
    write_shard_settings(folder, wanted)
    return wanted


def index_with_ray(
    source: Any,
    target: ColBERTIndex | QdrantTarget | str | os.PathLike[str],
    *,
    model: ColBERT | str | os.PathLike[str] | None = None,
    model_kwargs: Mapping[str, Any] | None = None,
    num_workers: int = 2,
    num_gpus: float = 0.0,
    num_cpus: float | None = None,
    batch_size: int = 32,
    rows_per_call: int = 256,
    overwrite: bool = False,
    pool_factor: int | None = None,
    first_stage: str = "muvera",
    bm25: Mapping[str, Any] | bool | None = None,
    storage: str | None = None,
    address: str | None = None,
) -> IngestSummary:
    """Encode documents on a pool of Ray actors and write them to an index, a Qdrant cluster or Parquet shards.

    Args:
        source: documents: a ``ray.data.Dataset``, JSONL / Parquet files, a folder of them or a BEIR folder
            (see :func:`~colbert_retrieval.distributed.read_documents`); every document needs an id.
        target: a ``ColBERTIndex`` (the driver writes), a :class:`QdrantTarget` (the workers write) or a
            folder for Parquet shards.
        model: the encoder: a name or folder every node can load (best: each actor loads it on its own
            device), a ``ColBERT`` (shipped to the actors through the object store), or None (the index's
            model for a ``ColBERTIndex`` target, else the offline default).
        model_kwargs: more ``load_model`` arguments for the actors (``backend``, ``inference_precision``, ...).
        num_workers: encoder actors (one model each).
        num_gpus: GPUs per actor (0: CPU; 1 on a GPU node: one actor per GPU).
        num_cpus: CPUs per actor (None: Ray's default of 1; torch uses that many threads).
        batch_size: texts per forward pass.
        rows_per_call: documents per actor call (the unit Ray retries when a worker dies).
        overwrite: re-encode documents already stored.
        pool_factor: pooling of a new collection / shard folder (None: the stored one, or 2).
        first_stage: ``muvera`` or ``mean`` for a new collection / shard folder.
        bm25: BM25 parameters for a new collection / shard folder (False: none).
        storage: storage preset of a new collection on a ``QdrantTarget``.
        address: the Ray cluster to join when Ray is not initialised yet (None: a local instance).

    Returns:
        The documents written, skipped (already stored), vectors and wall time (actor start-up included).

    Raises:
        InputTypeError: a target of another type.
        IndexMismatchError: the target was built with another model, encoding or pooling.
    """
    positive_int(num_workers, "num_workers")
    positive_int(rows_per_call, "rows_per_call")
    if not isinstance(target, (ColBERTIndex, QdrantTarget, str, os.PathLike)):
        msg = (
            f"target is a {type(target).__name__}; give a ColBERTIndex, a QdrantTarget or a folder for Parquet shards."
        )
        raise InputTypeError(msg)
    with _ray_session(address):
        return _ingest(
            source,
            target,
            model=model,
            model_kwargs=model_kwargs,
            num_workers=num_workers,
            num_gpus=num_gpus,
            num_cpus=num_cpus,
            batch_size=batch_size,
            rows_per_call=rows_per_call,
            overwrite=overwrite,
            pool_factor=pool_factor,
            first_stage=first_stage,
            bm25=bm25,
            storage=storage,
        )


@contextlib.contextmanager
def _ray_session(address: str | None) -> Iterator[None]:
    """Ray as it is, or a Ray instance started for this call and stopped after it."""
    started = not ray.is_initialized()
    if started:
        ray.init(address=address, log_to_driver=False)
    try:
        yield
    finally:
        if started:
            ray.shutdown()


def _ingest(
    source: Any,
    target: Any,
    *,
    model: Any,
    model_kwargs: Mapping[str, Any] | None,
    num_workers: int,
    num_gpus: float,
    num_cpus: float | None,
    batch_size: int,
    rows_per_call: int,
    overwrite: bool,
    pool_factor: int | None,
    first_stage: str,
    bm25: Any,
    storage: str | None,
) -> IngestSummary:
    start = time.perf_counter()
    stored: set[str] = set()
    ask: QdrantTarget | None = None
    if isinstance(target, ColBERTIndex):
        settings = target.settings
        model = target.model if model is None else model
        driver_model = model if isinstance(model, ColBERT) else target.model
        stored = set() if overwrite else _index_ids(target)
    else:
        driver_model = model if isinstance(model, ColBERT) else load_model(model, **dict(model_kwargs or {}))
        if isinstance(target, QdrantTarget):
            client = target.client()
            try:
                store = Store(client=client, shard_key_selector=target.shard_key_selector, **target.cluster)
                schema = Schema(pool_factor=pool_factor, first_stage=first_stage, bm25=bm25)
                with ColBERTIndex(
                    driver_model, target.collection, store=store, schema=schema, storage=storage
                ) as index:
                    settings = index.settings
            finally:
                client.close()
            ask = None if overwrite else target
        else:
            folder = Path(target)
            wanted = settings_for(driver_model, Schema(pool_factor=pool_factor, first_stage=first_stage, bm25=bm25))
            settings = _folder_settings(folder, wanted, pool_factor is not None)
            stored = set() if overwrite else stored_ids(folder)
    shipped = ray.put(model) if isinstance(model, ColBERT) else model
    # Blocks of about one actor call each, and one call at a time per actor: otherwise a few large blocks all
    # queue on the first actor while the others idle (measured: one of two actors busy on a 600-document file).
    actors = read_documents(source, rows_per_block=rows_per_call, min_blocks=num_workers).map_batches(
        EncoderActor,
        fn_constructor_kwargs={
            "model": shipped,
            # The workers check their model against the one the driver checked against the collection.
            "settings": replace(settings, encoding=encoding_settings(driver_model)).to_metadata(),
            "model_kwargs": dict(model_kwargs or {}),
            "batch_size": batch_size,
            "stored": ray.put(stored) if stored else None,
            "target": ask,
        },
        batch_size=rows_per_call,
        batch_format="numpy",
        compute=ray.data.ActorPoolStrategy(size=num_workers, max_tasks_in_flight_per_actor=1),
        num_gpus=num_gpus or None,
        num_cpus=num_cpus,
    )
    written = skipped = vectors = 0
    truncated = Truncated(limit=driver_model.document_length)
    if isinstance(target, ColBERTIndex):
        for batch in actors.iter_batches(batch_size=None, batch_format="numpy"):
            skipped += int(batch["skipped"].sum())
            truncated += truncated_rows(batch, driver_model.document_length)
            points = to_points(batch, settings.dim)
            if points:
                part = target.add_points(points, overwrite=True)
                written += part.documents
                vectors += part.vectors
    elif isinstance(target, QdrantTarget):
        sink = QdrantDatasink(target, settings.dim)
        actors.write_datasink(sink, ray_remote_args=_IO_TASK, concurrency=num_workers)
        written, skipped, vectors = sink.written, sink.skipped, sink.vectors
        truncated += sink.truncated
    else:
        before = set(shard_files(target))
        actors.write_parquet(str(target), ray_remote_args=_IO_TASK)
        for path in sorted(set(shard_files(target)) - before):
            table = pq.read_table(path, columns=["skipped", "n_vectors", "payload", "truncated"])
            flags = table["skipped"].to_pylist()
            skipped += sum(flags)
            written += len(flags) - sum(flags)
            vectors += sum(table["n_vectors"].to_pylist())
            truncated += truncated_rows(table.to_pydict(), driver_model.document_length)
    warn_truncated(truncated, stacklevel=4)
    summary = IngestSummary(written, skipped, vectors, time.perf_counter() - start, truncated=truncated)
    logger.info("Ray ingest finished: %s", summary)
    return summary
