"""Parquet shards of encoded points, and their bulk load into any store.

A shard folder holds ``*.parquet`` files of point rows (:mod:`.rows`) and ``colbert_retrieval.json``, the
collection settings they were built with. :func:`load_shards` reads the files a row group at a time (constant
memory) into :meth:`ColBERTIndex.add_points <colbert_retrieval.qdrant.ColBERTIndex.add_points>`: ids already
stored are skipped, so a load stopped halfway resumes; a row repeated across files (a retried write) is the
same point with the same id, so it is stored once.

Examples:
    >>> import tempfile
    >>> from colbert_retrieval.qdrant import IndexSettings
    >>> folder = tempfile.mkdtemp()
    >>> write_shard_settings(folder, IndexSettings(model_name="m", dim=4))
    >>> read_shard_settings(folder).dim
    4
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pyarrow.parquet as pq

from colbert_retrieval.distributed._rows import to_points
from colbert_retrieval.errors import InputFormatError, InputNotFoundError
from colbert_retrieval.qdrant import IndexSettings, IngestSummary, check_compatible
from colbert_retrieval.qdrant.backends import PointData

if TYPE_CHECKING:
    from colbert_retrieval.qdrant import ColBERTIndex

__all__ = ["SETTINGS_FILE", "load_shards", "read_shard_settings", "shard_files", "stored_ids", "write_shard_settings"]

#: The settings file of a shard folder.
SETTINGS_FILE = "colbert_retrieval.json"


def write_shard_settings(folder: str | os.PathLike[str], settings: IndexSettings) -> None:
    """Record the settings the shards are built with (the folder is created)."""
    Path(folder).mkdir(parents=True, exist_ok=True)
    (Path(folder) / SETTINGS_FILE).write_text(json.dumps(settings.to_metadata(), indent=2))


def read_shard_settings(folder: str | os.PathLike[str]) -> IndexSettings:
    """The settings of a shard folder.

    Raises:
        InputNotFoundError: no settings file (not a folder written by the Ray pipeline).
    """
    path = Path(folder) / SETTINGS_FILE
    if not path.is_file():
        msg = f"{path} not found; {folder} is not a shard folder written by `colbert-retrieval index --ray --parquet`."
        raise InputNotFoundError(msg)
    settings = IndexSettings.from_metadata(json.loads(path.read_text()))
    if settings is None:
        msg = f"{path} holds no colbert_retrieval settings."
        raise InputFormatError(msg)
    return settings


def shard_files(folder: str | os.PathLike[str]) -> list[Path]:
    """The Parquet files of a shard folder, in name order."""
    return sorted(Path(folder).glob("*.parquet"))


def stored_ids(folder: str | os.PathLike[str]) -> set[str]:
    """Point ids already written to the shards of a folder (so a re-run skips them)."""
    ids: set[str] = set()
    for path in shard_files(folder):
        table = pq.read_table(path, columns=["point_id", "skipped"])
        for point, skipped in zip(table["point_id"].to_pylist(), table["skipped"].to_pylist()):
            if not skipped:
                ids.add(point)
    return ids


def iter_points(folder: str | os.PathLike[str], dim: int, rows: int = 256) -> Iterator[PointData]:
    """Every point of the shards, a row group at a time (a repeated id is the same point: upserts are idempotent)."""
    for path in shard_files(folder):
        for batch in pq.ParquetFile(path).iter_batches(batch_size=rows):
            yield from to_points(batch.to_pydict(), dim)


def load_shards(folder: str | os.PathLike[str], index: ColBERTIndex, *, overwrite: bool = False) -> IngestSummary:
    """Bulk-load a shard folder into an index (embedded store or server), skipping stored ids.

    Args:
        folder: the shard folder.
        index: an index opened with the shards' model and settings (see :func:`read_shard_settings`).
        overwrite: rewrite points already stored.

    Raises:
        InputNotFoundError: not a shard folder, or one without Parquet files.
        IndexMismatchError: the shards were built with another model, encoding or pooling than the index.
    """
    settings = read_shard_settings(folder)
    if not shard_files(folder):
        msg = f"{folder} holds no .parquet shards; run the pipeline first."
        raise InputNotFoundError(msg)
    check_compatible(index.settings, settings, index.collection)
    return index.add_points(iter_points(folder, settings.dim), overwrite=overwrite)
