"""Payload filters: a Qdrant ``Filter`` passes through; a simple dict is translated.

Dict form (all conditions must hold), keys naming metadata fields:

* ``{"lang": "en"}``: equality; ``{"lang": ["en", "de"]}``: any of the values;
* ``{"year": {"gte": 2020, "lt": 2024}}``: a range (``gt``, ``gte``, ``lt``, ``lte``);
* ``{"lang": {"ne": "en"}}`` / ``{"lang": {"nin": ["en", "de"]}}``: exclusions.

Examples:
    >>> f = to_filter({"lang": "en", "year": {"gte": 2020}})
    >>> [c.key for c in f.must]
    ['metadata.lang', 'metadata.year']
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from qdrant_client import models as qm

from colbert_retrieval.errors import InvalidArgumentError
from colbert_retrieval.records import ID_KEY, METADATA_KEY, TEXT_KEY

__all__ = ["METADATA_PREFIX", "require_condition", "to_filter"]

METADATA_PREFIX = METADATA_KEY + "."
_RANGE_KEYS = {"gt", "gte", "lt", "lte"}


def _key(name: str) -> str:
    return name if name.startswith(METADATA_PREFIX) or name in (TEXT_KEY, ID_KEY) else METADATA_PREFIX + name


def _match(value: Any) -> qm.Match:
    if value is None or isinstance(value, (float, Mapping)):
        kind = "None" if value is None else type(value).__name__
        msg = (
            f"A filter cannot match {kind} values; match a string, integer or bool (use {{'in': [...]}} for "
            "several), a range with gt/gte/lt/lte, or a qdrant_client Filter (IsNullCondition, IsEmptyCondition)."
        )
        raise InvalidArgumentError(msg)
    if isinstance(value, (list, tuple, set)):
        return qm.MatchAny(any=list(value))
    return qm.MatchValue(value=value)


def to_filter(spec: qm.Filter | Mapping[str, Any] | None) -> qm.Filter | None:
    """Translate a simple dict filter into a Qdrant ``Filter`` (a ``Filter`` or None passes through).

    Raises:
        InvalidArgumentError: not a dict or Filter, an unknown operator (the message lists the supported
            ones), or a None value.
    """
    if spec is None or isinstance(spec, qm.Filter):
        return spec
    if not isinstance(spec, Mapping):
        msg = f"A filter is a dict of metadata fields or a qdrant_client Filter, not a {type(spec).__name__}."
        raise InvalidArgumentError(msg)
    must: list[qm.Condition] = []
    must_not: list[qm.Condition] = []
    for name, value in spec.items():
        key = _key(name)
        if isinstance(value, Mapping):
            unknown = set(value) - _RANGE_KEYS - {"ne", "nin", "in", "eq"}
            if unknown:
                msg = (
                    f"Unknown filter operator(s) {sorted(unknown)} for {name!r}; use eq, ne, in, nin, gt, gte, lt, lte."
                )
                raise InvalidArgumentError(msg)
            ranges = {k: v for k, v in value.items() if k in _RANGE_KEYS}
            if ranges:
                must.append(qm.FieldCondition(key=key, range=qm.Range(**ranges)))
            if "eq" in value:
                must.append(qm.FieldCondition(key=key, match=_match(value["eq"])))
            if "in" in value:
                must.append(qm.FieldCondition(key=key, match=qm.MatchAny(any=list(value["in"]))))
            if "ne" in value:
                must_not.append(qm.FieldCondition(key=key, match=qm.MatchValue(value=value["ne"])))
            if "nin" in value:
                must_not.append(qm.FieldCondition(key=key, match=qm.MatchAny(any=list(value["nin"]))))
        else:
            must.append(qm.FieldCondition(key=key, match=_match(value)))
    return qm.Filter(must=must or None, must_not=must_not or None)


def require_condition(spec: qm.Filter | None) -> qm.Filter:
    """The filter, if it has at least one condition (a filter without one matches every document).

    Raises:
        ValueError: an empty or missing filter.

    Examples:
        >>> require_condition(to_filter({"lang": "en"})).must[0].key
        'metadata.lang'
    """
    if spec is None or not any((spec.must, spec.should, spec.must_not, spec.min_should)):
        msg = (
            "delete(filter=...) got a filter with no condition, which would delete every document; "
            "give a condition, or delete the collection to drop everything."
        )
        raise InvalidArgumentError(msg)
    return spec
