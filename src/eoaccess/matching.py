"""Client-side evaluation of a :class:`~eoaccess.query.Query` over STAC item dicts.

Every source kind must give the same answer to the same query. What a backend cannot push
down to its engine is evaluated here, with the STAC API semantics, so that a static catalog,
a GeoJSON footprint file, the embedded catalog and the PostgreSQL catalog agree.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterable, Iterator, Mapping
from datetime import datetime
from functools import cached_property
from typing import Any

from eoaccess.query import BBox, Fields, Interval, Query, SortField, format_datetime, parse_instant

DEFAULT_SORTBY: tuple[SortField, ...] = (SortField("datetime", descending=True),)
"""The order of results when a query has no sortby: newest first (pgstac's default)."""

# Sort keys and filter properties that mean the item's time range, read as pgstac reads them:
# datetime and start_datetime are its start, end_datetime is its end.
_TEMPORAL_ENDS = {"datetime": 0, "start_datetime": 0, "end_datetime": 1}
_BARE_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def bbox_geometry(bbox: BBox) -> Any:
    """A shapely (Multi)Polygon for a lon/lat bbox, split in two when it crosses the antimeridian."""
    import shapely

    west, south, east, north = bbox
    if west <= east:
        return shapely.box(west, south, east, north)
    return shapely.MultiPolygon(
        [shapely.box(west, south, 180, north), shapely.box(-180, south, east, north)]
    )


def item_interval(item: Mapping[str, Any]) -> tuple[datetime | None, datetime | None] | None:
    """The item's time range: ``start_datetime``/``end_datetime`` when both are set, else
    ``datetime`` (as pgstac reads it), else a half-open range from whichever end is set;
    None if it has none."""
    props = item.get("properties") or {}
    start_text = props.get("start_datetime")
    end_text = props.get("end_datetime")
    instant = props.get("datetime")
    if start_text and end_text:
        return parse_instant(start_text), parse_instant(end_text)
    if instant:
        moment = parse_instant(instant)
        return moment, moment
    if start_text or end_text:
        start = parse_instant(start_text) if start_text else None
        end = parse_instant(end_text) if end_text else None
        return start, end
    return None


def normalize_filter(expr: Any) -> Any:
    """A CQL2-JSON filter with literals spelled the one way every backend reads alike.

    ``BBOX`` literals become GeoJSON polygons (two when west > east: the box crosses the
    antimeridian, as in a search bbox); bare dates ending an ``INTERVAL`` become timestamps
    that cover the whole day (an interval ``'2020-01-01'/'2020-01-02'`` includes all of
    2 January, as in a search datetime); a string compared with ``CASEI``/``ACCENTI`` of a
    property is folded too.
    """
    import shapely

    if isinstance(expr, list):
        return [normalize_filter(e) for e in expr]
    if not isinstance(expr, dict):
        return expr
    if set(expr) == {"bbox"} and isinstance(expr["bbox"], list) and len(expr["bbox"]) in (4, 6):
        box = expr["bbox"]
        west, south, east, north = (box[0], box[1], box[3], box[4]) if len(box) == 6 else box
        return json.loads(shapely.to_geojson(bbox_geometry((west, south, east, north))))
    if set(expr) == {"interval"} and isinstance(expr["interval"], list):
        ends = expr["interval"]
        if len(ends) == 2:
            return {
                "interval": [_interval_end(ends[0], end=False), _interval_end(ends[1], end=True)]
            }
    normalized = {key: normalize_filter(value) for key, value in expr.items()}
    return _fold_both_sides(normalized)


_FOLDING = ("casei", "accenti")
_FOLDABLE_OPS = {"=", "<>", "like"}


def _fold_both_sides(expr: dict[str, Any]) -> dict[str, Any]:
    """``CASEI(x) = 'Abc'`` as ``CASEI(x) = CASEI('Abc')``: the CQL2 spec folds both sides, and
    engines that fold only one (to upper or to lower case) otherwise disagree."""
    args = expr.get("args")
    if str(expr.get("op", "")).lower() not in _FOLDABLE_OPS or not isinstance(args, list):
        return expr
    if len(args) != 2:
        return expr
    for fold in _FOLDING:
        folded = [isinstance(a, dict) and str(a.get("op", "")).lower() == fold for a in args]
        if folded.count(True) == 1 and isinstance(args[folded.index(False)], str):
            plain = folded.index(False)
            args = list(args)
            args[plain] = {"op": fold, "args": [args[plain]]}
            return {**expr, "args": args}
    return expr


def _interval_end(value: Any, *, end: bool) -> Any:
    if isinstance(value, str) and _BARE_DATE.match(value):
        return format_datetime(parse_instant(value, end=end))
    return normalize_filter(value)


def filter_view(item: Mapping[str, Any]) -> dict[str, Any]:
    """The item as a CQL2 filter sees it: ``datetime`` and ``start_datetime`` are the start of
    its time range and ``end_datetime`` the end (RFC 3339, UTC), whichever of them the item
    spells out — the reading of pgstac, so that every backend answers a filter alike."""
    view = dict(item)
    span = item_interval(item)
    if span is None:
        return view
    properties = dict(item.get("properties") or {})
    for name, end in _TEMPORAL_ENDS.items():
        moment = span[end]
        properties[name] = format_datetime(moment) if moment is not None else None
    view["properties"] = properties
    return view


def filter_matches(expr: Any, item: Mapping[str, Any]) -> bool:
    """True if the cql2 expression is true for ``item``.

    A comparison with a missing or null property is unknown, and unknown is not a match (SQL's
    three-valued logic, which the database backends apply): cql2 reports it as an expression it
    cannot reduce to a boolean, which is therefore read as False.
    """
    try:
        return bool(expr.matches(filter_view(item)))
    except Exception:  # cql2 raises a bare Exception for "could not reduce to boolean"
        return False


class ItemMatcher:
    """Tests item dicts against one query; built once per query (geometry and CQL2 prepared)."""

    def __init__(self, query: Query) -> None:
        self.query = query
        self._collections = frozenset(query.collections) if query.collections is not None else None
        self._ids = frozenset(query.ids) if query.ids is not None else None

    @cached_property
    def _area(self) -> Any:
        import shapely
        import shapely.geometry

        if self.query.bbox is not None:
            area = bbox_geometry(self.query.bbox)
        elif self.query.intersects is not None:
            area = shapely.geometry.shape(self.query.intersects)
        else:
            return None
        shapely.prepare(area)
        return area

    @cached_property
    def _filter(self) -> Any:
        import cql2

        return cql2.Expr(normalize_filter(self.query.filter)) if self.query.filter else None

    def matches(self, item: Mapping[str, Any]) -> bool:
        """True if ``item`` satisfies every part of the query."""
        if self._collections is not None and item.get("collection") not in self._collections:
            return False
        if self._ids is not None and item.get("id") not in self._ids:
            return False
        if self.query.datetime is not None and not _in_interval(item, self.query.datetime):
            return False
        if self._area is not None:
            geometry = item.get("geometry")
            if not geometry:
                return False
            import shapely.geometry

            if not self._area.intersects(shapely.geometry.shape(geometry)):
                return False
        return self._filter is None or filter_matches(self._filter, item)

    def filter(self, items: Iterable[Mapping[str, Any]]) -> Iterator[Mapping[str, Any]]:
        """Yield the items that match."""
        return (item for item in items if self.matches(item))


def _in_interval(item: Mapping[str, Any], interval: Interval) -> bool:
    span = item_interval(item)
    if span is None:
        return False
    return interval.overlaps(*span)


def sort_key_value(item: Mapping[str, Any], name: str) -> Any:
    """The value an item is sorted by for property ``name`` (top-level members first).

    ``datetime`` and ``start_datetime`` give the start of the item's time range and
    ``end_datetime`` its end, as fixed-width UTC text that sorts chronologically.
    """
    if name.startswith("properties."):
        name = name[len("properties.") :]
    if name in ("id", "collection"):
        return item.get(name)
    if name in _TEMPORAL_ENDS:
        span = item_interval(item)
        moment = span[_TEMPORAL_ENDS[name]] if span is not None else None
        return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ") if moment is not None else None
    return (item.get("properties") or {}).get(name)


def sort_items(
    items: list[Mapping[str, Any]], sortby: tuple[SortField, ...]
) -> list[Mapping[str, Any]]:
    """Sort items by the keys, then by collection and id in the direction of the first key.

    A missing value sorts above every value (last ascending, first descending), as in
    PostgreSQL. The (collection, id) tie-break makes the order total, so every backend returns
    the same order; both rules are pgstac's.
    """
    keys = list(sortby)
    named = {k.field.removeprefix("properties.") for k in keys}
    tie_descending = keys[0].descending if keys else False
    keys += [SortField(name, tie_descending) for name in ("collection", "id") if name not in named]
    ordered = list(items)
    for key in reversed(keys):  # stable sorts, least significant key first
        ordered.sort(
            key=lambda i, k=key.field: _missing_above(sort_key_value(i, k)), reverse=key.descending
        )
    return ordered


def _missing_above(value: Any) -> Any:
    return (1, (0, 0)) if value is None else (0, _comparable(value))


def _comparable(value: Any) -> Any:
    if isinstance(value, bool):
        return (0, int(value))
    if isinstance(value, int | float):
        return (0, value)
    return (1, str(value))


def apply_fields(item: Mapping[str, Any], fields: Fields | None) -> dict[str, Any]:
    """Apply the fields extension: keep ``include`` paths (plus the members every item needs),
    then drop ``exclude`` paths."""
    if fields is None or (not fields.include and not fields.exclude):
        return dict(item)
    result: dict[str, Any]
    if fields.include:
        result = {}
        for path in ("type", "stac_version", "id", "collection", "links", *fields.include):
            _copy_path(item, result, path.split("."))
    else:
        result = copy.deepcopy(dict(item))
    for path in fields.exclude:
        if path in fields.include:
            continue
        _drop_path(result, path.split("."))
    return result


def _copy_path(source: Mapping[str, Any], target: dict[str, Any], parts: list[str]) -> None:
    head, rest = parts[0], parts[1:]
    if head not in source:
        return
    if not rest:
        target[head] = copy.deepcopy(source[head])
        return
    child = source[head]
    if isinstance(child, Mapping):
        _copy_path(child, target.setdefault(head, {}), rest)


def _drop_path(target: dict[str, Any], parts: list[str]) -> None:
    head, rest = parts[0], parts[1:]
    if not rest:
        target.pop(head, None)
    elif isinstance(target.get(head), dict):
        _drop_path(target[head], rest)


def compare_items(a: Mapping[str, Any], b: Mapping[str, Any], sortby: tuple[SortField, ...]) -> int:
    """-1, 0 or 1 as ``a`` comes before, with or after ``b`` in the order of :func:`sort_items`
    (for merging sorted result streams of several catalogs)."""
    keys = list(sortby)
    named = {k.field.removeprefix("properties.") for k in keys}
    tie_descending = keys[0].descending if keys else False
    keys += [SortField(name, tie_descending) for name in ("collection", "id") if name not in named]
    for key in keys:
        left = _missing_above(sort_key_value(a, key.field))
        right = _missing_above(sort_key_value(b, key.field))
        if left == right:
            continue
        before = left < right
        return (1 if before else -1) if key.descending else (-1 if before else 1)
    return 0
