"""The writer's steps (:mod:`._writer` runs them): chunks, the upload thread, repooling, the float16 cast, the summary.

Documents stream from any iterable in chunks (constant memory). Each chunk: deterministic point ids;
documents stored with the same text and metadata are skipped unless ``overwrite=True`` (so an interrupted
ingest resumes where it stopped, and a changed text under a stored id is replaced, never skipped); texts are
encoded in length-sorted batches and pooled; vectors are cast to float16 on the device before the copy back;
a background thread uploads the previous chunk through a bounded queue, so uploading overlaps encoding.
Transient server errors are retried inside the server backend; any other failure stops the ingest and is
raised to the caller (everything uploaded before it stays, and a re-run skips it). Texts longer than the model
reads are counted and named (:class:`IngestSummary`, one :class:`~colbert_retrieval.errors.TruncationWarning`
per call).

Examples:
    >>> list(chunked(range(5), 2))
    [[0, 1], [2, 3], [4]]
"""

from __future__ import annotations

import math
import queue
import threading
import warnings
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

import numpy as np
import torch

from colbert_retrieval.documents import PAYLOAD_KEYS, PayloadKeys, Record, same_content
from colbert_retrieval.errors import TruncationWarning
from colbert_retrieval.pooling import pool_embeddings_hierarchical

__all__ = [
    "IngestSummary",
    "SyncTag",
    "Truncated",
    "Uploader",
    "chunked",
    "fit_to_limit",
    "unchanged",
    "warn_truncated",
]

#: How many ids of over-long documents a summary and its warning name.
NAMED_IDS = 5

T = TypeVar("T")


@dataclass(frozen=True)
class Truncated:
    """Documents longer than the model reads: how many, the first ids, and the model's limit in tokens.

    Examples:
        >>> (Truncated(1, ("a",), 256) + Truncated(2, ("b", "c"), 256)).ids
        ('a', 'b', 'c')
    """

    count: int = 0
    ids: tuple[str, ...] = ()
    limit: int = 0

    def __add__(self, other: Truncated) -> Truncated:
        return Truncated(self.count + other.count, (self.ids + other.ids)[:NAMED_IDS], self.limit or other.limit)

    def __bool__(self) -> bool:
        return self.count > 0

    def __str__(self) -> str:
        return f"{self.count} longer than the model reads ({self.limit} tokens; first: {', '.join(self.ids)})"


@dataclass(frozen=True)
class IngestSummary:
    """What an ingest did: documents written, skipped (stored unchanged), vectors, time; texts cut, if any.

    ``truncated`` counts the documents longer than the model reads (``document_length`` tokens): ColBERT encoded
    their first ``truncated.limit`` tokens and BM25 all their text. A model loaded with ``truncation=False``
    encodes them whole (sliding windows), so it never counts any.
    """

    documents: int
    skipped: int
    vectors: int
    seconds: float
    repooled: int = 0
    truncated: Truncated = Truncated()

    @property
    def docs_per_second(self) -> float:
        """Written documents per second of wall time."""
        return self.documents / self.seconds if self.seconds > 0 else 0.0

    def __str__(self) -> str:
        text = (
            f"{self.documents} documents written ({self.skipped} unchanged, skipped), {self.vectors} vectors, "
            f"{self.seconds:.1f} s, {self.docs_per_second:.1f} docs/s"
        )
        return text + (f"; {self.truncated.count} cut to {self.truncated.limit} tokens" if self.truncated else "")


def warn_truncated(truncated: Truncated, stacklevel: int = 3) -> None:
    """One :class:`TruncationWarning` for a call that cut documents (nothing when none was cut).

    ``stacklevel`` 3 points at the caller of the public method that calls this.
    """
    if truncated:
        warnings.warn(
            f"{truncated} were cut to their first {truncated.limit} tokens for ColBERT (BM25 indexes all their "
            "text). Split them into chunks (colbert_retrieval.documents.Chunker, or `colbert-retrieval index` on "
            "the files), or load the model with truncation=False to encode them whole in sliding windows.",
            TruncationWarning,
            stacklevel=stacklevel,
        )


@dataclass(frozen=True)
class SyncTag:
    """What a synced document's payload records of its source's version (``ColBERTIndex.sync``; keyed by source).

    ``atomic`` sources are written as a new version beside the old one (versioned point ids), then the old
    version is deleted; ``size`` lets a later sync tell a complete version from one a crash cut short.

    Examples:
        >>> SyncTag("v1", 3, True, 7).payload()
        {'version': 'v1', 'size': 3, 'atomic': True, 'time': 7}
    """

    version: str
    size: int
    atomic: bool
    time: int

    def payload(self) -> dict[str, Any]:
        """The payload value (under ``SYNC_KEY``)."""
        return {"version": self.version, "size": self.size, "atomic": self.atomic, "time": self.time}


def chunked(items: Iterable[T], size: int) -> Iterator[list[T]]:
    """Yield lists of at most ``size`` items, reading the iterable lazily."""
    chunk: list[T] = []
    for item in items:
        chunk.append(item)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def unchanged(
    backend: Any, records: Mapping[str, Record], overwrite: bool, keys: PayloadKeys = PAYLOAD_KEYS
) -> set[str]:
    """The point ids a resumable write skips: stored with the same text, id and metadata (none with ``overwrite``).

    A stored id whose text or metadata changed is not skipped: the write replaces it.

    Examples:
        >>> unchanged(None, {"p": Record("a")}, overwrite=True)
        set()
    """
    if overwrite or not records:
        return set()
    stored = backend.retrieve(list(records))
    return {p.id for p in stored if p.id in records and same_content(p.payload, records[p.id], keys)}


class Uploader:
    """A background thread that runs upload jobs from a bounded queue and keeps the first error."""

    def __init__(self, upload: Callable[[Any], None], max_pending: int = 2) -> None:
        self._upload = upload
        self._queue: queue.Queue[Any] = queue.Queue(maxsize=max_pending)
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="colbert-qdrant-upload", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while True:
            job = self._queue.get()
            if job is None:
                return
            if self._error is None:
                try:
                    self._upload(job)
                except BaseException as error:  # re-raised in the caller's thread
                    self._error = error

    def raise_if_failed(self) -> None:
        """Re-raise an upload error in the caller's thread."""
        if self._error is not None:
            raise self._error

    def submit(self, job: Any) -> None:
        """Queue a job (blocks while ``max_pending`` jobs wait), after checking for earlier failures."""
        self.raise_if_failed()
        self._queue.put(job)

    def close(self) -> None:
        """Wait for every queued job, then re-raise the first upload error if any."""
        self._queue.put(None)
        self._thread.join()
        self.raise_if_failed()


def fit_to_limit(embedding: torch.Tensor, max_vectors: int, protected_tokens: int = 1) -> torch.Tensor:
    """Pool a multi-vector further until it has at most ``max_vectors`` vectors (Qdrant's limit).

    Examples:
        >>> import torch
        >>> fit_to_limit(torch.nn.functional.normalize(torch.randn(50, 4), dim=-1), 20).shape[0] <= 20
        True
    """
    n = embedding.shape[0]
    if n <= max_vectors:
        return embedding
    factor = math.ceil((n - protected_tokens) / max(max_vectors - protected_tokens, 1))
    while True:
        pooled = pool_embeddings_hierarchical([embedding.float()], factor, protected_tokens)[0].to(embedding.dtype)
        if pooled.shape[0] <= max_vectors:
            return pooled
        factor += 1


def to_float16_numpy(embeddings: list[torch.Tensor]) -> list[np.ndarray]:
    """Cast on the tensors' device, then copy to host memory as float16 numpy arrays."""
    return [e.to(torch.float16).cpu().numpy() for e in embeddings]
