"""Reading, updating and deleting stored documents by id or filter (the CRUD half of ``ColBERTIndex``).

Examples:
    >>> from colbert_retrieval import default_model
    >>> from colbert_retrieval.qdrant import ColBERTIndex
    >>> index = ColBERTIndex(default_model(), "docs", location=":memory:")
    >>> _ = index.add([{"id": "a", "text": "one", "metadata": {"lang": "en"}}, {"id": "b", "text": "deux"}])
    >>> [hit.id for hit in index.documents(filter={"lang": "en"})]
    ['a']
    >>> index.clear()
    >>> index.count()
    0
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

import numpy as np
from qdrant_client import models as qm

from colbert_retrieval._inputs import positive_int
from colbert_retrieval.errors import DocumentNotFoundError, InvalidArgumentError
from colbert_retrieval.qdrant.filters import require_condition, to_filter
from colbert_retrieval.qdrant.schema import COLBERT_VECTOR
from colbert_retrieval.qdrant.searcher import SearchHit, to_hit
from colbert_retrieval.records import METADATA_KEY, Record, point_ids

if TYPE_CHECKING:
    from colbert_retrieval.qdrant.backends import Backend
    from colbert_retrieval.qdrant.schema import IndexSettings
    from colbert_retrieval.qdrant.searcher import Searcher

__all__ = ["StoredDocuments"]


class StoredDocuments:
    """Mixed into ``ColBERTIndex``: documents by id or filter, updates and deletes."""

    collection: str
    settings: IndexSettings
    _backend: Backend
    _searcher: Searcher
    add: Callable[..., Any]  # ColBERTIndex.add
    _require_collection: Callable[[], None]  # raises CollectionNotFoundError

    def _point_ids(self, ids: Iterable[str | int]) -> list[str]:
        return point_ids(ids, self.settings.id_scheme)

    def get(self, ids: Iterable[str | int]) -> list[SearchHit]:
        """Stored documents by user id (missing ids are left out)."""
        self._require_collection()
        return [to_hit(p) for p in self._backend.retrieve(self._point_ids(ids))]

    def vectors(self, ids: Iterable[str | int]) -> dict[str | int, np.ndarray]:
        """The stored (pooled) ColBERT multivectors of documents by user id, as float32 ``(n, dim)`` arrays."""
        self._require_collection()
        found = {}
        for point in self._backend.retrieve(self._point_ids(ids), with_vectors=True):
            hit = to_hit(point)
            found[hit.id] = np.asarray((point.vectors or {})[COLBERT_VECTOR], dtype=np.float32)
        return found

    def documents(
        self, filter: qm.Filter | Mapping[str, Any] | None = None, *, page_size: int = 256
    ) -> Iterator[SearchHit]:
        """Every stored document (matching ``filter``), read page by page in id order.

        Args:
            filter: a Qdrant ``Filter`` or a simple dict (see :mod:`colbert_retrieval.qdrant.filters`).
            page_size: documents read per call to the store.
        """
        self._require_collection()
        positive_int(page_size, "page_size")
        condition = to_filter(filter)
        offset: str | None = None
        while True:
            points, offset = self._backend.scroll(offset, page_size, filter=condition)
            yield from (to_hit(p) for p in points)
            if offset is None:
                return

    def update(self, id: str | int, *, text: str | None = None, metadata: Mapping[str, Any] | None = None) -> None:
        """Replace a document's text (re-encoded) and/or its metadata.

        Raises:
            DocumentNotFoundError: no document has this id (a ``KeyError``).
        """
        current = self.get([id])
        if not current:
            msg = f"No document with id {id!r} in collection {self.collection!r}."
            raise DocumentNotFoundError(msg)
        if text is not None:
            record = Record(text=text, id=id, metadata=dict(metadata if metadata is not None else current[0].metadata))
            self.add([record], overwrite=True)
        elif metadata is not None:
            self._backend.set_payload(self._point_ids([id]), {METADATA_KEY: dict(metadata)})

    def delete(
        self,
        ids: Iterable[str | int] | None = None,
        *,
        filter: qm.Filter | Mapping[str, Any] | None = None,
    ) -> None:
        """Delete documents by user id or by filter (one of the two is required; :meth:`clear` deletes all)."""
        self._require_collection()
        if ids is None and filter is None:
            msg = "delete() needs ids or a filter; to delete everything, call clear()."
            raise InvalidArgumentError(msg)
        if ids is not None:
            self._backend.delete(self._point_ids(ids))
        else:
            self._backend.delete_where(require_condition(to_filter(filter)))
        self._searcher.forget_count()

    def clear(self) -> None:
        """Delete every document; the collection and its settings stay (unlike dropping the collection)."""
        self._require_collection()
        while True:
            points, _ = self._backend.scroll(None, 1024)
            if not points:
                break
            self._backend.delete([p.id for p in points])
        self._searcher.forget_count()

    def count(self, filter: qm.Filter | Mapping[str, Any] | None = None) -> int:
        """Number of stored documents (matching ``filter``)."""
        self._require_collection()
        return self._backend.count(to_filter(filter))
