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

import re
from collections.abc import Mapping
from typing import Any

from qdrant_client import models as qm

from colbert_retrieval.documents import ID_KEY, PAYLOAD_KEYS, PayloadKeys
from colbert_retrieval.errors import InvalidArgumentError

__all__ = ["require_condition", "to_filter"]
_RANGE_KEYS = {"gt", "gte", "lt", "lte"}


_FIELD = re.compile(r"[\w-]+(\.[\w-]+)*")


def _key(name: str, keys: PayloadKeys) -> str:
    if not isinstance(name, str) or not _FIELD.fullmatch(name):
        msg = f"Filter field {name!r} is not a field name: use letters, digits, '_' or '-', nested with '.'."
        raise InvalidArgumentError(msg)
    if name.startswith(keys.metadata + ".") or name in (keys.text, ID_KEY):
        return name
    return keys.field(name)


def _match(value: Any) -> qm.Match:
    if not isinstance(value, (str, int, list, tuple, set)):
        kind = "None" if value is None else type(value).__name__
        msg = (
            f"A filter cannot match {kind} values; match a string, integer or bool (use {{'in': [...]}} for "
            "several), a range with gt/gte/lt/lte, or a qdrant_client Filter (IsNullCondition, IsEmptyCondition)."
        )
        raise InvalidArgumentError(msg)
    if isinstance(value, (list, tuple, set)):
        return qm.MatchAny(any=_any_of(value))
    return qm.MatchValue(value=value)


def _any_of(values: Any) -> list[Any]:
    """The values of an ``in`` / ``nin`` match: all strings or all integers (Qdrant's MatchAny)."""
    items = list(values) if isinstance(values, (list, tuple, set)) else None
    if not items or not (
        all(isinstance(v, str) for v in items) or all(isinstance(v, int) and not isinstance(v, bool) for v in items)
    ):
        msg = f"A filter list must hold strings only or integers only, at least one; got {values!r}."
        raise InvalidArgumentError(msg)
    return items


def to_filter(spec: qm.Filter | Mapping[str, Any] | None, keys: PayloadKeys = PAYLOAD_KEYS) -> qm.Filter | None:
    """Translate a simple dict filter into a Qdrant ``Filter`` (a ``Filter`` or None passes through).

    A field names a metadata field (``<metadata key>.<field>`` in the payload, see ``keys``), or the text or the
    id.

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
        key = _key(name, keys)
        if isinstance(value, Mapping):
            unknown = set(value) - _RANGE_KEYS - {"ne", "nin", "in", "eq"}
            if unknown:
                msg = (
                    f"Unknown filter operator(s) {sorted(unknown)} for {name!r}; use eq, ne, in, nin, gt, gte, lt, lte."
                )
                raise InvalidArgumentError(msg)
            ranges = {k: v for k, v in value.items() if k in _RANGE_KEYS}
            if any(isinstance(v, bool) or not isinstance(v, (int, float)) for v in ranges.values()):
                msg = f"Range bounds of {name!r} must be numbers, got {ranges!r}."
                raise InvalidArgumentError(msg)
            if ranges:
                must.append(qm.FieldCondition(key=key, range=qm.Range(**ranges)))
            if "eq" in value:
                must.append(qm.FieldCondition(key=key, match=_match(value["eq"])))
            if "in" in value:
                must.append(qm.FieldCondition(key=key, match=qm.MatchAny(any=_any_of(value["in"]))))
            if "ne" in value:
                must_not.append(qm.FieldCondition(key=key, match=_match(value["ne"])))
            if "nin" in value:
                must_not.append(qm.FieldCondition(key=key, match=qm.MatchAny(any=_any_of(value["nin"]))))
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
