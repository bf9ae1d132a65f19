"""Client-side evaluation of a :class:`~eoaccess.query.Query` over STAC item dicts.

Every source kind must give the same answer to the same query. What a backend cannot push
down to its engine is evaluated here, with the STAC API semantics, so that a static catalog,
a GeoJSON footprint file, the embedded catalog and the PostgreSQL catalog agree.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Iterator, Mapping
from datetime import datetime
from functools import cached_property
from typing import Any

from eoaccess.query import BBox, Fields, Interval, Query, SortField, parse_instant


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
    """The item's time range from ``datetime`` or ``start_datetime``/``end_datetime``; None if it has none."""
    props = item.get("properties") or {}
    start_text = props.get("start_datetime")
    end_text = props.get("end_datetime")
    instant = props.get("datetime")
    if start_text or end_text:
        start = parse_instant(start_text) if start_text else None
        end = parse_instant(end_text) if end_text else None
        return start, end
    if instant:
        moment = parse_instant(instant)
        return moment, moment
    return None


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

        return cql2.Expr(self.query.filter) if self.query.filter is not None else None

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
        return self._filter is None or bool(self._filter.matches(dict(item)))

    def filter(self, items: Iterable[Mapping[str, Any]]) -> Iterator[Mapping[str, Any]]:
        """Yield the items that match."""
        return (item for item in items if self.matches(item))


def _in_interval(item: Mapping[str, Any], interval: Interval) -> bool:
    span = item_interval(item)
    if span is None:
        return False
    return interval.overlaps(*span)


def sort_key_value(item: Mapping[str, Any], name: str) -> Any:
    """The value an item is sorted by for property ``name`` (top-level members first)."""
    if name in ("id", "collection"):
        return item.get(name)
    props = item.get("properties") or {}
    if name.startswith("properties."):
        name = name[len("properties.") :]
    value = props.get(name)
    if value is None and name == "datetime":
        value = props.get("start_datetime")
    return value


def sort_items(
    items: list[Mapping[str, Any]], sortby: tuple[SortField, ...]
) -> list[Mapping[str, Any]]:
    """Sort items by the keys, missing values last in either direction, then by (collection, id).

    The (collection, id) tie-break makes every backend's order total and therefore identical.
    """
    ordered = sorted(items, key=lambda i: (str(i.get("collection") or ""), str(i.get("id") or "")))
    for key in reversed(sortby):
        present = [i for i in ordered if sort_key_value(i, key.field) is not None]
        missing = [i for i in ordered if sort_key_value(i, key.field) is None]
        present.sort(
            key=lambda i, k=key.field: _comparable(sort_key_value(i, k)), reverse=key.descending
        )
        ordered = present + missing
    return ordered


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
