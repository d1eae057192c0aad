"""Documents to index: the accepted input forms, the stored payload and deterministic point ids.

Backend-neutral: the index, the text splitter and the framework adapters all read documents through
this module, and the payload keys are defined here once.

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

__all__ = [
    "ID_KEY",
    "ID_NAMESPACE",
    "METADATA_KEY",
    "TEXT_KEY",
    "Record",
    "from_payload",
    "point_id",
    "to_payload",
    "to_record",
]

#: Payload key of the document text.
TEXT_KEY = "text"
#: Payload key of the user's id (the point id is derived from it).
ID_KEY = "id"
#: Payload key of the user's metadata (filters address ``metadata.<field>``).
METADATA_KEY = "metadata"

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
        text = item.get(TEXT_KEY)
        if not isinstance(text, str):
            msg = f"Document{where} has no string 'text' field; give {{'text': ..., 'id': ..., 'metadata': {{...}}}}."
            raise InputTypeError(msg)
        identifier = item.get(ID_KEY, item.get("_id"))
        metadata = dict(item.get(METADATA_KEY) or {})
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


def to_payload(record: Record) -> dict[str, Any]:
    """The payload stored with a document's point.

    Examples:
        >>> to_payload(Record(text="hi", id=3))
        {'text': 'hi', 'id': 3, 'metadata': {}}
    """
    return {TEXT_KEY: record.text, ID_KEY: record.id, METADATA_KEY: record.metadata}


def from_payload(payload: Mapping[str, Any] | None) -> Record:
    """The document stored in a payload (the inverse of :func:`to_payload`).

    Examples:
        >>> from_payload({"text": "hi", "id": 3, "metadata": {"a": 1}})
        Record(text='hi', id=3, metadata={'a': 1})
    """
    payload = payload or {}
    return Record(
        text=payload.get(TEXT_KEY, ""), id=payload.get(ID_KEY), metadata=dict(payload.get(METADATA_KEY) or {})
    )
