"""Writing documents into a collection: encode, pool, first-stage and BM25 vectors, upload in the background.

:class:`DocumentWriter` is composed into :class:`~colbert_retrieval.qdrant.ColBERTIndex`; it owns nothing but
the path from documents to :class:`~colbert_retrieval.qdrant.backends.PointData`, and uses only the model's
public ``encode``.

Examples:
    >>> from colbert_retrieval.qdrant._writer import DocumentWriter
    >>> sorted(name for name in vars(DocumentWriter) if not name.startswith("_"))
    ['add', 'add_embeddings', 'add_points', 'points']
"""

from __future__ import annotations

import logging
import time
import warnings
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
from tqdm.auto import tqdm

from colbert_retrieval._inputs import many
from colbert_retrieval.documents import Record, point_id, section_of, to_payload, to_record
from colbert_retrieval.errors import DimensionMismatchError
from colbert_retrieval.qdrant import _ingest as ingest
from colbert_retrieval.qdrant._derived import DerivedVectors
from colbert_retrieval.qdrant._schema import IndexSettings, max_vectors_per_point
from colbert_retrieval.qdrant.backends import Backend, PointData

if TYPE_CHECKING:
    from colbert_retrieval.models import ColBERT

__all__ = ["DocumentWriter", "PointEncoder"]

logger = logging.getLogger(__name__)


class PointEncoder:
    """Documents to points: encode, pool, float16, first-stage and BM25 vectors, payload, deterministic id.

    Stateless past its model and settings, so one per worker process serves any number of batches (the Ray
    pipeline's encoder actors hold one each).

    Args:
        model: the encoder.
        settings: the collection's settings (pooling, first stage, BM25, id scheme).
    """

    def __init__(self, model: ColBERT, settings: IndexSettings) -> None:
        self._model = model
        self._settings = settings
        self._derived = DerivedVectors(settings)

    def encode(self, records: Sequence[Record], batch_size: int = 32) -> tuple[list[PointData], int]:
        """Encode and pool the records' texts (length-sorted batches) and build their points.

        Returns:
            The points, and how many multivectors were pooled further to fit Qdrant's size limit.
        """
        embeddings = self._model.encode(
            [r.text for r in records],
            is_query=False,
            pool_factor=self._settings.pool_factor,
            batch_size=batch_size,
            convert_to_tensor=True,
            show_progress_bar=False,
        )
        return self.points(records, embeddings)

    def points(self, records: Sequence[Record], embeddings: Sequence[torch.Tensor]) -> tuple[list[PointData], int]:
        """Points for encoded documents (float16 multivector, first-stage and BM25 vectors, payload).

        Multivectors over Qdrant's size limit are pooled further; the second value counts them.
        """
        limit = max_vectors_per_point(self._settings.dim)
        fitted = [ingest.fit_to_limit(e, limit) for e in embeddings]
        repooled = sum(a.shape[0] != b.shape[0] for a, b in zip(embeddings, fitted))
        arrays = ingest.to_float16_numpy(fitted)
        first = self._derived.first_stage(arrays, is_query=False)
        titles = [section_of(r) for r in records]
        sparse = self._derived.sparse([r.text for r in records], is_query=False, titles=titles)
        points = [
            PointData(point_id(record, self._settings.id_scheme), array, fs, bm25, to_payload(record))
            for record, array, fs, bm25 in zip(records, arrays, first, sparse)
        ]
        return points, repooled


class DocumentWriter:
    """Turns documents into stored points.

    Args:
        backend: where points go.
        model: the encoder.
        settings: the collection's settings (pooling, first stage, BM25).
    """

    def __init__(
        self,
        backend: Backend,
        model: ColBERT,
        settings: IndexSettings,
    ) -> None:
        self._backend = backend
        self._settings = settings
        self._encoder = PointEncoder(model, settings)

    def points(self, records: Sequence[Record], embeddings: Sequence[torch.Tensor]) -> tuple[list[PointData], int]:
        """Points for encoded documents (see :meth:`PointEncoder.points`)."""
        return self._encoder.points(records, embeddings)

    def _upload(self, points: list[PointData]) -> None:
        self._backend.upsert(points)

    def _check_dim(self, shape: tuple[int, ...], what: str, fix: str) -> None:
        if len(shape) != 2 or shape[1] != self._settings.dim:
            msg = (
                f"{what} has shape {shape}, but the collection stores (n_tokens, {self._settings.dim}) vectors; {fix}."
            )
            raise DimensionMismatchError(msg)

    def add_embeddings(
        self,
        documents: Sequence[str | Record | Mapping[str, Any]],
        embeddings: Sequence[np.ndarray | torch.Tensor],
    ) -> ingest.IngestSummary:
        """Store documents whose multi-vectors were computed elsewhere (see ``ColBERTIndex.add_embeddings``)."""
        if len(documents) != len(embeddings):
            msg = f"Got {len(documents)} documents but {len(embeddings)} embeddings; give one embedding per document."
            raise DimensionMismatchError(msg)
        tensors = [e if isinstance(e, torch.Tensor) else torch.as_tensor(np.asarray(e)) for e in embeddings]
        for position, tensor in enumerate(tensors):
            self._check_dim(tuple(tensor.shape), f"Embedding {position}", "encode with the collection's model")
        start = time.perf_counter()
        records = [to_record(item, i) for i, item in enumerate(documents)]
        vectors = repooled = 0
        for chunk in ingest.chunked(list(zip(records, tensors)), 256):
            points, changed = self.points([r for r, _ in chunk], [t for _, t in chunk])
            self._upload(points)
            vectors += sum(len(p.colbert) for p in points)
            repooled += changed
        return ingest.IngestSummary(len(records), 0, vectors, time.perf_counter() - start, repooled)

    def add_points(self, points: Iterable[PointData], *, overwrite: bool = False) -> ingest.IngestSummary:
        """Store points built elsewhere (e.g. Parquet shards of the Ray pipeline); stored ids are skipped.

        Points stream in chunks of 256; each chunk skips ids already stored (unless ``overwrite``) and is
        upserted with retries, so a re-run after an interruption writes only what is missing.
        """
        start = time.perf_counter()
        written = skipped = vectors = 0
        for chunk in ingest.chunked(points, 256):
            for point in chunk:
                self._check_dim(point.colbert.shape, f"Point {point.id}", "build it with the collection's model")
            existing = ingest.to_skip(self._backend, [p.id for p in chunk], overwrite)
            todo = [p for p in chunk if p.id not in existing]
            skipped += len(chunk) - len(todo)
            if todo:
                self._upload(todo)
                written += len(todo)
                vectors += sum(len(p.colbert) for p in todo)
        return ingest.IngestSummary(written, skipped, vectors, time.perf_counter() - start)

    def add(
        self,
        documents: Iterable[str | Record | Mapping[str, Any]],
        *,
        batch_size: int = 32,
        chunk_size: int = 256,
        overwrite: bool = False,
        show_progress_bar: bool = False,
    ) -> ingest.IngestSummary:
        """Encode and store documents (see ``ColBERTIndex.add``)."""
        many(documents, "add() documents")
        start = time.perf_counter()
        written = skipped = vectors = repooled = 0
        uploader = ingest.Uploader(self._upload)
        bar = tqdm(desc="Indexing", unit="doc", disable=not show_progress_bar)
        position = 0
        try:
            for chunk in ingest.chunked(documents, chunk_size):
                records: dict[str, Record] = {}
                for item in chunk:
                    record = to_record(item, position)
                    position += 1
                    records[point_id(record, self._settings.id_scheme)] = record
                existing = ingest.to_skip(self._backend, list(records), overwrite)
                todo = [record for i, record in records.items() if i not in existing]
                skipped += len(chunk) - len(todo)
                if todo:
                    points, changed = self._encoder.encode(todo, batch_size)
                    repooled += changed
                    uploader.submit(points)
                    written += len(points)
                    vectors += sum(len(p.colbert) for p in points)
                bar.update(len(chunk))
        finally:
            bar.close()
            uploader.close()
        if repooled:
            limit = max_vectors_per_point(self._settings.dim)
            warnings.warn(
                f"{repooled} document(s) had more than {limit} vectors (Qdrant's multivector limit at dim "
                f"{self._settings.dim}) and were pooled further to fit; split very long documents into chunks.",
                stacklevel=3,
            )
        summary = ingest.IngestSummary(written, skipped, vectors, time.perf_counter() - start, repooled)
        logger.info("Ingest finished: %s", summary)
        return summary
