"""What ``colbert-retrieval index --ray`` and ``colbert-retrieval load`` do, with the store and schema the options name.

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

from colbert_retrieval.cli._values import schema_of, store_of
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
        store=store_of(args),
        schema=schema_of(args),
        model=args.model,
        model_kwargs={"backend": args.backend, "inference_precision": args.inference_precision},
        storage=args.storage,
        num_workers=args.num_workers,
        num_gpus=args.num_gpus,
        address=args.address,
        batch_size=args.batch_size,
        overwrite=args.overwrite,
    )
    print(f"Indexed into {args.parquet or repr(args.collection)} on Ray: {summary}")
    return 0


def load_from_args(args: argparse.Namespace, model: Any) -> int:
    """``colbert-retrieval load``: load, print the summary, return the exit status."""
    where = {"collection": args.collection, "store": store_of(args), "storage": args.storage}
    summary = load_command(args.folder, model, overwrite=args.overwrite, **where)
    print(f"Loaded {args.folder} into {args.collection!r}: {summary}")
    return 0


def ray_index_command(
    paths: Sequence[str],
    *,
    collection: str,
    parquet: str | None,
    store: Store,
    schema: Schema,
    model: str | None,
    model_kwargs: Mapping[str, Any],
    storage: str | None,
    **pipeline: Any,
) -> IngestSummary:
    """Index JSONL / Parquet / BEIR ``paths`` on Ray into Parquet shards, a server (workers write) or an embedded store.

    ``pipeline`` holds :func:`~colbert_retrieval.distributed.index_with_ray` arguments (``num_workers``,
    ``num_gpus``, ``address``, ``batch_size``, ``overwrite``).
    """
    run = {"model": model, "model_kwargs": model_kwargs, **pipeline}
    if parquet:
        return index_with_ray(list(paths), parquet, schema=schema, storage=storage, **run)
    if store.url:
        return index_with_ray(list(paths), QdrantTarget(store, collection), schema=schema, storage=storage, **run)
    driver_model = load_model(model, **dict(model_kwargs))
    with ColBERTIndex(driver_model, collection, store=store, schema=schema, storage=storage) as index:
        return index_with_ray(list(paths), index, **run)


def load_command(
    folder: str | os.PathLike[str],
    model: Any,
    *,
    collection: str,
    store: Store | str | None = None,
    storage: str | None = None,
    overwrite: bool = False,
) -> IngestSummary:
    """Bulk-load a shard folder into a collection created (or checked) with the shards' settings."""
    schema = Schema.of_settings(read_shard_settings(folder))
    with ColBERTIndex(model, collection, store=store, schema=schema, storage=storage) as index:
        return load_shards(folder, index, overwrite=overwrite)
