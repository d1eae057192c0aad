"""A ``QdrantClient``-shaped handle on an embedded index, for code written against qdrant-client.

An embedded index runs Qdrant's engine in-process, so there is no ``QdrantClient``; code ported from
langchain-qdrant still calls ``store.client.count(...)``, ``.retrieve(...)``, ``.scroll(...)`` and ``.close()``.
:class:`EmbeddedClient` answers those (and ``collection_exists``, ``delete``) with qdrant-client's own result
types, on the index's one collection; any other client method raises an ``AttributeError`` that names the
index method doing the same.

Ids: a point's id is the UUIDv5 of its document id. ``retrieve`` and ``delete`` take either, so the document
ids you added (langchain-qdrant's point ids) work as they did there.

Examples:
    >>> from colbert_retrieval import default_model
    >>> from colbert_retrieval.qdrant import ColBERTIndex
    >>> index = ColBERTIndex(default_model(), "docs", store=":memory:")
    >>> _ = index.add([{"id": "a", "text": "Scurvy comes from a lack of vitamin C."}])
    >>> index.client.count("docs").count
    1
    >>> index.client.retrieve("docs", ids=["a"])[0].payload["text"]
    'Scurvy comes from a lack of vitamin C.'
    >>> index.close()
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from qdrant_client import models as qm

from colbert_retrieval.documents import point_ids
from colbert_retrieval.errors import CollectionNotFoundError
from colbert_retrieval.qdrant.backends import StoredPoint

__all__ = ["EmbeddedClient"]

#: Client methods an embedded index does differently, and what to call instead.
_EQUIVALENTS = {
    "upsert": "index.add(documents) (it encodes; index.add_embeddings for vectors computed elsewhere)",
    "upload_points": "index.add_points(points)",
    "query_points": "index.search(query, k, filter=..., config=...)",
    "query_batch_points": "index.search([queries], k)",
    "search": "index.search(query, k)",
    "set_payload": "index.update(id, metadata=...)",
    "create_collection": "ColBERTIndex(model, name, store=...) (it creates the collection)",
    "delete_collection": "index.backend.drop()",
    "get_collection": "index.settings and index.count()",
}


class EmbeddedClient:
    """``QdrantClient``'s read, delete and close calls on an embedded index's collection.

    Args:
        index: the embedded ``ColBERTIndex`` (typed loosely: the index module imports this one).
    """

    def __init__(self, index: Any) -> None:
        self._index = index

    def __getattr__(self, name: str) -> Any:
        instead = _EQUIVALENTS.get(name, "the ColBERTIndex methods (index.search, add, get, delete, documents)")
        msg = f"An embedded index has no QdrantClient.{name}; use {instead}."
        raise AttributeError(msg)

    def _check(self, collection_name: str) -> None:
        if collection_name != self._index.collection:
            msg = f"Collection {collection_name!r} is not this index's ({self._index.collection!r})."
            raise CollectionNotFoundError(msg)

    def _point_ids(self, ids: Sequence[Any]) -> list[str]:
        """Point ids for document ids and for point ids themselves (UUIDs, unsigned ints)."""
        given = [str(i) for i in ids if isinstance(i, (str, int, uuid.UUID)) and _is_point_id(str(i))]
        return list(dict.fromkeys(given + point_ids(list(ids), self._index.settings.id_scheme)))

    def collection_exists(self, collection_name: str) -> bool:
        """Whether ``collection_name`` is this index's collection (and it exists)."""
        return collection_name == self._index.collection and self._index.backend.exists()

    def count(self, collection_name: str, count_filter: qm.Filter | None = None, exact: bool = True) -> qm.CountResult:
        """Number of points (matching ``count_filter``)."""
        self._check(collection_name)
        return qm.CountResult(count=self._index.count(count_filter))

    def retrieve(
        self,
        collection_name: str,
        ids: Sequence[Any],
        with_payload: bool = True,
        with_vectors: bool = False,
        **_: Any,
    ) -> list[qm.Record]:
        """Points by id (document ids or point ids; missing ones left out)."""
        self._check(collection_name)
        found = self._index.backend.retrieve(self._point_ids(ids), with_vectors=with_vectors)
        return [_record(p, with_payload, with_vectors) for p in found]

    def scroll(
        self,
        collection_name: str,
        scroll_filter: qm.Filter | None = None,
        limit: int = 10,
        offset: Any = None,
        with_payload: bool = True,
        with_vectors: bool = False,
        **_: Any,
    ) -> tuple[list[qm.Record], Any]:
        """A page of points in id order, and the offset of the next page (None at the end)."""
        self._check(collection_name)
        points, following = self._index.backend.scroll(
            None if offset is None else str(offset), limit, with_vectors=with_vectors, filter=scroll_filter
        )
        return [_record(p, with_payload, with_vectors) for p in points], following

    def delete(self, collection_name: str, points_selector: Any, wait: bool = True, **_: Any) -> qm.UpdateResult:
        """Delete points by ids (``PointIdsList`` or a list) or by filter (``FilterSelector`` or ``Filter``)."""
        self._check(collection_name)
        backend = self._index.backend
        if isinstance(points_selector, qm.FilterSelector):
            backend.delete_where(points_selector.filter)
        elif isinstance(points_selector, qm.Filter):
            backend.delete_where(points_selector)
        else:
            ids = points_selector.points if isinstance(points_selector, qm.PointIdsList) else points_selector
            backend.delete(self._point_ids(list(ids)))
        return qm.UpdateResult(operation_id=None, status=qm.UpdateStatus.COMPLETED)

    def close(self, **_: Any) -> None:
        """Close the index (as closing a client closes its connections)."""
        self._index.close()


def _is_point_id(value: str) -> bool:
    if value.isdigit():
        return True
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


def _record(point: StoredPoint, with_payload: bool, with_vectors: bool) -> qm.Record:
    vectors = None
    if with_vectors and point.vectors:
        vectors = {name: getattr(v, "tolist", lambda v=v: v)() for name, v in point.vectors.items()}
    return qm.Record(id=point.id, payload=point.payload if with_payload else None, vector=vectors)
