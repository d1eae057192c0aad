"""Documents as a Ray Dataset with one ``record`` column (a JSON object: ``id``, ``text``, ``metadata``).

Reads JSONL files, Parquet files, a BEIR folder (its ``corpus.jsonl``) or takes any ``ray.data.Dataset`` whose
rows have ``text`` (or BEIR ``title``/``text``) and ``id``/``_id``; the other fields become metadata, as
``colbert-retrieval index`` does for JSONL. Every document needs an id: point ids are derived from it, which
is what makes a re-run (or a retried batch) overwrite instead of duplicate.

Examples:
    >>> record_json({"_id": "d1", "title": "Scurvy", "text": "Vitamin C."})
    '{"id": "d1", "text": "Scurvy Vitamin C.", "metadata": {}}'
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import ray.data

from colbert_retrieval._inputs import json_object
from colbert_retrieval.documents import json_record
from colbert_retrieval.errors import InputFormatError, InputNotFoundError

__all__ = ["read_documents", "record_json"]


def _plain(value: Any) -> Any:
    """Numpy scalars and arrays (as Ray hands out Parquet values) as JSON types."""
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return [_plain(v) for v in value.tolist()]
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def record_json(item: Mapping[str, Any]) -> str | None:
    """The ``record`` value of one source row (None for a row with no text).

    Raises:
        InputFormatError: no ``id``/``_id``, or a non-string title or text.
    """
    row = {str(k): _plain(v) for k, v in item.items()}
    if row.get("id", row.get("_id")) is None:
        start = str(row.get("text", row))[:60]
        msg = (
            f"A document has no 'id' or '_id' ({start!r}...); the Ray pipeline needs an id per document (point ids "
            "are derived from it, so re-runs and retried batches never duplicate)."
        )
        raise InputFormatError(msg)
    if isinstance(row.get("metadata"), Mapping):  # our own record layout
        row = {**{k: v for k, v in row.items() if k != "metadata"}, **row["metadata"]}
    record = json_record(row, f"document {row.get('id', row.get('_id'))!r}")
    if record is None:
        return None
    return json.dumps({"id": record.id, "text": record.text, "metadata": record.metadata}, ensure_ascii=False)


def _to_records(batch: dict[str, Any]) -> dict[str, Any]:
    """``map_batches`` body: source columns -> one ``record`` column (rows without text dropped)."""
    names = list(batch)
    rows = len(batch[names[0]]) if names else 0
    records = [record_json({name: batch[name][i] for name in names}) for i in range(rows)]
    return {"record": np.array([r for r in records if r is not None], dtype=object)}


def _lines_to_records(batch: dict[str, Any]) -> dict[str, Any]:
    """``map_batches`` body: JSONL lines -> one ``record`` column (blank lines and rows without text dropped)."""
    items = [json_object(line, f"JSONL line {line[:80]!r}") for line in batch["text"]]
    rows = [record_json(item) for item in items if item is not None]
    return {"record": np.array([r for r in rows if r is not None], dtype=object)}


#: Bytes of one JSONL / Parquet document, to size blocks before reading (a passage of ~250 tokens, JSON-quoted).
_BYTES_PER_DOCUMENT = 1536


def read_documents(source: Any, *, rows_per_block: int | None = None, min_blocks: int = 1) -> ray.data.Dataset:
    """A dataset of ``record`` rows from files, a folder, or a ``ray.data.Dataset``.

    Args:
        source: a ``ray.data.Dataset``; a BEIR folder (``corpus.jsonl`` inside); a folder of ``.parquet`` or
            ``.jsonl`` files; one file or a list of files (``.jsonl``, ``.json`` lines, ``.parquet``).
        rows_per_block: about how many documents per block (files are split by their size: one block is the
            unit an actor takes at a time, so blocks much larger than an actor call leave actors idle); None:
            Ray's default.
        min_blocks: at least this many blocks when ``rows_per_block`` is given (one per actor, so that a small
            input still reaches every actor).

    Raises:
        InputNotFoundError: a path that does not exist, or a folder with nothing to read.
    """
    if isinstance(source, ray.data.Dataset):
        return source.map_batches(_to_records, batch_format="numpy")
    paths = [Path(p) for p in ([source] if isinstance(source, (str, Path)) else source)]
    files: list[Path] = []
    for path in paths:
        if not path.exists():
            msg = f"{path} not found; give JSONL or Parquet files, a folder of them, or a BEIR folder."
            raise InputNotFoundError(msg)
        if path.is_dir():
            corpus = path / "corpus.jsonl"
            found = [corpus] if corpus.is_file() else sorted(path.glob("*.parquet")) + sorted(path.glob("*.jsonl"))
            if not found:
                msg = f"{path} holds no corpus.jsonl, .parquet or .jsonl files."
                raise InputNotFoundError(msg)
            files.extend(found)
        else:
            files.append(path)
    parquet = [str(f) for f in files if f.suffix == ".parquet"]
    lines = [str(f) for f in files if f.suffix != ".parquet"]
    parts: Sequence[ray.data.Dataset] = []
    # Reading takes no CPU slot: encoder actors may hold every CPU of a node (2 actors on 2 cores), and a read
    # task waiting for a free CPU would wait forever.
    kwargs: dict[str, Any] = {"num_cpus": 0}
    if rows_per_block:
        size = sum(f.stat().st_size for f in files)
        kwargs["override_num_blocks"] = max(min_blocks, math.ceil(size / (rows_per_block * _BYTES_PER_DOCUMENT)))
    if parquet:
        parts = [*parts, ray.data.read_parquet(parquet, **kwargs).map_batches(_to_records, batch_format="numpy")]
    if lines:
        text = ray.data.read_text(lines, **kwargs)
        parts = [*parts, text.map_batches(_lines_to_records, batch_format="numpy")]
    return parts[0] if len(parts) == 1 else parts[0].union(*parts[1:])
