"""Distributed ingest on Ray Data (extra: ``pip install "colbert-retrieval[ray]"``).

Rule: Ray lives only here. This folder fans work out (read -> encoder actors -> writers) and calls the core's
public pieces for everything else: ``PointEncoder`` turns documents into points, backends store them,
``ColBERTIndex.add_points`` loads shards. No encoding, pooling or storage logic is written twice. Names are
imported on first use, so the command line can build its parser without importing Ray.

Examples:
    >>> from colbert_retrieval.distributed import index_with_ray, QdrantTarget
    >>> QdrantTarget("http://qdrant:6333", "docs").store.api_key_env
    'QDRANT_API_KEY'
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

__all__ = [
    "EncoderActor",
    "QdrantDatasink",
    "QdrantTarget",
    "index_with_ray",
    "load_shards",
    "read_documents",
    "read_shard_settings",
]

_HOMES = {
    "EncoderActor": "encoder",
    "QdrantDatasink": "sink",
    "QdrantTarget": "targets",
    "index_with_ray": "pipeline",
    "load_shards": "shards",
    "read_documents": "sources",
    "read_shard_settings": "shards",
}


def __getattr__(name: str) -> Any:
    if name not in _HOMES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    try:
        import pyarrow  # noqa: F401
        import ray.data  # noqa: F401
    except ImportError as error:
        from colbert_retrieval._extras import missing_extra

        raise missing_extra("ray", "ray[data]") from error
    return getattr(import_module(f"{__name__}._{_HOMES[name]}"), name)
