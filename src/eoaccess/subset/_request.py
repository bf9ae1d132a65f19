"""What a subset asks for, parsed once at the boundary, and what it returns.

Both halves are frozen values: :class:`SubsetRequest` is built by :func:`make_request` from the
shapes users pass (``"W,S,E,N"``, GeoJSON, ``"2020-01-01/2020-02-01"``, ``"v,vx"``), and
:class:`SubsetResult` is the small record a subset returns — what the CLI prints and what the
Harmony-compatible service turns into job links.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pyproj
import shapely
import shapely.geometry

from eoaccess.errors import InvalidInputError
from eoaccess.query import (
    BBoxLike,
    DatetimeLike,
    GeometryLike,
    Interval,
    format_datetime,
    parse_bbox,
    parse_bbox_numbers,
    parse_datetime,
    parse_geometry,
)
from eoaccess.subset._grid import parse_variables

Bounds = tuple[float, float, float, float]


@dataclass(frozen=True)
class SubsetRequest:
    """A parsed subset request: where, when, what, and how to write it."""

    bbox: Bounds | None = None
    """West, south, east, north in ``bbox_crs`` (lon/lat when None; west > east crosses the
    antimeridian)."""
    bbox_crs: pyproj.CRS | None = None
    """CRS of ``bbox``; None means lon/lat of the data's body (WGS 84 on Earth)."""
    intersects: Any = None
    """A shapely geometry in lon/lat: cells or photons outside it are dropped or masked."""
    datetime: Interval | None = None
    """Closed UTC time range to keep."""
    variables: tuple[str, ...] | None = None
    """Variables to keep (None: all)."""
    crs: pyproj.CRS | None = None
    """Output CRS of a gridded subset (None: native, no resampling)."""
    resolution: tuple[float, float] | None = None
    """Output cell size (x, y) in units of ``crs`` (with reprojection)."""
    resampling: str = "nearest"
    """Resampling method for reprojection (rasterio's names)."""
    format: str | None = None
    """Output format name (None: from the output suffix, else the subsetter's default)."""

    def area_lonlat(self) -> Any:
        """The requested area as one shapely geometry in lon/lat, or None for everywhere."""
        area = None
        if self.bbox is not None:
            area = bbox_geometry(self.bbox, self.bbox_crs)
        if self.intersects is not None:
            area = self.intersects if area is None else shapely.intersection(area, self.intersects)
        return area

    def describe(self) -> str:
        """The request in one line, for history attributes and logs."""
        parts = []
        if self.bbox is not None:
            crs = f" ({self.bbox_crs.to_string()})" if self.bbox_crs is not None else ""
            parts.append(f"bbox={','.join(f'{v:g}' for v in self.bbox)}{crs}")
        if self.intersects is not None:
            parts.append(f"intersects={shapely.to_wkt(self.intersects, rounding_precision=6)}")
        if self.datetime is not None:
            parts.append(f"datetime={self.datetime.to_text()}")
        if self.variables is not None:
            parts.append(f"variables={','.join(self.variables)}")
        if self.crs is not None:
            parts.append(f"crs={self.crs.to_string()}")
        if self.resolution is not None:
            parts.append(f"resolution={self.resolution[0]:g},{self.resolution[1]:g}")
        return " ".join(parts) or "everything"


def bbox_geometry(bbox: Bounds, crs: pyproj.CRS | None) -> Any:
    """A bbox as a polygon; in lon/lat one crossing the antimeridian becomes two polygons,
    and a bbox in another CRS is densified and transformed to lon/lat."""
    west, south, east, north = bbox
    if crs is None:
        if west > east:
            return shapely.MultiPolygon(
                [shapely.box(west, south, 180.0, north), shapely.box(-180.0, south, east, north)]
            )
        return shapely.box(west, south, east, north)
    box = shapely.box(west, south, east, north)
    step = max(east - west, north - south) / 64 or 1.0
    ring = shapely.segmentize(box, step)
    tr = pyproj.Transformer.from_crs(crs, "EPSG:4326", always_xy=True)
    return shapely.transform(ring, lambda xy: _stack(tr.transform(xy[:, 0], xy[:, 1])))


def _stack(xy: tuple[Any, Any]) -> Any:
    return np.column_stack(xy)


def _parse_crs(value: Any, what: str) -> pyproj.CRS:
    try:
        return pyproj.CRS.from_user_input(value)
    except pyproj.exceptions.CRSError as exc:
        raise InvalidInputError(f"unknown {what} {value!r}: {exc}") from None


def _parse_resolution(value: Any) -> tuple[float, float]:
    parts = (
        [p for p in str(value).replace(" ", ",").split(",") if p]
        if isinstance(value, str | int | float)
        else list(value)
    )
    try:
        numbers = [float(p) for p in parts]
    except (TypeError, ValueError):
        raise InvalidInputError(f"resolution must be one or two numbers, not {value!r}") from None
    if len(numbers) not in (1, 2) or any(not n > 0 for n in numbers):
        raise InvalidInputError(f"resolution must be one or two positive numbers, not {value!r}")
    return (numbers[0], numbers[-1])


def make_request(
    *,
    bbox: BBoxLike | None = None,
    bbox_crs: Any = None,
    intersects: GeometryLike | None = None,
    datetime: DatetimeLike | None = None,
    variables: str | Sequence[str] | None = None,
    crs: Any = None,
    resolution: float | Sequence[float] | str | None = None,
    resampling: str = "nearest",
    format: str | None = None,
) -> SubsetRequest:
    """Validate and convert user input into a :class:`SubsetRequest` (InvalidInputError on bad
    values, naming them)."""
    parsed_crs = _parse_crs(bbox_crs, "bbox CRS") if bbox_crs is not None else None
    if parsed_crs is not None and parsed_crs.is_geographic and parsed_crs.equals("EPSG:4326"):
        parsed_crs = None
    if bbox is None:
        parsed_bbox = None
    elif parsed_crs is None:
        parsed_bbox = parse_bbox(bbox)
    else:
        parsed_bbox = parse_bbox_numbers(bbox)
    geometry = None
    if intersects is not None:
        geometry = shapely.geometry.shape(parse_geometry(intersects))
        if geometry.geom_type not in ("Polygon", "MultiPolygon"):
            raise InvalidInputError(
                f"intersects must be a Polygon or MultiPolygon to cut data by, not {geometry.geom_type}"
            )
    out_crs = _parse_crs(crs, "output CRS") if crs is not None else None
    res = _parse_resolution(resolution) if resolution is not None else None
    if res is not None and out_crs is None:
        raise InvalidInputError("resolution needs an output crs (give crs= too)")
    return SubsetRequest(
        bbox=parsed_bbox,
        bbox_crs=parsed_crs,
        intersects=geometry,
        datetime=parse_datetime(datetime) if datetime is not None else None,
        variables=parse_variables(variables),
        crs=out_crs,
        resolution=res,
        resampling=resampling,
        format=format.lower() if format else None,
    )


@dataclass(frozen=True)
class SubsetResult:
    """What one subset wrote: the record a job's result link is made from."""

    path: Path
    """The output file (or Zarr directory)."""
    bytes: int
    """Its size on disk."""
    kind: str
    """``gridded`` or ``trajectory``."""
    format: str
    """Output format name (``netcdf``, ``zarr``, ``geotiff``, ``hdf5``)."""
    counts: Mapping[str, int] = field(default_factory=dict)
    """What was kept: ``cells``/``time_steps`` or ``photons``/``segments``/``beams``."""
    bbox: Bounds | None = None
    """Lon/lat bounds of the kept data (None if nothing was kept)."""
    start: dt.datetime | None = None
    """First time of the kept data."""
    end: dt.datetime | None = None
    """Last time of the kept data."""
    variables: tuple[str, ...] = ()
    """Variables written."""
    source: str = ""
    """The input href."""
    requests: int | None = None
    """Reads (HTTP/S3 requests, or local read calls) the subset made of the input."""
    bytes_read: int | None = None
    """Bytes it read from the input."""

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (paths and times as text)."""
        return {
            "path": str(self.path),
            "bytes": self.bytes,
            "kind": self.kind,
            "format": self.format,
            "counts": dict(self.counts),
            "bbox": list(self.bbox) if self.bbox is not None else None,
            "start": format_datetime(self.start) if self.start else None,
            "end": format_datetime(self.end) if self.end else None,
            "variables": list(self.variables),
            "source": self.source,
            "requests": self.requests,
            "bytes_read": self.bytes_read,
        }

    def summary(self) -> str:
        """One line for people: what was kept and where it went."""
        kept = ", ".join(f"{v:,} {k.replace('_', ' ')}" for k, v in self.counts.items())
        when = (
            f" {format_datetime(self.start)}..{format_datetime(self.end)}"
            if self.start and self.end
            else ""
        )
        return f"{self.path} ({self.format}, {self.bytes:,} bytes): {kept}{when}"


def replace_io(result: SubsetResult, requests: int, bytes_read: int) -> SubsetResult:
    """``result`` with the input reads filled in."""
    return replace(result, requests=requests, bytes_read=bytes_read)
