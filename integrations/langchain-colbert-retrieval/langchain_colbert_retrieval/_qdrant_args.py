"""langchain-qdrant's argument vocabulary translated to ``ColBERTIndex`` search options.

``QdrantVectorStore`` users pass ``retrieval_mode=RetrievalMode.DENSE``, ``search_params=SearchParams(...)``
and expect ``metadata["_id"]`` / ``metadata["_collection_name"]`` on returned documents; this module maps
each onto what the index does, and refuses (never drops) what it cannot honour.

Examples:
    >>> search_mode("dense"), search_mode("hybrid"), search_mode(None)
    ('colbert', 'hybrid', None)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import fields, replace
from typing import Any

from langchain_core.documents import Document

from colbert_retrieval.errors import IndexMismatchError, InvalidArgumentError
from colbert_retrieval.qdrant import ColBERTIndex, Schema, SearchConfig, SearchHit

__all__ = [
    "check_payload_keys",
    "with_payload_keys",
    "one_collection",
    "search_mode",
    "search_options",
    "to_document",
    "vector_search_options",
]

#: langchain-qdrant's ``RetrievalMode`` values and our search modes, to our search modes.
_MODES = {"dense": "colbert", "hybrid": "hybrid", "colbert": "colbert", "exact": "exact"}
#: Search settings taken per call: the fields of the index's SearchConfig (not a copy of them).
_OWN = {field.name for field in fields(SearchConfig)}


def with_payload_keys(
    kwargs: dict[str, Any], content_payload_key: str | None, metadata_payload_key: str | None
) -> dict[str, Any]:
    """The index's keywords with langchain-qdrant's payload keys folded into its ``schema``.

    Examples:
        >>> with_payload_keys({}, "page_content", None)["schema"].text_key
        'page_content'
    """
    if content_payload_key is None and metadata_payload_key is None:
        return kwargs
    schema = kwargs.get("schema") or Schema()
    text_key = content_payload_key or schema.text_key
    metadata_key = metadata_payload_key or schema.metadata_key
    return {**kwargs, "schema": replace(schema, text_key=text_key, metadata_key=metadata_key)}


def check_payload_keys(index: ColBERTIndex, content_payload_key: str | None, metadata_payload_key: str | None) -> None:
    """Refuse payload keys an open index does not use (its collection's keys are fixed when it is created).

    Raises:
        IndexMismatchError: a key differs from the collection's.
    """
    stored = index.settings
    for name, given, kept in (
        ("content_payload_key", content_payload_key, stored.text_key),
        ("metadata_payload_key", metadata_payload_key, stored.metadata_key),
    ):
        if given is not None and given != kept:
            msg = f"Collection {index.collection!r} keeps {name}={kept!r}, not {given!r}; pass {kept!r} or none."
            raise IndexMismatchError(msg)


def one_collection(collection: str | None, collection_name: str | None) -> str:
    """The collection named by ``collection`` (ours) or ``collection_name`` (langchain-qdrant's); default ``langchain``.

    Raises:
        InvalidArgumentError: both are given and differ.
    """
    if collection is not None and collection_name is not None and collection != collection_name:
        msg = f"Got collection={collection!r} and collection_name={collection_name!r}; pass one of them."
        raise InvalidArgumentError(msg)
    return collection or collection_name or "langchain"


def search_mode(retrieval_mode: Any) -> str | None:
    """Our search mode for a langchain-qdrant ``RetrievalMode`` (or one of our mode names); None stays None.

    Raises:
        InvalidArgumentError: ``sparse`` (BM25 alone is not a ColBERT search) or an unknown name.
    """
    if retrieval_mode is None:
        return None
    name = str(getattr(retrieval_mode, "value", retrieval_mode)).lower()
    if name == "sparse":
        msg = "retrieval_mode='sparse' (BM25 alone) is not a ColBERT search; use 'hybrid' (BM25 + MaxSim) or 'dense'."
        raise InvalidArgumentError(msg)
    if name not in _MODES:
        msg = f"Unknown retrieval_mode {retrieval_mode!r}; use one of {sorted(_MODES)}."
        raise InvalidArgumentError(msg)
    return _MODES[name]


def _from_search_params(params: Any) -> dict[str, Any]:
    values = params if isinstance(params, Mapping) else params.model_dump(exclude_none=True)
    values = {name: value for name, value in dict(values).items() if value is not None}
    options: dict[str, Any] = {}
    if values.pop("exact", False):
        options["mode"] = "exact"
    if "hnsw_ef" in values:
        options["hnsw_ef"] = int(values.pop("hnsw_ef"))
    if values.get("indexed_only") is False:
        del values["indexed_only"]
    if values:
        msg = f"search_params {sorted(values)} are not supported by ColBERTVectorStore; it honours exact and hnsw_ef."
        raise InvalidArgumentError(msg)
    return options


def search_options(kwargs: dict[str, Any], default_mode: str | None) -> dict[str, Any]:
    """The ``config`` of ``ColBERTIndex.search`` from a LangChain call's keyword arguments (consumed from ``kwargs``).

    Takes ``config=`` (a ``SearchConfig`` or a dict of its fields), any ``SearchConfig`` field by name
    (``mode``, ``prefetch_limit``, ``hnsw_ef``, ...), and langchain-qdrant's ``search_params`` (``exact``,
    ``hnsw_ef``); ``consistency`` and ``hybrid_fusion`` are refused rather than ignored.

    Raises:
        InvalidArgumentError: an argument the index cannot honour.
    """
    given = kwargs.pop("config", None)
    options: dict[str, Any] = {}
    if isinstance(given, SearchConfig):
        options = {field.name: getattr(given, field.name) for field in fields(SearchConfig)}
    elif given is not None:
        options = dict(given)
    options.update({name: kwargs.pop(name) for name in list(kwargs) if name in _OWN})
    params = kwargs.pop("search_params", None)
    if params is not None:
        options.update(_from_search_params(params))
    for name in ("consistency", "hybrid_fusion"):
        if kwargs.get(name) is None:
            kwargs.pop(name, None)
    if kwargs:
        msg = (
            f"Unsupported search arguments {sorted(kwargs)}; ColBERTVectorStore takes "
            f"{sorted(_OWN | {'config', 'search_params', 'offset', 'score_threshold'})}."
        )
        raise InvalidArgumentError(msg)
    if default_mode is not None and options.get("mode") is None:
        options["mode"] = default_mode
    return options


def vector_search_options(kwargs: dict[str, Any]) -> dict[str, Any]:
    """The ``config`` of a by-vector ``ColBERTIndex.search`` from a call's keyword arguments (consumed).

    As :func:`search_options`, without a default mode.

    Raises:
        InvalidArgumentError: an argument the index cannot honour, or a BM25 option (there is no query text).
    """
    options = search_options(kwargs, None)
    defaults = SearchConfig()  # a whole SearchConfig names every field: only a changed BM25 setting is refused
    changed = {name for name, value in options.items() if value != getattr(defaults, name, None)}
    if lexical := sorted({"bm25_limit", "bm25_weight"} & changed):
        msg = f"{lexical} need the query text (BM25); search by text to use them."
        raise InvalidArgumentError(msg)
    return options


def to_document(hit: SearchHit, collection_name: str | None = None) -> Document:
    """A LangChain ``Document`` from a stored hit.

    ``Document.id`` is the id given at insertion as a string (LangChain's convention); with
    ``collection_name``, the metadata also carries ``_id`` (the id with its type: an int stays an int) and
    ``_collection_name``, as langchain-qdrant's documents do. A hit searched with ``highlights=True`` puts its
    matched words into ``metadata["highlights"]``: dicts of ``start``, ``end`` (character offsets into
    ``page_content``), ``text``, ``query_tokens`` and ``share`` (of the hit's MaxSim).
    """
    metadata = dict(hit.metadata)
    if hit.highlights is not None:
        metadata["highlights"] = [highlight.to_dict() for highlight in hit.highlights]
    if collection_name is not None:
        metadata["_id"] = hit.id
        metadata["_collection_name"] = collection_name
    return Document(page_content=hit.text, metadata=metadata, id=None if hit.id is None else str(hit.id))
