"""Documents to index: normalisation of the accepted input forms and deterministic point ids.

Examples:
    >>> record = to_record({"id": 7, "text": "hello", "metadata": {"lang": "en"}})
    >>> record.id, record.text, record.metadata
    (7, 'hello', {'lang': 'en'})
    >>> point_id(record) == point_id(to_record({"id": 7, "text": "changed"}))
    True
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from colbert_retrieval.errors import EmptyInputError, InputTypeError

__all__ = ["ID_NAMESPACE", "Record", "point_id", "to_record"]

#: Namespace of the UUIDv5 point ids (fixed forever: changing it would duplicate every re-ingest).
ID_NAMESPACE = uuid.UUID("8f2b6c1e-5d0a-5c4e-9b7a-2f1e3d4c5b6a")


@dataclass(frozen=True)
class Record:
    """One document: optional user id, text and metadata (stored as the point payload)."""

    text: str
    id: str | int | None = None
    metadata: dict[str, Any] = field(default_factory=dict)


def to_record(item: Any, position: int | None = None) -> Record:
    """Accept a string, a :class:`Record`, or a mapping with ``text`` (and ``id``/``_id``, ``metadata``).

    Raises:
        InputTypeError: an unsupported item or a non-string text.
        EmptyInputError: an empty text.
    """
    where = f" at position {position}" if position is not None else ""
    if isinstance(item, Record):
        record = item
    elif isinstance(item, str):
        record = Record(text=item)
    elif isinstance(item, Mapping):
        text = item.get("text")
        if not isinstance(text, str):
            msg = f"Document{where} has no string 'text' field; give {{'text': ..., 'id': ..., 'metadata': {{...}}}}."
            raise InputTypeError(msg)
        identifier = item.get("id", item.get("_id"))
        metadata = dict(item.get("metadata") or {})
        record = Record(text=text, id=identifier, metadata=metadata)
    else:
        msg = f"Document{where} is of type {type(item).__name__}; give a string, a Record or a dict with 'text'."
        raise InputTypeError(msg)
    if not record.text.strip():
        msg = f"Document{where} has empty text; drop it before indexing (nothing was written for it)."
        raise EmptyInputError(msg)
    return record


def point_id(record: Record) -> str:
    """UUIDv5 of the user id, or of the text when there is none (so re-ingesting writes no duplicates)."""
    key = f"id:{record.id}" if record.id is not None else f"text:{record.text}"
    return str(uuid.uuid5(ID_NAMESPACE, key))
