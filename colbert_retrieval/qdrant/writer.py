"""Writing documents into a ColBERT collection: ``add`` (encode + upload) and ``add_embeddings`` (a mixin).

Examples:
    >>> from colbert_retrieval.qdrant.writer import IndexWriter
    >>> sorted(name for name in vars(IndexWriter) if not name.startswith("_"))
    ['add', 'add_embeddings']
"""

from __future__ import annotations

import logging
import time
import warnings
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
from qdrant_client import models as qm
from tqdm.auto import tqdm

from colbert_retrieval.errors import CollectionNotFoundError, DimensionMismatchError
from colbert_retrieval.qdrant import ingest
from colbert_retrieval.qdrant.first_stage import FirstStage, MuveraConfig, first_stage_vectors
from colbert_retrieval.qdrant.records import Record, point_id, to_record
from colbert_retrieval.qdrant.schema import COLBERT_VECTOR, FIRST_STAGE_VECTOR, IndexSettings, max_vectors_per_point

if TYPE_CHECKING:
    from qdrant_client import QdrantClient

    from colbert_retrieval.models.colbert import ColBERT

__all__ = ["IndexWriter"]

logger = logging.getLogger(__name__)


class IndexWriter:
    """Ingest half of :class:`~colbert_retrieval.qdrant.index.ColBERTIndex`."""

    collection: str
    settings: IndexSettings
    shard_key_selector: Any
    _client: QdrantClient
    _model: ColBERT
    _muvera: MuveraConfig | None

    def _require_collection(self) -> None:
        if not self._client.collection_exists(self.collection):
            msg = f"Collection {self.collection!r} does not exist (was it deleted?); re-create the index."
            raise CollectionNotFoundError(msg)

    def _encode_documents(self, texts: list[str], batch_size: int, pool_factor: int) -> list[torch.Tensor]:
        model = self._model
        return model._inference(
            texts,
            prompt=model._text_prompt(False, None, None),
            batch_size=batch_size,
            is_query=False,
            pool_factor=pool_factor,
        )

    def _existing(self, ids: list[str]) -> set[str]:
        found = ingest.with_retries(
            lambda: self._client.retrieve(
                self.collection,
                ids=ids,
                with_payload=False,
                with_vectors=False,
                shard_key_selector=self.shard_key_selector,
            )
        )
        return {str(p.id) for p in found}

    def _upload(self, points: list[qm.PointStruct]) -> None:
        ingest.with_retries(
            lambda: self._client.upsert(
                self.collection, points=points, wait=True, shard_key_selector=self.shard_key_selector
            )
        )

    def _points(
        self, records: list[Record], embeddings: list[torch.Tensor], limit: int
    ) -> tuple[list[qm.PointStruct], int]:
        """Qdrant points (float16 multivector + first-stage vector + payload) and how many were re-pooled."""
        fitted = [ingest.fit_to_limit(e, limit) for e in embeddings]
        repooled = sum(a.shape[0] != b.shape[0] for a, b in zip(embeddings, fitted))
        arrays = ingest.to_float16_numpy(fitted)
        first = first_stage_vectors(
            [a.astype(np.float32) for a in arrays], FirstStage(self.settings.first_stage), self._muvera, False
        )
        points = [
            qm.PointStruct(
                id=point_id(record),
                vector={COLBERT_VECTOR: array, FIRST_STAGE_VECTOR: fs},
                payload={"text": record.text, "id": record.id, "metadata": record.metadata},
            )
            for record, array, fs in zip(records, arrays, first)
        ]
        return points, repooled

    def add_embeddings(
        self,
        documents: Sequence[str | Record | Mapping[str, Any]],
        embeddings: Sequence[np.ndarray | torch.Tensor],
    ) -> ingest.IngestSummary:
        """Store documents whose multi-vectors were computed elsewhere (e.g. on a GPU box), as ``add`` would.

        The embeddings are stored as given (pool them first if wanted); ids are deterministic as in ``add``,
        and existing documents are replaced.

        Args:
            documents: the documents, one per embedding.
            embeddings: ``(n_tokens, dim)`` float arrays or tensors with the collection's dimension.

        Raises:
            DimensionMismatchError: a wrong dimension or a count that does not match the documents.
        """
        self._require_collection()
        if len(documents) != len(embeddings):
            msg = f"Got {len(documents)} documents but {len(embeddings)} embeddings; give one embedding per document."
            raise DimensionMismatchError(msg)
        tensors = [torch.as_tensor(np.asarray(e)) if not isinstance(e, torch.Tensor) else e for e in embeddings]
        for position, tensor in enumerate(tensors):
            if tensor.ndim != 2 or tensor.shape[1] != self.settings.dim:
                msg = (
                    f"Embedding {position} has shape {tuple(tensor.shape)}, but collection {self.collection!r} stores "
                    f"(n_tokens, {self.settings.dim}) vectors; encode with the collection's model."
                )
                raise DimensionMismatchError(msg)
        start = time.perf_counter()
        records = [to_record(item, i) for i, item in enumerate(documents)]
        points, repooled = self._points(records, tensors, max_vectors_per_point(self.settings.dim))
        for batch in ingest.chunked(points, 256):
            self._upload(batch)
        vectors = sum(len(p.vector[COLBERT_VECTOR]) for p in points)
        return ingest.IngestSummary(len(points), 0, vectors, time.perf_counter() - start, repooled)

    def add(
        self,
        documents: Iterable[str | Record | Mapping[str, Any]],
        *,
        batch_size: int = 32,
        chunk_size: int = 256,
        overwrite: bool = False,
        show_progress_bar: bool = False,
    ) -> ingest.IngestSummary:
        """Encode and store documents (strings, :class:`Record` or ``{"id", "text", "metadata"}`` dicts).

        Ids are UUIDv5 of the user id (or of the text): re-running writes no duplicates, and documents
        already stored are skipped unless ``overwrite=True``, so an interrupted ingest resumes.

        Args:
            documents: any iterable, read lazily (a generator of millions of documents works).
            batch_size: documents per forward pass.
            chunk_size: documents read, encoded and uploaded together.
            overwrite: re-encode and replace documents already stored.
            show_progress_bar: show a tqdm bar of documents processed.

        Returns:
            An :class:`IngestSummary` (documents, skipped, vectors, seconds, docs/s).

        Raises:
            InputTypeError, EmptyInputError: a bad document (the message gives its position); the
                documents before it are stored.
        """
        self._require_collection()
        start = time.perf_counter()
        written = skipped = vectors = repooled = 0
        limit = max_vectors_per_point(self.settings.dim)
        uploader = ingest.Uploader(self._upload)
        bar = tqdm(desc="Indexing", unit="doc", disable=not show_progress_bar)
        position = 0
        try:
            for chunk in ingest.chunked(documents, chunk_size):
                records: dict[str, Record] = {}
                for item in chunk:
                    record = to_record(item, position)
                    position += 1
                    records[point_id(record)] = record
                ids = list(records)
                existing = set() if overwrite else self._existing(ids)
                todo = [i for i in ids if i not in existing]
                skipped += len(chunk) - len(todo)
                if todo:
                    texts = [records[i].text for i in todo]
                    embeddings = self._encode_documents(texts, batch_size, self.settings.pool_factor)
                    points, changed = self._points([records[i] for i in todo], embeddings, limit)
                    repooled += changed
                    uploader.submit(points)
                    written += len(points)
                    vectors += sum(len(p.vector[COLBERT_VECTOR]) for p in points)
                bar.update(len(chunk))
        finally:
            bar.close()
            uploader.close()
        if repooled:
            warnings.warn(
                f"{repooled} document(s) had more than {limit} vectors (Qdrant's multivector limit at dim "
                f"{self.settings.dim}) and were pooled further to fit; split very long documents into chunks.",
                stacklevel=2,
            )
        summary = ingest.IngestSummary(written, skipped, vectors, time.perf_counter() - start, repooled)
        logger.info("Ingest finished: %s", summary)
        return summary
