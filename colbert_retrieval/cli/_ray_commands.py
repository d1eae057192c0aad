"""What ``colbert-retrieval index --ray`` and ``colbert-retrieval load`` do, with plain arguments.

Examples:
    >>> import inspect
    >>> list(inspect.signature(load_command).parameters)[:2]
    ['folder', 'model']
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Mapping, Sequence
from typing import Any

from colbert_retrieval.distributed import QdrantTarget, index_with_ray, load_shards, read_shard_settings
from colbert_retrieval.models import load_model
from colbert_retrieval.qdrant import ColBERTIndex, IngestSummary, Schema, Store

__all__ = [
    "index_from_args",
    "load_command",
    "load_from_args",
    "ray_index_command",
]


def index_from_args(args: argparse.Namespace) -> int:
    """``colbert-retrieval index --ray``: index, print the summary, return the exit status."""
    summary = ray_index_command(
        args.paths,
        collection=args.collection,
        parquet=args.parquet,
        path=args.path,
        location=args.location,
        url=args.url,
        model=args.model,
        model_kwargs={"backend": args.backend, "inference_precision": args.inference_precision},
        storage=args.storage,
        cluster={
            "shard_number": args.shard_number,
            "replication_factor": args.replication_factor,
            "write_consistency_factor": args.write_consistency_factor,
        },
        write_ordering=args.write_ordering,
        num_workers=args.num_workers,
        num_gpus=args.num_gpus,
        address=args.address,
        batch_size=args.batch_size,
        overwrite=args.overwrite,
        pool_factor=args.pool_factor,
        first_stage=args.first_stage,
    )
    print(f"Indexed into {args.parquet or repr(args.collection)} on Ray: {summary}")
    return 0


def load_from_args(args: argparse.Namespace, model: Any) -> int:
    """``colbert-retrieval load``: load, print the summary, return the exit status."""
    store = {"path": args.path, "location": args.location, "url": args.url, "storage": args.storage}
    summary = load_command(args.folder, model, collection=args.collection, overwrite=args.overwrite, **store)
    print(f"Loaded {args.folder} into {args.collection!r}: {summary}")
    return 0


def ray_index_command(
    paths: Sequence[str],
    *,
    collection: str,
    parquet: str | None,
    path: str | None,
    url: str | None,
    model: str | None,
    model_kwargs: Mapping[str, Any],
    storage: str | None,
    cluster: Mapping[str, Any] | None = None,
    write_ordering: str | None = None,
    location: str | None = None,
    **pipeline: Any,
) -> IngestSummary:
    """Index JSONL / Parquet / BEIR ``paths`` on Ray into Parquet shards, a server (workers write) or an embedded store.

    ``pipeline`` holds :func:`~colbert_retrieval.distributed.index_with_ray` arguments (``num_workers``,
    ``num_gpus``, ``address``, ``batch_size``, ``overwrite``, ``pool_factor``, ``first_stage``); ``cluster``
    and ``write_ordering`` apply to a server target; ``path`` or ``location`` (``":memory:"``) name an embedded
    one.
    """
    if parquet:
        return index_with_ray(list(paths), parquet, model=model, model_kwargs=model_kwargs, **pipeline)
    if url:
        settings = {k: v for k, v in (cluster or {}).items() if v is not None}
        target = QdrantTarget(url, collection, write_ordering=write_ordering, cluster=settings)
        return index_with_ray(list(paths), target, model=model, model_kwargs=model_kwargs, storage=storage, **pipeline)
    pool_factor = pipeline.pop("pool_factor", None)
    first_stage = pipeline.pop("first_stage", "muvera")
    driver_model = load_model(model, **dict(model_kwargs))
    schema = Schema(pool_factor=pool_factor, first_stage=first_stage)
    store = Store.from_client_arguments(path=path, location=location)
    with ColBERTIndex(driver_model, collection, store=store, schema=schema, storage=storage) as index:
        return index_with_ray(list(paths), index, model=model, model_kwargs=model_kwargs, **pipeline)


def load_command(
    folder: str | os.PathLike[str],
    model: Any,
    *,
    collection: str,
    path: str | None = None,
    location: str | None = None,
    url: str | None = None,
    storage: str | None = None,
    overwrite: bool = False,
) -> IngestSummary:
    """Bulk-load a shard folder into a collection created (or checked) with the shards' settings."""
    settings = read_shard_settings(folder)
    store = Store.from_client_arguments(path=path, location=location, url=url, api_key=os.environ.get("QDRANT_API_KEY"))
    schema = Schema(
        pool_factor=settings.pool_factor,
        first_stage=settings.first_stage,
        muvera={k: v for k, v in settings.muvera.items() if k != "dim"} or None,
        bm25=settings.bm25 or False,
    )
    with ColBERTIndex(model, collection, store=store, schema=schema, storage=storage) as index:
        return load_shards(folder, index, overwrite=overwrite)
