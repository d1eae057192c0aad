"""``index_with_ray``: read -> encode on an actor pool -> write, on a Ray cluster (or a local Ray instance).

The target says where the rows go and how (:mod:`._targets`): an open
:class:`~colbert_retrieval.qdrant.ColBERTIndex` (the driver writes), a
:class:`~colbert_retrieval.distributed.QdrantTarget` (every Ray write task writes to the server) or a folder of
Parquet shards (bulk-loaded later by ``colbert-retrieval load``). What a new collection or shard folder stores is a
:class:`~colbert_retrieval.qdrant.Schema`, as everywhere else.

Idempotent and resumable: point ids are derived from document ids; ids already in the target (or in the
folder's shards) are skipped before encoding unless ``overwrite``; Ray restarts a dead actor and retries its
batch, whose points overwrite the same ids.

Examples:
    >>> import tempfile
    >>> summary = index_with_ray(  # doctest: +SKIP
    ...     "corpus.jsonl", tempfile.mkdtemp(), num_workers=2, schema=Schema(pool_factor=3)
    ... )
"""

from __future__ import annotations

import contextlib
import logging
import os
import time
from collections.abc import Iterator, Mapping
from dataclasses import replace
from typing import Any

import ray
import ray.data

from colbert_retrieval._inputs import positive_int
from colbert_retrieval.distributed._encoder import EncoderActor
from colbert_retrieval.distributed._sources import read_documents
from colbert_retrieval.distributed._targets import QdrantTarget, as_target
from colbert_retrieval.errors import InputTypeError
from colbert_retrieval.models import ColBERT, load_model
from colbert_retrieval.qdrant import (
    ColBERTIndex,
    IngestSummary,
    Schema,
    Storage,
    StoragePreset,
    encoding_settings,
    warn_truncated,
)

__all__ = ["index_with_ray"]

logger = logging.getLogger(__name__)


def index_with_ray(
    source: Any,
    target: ColBERTIndex | QdrantTarget | str | os.PathLike[str],
    *,
    model: ColBERT | str | os.PathLike[str] | None = None,
    schema: Schema | None = None,
    storage: str | StoragePreset | Storage | None = None,
    model_kwargs: Mapping[str, Any] | None = None,
    num_workers: int = 2,
    num_gpus: float = 0.0,
    num_cpus: float | None = None,
    batch_size: int = 32,
    rows_per_call: int = 256,
    overwrite: bool = False,
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
        schema: what a new collection or shard folder stores (pooling, first stage, BM25); None: the stored
            one, or the defaults. A ``ColBERTIndex`` target has its own (open it with ``schema=``).
        storage: storage preset of a new collection on a ``QdrantTarget``.
        model_kwargs: more ``load_model`` arguments for the actors (``backend``, ``inference_precision``, ...).
        num_workers: encoder actors (one model each).
        num_gpus: GPUs per actor (0: CPU; 1 on a GPU node: one actor per GPU).
        num_cpus: CPUs per actor (None: Ray's default of 1; torch uses that many threads).
        batch_size: texts per forward pass.
        rows_per_call: documents per actor call (the unit Ray retries when a worker dies).
        overwrite: re-encode documents already stored.
        address: the Ray cluster to join when Ray is not initialised yet (None: a local instance).

    Returns:
        The documents written, skipped (already stored), vectors and wall time (actor start-up included).

    Raises:
        InputTypeError: a target of another type, or a schema that is not a ``Schema``.
        InvalidArgumentError: a schema or storage for a target that takes none.
        IndexMismatchError: the target was built with another model, encoding or pooling.
    """
    positive_int(num_workers, "num_workers")
    positive_int(rows_per_call, "rows_per_call")
    if schema is not None and not isinstance(schema, Schema):
        msg = f"schema must be a Schema, got {type(schema).__name__} (e.g. Schema(pool_factor=2))."
        raise InputTypeError(msg)
    where = as_target(target)
    start = time.perf_counter()
    with _ray_session(address):
        model = where.model if model is None else model  # an index's model, unless another is named
        driver_model = model if isinstance(model, ColBERT) else where.model or load_model(model, **(model_kwargs or {}))
        prepared = where.prepare(driver_model, schema, storage, overwrite)
        shipped = ray.put(model) if isinstance(model, ColBERT) else model
        # Blocks of about one actor call each, and one call at a time per actor: otherwise a few large blocks all
        # queue on the first actor while the others idle (measured: one of two actors busy on a 600-document file).
        rows = read_documents(source, rows_per_block=rows_per_call, min_blocks=num_workers).map_batches(
            EncoderActor,
            fn_constructor_kwargs={
                "model": shipped,
                # The workers check their model against the one the driver checked against the collection.
                "settings": replace(prepared.settings, encoding=encoding_settings(driver_model)).to_metadata(),
                "model_kwargs": dict(model_kwargs or {}),
                "batch_size": batch_size,
                "stored": ray.put(set(prepared.stored)) if prepared.stored else None,
                "target": prepared.ask,
            },
            batch_size=rows_per_call,
            batch_format="numpy",
            compute=ray.data.ActorPoolStrategy(size=num_workers, max_tasks_in_flight_per_actor=1),
            num_gpus=num_gpus or None,
            num_cpus=num_cpus,
        )
        written = where.write(rows, prepared, driver_model.document_length, num_workers)
    warn_truncated(written.truncated, stacklevel=3)
    seconds = time.perf_counter() - start
    summary = IngestSummary(written.documents, written.skipped, written.vectors, seconds, truncated=written.truncated)
    logger.info("Ray ingest finished: %s", summary)
    return summary


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
