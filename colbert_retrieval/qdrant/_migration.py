"""Copy a collection between stores (embedded <-> server, or out of a 0.1.0 folder) without re-encoding.

Points are streamed page by page with their vectors and payloads and written with the same ids, so a copy
that stops half-way resumes where it stopped (ids already in the target are skipped). The ColBERT,
first-stage and BM25 vectors are copied as stored; a source without BM25 vectors (written by 0.1.0) gets
them computed from the stored text, which needs no model.

Examples:
    >>> from colbert_retrieval.qdrant.backends import EdgeBackend
    >>> source, target = EdgeBackend(None, "docs"), EdgeBackend(None, "docs")
    >>> from colbert_retrieval.qdrant._schema import IndexSettings, StorageOptions
    >>> source.create(IndexSettings(model_name="m", dim=4, first_stage="mean"), StorageOptions())
    >>> migrate(source, target).documents
    0
    >>> source.close(); target.close()
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
from tqdm.auto import tqdm

from colbert_retrieval.documents import PayloadKeys, from_payload, section_of
from colbert_retrieval.errors import CollectionNotFoundError, IndexMismatchError
from colbert_retrieval.qdrant import _writer_steps as ingest
from colbert_retrieval.qdrant._bm25 import BM25Config, SparseVector
from colbert_retrieval.qdrant._derived import DerivedVectors
from colbert_retrieval.qdrant._schema import (
    BM25_VECTOR,
    COLBERT_VECTOR,
    FIRST_STAGE_VECTOR,
    SCHEMA_VERSION,
    StorageOptions,
    check_compatible,
)
from colbert_retrieval.qdrant.backends import Backend, PointData, StoredPoint

__all__ = ["MigrationSummary", "migrate"]


@dataclass(frozen=True)
class MigrationSummary:
    """What a migration did."""

    documents: int
    skipped: int
    seconds: float

    def __str__(self) -> str:
        return f"{self.documents} documents copied ({self.skipped} already there), {self.seconds:.1f} s"


def _sparse(value: Any) -> SparseVector | None:
    if value is None or isinstance(value, SparseVector):
        return value
    return SparseVector(indices=[int(i) for i in value.indices], values=[float(v) for v in value.values])


def _point(point: StoredPoint, derived: DerivedVectors, keys: PayloadKeys) -> PointData:
    vectors = point.vectors or {}
    sparse = _sparse(vectors.get(BM25_VECTOR))
    if sparse is None:  # a source without BM25 vectors: computed from the stored text
        record = from_payload(point.payload, keys)
        sparse = derived.sparse([record.text], is_query=False, titles=[section_of(record)])[0]
    return PointData(
        id=point.id,
        colbert=np.asarray(vectors[COLBERT_VECTOR], dtype=np.float16),
        first_stage=np.asarray(vectors[FIRST_STAGE_VECTOR], dtype=np.float32),
        bm25=sparse,
        payload=point.payload,
    )


def migrate(
    source: Backend,
    target: Backend,
    *,
    batch_size: int = 256,
    overwrite: bool = False,
    options: StorageOptions | None = None,
    show_progress_bar: bool = False,
) -> MigrationSummary:
    """Copy every point of ``source`` into ``target`` (created with the source's settings if missing).

    Args:
        source: the collection to read.
        target: the collection to write (its settings must match the source's model, dimension and first stage).
        batch_size: points per page.
        overwrite: rewrite points that are already in the target.
        options: storage options of a new target collection.
        show_progress_bar: show a tqdm bar.

    Raises:
        CollectionNotFoundError: the source collection does not exist.
        IndexMismatchError: the source was not written by colbert-retrieval, or the target holds another model.
    """
    if not source.exists():
        msg = f"Source collection {source.collection!r} does not exist."
        raise CollectionNotFoundError(msg)
    settings = source.read_settings()
    if settings is None:
        msg = f"Source collection {source.collection!r} was not written by colbert-retrieval; nothing to migrate."
        raise IndexMismatchError(msg)
    if not settings.has_bm25:  # a 0.1.0 collection: add BM25 vectors from the stored text
        settings = replace(settings, bm25=BM25Config().to_dict(), schema_version=SCHEMA_VERSION)
    derived = DerivedVectors(settings)
    if target.exists():
        stored = target.read_settings()
        if stored is None:
            msg = f"Target collection {target.collection!r} exists but was not written by colbert-retrieval."
            raise IndexMismatchError(msg)
        check_compatible(stored, settings, target.collection)
    else:
        target.create(settings, options or StorageOptions())
    start = time.perf_counter()
    copied = skipped = 0
    offset: str | None = None
    bar = tqdm(desc="Migrating", unit="doc", disable=not show_progress_bar)
    try:
        while True:
            page, offset = source.scroll(offset, batch_size, with_vectors=True)
            if page:
                keys = settings.payload_keys
                page_records = {p.id: from_payload(p.payload, keys) for p in page}
                present = ingest.unchanged(target, page_records, overwrite, keys)
                todo = [_point(p, derived, keys) for p in page if p.id not in present]
                if todo:
                    target.upsert(todo)
                copied += len(todo)
                skipped += len(page) - len(todo)
                bar.update(len(page))
            if offset is None:
                break
    finally:
        bar.close()
    target.optimize()
    return MigrationSummary(copied, skipped, time.perf_counter() - start)
