"""Translate LlamaIndex ``MetadataFilters`` into a Qdrant ``Filter`` on the stored node metadata.

Supported operators: ``==``, ``!=``, ``in``, ``nin``, ``>``, ``>=``, ``<``, ``<=``; conditions ``and``,
``or`` and ``not``; nested ``MetadataFilters``.

Examples:
    >>> from llama_index.core.vector_stores.types import MetadataFilter, MetadataFilters
    >>> f = to_qdrant_filter(MetadataFilters(filters=[MetadataFilter(key="year", value=2020, operator=">=")]))
    >>> f.must[0].key, f.must[0].range.gte
    ('metadata.year', 2020.0)
"""

from __future__ import annotations

from llama_index.core.vector_stores.types import FilterCondition, FilterOperator, MetadataFilter, MetadataFilters
from qdrant_client import models as qm

from colbert_retrieval.documents import METADATA_KEY
from colbert_retrieval.errors import InvalidArgumentError

__all__ = ["to_qdrant_filter"]

_RANGE = {FilterOperator.GT: "gt", FilterOperator.GTE: "gte", FilterOperator.LT: "lt", FilterOperator.LTE: "lte"}


def _condition(item: MetadataFilter, metadata_key: str) -> tuple[qm.Condition, bool]:
    """A Qdrant condition for one filter, and whether it is negated."""
    key = f"{metadata_key}.{item.key}"
    operator = item.operator
    if operator == FilterOperator.EQ:
        return qm.FieldCondition(key=key, match=qm.MatchValue(value=item.value)), False
    if operator == FilterOperator.NE:
        return qm.FieldCondition(key=key, match=qm.MatchValue(value=item.value)), True
    if operator == FilterOperator.IN:
        return qm.FieldCondition(key=key, match=qm.MatchAny(any=list(item.value))), False
    if operator == FilterOperator.NIN:
        return qm.FieldCondition(key=key, match=qm.MatchAny(any=list(item.value))), True
    if operator in _RANGE:
        return qm.FieldCondition(key=key, range=qm.Range(**{_RANGE[operator]: item.value})), False
    msg = f"Filter operator {operator.value!r} is not supported; use ==, !=, in, nin, >, >=, <, <=."
    raise InvalidArgumentError(msg)


def to_qdrant_filter(filters: MetadataFilters | None, metadata_key: str = METADATA_KEY) -> qm.Filter | None:
    """The Qdrant filter for ``filters`` (None stays None).

    ``metadata_key`` is the collection's payload key of the metadata (``index.settings.metadata_key``).

    Raises:
        ValueError: an unsupported operator or condition.
    """
    if filters is None or not filters.filters:
        return None
    positive: list[qm.Condition] = []
    for item in filters.filters:
        if isinstance(item, MetadataFilters):
            nested = to_qdrant_filter(item, metadata_key)
            if nested is not None:
                positive.append(nested)
            continue
        condition, negated = _condition(item, metadata_key)
        positive.append(qm.Filter(must_not=[condition]) if negated else condition)
    condition = filters.condition or FilterCondition.AND
    if condition == FilterCondition.AND:
        return qm.Filter(must=positive)
    if condition == FilterCondition.OR:
        return qm.Filter(should=positive)
    if condition == FilterCondition.NOT:
        return qm.Filter(must_not=positive)
    msg = f"Filter condition {condition!r} is not supported; use and, or, not."
    raise InvalidArgumentError(msg)
