"""Points as table rows: the columns the encoder actors emit, Parquet shards hold and the writers read back.

One row per input document. ``skipped`` rows are documents already stored (only their ``point_id`` is set);
the others carry the point: ``payload`` (JSON), ``colbert`` (float16 bytes, ``n_vectors`` x dim),
``first_stage`` (float32 bytes), ``bm25_indices`` / ``bm25_values`` (uint32 / float32 bytes, empty where the
collection has no BM25 vector), ``truncated`` (the model cut the document's text at its ``document_length``).
Bytes keep every column a plain Arrow type, so any Ray block format, Parquet
and the object store carry them without conversion.

Examples:
    >>> import numpy as np
    >>> from colbert_retrieval.qdrant import SparseVector
    >>> from colbert_retrieval.qdrant.backends import PointData
    >>> point = PointData("7", np.ones((2, 4), np.float16), np.ones(8, np.float32), SparseVector([3], [0.5]), {})
    >>> back = to_points(to_columns([point], ["9"]), dim=4)
    >>> back[0].id, back[0].colbert.shape, back[0].bm25.indices
    ('7', (2, 4), [3])
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from colbert_retrieval.qdrant import NAMED_IDS, SparseVector, Truncated
from colbert_retrieval.qdrant.backends import PointData

__all__ = ["COLUMNS", "to_columns", "to_points", "truncated_rows"]

COLUMNS = (
    "point_id",
    "skipped",
    "payload",
    "n_vectors",
    "colbert",
    "first_stage",
    "bm25_indices",
    "bm25_values",
    "truncated",
)


def to_columns(
    points: Sequence[PointData], skipped_ids: Sequence[str] = (), truncated: Sequence[int] = ()
) -> dict[str, np.ndarray]:
    """A column batch of encoded points, then one ``skipped`` row per already stored id.

    ``truncated``: positions in ``points`` of the documents the model cut (their ``truncated`` flag is set).
    """
    cut = set(truncated)
    rows = len(points) + len(skipped_ids)
    columns: dict[str, list[Any]] = {name: [] for name in COLUMNS}
    for point in points:
        columns["point_id"].append(point.id)
        columns["skipped"].append(False)
        columns["payload"].append(json.dumps(point.payload, ensure_ascii=False))
        columns["n_vectors"].append(len(point.colbert))
        columns["colbert"].append(np.ascontiguousarray(point.colbert, dtype=np.float16).tobytes())
        columns["first_stage"].append(np.ascontiguousarray(point.first_stage, dtype=np.float32).tobytes())
        sparse = point.bm25
        columns["bm25_indices"].append(np.asarray(sparse.indices if sparse else [], np.uint32).tobytes())
        columns["bm25_values"].append(np.asarray(sparse.values if sparse else [], np.float32).tobytes())
        columns["truncated"].append(len(columns["truncated"]) in cut)
    for point_id in skipped_ids:
        for name, value in zip(COLUMNS, (point_id, True, "", 0, b"", b"", b"", b"", False)):
            columns[name].append(value)
    out = {name: np.array(values, dtype=object) for name, values in columns.items()}
    out["skipped"] = np.array(columns["skipped"], dtype=bool).reshape(rows)
    out["n_vectors"] = np.array(columns["n_vectors"], dtype=np.int32).reshape(rows)
    out["truncated"] = np.array(columns["truncated"], dtype=bool).reshape(rows)
    return out


def truncated_rows(batch: Mapping[str, Any], limit: int) -> Truncated:
    """The documents of a column batch that the model cut (none for shards written before the column existed).

    Examples:
        >>> import numpy as np
        >>> from colbert_retrieval.qdrant.backends import PointData
        >>> point = PointData("7", np.ones((2, 4), np.float16), np.ones(8, np.float32), None, {"id": "d7"})
        >>> truncated_rows(to_columns([point], truncated=[0]), 180).ids
        ('d7',)
    """
    flags = batch.get("truncated")
    if flags is None:
        return Truncated(limit=limit)
    rows = [i for i, flag in enumerate(flags) if flag]
    ids = tuple(str(json.loads(batch["payload"][i]).get("id")) for i in rows[:NAMED_IDS])
    return Truncated(len(rows), ids, limit)


def _bytes(value: Any) -> bytes:
    return value if isinstance(value, bytes) else bytes(value)


def to_points(batch: Mapping[str, Any], dim: int) -> list[PointData]:
    """The points of a column batch (numpy arrays or lists, e.g. pyarrow's ``to_pydict()``); skipped rows left out."""
    points = []
    for i, skipped in enumerate(batch["skipped"]):
        if skipped:
            continue
        indices = np.frombuffer(_bytes(batch["bm25_indices"][i]), np.uint32)
        values = np.frombuffer(_bytes(batch["bm25_values"][i]), np.float32)
        colbert = np.frombuffer(_bytes(batch["colbert"][i]), np.float16).reshape(int(batch["n_vectors"][i]), dim)
        points.append(
            PointData(
                str(batch["point_id"][i]),
                colbert,
                np.frombuffer(_bytes(batch["first_stage"][i]), np.float32),
                SparseVector(indices.astype(np.int64).tolist(), values.tolist()) if len(indices) else None,
                json.loads(batch["payload"][i]),
            )
        )
    return points
