"""Writing documents into a collection: encode, pool, first-stage and BM25 vectors, upload in the background.

:class:`DocumentWriter` is composed into :class:`~colbert_retrieval.qdrant.ColBERTIndex`; it owns nothing but
the path from documents to :class:`~colbert_retrieval.qdrant.backends.PointData`, and uses only the model's
public ``encode`` (and ``models.overlong_documents`` to count the texts the model cuts).

Examples:
    >>> from colbert_retrieval.qdrant._writer import DocumentWriter
    >>> sorted(name for name in vars(DocumentWriter) if not name.startswith("_"))
    ['add', 'add_embeddings', 'add_points', 'point_id', 'points']
"""

from __future__ import annotations

import logging
import time
import warnings
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
from tqdm.auto import tqdm

from colbert_retrieval._inputs import many
from colbert_retrieval.documents import (
    SOURCE_KEY,
    SYNC_KEY,
    Record,
    from_payload,
    point_id,
    section_of,
    to_payload,
    to_record,
)
from colbert_retrieval.errors import DimensionMismatchError
from colbert_retrieval.models import document_token_spans, overlong_documents
from colbert_retrieval.pooling import pool_embeddings_hierarchical
from colbert_retrieval.qdrant import _writer_steps as ingest
from colbert_retrieval.qdrant._derived import DerivedVectors
from colbert_retrieval.qdrant._highlights import SPANS_KEY, span_table
from colbert_retrieval.qdrant._schema import IndexSettings, max_vectors_per_point
from colbert_retrieval.qdrant.backends import Backend, PointData

if TYPE_CHECKING:
    from colbert_retrieval.models import ColBERT

__all__ = ["DocumentWriter", "EncodedPoints", "PointEncoder"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class EncodedPoints:
    """Points of encoded records, how many were pooled further to fit Qdrant, and the records the model cut.

    ``cut`` holds the positions (in the records and points) of the documents longer than the model reads.
    """

    points: list[PointData]
    repooled: int
    truncated: ingest.Truncated
    cut: tuple[int, ...] = ()


class PointEncoder:
    """Documents to points: encode, pool, float16, first-stage and BM25 vectors, payload, deterministic id.

    Stateless past its model and settings, so one per worker process serves any number of batches (the Ray
    pipeline's encoder actors hold one each).

    Args:
        model: the encoder.
        settings: the collection's settings (pooling, first stage, BM25, id scheme).
        derived: the collection's first-stage and BM25 vectors (None: built from ``settings``; an index passes
            its one object, shared with its searcher).
    """

    def __init__(self, model: ColBERT, settings: IndexSettings, derived: DerivedVectors | None = None) -> None:
        self._model = model
        self._settings = settings
        self._derived = derived or DerivedVectors(settings)

    @property
    def document_length(self) -> int:
        """Tokens the model reads of a document (markers included)."""
        return self._model.document_length

    def encode(
        self, records: Sequence[Record], batch_size: int = 32, tags: Mapping[str, ingest.SyncTag] | None = None
    ) -> EncodedPoints:
        """Encode and pool the records' texts (length-sorted batches) and build their points.

        Args:
            records: the documents.
            batch_size: texts per forward pass.
            tags: the source versions of synced records, by source (versioned point ids for an atomic source;
                stored in the payload).

        Returns:
            The points, how many multivectors were pooled further to fit Qdrant's size limit, and the records
            longer than the model reads (counted, their ids named).
        """
        texts = [r.text for r in records]
        cut = overlong_documents(self._model, texts)
        named = [str(records[i].id) if records[i].id is not None else repr(texts[i][:40]) for i in cut]
        truncated = ingest.Truncated(len(cut), tuple(named[: ingest.NAMED_IDS]), self._model.document_length)
        tokens = self._model.encode(
            texts, is_query=False, batch_size=batch_size, convert_to_tensor=True, show_progress_bar=False
        )
        factor = self._settings.pool_factor
        embeddings = pool_embeddings_hierarchical(list(tokens), factor) if factor > 1 else list(tokens)
        spans = document_token_spans(self._model, texts)
        points, repooled = self.points(records, embeddings, tags, tokens=tokens, spans=spans)
        return EncodedPoints(points, repooled, truncated, tuple(cut))

    def point_id(self, record: Record, version: str | None = None) -> str:
        """A record's point id in this collection (``version``: of a record of an atomic synced source)."""
        return point_id(record, self._settings.id_scheme, version)

    def points(
        self,
        records: Sequence[Record],
        embeddings: Sequence[torch.Tensor],
        tags: Mapping[str, ingest.SyncTag] | None = None,
        *,
        tokens: Sequence[torch.Tensor] | None = None,
        spans: Sequence[Sequence[tuple[int, int] | None]] | None = None,
    ) -> tuple[list[PointData], int]:
        """Points for encoded documents (float16 multivector, first-stage and BM25 vectors, payload).

        Multivectors over Qdrant's size limit are pooled further; the second value counts them. A ``tag`` is
        stored in each payload (``SYNC_KEY``) and versions the point ids of an atomic source (``tags``: by source).
        With the documents' token vectors before pooling and their character spans, each payload keeps its
        span table (``SPANS_KEY``: what highlights read); a document whose spans do not cover its vectors gets
        none (counted in a log line; its highlights re-encode the text).
        """
        limit = max_vectors_per_point(self._settings.dim)
        fitted = [ingest.fit_to_limit(e, limit) for e in embeddings]
        repooled = sum(a.shape[0] != b.shape[0] for a, b in zip(embeddings, fitted))
        arrays = ingest.to_float16_numpy(fitted)
        first = self._derived.first_stage(arrays, is_query=False)
        titles = [section_of(r) for r in records]
        sparse = self._derived.sparse([r.text for r in records], is_query=False, titles=titles)
        points = []
        tables: list[list[int] | None] = [None] * len(records)
        if tokens is not None and spans is not None:
            tables = [span_table(t, f, s) for t, f, s in zip(tokens, fitted, spans)]
            if unmatched := sum(table is None for table in tables):
                logger.info("%d of %d documents stored without a span table (highlights re-encode them).",
                            unmatched, len(tables))  # fmt: skip
        for record, array, fs, bm25, table in zip(records, arrays, first, sparse, tables):
            tag = tag_of(record, tags)
            stored = to_payload(record, self._settings.payload_keys)
            payload = {**stored, **({SYNC_KEY: tag.payload()} if tag is not None else {})}
            if table:
                payload[SPANS_KEY] = table
            points.append(PointData(self.point_id(record, _versioned(tag)), array, fs, bm25, payload))
        return points, repooled


class DocumentWriter:
    """Turns documents into stored points.

    Args:
        backend: where points go.
        model: the encoder.
        settings: the collection's settings (pooling, first stage, BM25).
        derived: the collection's first-stage and BM25 vectors (the index's one object).
    """

    def __init__(self, backend: Backend, model: ColBERT, settings: IndexSettings, derived: DerivedVectors) -> None:
        self._backend = backend
        self._settings = settings
        self._encoder = PointEncoder(model, settings, derived)

    def points(self, records: Sequence[Record], embeddings: Sequence[torch.Tensor]) -> tuple[list[PointData], int]:
        """Points for encoded documents (see :meth:`PointEncoder.points`)."""
        return self._encoder.points(records, embeddings)

    def point_id(self, record: Record, version: str | None = None) -> str:
        """A record's point id (see :meth:`PointEncoder.point_id`)."""
        return self._encoder.point_id(record, version)

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

        Points stream in chunks of 256; each chunk skips points stored with the same text, id and metadata
        (unless ``overwrite``) and is upserted with retries, so a re-run after an interruption writes only what
        is missing or changed.
        """
        start = time.perf_counter()
        written = skipped = vectors = 0
        for chunk in ingest.chunked(points, 256):
            for point in chunk:
                self._check_dim(point.colbert.shape, f"Point {point.id}", "build it with the collection's model")
            keys = self._settings.payload_keys
            records = {p.id: from_payload(p.payload, keys) for p in chunk}
            existing = ingest.unchanged(self._backend, records, overwrite, keys)
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
        tags: Mapping[str, ingest.SyncTag] | None = None,
        written_ids: set[str] | None = None,
    ) -> ingest.IngestSummary:
        """Encode and store documents (see ``ColBERTIndex.add``).

        ``tags``: the source versions of a sync, by source; ``written_ids`` collects the point ids written.
        """
        many(documents, "add() documents")
        start = time.perf_counter()
        written = skipped = vectors = repooled = 0
        truncated = ingest.Truncated(limit=self._encoder.document_length)
        uploader = ingest.Uploader(self._upload)
        bar = tqdm(desc="Indexing", unit="doc", disable=not show_progress_bar)
        position = 0
        try:
            for chunk in ingest.chunked(documents, chunk_size):
                records: dict[str, Record] = {}
                for item in chunk:
                    record = to_record(item, position)
                    position += 1
                    records[self._encoder.point_id(record, _versioned(tag_of(record, tags)))] = record
                existing = ingest.unchanged(self._backend, records, overwrite, self._settings.payload_keys)
                todo = [record for i, record in records.items() if i not in existing]
                skipped += len(chunk) - len(todo)
                if todo:
                    encoded = self._encoder.encode(todo, batch_size, tags)
                    if written_ids is not None:
                        written_ids.update(point.id for point in encoded.points)
                    repooled += encoded.repooled
                    truncated += encoded.truncated
                    uploader.submit(encoded.points)
                    written += len(encoded.points)
                    vectors += sum(len(p.colbert) for p in encoded.points)
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
        summary = ingest.IngestSummary(written, skipped, vectors, time.perf_counter() - start, repooled, truncated)
        logger.info("Ingest finished: %s", summary)
        return summary


def tag_of(record: Record, tags: Mapping[str, ingest.SyncTag] | None) -> ingest.SyncTag | None:
    """The sync tag of a record's source (None outside a sync)."""
    return tags.get(record.metadata.get(SOURCE_KEY)) if tags else None


def _versioned(tag: ingest.SyncTag | None) -> str | None:
    """The version in a synced record's point id: its source's, where the source is replaced as one unit."""
    return tag.version if tag is not None and tag.atomic else None
