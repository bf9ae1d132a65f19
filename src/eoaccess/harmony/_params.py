"""Harmony's OGC Coverages request parameters, parsed once into a :class:`JobRequest`.

harmony-py sends ``subset=lat(S:N)``, ``subset=lon(W:E)``,
``subset=time("2020-01-01T00:00:00":"2020-02-01T00:00:00")`` (``*`` for open ends, naive times
meaning UTC), repeated ``variable``, ``granuleId=G1,G2``, ``maxResults``, ``outputcrs``,
``format`` (a media type), ``forceAsync``/``skipPreview``/``ignoreErrors`` (``true``/``false``),
``label`` and an optional GeoJSON ``shapefile`` part. Bad values raise InvalidInputError naming
the parameter; the request is kept in a normalised JSON form so that a restarted server parses
exactly what was accepted.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import shapely
import shapely.geometry

from eoaccess.errors import InvalidInputError
from eoaccess.query import Interval, format_datetime, parse_instant

# Registry: output media type (Harmony's ``format``) -> our subset format name.
FORMATS: dict[str, str] = {
    "application/x-hdf5": "hdf5",
    "application/x-netcdf4": "netcdf",
    "application/netcdf": "netcdf",
    "application/x-netcdf": "netcdf",
    "application/x-zarr": "zarr",
    "image/tiff": "geotiff",
    "image/tiff; application=geotiff": "geotiff",
}

_SUBSET = re.compile(r"^\s*(?P<dim>[A-Za-z_][\w.]*)\s*\((?P<body>.*)\)\s*$", re.S)
_RANGE = re.compile(r'^\s*("[^"]*"|[^:"]*)\s*:\s*("[^"]*"|[^:"]*)\s*$')
_BOOLEANS = {"true": True, "false": False}
# Dimension names harmony clients use for the spatial and temporal axes.
_DIM_ALIASES = {
    "lat": "lat",
    "latitude": "lat",
    "lon": "lon",
    "long": "lon",
    "longitude": "lon",
    "time": "time",
    "t": "time",
}


@dataclass(frozen=True)
class JobRequest:
    """What a Harmony request asks for, validated."""

    variables: tuple[str, ...] | None = None
    """Variables to keep (None: all)."""
    bbox: tuple[float, float, float, float] | None = None
    """West, south, east, north from the ``lat``/``lon`` subsets."""
    time: Interval | None = None
    granule_ids: tuple[str, ...] | None = None
    max_results: int | None = None
    output_crs: str | None = None
    format: str | None = None
    """Output media type as asked (see :data:`FORMATS`)."""
    skip_preview: bool = False
    ignore_errors: bool = True
    labels: tuple[str, ...] = ()
    shape: Mapping[str, Any] | None = None
    """A GeoJSON (Multi)Polygon geometry in lon/lat."""

    @property
    def format_name(self) -> str | None:
        """Our subset format name for :attr:`format`."""
        return FORMATS[self.format] if self.format else None

    def to_json(self) -> dict[str, Any]:
        """The normalised request (the fields that were given), as stored and fingerprinted."""
        out: dict[str, Any] = {}
        if self.variables is not None:
            out["variable"] = list(self.variables)
        if self.bbox is not None:
            out["bbox"] = list(self.bbox)
        if self.time is not None:
            out["time"] = [
                format_datetime(self.time.start) if self.time.start else None,
                format_datetime(self.time.end) if self.time.end else None,
            ]
        if self.granule_ids is not None:
            out["granuleId"] = list(self.granule_ids)
        for key, value in (
            ("maxResults", self.max_results),
            ("outputcrs", self.output_crs),
            ("format", self.format),
            ("shape", self.shape),
        ):
            if value is not None:
                out[key] = value
        out["skipPreview"] = self.skip_preview
        out["ignoreErrors"] = self.ignore_errors
        out["label"] = list(self.labels)
        return out

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> JobRequest:
        """Inverse of :meth:`to_json`."""
        time = data.get("time")
        return cls(
            variables=tuple(data["variable"]) if "variable" in data else None,
            bbox=tuple(data["bbox"]) if "bbox" in data else None,  # type: ignore[arg-type]
            time=Interval(*(parse_instant(t) if t else None for t in time)) if time else None,
            granule_ids=tuple(data["granuleId"]) if "granuleId" in data else None,
            max_results=data.get("maxResults"),
            output_crs=data.get("outputcrs"),
            format=data.get("format"),
            skip_preview=bool(data.get("skipPreview", False)),
            ignore_errors=bool(data.get("ignoreErrors", True)),
            labels=tuple(data.get("label", ())),
            shape=data.get("shape"),
        )

    def query_items(self) -> list[tuple[str, str]]:
        """The request as Harmony query parameters (for the job's ``request`` URL)."""
        items: list[tuple[str, str]] = []
        if self.bbox is not None:
            w, s, e, n = self.bbox
            items += [("subset", f"lat({s:g}:{n:g})"), ("subset", f"lon({w:g}:{e:g})")]
        if self.time is not None:
            ends = [
                f'"{format_datetime(t)}"' if t else "*" for t in (self.time.start, self.time.end)
            ]
            items.append(("subset", f"time({ends[0]}:{ends[1]})"))
        items += [("variable", v) for v in self.variables or ("all",)]
        if self.granule_ids:
            items.append(("granuleId", ",".join(self.granule_ids)))
        for key, value in (
            ("maxResults", self.max_results),
            ("outputcrs", self.output_crs),
            ("format", self.format),
        ):
            if value is not None:
                items.append((key, str(value)))
        if self.skip_preview:
            items.append(("skipPreview", "true"))
        if not self.ignore_errors:
            items.append(("ignoreErrors", "false"))
        items += [("label", label) for label in self.labels]
        return items


def _boolean(name: str, values: list[str], default: bool) -> bool:
    if not values:
        return default
    text = values[-1].strip().lower()
    if text not in _BOOLEANS:
        raise InvalidInputError(f"{name} must be true or false, not {values[-1]!r}")
    return _BOOLEANS[text]


def _bound(text: str, dim: str, raw: str) -> Any:
    value = text.strip()
    if value in ("*", ""):
        return None
    if dim == "time":
        try:
            when = parse_instant(value.strip('"'))
        except InvalidInputError as exc:
            raise InvalidInputError(f"subset={raw}: {exc}") from None
        return when
    try:
        return float(value.strip('"'))
    except ValueError:
        raise InvalidInputError(f"subset={raw}: {value!r} is not a number") from None


def parse_subset(raw: str) -> tuple[str, Any, Any]:
    """``lat(40:41)`` -> ``("lat", 40.0, 41.0)``; times become aware datetimes, ``*`` None."""
    match = _SUBSET.match(raw)
    if not match:
        raise InvalidInputError(
            f"subset={raw!r} is not of the form dim(min:max), e.g. lat(40:41) or "
            'time("2020-01-01T00:00:00":"2020-02-01T00:00:00")'
        )
    name = match.group("dim").lower()
    dim = _DIM_ALIASES.get(name)
    if dim is None:
        raise InvalidInputError(
            f"subset={raw}: dimension {match.group('dim')!r} is not offered; use lat, lon or time"
        )
    body = _RANGE.match(match.group("body"))
    if body is None:
        raise InvalidInputError(f"subset={raw}: give a range min:max (* for an open end)")
    low, high = _bound(body.group(1), dim, raw), _bound(body.group(2), dim, raw)
    limit = {"lat": 90.0, "lon": 180.0}.get(dim)
    for value in (low, high):
        if limit is not None and value is not None and not -limit <= value <= limit:
            raise InvalidInputError(f"subset={raw}: {dim} must be within ±{limit:g}, not {value:g}")
    if dim in ("lat", "time") and low is not None and high is not None and low > high:
        what = "south is north of north" if dim == "lat" else "start is after end"
        raise InvalidInputError(f"subset={raw}: {what}")
    return dim, low, high


def _bbox(spans: Mapping[str, tuple[Any, Any]]) -> tuple[float, float, float, float] | None:
    if "lat" not in spans and "lon" not in spans:
        return None
    south, north = spans.get("lat", (None, None))
    west, east = spans.get("lon", (None, None))
    return (
        -180.0 if west is None else west,
        -90.0 if south is None else south,
        180.0 if east is None else east,
        90.0 if north is None else north,
    )


def _geojson_geometries(data: bytes) -> list[Any]:
    try:
        obj = json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InvalidInputError(f"shapefile is not valid GeoJSON: {exc}") from None
    try:
        if obj.get("type") == "FeatureCollection":
            return [shapely.geometry.shape(f["geometry"]) for f in obj.get("features", [])]
        if obj.get("type") == "Feature":
            return [shapely.geometry.shape(obj["geometry"])]
        return [shapely.geometry.shape(obj)]
    except (AttributeError, KeyError, TypeError, ValueError, shapely.errors.GEOSException) as exc:
        raise InvalidInputError(f"shapefile is not valid GeoJSON: {exc}") from None


def _zipped_shapefile_geometries(data: bytes) -> list[Any]:
    import io

    import geopandas

    try:
        frame = geopandas.read_file(io.BytesIO(data))
    except Exception as exc:  # pyogrio raises its own classes for unreadable data
        raise InvalidInputError(
            f"shapefile is not a readable zipped ESRI shapefile: {exc}"
        ) from None
    if frame.crs is not None:
        frame = frame.to_crs("EPSG:4326")
    return list(frame.geometry)


# Registry: media type of the shapefile part (harmony-py's, by file extension) -> reader.
SHAPE_READERS: dict[str, Any] = {
    "application/geo+json": _geojson_geometries,
    "application/json": _geojson_geometries,
    "application/shapefile+zip": _zipped_shapefile_geometries,
    "application/zip": _zipped_shapefile_geometries,
}


def parse_shape(data: bytes, media_type: str | None) -> dict[str, Any]:
    """A shapefile part (GeoJSON or zipped ESRI shapefile) -> one (Multi)Polygon geometry in
    lon/lat (features are unioned)."""
    kind = (media_type or "application/geo+json").split(";")[0].strip().lower()
    if kind == "application/octet-stream":
        kind = "application/zip" if data[:2] == b"PK" else "application/geo+json"
    reader = SHAPE_READERS.get(kind)
    if reader is None:
        raise InvalidInputError(
            f"shapefile of type {media_type} is not supported; send GeoJSON "
            "(application/geo+json) or a zipped shapefile (application/shapefile+zip)"
        )
    geometries = reader(data)
    if not geometries or any(g.geom_type not in ("Polygon", "MultiPolygon") for g in geometries):
        raise InvalidInputError("shapefile must hold Polygon or MultiPolygon features")
    union = shapely.union_all(geometries)
    if union.is_empty:
        raise InvalidInputError("shapefile holds an empty geometry")
    # Through JSON: GeoJSON parsers want lists where shapely's mapping gives tuples.
    return dict(json.loads(json.dumps(shapely.geometry.mapping(union))))


def parse_job_request(
    variables_segment: str,
    params: Iterable[tuple[str, str]],
    shape: dict[str, Any] | None = None,
) -> JobRequest:
    """Validate the ``{variables}`` path segment and the parameters of a rangeset request."""
    values: dict[str, list[str]] = {}
    for key, value in params:
        values.setdefault(key, []).append(value)
    spans: dict[str, tuple[Any, Any]] = {}
    for raw in values.get("subset", []):
        dim, low, high = parse_subset(raw)
        if dim in spans:
            raise InvalidInputError(f"subset: {dim} is given twice")
        spans[dim] = (low, high)
    time = spans.get("time")
    if time is not None and time == (None, None):
        time = None
    names: list[str] = []
    if variables_segment != "parameter_vars":
        names = [v for v in variables_segment.split(",") if v]
    else:
        for value in values.get("variable", []):
            names += [v.strip() for v in value.split(",") if v.strip()]
    chosen = None if not names or names == ["all"] else tuple(dict.fromkeys(names))
    if chosen is not None and "all" in chosen:
        raise InvalidInputError("variable: 'all' cannot be combined with variable names")
    granules = [g.strip() for v in values.get("granuleId", []) for g in v.split(",") if g.strip()]
    max_results = None
    if values.get("maxResults"):
        text = values["maxResults"][-1]
        if not text.strip().isdigit() or int(text) < 1:
            raise InvalidInputError(f"maxResults must be a positive integer, not {text!r}")
        max_results = int(text)
    fmt = values.get("format", [None])[-1]
    if fmt is not None:
        fmt = fmt.strip()
        if fmt not in FORMATS:
            raise InvalidInputError(
                f"format {fmt!r} is not offered; choose one of {', '.join(sorted(FORMATS))}"
            )
    if values.get("destinationUrl"):
        raise InvalidInputError(
            "destinationUrl is not supported: results stay in this server's results store"
        )
    _boolean("forceAsync", values.get("forceAsync", []), True)  # validated; jobs are always async
    return JobRequest(
        variables=chosen,
        bbox=_bbox(spans),
        time=Interval(time[0], time[1]) if time is not None else None,
        granule_ids=tuple(dict.fromkeys(granules)) or None,
        max_results=max_results,
        output_crs=(values.get("outputcrs") or values.get("crs") or [None])[-1],
        format=fmt,
        skip_preview=_boolean("skipPreview", values.get("skipPreview", []), False),
        ignore_errors=_boolean("ignoreErrors", values.get("ignoreErrors", []), True),
        labels=tuple(dict.fromkeys(v for v in values.get("label", []) for v in v.split(",") if v)),
        shape=shape,
    )


def utc_now() -> dt.datetime:
    """Now, timezone-aware UTC."""
    return dt.datetime.now(dt.UTC)
