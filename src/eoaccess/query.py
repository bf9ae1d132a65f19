"""The one query model of eoaccess, shared by every catalog kind, the CLI and the server.

Users may give a bbox as a list, a tuple or the string ``"W,S,E,N"``, a geometry as GeoJSON,
WKT, a shapely object or anything with ``__geo_interface__``, a datetime as an RFC 3339 instant,
an interval with open ends or a plain date. Each shape is converted once, here, into the
canonical frozen :class:`Query`; every backend then works on that and nothing else. Invalid
input raises :class:`~eoaccess.errors.InvalidInputError` with a message naming the bad value,
which the CLI prints as one line and the server returns as a 400.

Semantics follow the STAC API specification: bbox and intersects are in WGS 84 lon/lat and
select items whose geometry intersects them; a bbox with west > east crosses the antimeridian;
a datetime interval selects items whose instant or ``start_datetime``/``end_datetime`` range
intersects it (both ends inclusive).
"""

from __future__ import annotations

import functools
import json
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any, TypeAlias

from eoaccess.errors import InvalidInputError

BBox: TypeAlias = tuple[float, float, float, float]
"""West, south, east, north in degrees (WGS 84); west > east crosses the antimeridian."""
BBoxLike: TypeAlias = Sequence[float] | str
GeometryLike: TypeAlias = Mapping[str, Any] | str | Path | Any
DatetimeLike: TypeAlias = str | datetime | date | tuple[Any, Any] | Sequence[Any]

MAX_LIMIT = 10_000
DEFAULT_LIMIT = 10


@dataclass(frozen=True)
class Interval:
    """A closed UTC time interval; ``None`` at either end means open."""

    start: datetime | None
    """Inclusive start (timezone-aware UTC), or None for open start."""
    end: datetime | None
    """Inclusive end (timezone-aware UTC), or None for open end."""

    def to_text(self) -> str:
        """The interval in STAC API form (``start/end`` with ``..`` for open ends)."""
        if self.start is not None and self.start == self.end:
            return format_datetime(self.start)
        return f"{format_datetime(self.start) if self.start else '..'}/{format_datetime(self.end) if self.end else '..'}"

    def overlaps(self, start: datetime | None, end: datetime | None) -> bool:
        """True if the closed range [start, end] (None = unbounded) meets this interval."""
        if self.end is not None and start is not None and start > self.end:
            return False
        return not (self.start is not None and end is not None and end < self.start)


@dataclass(frozen=True)
class SortField:
    """One sort key: a property name (``datetime``, ``id``, ``eo:cloud_cover``) and a direction."""

    field: str
    """Property name; ``id``, ``collection`` and ``datetime`` are understood at top level too."""
    descending: bool = False
    """Sort from high to low."""


@dataclass(frozen=True)
class Fields:
    """The fields extension: which item members to include or exclude in results."""

    include: tuple[str, ...] = ()
    """Dotted paths to keep (``properties.gsd``); empty means the defaults."""
    exclude: tuple[str, ...] = ()
    """Dotted paths to drop."""


@dataclass(frozen=True)
class Query:
    """A catalog search, in canonical form. Build it with :func:`make_query`."""

    collections: tuple[str, ...] | None = None
    """Collection ids to search; None means all."""
    ids: tuple[str, ...] | None = None
    """Item ids to select; None means any."""
    bbox: BBox | None = None
    """Lon/lat box the item geometry must intersect."""
    intersects: dict[str, Any] | None = None
    """GeoJSON geometry (WGS 84) the item geometry must intersect."""
    datetime: Interval | None = None
    """Time interval the item's instant or range must intersect."""
    filter: dict[str, Any] | None = None
    """CQL2 expression in its JSON form."""
    sortby: tuple[SortField, ...] = ()
    """Sort keys, most significant first; empty means the backend's default order."""
    fields: Fields | None = None
    """Fields to include or exclude."""
    limit: int = DEFAULT_LIMIT
    """Page size requested from the backend."""
    max_items: int | None = None
    """Stop after this many items in total (client side); None means all."""
    extra: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)
    """Backend-specific options passed through untouched (e.g. ``query`` of older APIs)."""

    def with_page_size(self, limit: int) -> Query:
        """The same query with another page size."""
        return replace(self, limit=parse_limit(limit))

    def to_stac_json(self) -> dict[str, Any]:
        """The body of a STAC API ``POST /search`` for this query (without paging state)."""
        body: dict[str, Any] = {"limit": self.limit}
        if self.collections is not None:
            body["collections"] = list(self.collections)
        if self.ids is not None:
            body["ids"] = list(self.ids)
        if self.bbox is not None:
            body["bbox"] = list(self.bbox)
        if self.intersects is not None:
            body["intersects"] = self.intersects
        if self.datetime is not None:
            body["datetime"] = self.datetime.to_text()
        if self.filter is not None:
            body["filter"] = self.filter
            body["filter-lang"] = "cql2-json"
        if self.sortby:
            body["sortby"] = [
                {"field": s.field, "direction": "desc" if s.descending else "asc"}
                for s in self.sortby
            ]
        if self.fields is not None:
            body["fields"] = {
                "include": list(self.fields.include),
                "exclude": list(self.fields.exclude),
            }
        return body


# --- boundary conversions -------------------------------------------------------------------


def _number(value: Any, what: str) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise InvalidInputError(f"{what} must be a number, not {value!r}") from None
    if not math.isfinite(number):
        raise InvalidInputError(f"{what} must be a finite number, not {value!r}")
    return number


def parse_bbox(value: BBoxLike) -> BBox:
    """Convert ``"W,S,E,N"`` or a 4- or 6-number sequence into a validated lon/lat :data:`BBox`.

    A 6-number (3-D) box keeps its horizontal part. West > east is allowed and means the box
    crosses the antimeridian; south > north and latitudes beyond ±90 are errors.
    """
    if isinstance(value, str):
        parts: list[Any] = [p for p in re.split(r"[,\s]+", value.strip().strip("[]")) if p]
    else:
        try:
            parts = list(value)
        except TypeError:
            raise InvalidInputError(f"bbox must be 4 numbers W,S,E,N, not {value!r}") from None
    if len(parts) not in (4, 6):
        raise InvalidInputError(
            f"bbox must have 4 (or 6) numbers W,S,E,N, got {len(parts)}: {value!r}"
        )
    numbers = [_number(p, "bbox value") for p in parts]
    west, south, east, north = (
        (numbers[0], numbers[1], numbers[3], numbers[4]) if len(numbers) == 6 else numbers
    )
    for lon in (west, east):
        if not -180 <= lon <= 180:
            raise InvalidInputError(f"bbox longitude {lon:g} is outside -180..180")
    for lat in (south, north):
        if not -90 <= lat <= 90:
            raise InvalidInputError(f"bbox latitude {lat:g} is outside -90..90")
    if south > north:
        raise InvalidInputError(f"bbox south {south:g} is greater than north {north:g}")
    return (west, south, east, north)


def parse_point(value: Sequence[float] | str) -> dict[str, Any]:
    """Convert ``"LON,LAT"`` or ``(lon, lat)`` into a GeoJSON Point, validating the ranges."""
    parts = (
        [p for p in re.split(r"[,\s]+", value.strip()) if p]
        if isinstance(value, str)
        else list(value)
    )
    if len(parts) != 2:
        raise InvalidInputError(f"point must be LON,LAT, not {value!r}")
    lon, lat = (_number(p, "point coordinate") for p in parts)
    if not -180 <= lon <= 180 or not -90 <= lat <= 90:
        raise InvalidInputError(f"point {lon:g},{lat:g} is outside lon -180..180 / lat -90..90")
    return {"type": "Point", "coordinates": [lon, lat]}


_GEOMETRY_TYPES = {
    "Point",
    "MultiPoint",
    "LineString",
    "MultiLineString",
    "Polygon",
    "MultiPolygon",
    "GeometryCollection",
}


def parse_geometry(value: GeometryLike, crs: Any = None) -> dict[str, Any]:
    """Convert a GeoJSON dict/string/file, WKT, shapely geometry or ``__geo_interface__`` object
    into a valid GeoJSON geometry dict in WGS 84 lon/lat.

    A Feature or a one-feature FeatureCollection gives its geometry; a larger FeatureCollection
    gives the union. ``crs`` (anything pyproj understands) says the input is not lon/lat.
    """
    import shapely
    import shapely.geometry

    geometry = _to_shapely(value)
    if geometry.is_empty:
        raise InvalidInputError("geometry is empty")
    if crs is not None:
        geometry = _reproject_to_lonlat(geometry, crs)
    if not geometry.is_valid:
        fixed = shapely.make_valid(geometry)
        if fixed.is_empty:
            raise InvalidInputError(f"geometry is invalid: {shapely.is_valid_reason(geometry)}")
        geometry = fixed
    minx, miny, maxx, maxy = geometry.bounds
    if minx < -180 or maxx > 180 or miny < -90 or maxy > 90:
        raise InvalidInputError(
            f"geometry bounds {minx:g},{miny:g},{maxx:g},{maxy:g} are outside lon/lat; "
            "give crs= if it is in a projected CRS"
        )
    return json.loads(shapely.to_geojson(geometry))  # type: ignore[no-any-return]


def _to_shapely(value: GeometryLike) -> Any:
    import shapely
    import shapely.geometry

    if isinstance(value, shapely.Geometry):
        return value
    if isinstance(value, Path) or (
        isinstance(value, str)
        and not value.lstrip().startswith(("{", "["))
        and _looks_like_path(value)
    ):
        path = Path(value)
        try:
            value = path.read_text()
        except OSError as exc:
            raise InvalidInputError(
                f"cannot read geometry file {path}: {exc.strerror or exc}"
            ) from None
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("{"):
            try:
                value = json.loads(text)
            except json.JSONDecodeError as exc:
                raise InvalidInputError(
                    f"invalid GeoJSON: {exc.msg} at character {exc.pos}"
                ) from None
        else:
            try:
                return shapely.from_wkt(text)
            except shapely.errors.GEOSException as exc:
                raise InvalidInputError(f"invalid WKT geometry: {exc}") from None
    if not isinstance(value, Mapping) and hasattr(value, "__geo_interface__"):
        value = value.__geo_interface__
    if not isinstance(value, Mapping):
        raise InvalidInputError(f"cannot use {type(value).__name__} as a geometry")
    return _geojson_to_shapely(value)


def _looks_like_path(text: str) -> bool:
    first = text.strip().split("(", 1)[0].strip().upper()
    wkt_words = {t.upper() for t in _GEOMETRY_TYPES}
    return first not in wkt_words and not first.startswith(("SRID=", "POINT", "POLYGON"))


def _geojson_to_shapely(obj: Mapping[str, Any]) -> Any:
    import shapely
    import shapely.geometry

    kind = obj.get("type")
    if kind == "Feature":
        if not obj.get("geometry"):
            raise InvalidInputError("GeoJSON Feature has no geometry")
        return _geojson_to_shapely(obj["geometry"])
    if kind == "FeatureCollection":
        features = obj.get("features") or []
        if not features:
            raise InvalidInputError("GeoJSON FeatureCollection has no features")
        return shapely.union_all([_geojson_to_shapely(f) for f in features])
    if kind not in _GEOMETRY_TYPES:
        raise InvalidInputError(f"invalid GeoJSON geometry type {kind!r}")
    if kind != "GeometryCollection" and not isinstance(obj.get("coordinates"), list):
        raise InvalidInputError(f"invalid GeoJSON {kind}: 'coordinates' must be an array")
    try:
        return shapely.geometry.shape(obj)
    except (ValueError, TypeError, IndexError, AttributeError, shapely.errors.GEOSException) as exc:
        raise InvalidInputError(f"invalid GeoJSON {kind}: {exc}") from None


def _reproject_to_lonlat(geometry: Any, crs: Any) -> Any:
    import pyproj
    import shapely
    from shapely.ops import transform

    try:
        source = pyproj.CRS.from_user_input(crs)
    except pyproj.exceptions.CRSError as exc:
        raise InvalidInputError(f"unknown CRS {crs!r}: {exc}") from None
    transformer = pyproj.Transformer.from_crs(source, "EPSG:4326", always_xy=True)
    # Densify first so straight projected edges keep their shape in lon/lat.
    minx, miny, maxx, maxy = geometry.bounds
    step = max(maxx - minx, maxy - miny) / 64 or 1.0
    return transform(transformer.transform, shapely.segmentize(geometry, step))


_DATE_ONLY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_YEAR_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_YEAR = re.compile(r"^(\d{4})$")


def parse_instant(text: str, *, end: bool = False) -> datetime:
    """Parse an RFC 3339 instant or a plain date/month/year into an aware UTC datetime.

    A plain date, month or year at the ``end`` of an interval means its last instant, so
    ``2020-01-01/2020-01-31`` includes all of January 31.
    """
    text = text.strip()
    if not text:
        raise InvalidInputError("empty datetime")
    if m := _YEAR.match(text):
        start = datetime(int(m.group(1)), 1, 1, tzinfo=UTC)
        return start.replace(year=start.year + 1) - timedelta(microseconds=1) if end else start
    if m := _YEAR_MONTH.match(text):
        year, month = int(m.group(1)), int(m.group(2))
        if not 1 <= month <= 12:
            raise InvalidInputError(f"invalid month in datetime {text!r}")
        start = datetime(year, month, 1, tzinfo=UTC)
        if not end:
            return start
        following = datetime(year + (month == 12), month % 12 + 1, 1, tzinfo=UTC)
        return following - timedelta(microseconds=1)
    if _DATE_ONLY.match(text):
        try:
            day = date.fromisoformat(text)
        except ValueError:
            raise InvalidInputError(f"invalid date {text!r}") from None
        return datetime.combine(day, time.max if end else time.min, tzinfo=UTC)
    normalised = text.replace("z", "Z").replace("t", "T")
    if "T" not in normalised and " " not in normalised:
        raise InvalidInputError(
            f"invalid datetime {text!r}: use RFC 3339 like 2020-01-31T12:00:00Z"
        )
    try:
        instant = datetime.fromisoformat(normalised)
    except ValueError:
        raise InvalidInputError(
            f"invalid datetime {text!r}: use RFC 3339 like 2020-01-31T12:00:00Z"
        ) from None
    if instant.tzinfo is None:
        instant = instant.replace(tzinfo=UTC)
    return instant.astimezone(UTC)


def _as_utc(value: datetime | date) -> datetime:
    if isinstance(value, datetime):
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    return datetime.combine(value, time.min, tzinfo=UTC)


def parse_datetime(value: DatetimeLike) -> Interval:
    """Convert an instant, ``start/end`` text (``..`` or empty for open ends), a date, or a
    (start, end) pair into an :class:`Interval`; reject reversed or fully open intervals."""
    if isinstance(value, datetime | date):
        instant = _as_utc(value)
        if isinstance(value, datetime):
            return Interval(instant, instant)
        return Interval(instant, datetime.combine(value, time.max, tzinfo=UTC))
    if isinstance(value, str):
        text = value.strip()
        if "/" in text:
            first, _, second = text.partition("/")
            if "/" in second:
                raise InvalidInputError(f"invalid datetime interval {value!r}: more than one '/'")
            start = None if first.strip() in ("", "..") else parse_instant(first)
            end = None if second.strip() in ("", "..") else parse_instant(second, end=True)
            if start is None and end is None:
                raise InvalidInputError(f"datetime interval {value!r} is open at both ends")
        else:
            if text in ("", ".."):
                raise InvalidInputError(f"invalid datetime {value!r}")
            start = parse_instant(text)
            end = parse_instant(text, end=True)
    else:
        try:
            pair = list(value)
        except TypeError:
            raise InvalidInputError(f"invalid datetime {value!r}") from None
        if len(pair) != 2:
            raise InvalidInputError(
                f"a datetime range needs 2 values (start, end), got {len(pair)}"
            )
        start = _end_of(pair[0], end=False)
        end = _end_of(pair[1], end=True)
    if start is not None and end is not None and start > end:
        raise InvalidInputError(f"datetime interval starts after it ends: {value!r}")
    return Interval(start, end)


def _end_of(value: Any, *, end: bool) -> datetime | None:
    if value is None or (isinstance(value, str) and value.strip() in ("", "..")):
        return None
    if isinstance(value, str):
        return parse_instant(value, end=end)
    if isinstance(value, datetime):
        return _as_utc(value)
    if isinstance(value, date):
        return datetime.combine(value, time.max if end else time.min, tzinfo=UTC)
    raise InvalidInputError(f"invalid datetime {value!r}")


def format_datetime(value: datetime) -> str:
    """RFC 3339 in UTC with a ``Z``; microseconds only when present."""
    value = _as_utc(value)
    text = value.strftime("%Y-%m-%dT%H:%M:%S")
    if value.microsecond:
        text += f".{value.microsecond:06d}"
    return text + "Z"


def parse_filter(value: str | Mapping[str, Any], lang: str | None = None) -> dict[str, Any]:
    """Parse CQL2 text or JSON into its JSON form; syntax errors say where parsing failed.

    Validation by cql2 costs tens of milliseconds, so results are cached by the filter's text
    (a paged or repeated search pays it once); each call returns a fresh dict.
    """
    if lang not in (None, "cql2-text", "cql2-json"):
        raise InvalidInputError(f"unsupported filter-lang {lang!r}; use cql2-text or cql2-json")
    if isinstance(value, str):
        if not value.strip():
            raise InvalidInputError("empty filter")
        # Keep the text as given, so error positions count in the user's own characters.
        text = value
        is_json = lang == "cql2-json" or (lang is None and value.lstrip().startswith("{"))
    elif isinstance(value, Mapping):
        try:
            text, is_json = json.dumps(value, sort_keys=True), True
        except (TypeError, ValueError):
            raise InvalidInputError("filter JSON holds values that are not JSON") from None
    else:
        raise InvalidInputError(f"filter must be CQL2 text or JSON, not {type(value).__name__}")
    return json.loads(_validated_filter(text, is_json))  # type: ignore[no-any-return]


@functools.lru_cache(maxsize=1024)
def _validated_filter(text: str, is_json: bool) -> str:
    """The CQL2 JSON of a filter as compact text; raises InvalidInputError when invalid."""
    import cql2

    source: Any = text
    if is_json:
        try:
            source = _legacy_between(json.loads(text))
        except json.JSONDecodeError as exc:
            raise InvalidInputError(
                f"invalid CQL2 JSON: {exc.msg} at character {exc.pos}"
            ) from None
    try:
        expr = cql2.Expr(source)
        expr.validate()
    except Exception as exc:  # cql2 raises plain Exception/ValidationError with a located message
        message = " ".join(str(exc).split())
        raise InvalidInputError(f"invalid CQL2 filter: {message}") from None
    return json.dumps(expr.to_json())


def _legacy_between(expr: Any) -> Any:
    """Rewrite the draft CQL2 form ``between(x, [low, high])`` as CQL2 1.0's ``between(x, low,
    high)`` (older clients and stac-api-validator still send the draft form)."""
    if isinstance(expr, list):
        return [_legacy_between(e) for e in expr]
    if not isinstance(expr, Mapping):
        return expr
    out = {k: _legacy_between(v) for k, v in expr.items()}
    args = out.get("args")
    if (
        str(out.get("op", "")).lower() == "between"
        and isinstance(args, list)
        and len(args) == 2
        and isinstance(args[1], list)
        and len(args[1]) == 2
    ):
        out["args"] = [args[0], *args[1]]
    return out


def parse_sortby(value: str | Iterable[Any]) -> tuple[SortField, ...]:
    """Parse ``"-datetime,+id"`` or ``[{"field":…, "direction":"desc"}]`` into sort keys."""
    entries = [p for p in value.split(",") if p.strip()] if isinstance(value, str) else list(value)
    keys = []
    for entry in entries:
        if isinstance(entry, SortField):
            keys.append(entry)
        elif isinstance(entry, str):
            text = entry.strip()
            descending = text.startswith("-")
            name = text.lstrip("+-").strip()
            if not name:
                raise InvalidInputError(f"invalid sortby {value!r}")
            keys.append(SortField(name, descending))
        elif isinstance(entry, Mapping) and isinstance(entry.get("field"), str):
            direction = str(entry.get("direction", "asc")).lower()
            if direction not in ("asc", "desc"):
                raise InvalidInputError(f"sortby direction must be asc or desc, not {direction!r}")
            keys.append(SortField(entry["field"], direction == "desc"))
        else:
            raise InvalidInputError(f"invalid sortby entry {entry!r}")
    return tuple(keys)


def parse_fields(value: str | Mapping[str, Any] | Iterable[str]) -> Fields:
    """Parse ``"id,-properties.gsd"`` or ``{"include": […], "exclude": […]}`` into :class:`Fields`."""
    if isinstance(value, Mapping):
        return Fields(tuple(value.get("include") or ()), tuple(value.get("exclude") or ()))
    entries = value.split(",") if isinstance(value, str) else list(value)
    include, exclude = [], []
    for entry in (e.strip() for e in entries):
        if not entry:
            continue
        (exclude if entry.startswith("-") else include).append(entry.lstrip("+-"))
    return Fields(tuple(include), tuple(exclude))


def parse_limit(value: Any) -> int:
    """A page size between 1 and :data:`MAX_LIMIT`."""
    if isinstance(value, bool):
        raise InvalidInputError(f"limit must be an integer, not {value!r}")
    try:
        limit = int(value)
    except (TypeError, ValueError):
        raise InvalidInputError(f"limit must be an integer, not {value!r}") from None
    if str(value).strip() != str(limit) and not isinstance(value, int):
        raise InvalidInputError(f"limit must be an integer, not {value!r}")
    if not 1 <= limit <= MAX_LIMIT:
        raise InvalidInputError(f"limit {limit} is outside 1..{MAX_LIMIT}")
    return limit


def _names(value: str | Iterable[str] | None, what: str) -> tuple[str, ...] | None:
    if value is None:
        return None
    names = value.split(",") if isinstance(value, str) else list(value)
    cleaned = tuple(str(n).strip() for n in names if str(n).strip())
    if not cleaned:
        raise InvalidInputError(f"{what} is empty")
    return cleaned


def make_query(
    *,
    collections: str | Iterable[str] | None = None,
    ids: str | Iterable[str] | None = None,
    bbox: BBoxLike | None = None,
    point: Sequence[float] | str | None = None,
    intersects: GeometryLike | None = None,
    datetime: DatetimeLike | None = None,
    filter: str | Mapping[str, Any] | None = None,
    filter_lang: str | None = None,
    sortby: str | Iterable[Any] | None = None,
    fields: str | Mapping[str, Any] | Iterable[str] | None = None,
    limit: int | None = None,
    max_items: int | None = None,
    crs: Any = None,
) -> Query:
    """Build a canonical :class:`Query` from the many shapes users write.

    ``point`` is a shorthand for ``intersects`` with a Point; ``crs`` says ``bbox``/``intersects``
    are given in another CRS (they are reprojected to lon/lat, densified).
    """
    given = [
        name
        for name, v in (("bbox", bbox), ("point", point), ("intersects", intersects))
        if v is not None
    ]
    if len(given) > 1:
        raise InvalidInputError(
            f"give only one of bbox, point and intersects (got {' and '.join(given)})"
        )
    parsed_bbox: BBox | None = None
    geometry: dict[str, Any] | None = None
    if bbox is not None:
        if crs is not None:
            parts = parse_bbox_numbers(bbox)
            import shapely

            geometry = parse_geometry(shapely.box(*parts), crs=crs)
        else:
            parsed_bbox = parse_bbox(bbox)
    elif point is not None:
        geometry = (
            parse_point(point) if crs is None else parse_geometry(_point_shape(point), crs=crs)
        )
    elif intersects is not None:
        geometry = parse_geometry(intersects, crs=crs)
    if max_items is not None and (isinstance(max_items, bool) or int(max_items) < 0):
        raise InvalidInputError(f"max_items must be a non-negative integer, not {max_items!r}")
    return Query(
        collections=_names(collections, "collections"),
        ids=_names(ids, "ids"),
        bbox=parsed_bbox,
        intersects=geometry,
        datetime=parse_datetime(datetime) if datetime is not None else None,
        filter=parse_filter(filter, filter_lang) if filter is not None else None,
        sortby=parse_sortby(sortby) if sortby is not None else (),
        fields=parse_fields(fields) if fields is not None else None,
        limit=parse_limit(limit) if limit is not None else DEFAULT_LIMIT,
        max_items=int(max_items) if max_items is not None else None,
    )


def parse_bbox_numbers(value: BBoxLike) -> tuple[float, float, float, float]:
    """Four finite numbers of a bbox in any CRS (no lon/lat range checks)."""
    parts = (
        [p for p in re.split(r"[,\s]+", value.strip()) if p]
        if isinstance(value, str)
        else list(value)
    )
    if len(parts) != 4:
        raise InvalidInputError(f"bbox must have 4 numbers, got {len(parts)}: {value!r}")
    west, south, east, north = (_number(p, "bbox value") for p in parts)
    if west > east or south > north:
        raise InvalidInputError(f"projected bbox must have min <= max: {value!r}")
    return west, south, east, north


def _point_shape(point: Sequence[float] | str) -> Any:
    import shapely

    parts = (
        [p for p in re.split(r"[,\s]+", point.strip()) if p]
        if isinstance(point, str)
        else list(point)
    )
    if len(parts) != 2:
        raise InvalidInputError(f"point must be X,Y, not {point!r}")
    return shapely.Point(*(_number(p, "point coordinate") for p in parts))
