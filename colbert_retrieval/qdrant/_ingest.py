"""The ingest pipeline: encode on the model's device, pool, cast to float16 there, upload in the background.

Documents stream from any iterable in chunks (constant memory). Each chunk: deterministic point ids;
ids already stored are skipped unless ``overwrite=True`` (so an interrupted ingest resumes where it
stopped); texts are encoded in length-sorted batches and pooled; vectors are cast to float16 on the
device before the copy back; a background thread uploads the previous chunk through a bounded queue,
so uploading overlaps encoding. Transient server errors are retried inside the server backend; any other
failure stops the ingest and is raised to the caller (everything uploaded before it stays, and a re-run
skips it).

Examples:
    >>> list(chunked(range(5), 2))
    [[0, 1], [2, 3], [4]]
"""

from __future__ import annotations

import math
import queue
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any, TypeVar

import numpy as np
import torch

from colbert_retrieval.pooling import pool_embeddings_hierarchical

__all__ = ["IngestSummary", "Uploader", "chunked", "fit_to_limit", "to_skip"]

T = TypeVar("T")


@dataclass(frozen=True)
class IngestSummary:
    """What an ingest did."""

    documents: int
    skipped: int
    vectors: int
    seconds: float
    repooled: int = 0

    @property
    def docs_per_second(self) -> float:
        """Written documents per second of wall time."""
        return self.documents / self.seconds if self.seconds > 0 else 0.0

    def __str__(self) -> str:
        return (
            f"{self.documents} documents written ({self.skipped} already stored), {self.vectors} vectors, "
            f"{self.seconds:.1f} s, {self.docs_per_second:.1f} docs/s"
        )


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


def to_skip(backend: Any, ids: list[str], overwrite: bool) -> set[str]:
    """The ids a resumable write skips: those the backend already stores (none with ``overwrite``).

    Examples:
        >>> to_skip(None, ["a"], overwrite=True)
        set()
    """
    return set() if overwrite else backend.existing(ids)


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
