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
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from colbert_retrieval._inputs import check_unicode, many
from colbert_retrieval.errors import EmptyInputError, InputTypeError, InvalidArgumentError

__all__ = [
    "ID_KEY",
    "ID_NAMESPACE",
    "ID_SCHEME",
    "METADATA_KEY",
    "PAYLOAD_KEYS",
    "SECTION_KEY",
    "SOURCE_KEY",
    "SYNC_KEY",
    "TEXT_KEY",
    "PayloadKeys",
    "Record",
    "check_id",
    "check_metadata",
    "from_payload",
    "point_id",
    "point_ids",
    "section_of",
    "same_content",
    "to_payload",
    "to_record",
]

#: Payload key of the document text.
TEXT_KEY = "text"
#: Payload key of the user's id (the point id is derived from it).
ID_KEY = "id"
#: Payload key of the user's metadata (filters address ``metadata.<field>``).
METADATA_KEY = "metadata"

#: Metadata key of a document's section heading path, outermost first, joined by " > " ("Qdrant index > Moving
#: between stores"). The chunker writes it; BM25 weighs its words as a title field (``BM25Config.title_weight``).
SECTION_KEY = "section"

#: Metadata key of the source a document came from (a file's path, as the readers write it): what
#: ``ColBERTIndex.sync`` replaces as one unit, and what a filter ``{"source": ...}`` selects.
SOURCE_KEY = "source"

#: Payload key of a synced document's version record (``ColBERTIndex.sync``): the source's version, how many
#: documents that version has, whether it is replaced as one unit, and when it was written.
SYNC_KEY = "sync"

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
        metadata = item.get(METADATA_KEY) or {}
        if not isinstance(metadata, Mapping):
            msg = f"Document{where} has metadata of type {type(metadata).__name__}; give a dict of fields."
            raise InputTypeError(msg)
        record = Record(text=text, id=identifier, metadata=dict(metadata))
    else:
        msg = f"Document{where} is of type {type(item).__name__}; give a string, a Record or a dict with 'text'."
        raise InputTypeError(msg)
    if not isinstance(record.text, str):
        msg = f"Document{where} has a text of type {type(record.text).__name__}; give a string."
        raise InputTypeError(msg)
    if not record.text.strip():
        msg = f"Document{where} has empty text; drop it before indexing (nothing was written for it)."
        raise EmptyInputError(msg)
    check_unicode(record.text, f"Document{where} text")
    check_id(record.id, position)
    check_metadata(record.metadata, position)
    return record


def check_metadata(metadata: Mapping[str, Any], position: int | None = None) -> None:
    """Raise :class:`InputTypeError` unless ``metadata`` is JSON: string keys, JSON values all the way down.

    Examples:
        >>> check_metadata({"lang": "en", "tags": ["a", 1, None], "score": 0.5})
    """
    where = f" at position {position}" if position is not None else ""

    def walk(value: Any, path: str) -> None:
        if value is None or isinstance(value, (str, bool, int, float)):
            return
        if isinstance(value, Mapping):
            for key, item in value.items():
                if not isinstance(key, str):
                    msg = f"Metadata{where} has a non-string key {key!r} at {path or 'the top'}; use string keys."
                    raise InputTypeError(msg)
                walk(item, f"{path}.{key}" if path else key)
            return
        if isinstance(value, (list, tuple)):
            for index, item in enumerate(value):
                walk(item, f"{path}[{index}]")
            return
        msg = (
            f"Metadata{where} field {path!r} is of type {type(value).__name__}, which cannot be stored; "
            "use strings, numbers, booleans, None, lists or dicts."
        )
        raise InputTypeError(msg)

    walk(metadata, "")


#: The latest point-id scheme: 2 keeps the id's type (``7`` and ``"7"`` are two documents); 1 (collections
#: written before it) hashed ``str(id)``. A collection keeps the scheme it was created with.
ID_SCHEME = 2


def check_id(identifier: Any, position: int | None = None) -> None:
    """Raise :class:`InputTypeError` unless ``identifier`` is None, a string or an int (not a bool).

    Examples:
        >>> check_id("doc-1"), check_id(7), check_id(None)
        (None, None, None)
    """
    where = f" at position {position}" if position is not None else ""
    if isinstance(identifier, str):
        check_unicode(identifier, f"Document id{where}")
    if identifier is None or (isinstance(identifier, (str, int)) and not isinstance(identifier, bool)):
        return
    msg = f"Document id{where} is of type {type(identifier).__name__}; use a string or an integer."
    raise InputTypeError(msg)


def point_id(record: Record, scheme: int = ID_SCHEME, version: str | None = None) -> str:
    """UUIDv5 of the user id, or of the text when there is none (so re-ingesting writes no duplicates).

    Under scheme 2, an integer id and the same digits as a string are different documents. A ``version`` (a
    source synced as one unit) gives the same user id another point id per version, so a new version is
    written beside the old one before the old one is deleted.

    Examples:
        >>> point_id(Record("a", id=7)) == point_id(Record("b", id="7"))
        False
        >>> point_id(Record("a", id=7), scheme=1) == point_id(Record("b", id="7"), scheme=1)
        True
    """
    if record.id is None:
        key = f"text:{record.text}"
    elif scheme >= 2 and isinstance(record.id, int):
        key = f"int:{record.id}"
    else:
        key = f"id:{record.id}"
    if version is not None:
        key += f"\n@{version}"
    return str(uuid.uuid5(ID_NAMESPACE, key))


def point_ids(ids: Iterable[str | int], scheme: int = ID_SCHEME) -> list[str]:
    """Point ids of user ids (for ``get``, ``update``, ``delete``), each id checked.

    Raises:
        InputTypeError: ``ids`` is one id instead of a list, or an id is not a string or an int.

    Examples:
        >>> point_ids(["a"]) == [point_id(Record("x", id="a"))]
        True
    """
    identifiers = list(many(ids, "ids"))
    for position, identifier in enumerate(identifiers):
        check_id(identifier, position)
    return [point_id(Record(text="-", id=identifier), scheme) for identifier in identifiers]


def section_of(record: Record) -> str | None:
    """A record's section heading path (metadata :data:`SECTION_KEY`), or None where it has none.

    Examples:
        >>> section_of(Record("text", metadata={"section": "Guide > Install"})), section_of(Record("text"))
        ('Guide > Install', None)
    """
    section = record.metadata.get(SECTION_KEY)
    return section if isinstance(section, str) and section.strip() else None


@dataclass(frozen=True)
class PayloadKeys:
    """Where a point's payload keeps the document's text and metadata (the user's id is always under ``id``).

    The defaults are colbert-retrieval's (``text``, ``metadata``); a collection can name others, as
    langchain-qdrant's ``content_payload_key`` / ``metadata_payload_key`` do (``page_content``, ``metadata``).
    Filters on a metadata field address ``<metadata key>.<field>``.

    Examples:
        >>> keys = PayloadKeys(text="page_content")
        >>> keys.payload(Record("hi", id=3))
        {'page_content': 'hi', 'id': 3, 'metadata': {}}
        >>> keys.record({"page_content": "hi", "id": 3}).text, keys.field("lang")
        ('hi', 'metadata.lang')
    """

    text: str = TEXT_KEY
    metadata: str = METADATA_KEY

    def __post_init__(self) -> None:
        for name in ("text", "metadata"):
            value = getattr(self, name)
            if not isinstance(value, str) or not value or "." in value or value == ID_KEY:
                msg = f"The {name} payload key must be a non-empty name without '.', not {ID_KEY!r}; got {value!r}."
                raise InvalidArgumentError(msg)
        if self.text == self.metadata:
            msg = f"The text and metadata payload keys must differ, got {self.text!r} for both."
            raise InvalidArgumentError(msg)

    def payload(self, record: Record) -> dict[str, Any]:
        """The payload stored with a document's point."""
        return {self.text: record.text, ID_KEY: record.id, self.metadata: record.metadata}

    def record(self, payload: Mapping[str, Any] | None) -> Record:
        """The document stored in a payload (the inverse of :meth:`payload`)."""
        payload = payload or {}
        return Record(
            text=payload.get(self.text, ""), id=payload.get(ID_KEY), metadata=dict(payload.get(self.metadata) or {})
        )

    def field(self, name: str) -> str:
        """The payload path of a metadata field (``metadata.<name>``)."""
        return f"{self.metadata}.{name}"


#: colbert-retrieval's own payload keys (``text``, ``id``, ``metadata``).
PAYLOAD_KEYS = PayloadKeys()


def same_content(payload: Mapping[str, Any] | None, record: Record, keys: PayloadKeys = PAYLOAD_KEYS) -> bool:
    """Whether a stored payload holds this record's text, id and metadata (so it need not be encoded again).

    Examples:
        >>> same_content(to_payload(Record("hi", id=3)), Record("hi", id=3))
        True
        >>> same_content(to_payload(Record("hi", id=3)), Record("hello", id=3))
        False
    """
    stored = keys.record(payload)
    return (stored.text, stored.id, stored.metadata) == (record.text, record.id, record.metadata)


def to_payload(record: Record, keys: PayloadKeys = PAYLOAD_KEYS) -> dict[str, Any]:
    """The payload stored with a document's point (see :class:`PayloadKeys`).

    Examples:
        >>> to_payload(Record(text="hi", id=3))
        {'text': 'hi', 'id': 3, 'metadata': {}}
    """
    return keys.payload(record)


def from_payload(payload: Mapping[str, Any] | None, keys: PayloadKeys = PAYLOAD_KEYS) -> Record:
    """The document stored in a payload (the inverse of :func:`to_payload`).

    Examples:
        >>> from_payload({"text": "hi", "id": 3, "metadata": {"a": 1}})
        Record(text='hi', id=3, metadata={'a': 1})
    """
    return keys.record(payload)
