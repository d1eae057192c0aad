"""Translate ``qdrant_client.models.Filter`` (the library's public filter type) into ``qdrant_edge`` filters.

Covers what Qdrant filters express on payloads: ``must`` / ``should`` / ``must_not`` / ``min_should``,
nested filters, field matches (value, any, except, text, text any, phrase), numeric and datetime ranges,
values count, is empty / is null, has id, has vector, nested objects and geo conditions.

Examples:
    >>> from qdrant_client import models as qm
    >>> edge = to_edge_filter(qm.Filter(must=[qm.FieldCondition(key="metadata.lang", match=qm.MatchValue(value="en"))]))
    >>> type(edge).__name__
    'Filter'
"""

from __future__ import annotations

import uuid
from typing import Any

import qdrant_edge as qe
from qdrant_client import models as qm

from colbert_retrieval.errors import ColBERTRetrievalError

__all__ = ["UnsupportedFilterError", "to_edge_filter"]


class UnsupportedFilterError(ColBERTRetrievalError, ValueError):
    """A filter condition the embedded engine cannot evaluate."""


def _match(match: Any) -> Any:
    if isinstance(match, qm.MatchValue):
        return qe.MatchValue(match.value)
    if isinstance(match, qm.MatchAny):
        return qe.MatchAny(list(match.any))
    if isinstance(match, qm.MatchExcept):
        return qe.MatchExcept(list(match.except_))
    if isinstance(match, qm.MatchText):
        return qe.MatchText(match.text)
    if isinstance(match, qm.MatchTextAny):
        return qe.MatchTextAny(match.text_any)
    if isinstance(match, qm.MatchPhrase):
        return qe.MatchPhrase(match.phrase)
    msg = f"Filter match {type(match).__name__} is not supported by the embedded store; use a Qdrant server."
    raise UnsupportedFilterError(msg)


def _range(value: Any) -> Any:
    bounds = {name: getattr(value, name) for name in ("gte", "gt", "lte", "lt")}
    if isinstance(value, qm.DatetimeRange):
        return qe.RangeDateTime(**{k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in bounds.items()})
    return qe.RangeFloat(**bounds)


def _geo_point(point: qm.GeoPoint) -> Any:
    return qe.GeoPoint(lon=point.lon, lat=point.lat)


def _field(condition: qm.FieldCondition) -> Any:
    kwargs: dict[str, Any] = {}
    if condition.match is not None:
        kwargs["match"] = _match(condition.match)
    if condition.range is not None:
        kwargs["range"] = _range(condition.range)
    if condition.values_count is not None:
        count = condition.values_count
        kwargs["values_count"] = qe.ValuesCount(lt=count.lt, gt=count.gt, lte=count.lte, gte=count.gte)
    if condition.geo_radius is not None:
        kwargs["geo_radius"] = qe.GeoRadius(_geo_point(condition.geo_radius.center), condition.geo_radius.radius)
    if condition.geo_bounding_box is not None:
        box = condition.geo_bounding_box
        kwargs["geo_bounding_box"] = qe.GeoBoundingBox(_geo_point(box.top_left), _geo_point(box.bottom_right))
    if condition.geo_polygon is not None:
        polygon = condition.geo_polygon
        interiors = [[_geo_point(p) for p in ring.points] for ring in polygon.interiors or []] or None
        kwargs["geo_polygon"] = qe.GeoPolygon([_geo_point(p) for p in polygon.exterior.points], interiors)
    if condition.is_empty is not None:
        kwargs["is_empty"] = condition.is_empty
    if condition.is_null is not None:
        kwargs["is_null"] = condition.is_null
    return qe.FieldCondition(key=condition.key, **kwargs)


def _point_id(value: Any) -> Any:
    if isinstance(value, int):
        return value
    return uuid.UUID(str(value))


def _condition(condition: Any) -> Any:
    if isinstance(condition, qm.Filter):
        return to_edge_filter(condition)
    if isinstance(condition, qm.FieldCondition):
        return _field(condition)
    if isinstance(condition, qm.IsEmptyCondition):
        return qe.IsEmptyCondition(condition.is_empty.key)
    if isinstance(condition, qm.IsNullCondition):
        return qe.IsNullCondition(condition.is_null.key)
    if isinstance(condition, qm.HasIdCondition):
        return qe.HasIdCondition({_point_id(i) for i in condition.has_id})
    if isinstance(condition, qm.HasVectorCondition):
        return qe.HasVectorCondition(condition.has_vector)
    if isinstance(condition, qm.NestedCondition):
        return qe.NestedCondition(condition.nested.key, to_edge_filter(condition.nested.filter))
    msg = f"Filter condition {type(condition).__name__} is not supported by the embedded store; use a Qdrant server."
    raise UnsupportedFilterError(msg)


def _conditions(conditions: Any) -> list[Any] | None:
    if conditions is None:
        return None
    if not isinstance(conditions, list):
        conditions = [conditions]
    return [_condition(c) for c in conditions]


def to_edge_filter(spec: qm.Filter | None) -> Any:
    """The ``qdrant_edge.Filter`` for a ``qdrant_client`` filter (None stays None).

    Raises:
        UnsupportedFilterError: a condition the embedded engine has no equivalent for.
    """
    if spec is None:
        return None
    min_should = None
    if spec.min_should is not None:
        min_should = qe.MinShould(_conditions(spec.min_should.conditions) or [], spec.min_should.min_count)
    return qe.Filter(
        must=_conditions(spec.must),
        should=_conditions(spec.should),
        must_not=_conditions(spec.must_not),
        min_should=min_should,
    )
