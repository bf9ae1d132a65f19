"""Zarr datacubes (v2 with consolidated metadata, or v3): CRS, x/y extent and time range.

The CRS comes from the CF grid mapping (``grid_mapping`` attribute of a data variable naming a
variable with ``crs_wkt``/``spatial_ref`` or CF projection parameters), else from a global
``projection`` attribute, else lon/lat coordinates mean WGS 84. The extent is the x/y cell
centres widened by half a cell; the time range is the min/max of the time coordinate (``time``,
``mid_date`` or any coordinate with CF ``units = "<unit> since <date>"``). Only metadata and
coordinate arrays are read, never the data.

:func:`read_cube` is shared with :mod:`eoaccess.ingest.footprints`, whose catalogs list cubes.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np

from eoaccess.ingest import _stac
from eoaccess.ingest._collections import collection_info, slug
from eoaccess.ingest._geometry import footprint_from_bounds, parse_crs
from eoaccess.ingest._registry import ArchiveView, BuildContext, Candidate, Claim
from eoaccess.query import format_datetime

XARRAY = "https://stac-extensions.github.io/xarray-assets/v1.0.0/schema.json"
_MARKERS = (".zmetadata", ".zgroup", "zarr.json")
_CF_TIME = re.compile(r"^\s*(\w+)\s+since\s+(.+?)\s*$")
_UNIT_SECONDS = {
    "days": 86400.0,
    "day": 86400.0,
    "d": 86400.0,
    "hours": 3600.0,
    "hour": 3600.0,
    "h": 3600.0,
    "minutes": 60.0,
    "minute": 60.0,
    "seconds": 1.0,
    "second": 1.0,
    "s": 1.0,
    "milliseconds": 1e-3,
    "microseconds": 1e-6,
}
_X_NAMES = ("x", "projection_x_coordinate", "lon", "longitude")
_Y_NAMES = ("y", "projection_y_coordinate", "lat", "latitude")
_T_NAMES = ("time", "mid_date", "t", "date")


def zarr_roots(view: ArchiveView) -> list[str]:
    """Top-level Zarr store directories among the unclaimed files (nested nodes excluded)."""
    dirs = sorted(
        {
            posixpath.dirname(e.path)
            for e in view.unclaimed
            if posixpath.basename(e.path) in _MARKERS and "/" in e.path
        }
    )
    roots: list[str] = []
    for d in dirs:
        if not any(d.startswith(r + "/") for r in roots):
            roots.append(d)
    return roots


@dataclass(frozen=True)
class CubeInfo:
    """What a Zarr cube's metadata and coordinates say."""

    crs: Any
    """pyproj CRS of x/y."""
    bounds: tuple[float, float, float, float]
    """Outer edges (minx, miny, maxx, maxy) in the CRS."""
    shape: tuple[int, int]
    """Cells along y and x."""
    transform: tuple[float, float, float, float, float, float]
    """Affine a, b, c, d, e, f of the cell grid."""
    start: datetime | None
    """Earliest time coordinate value."""
    end: datetime | None
    """Latest time coordinate value."""
    dimensions: dict[str, Any]
    """``cube:dimensions``."""
    variables: dict[str, Any]
    """``cube:variables``."""
    attrs: Mapping[str, Any]
    """Global attributes."""
    zarr_format: int
    """2 or 3."""
    consolidated: bool
    """Whether consolidated metadata was found."""


def read_cube(store: Any) -> CubeInfo:
    """Read the CRS, extents and time range of the Zarr group in ``store``."""
    import zarr

    group = zarr.open_group(store=store, mode="r")
    consolidated = group.metadata.consolidated_metadata is not None
    arrays = dict(group.arrays())
    attrs = dict(group.attrs)
    x_name = _find(arrays, _X_NAMES, "projection_x_coordinate")
    y_name = _find(arrays, _Y_NAMES, "projection_y_coordinate")
    if x_name is None or y_name is None:
        raise ValueError("no x/y coordinates")
    x = np.asarray(arrays[x_name][...], float)
    y = np.asarray(arrays[y_name][...], float)
    if x.ndim != 1 or y.ndim != 1 or x.size == 0 or y.size == 0:
        raise ValueError("x/y coordinates must be non-empty 1-D arrays")
    crs = _crs(arrays, attrs, x_name)
    dx = float(x[1] - x[0]) if x.size > 1 else 1.0
    dy = float(y[1] - y[0]) if y.size > 1 else -1.0
    bounds = (
        float(x.min()) - abs(dx) / 2,
        float(y.min()) - abs(dy) / 2,
        float(x.max()) + abs(dx) / 2,
        float(y.max()) + abs(dy) / 2,
    )
    transform = (dx, 0.0, float(x[0]) - dx / 2, 0.0, dy, float(y[0]) - dy / 2)
    t_name = _time_name(arrays)
    start = end = None
    if t_name is not None:
        start, end = _time_range(arrays[t_name])
    dimensions: dict[str, Any] = {
        x_name: {
            "type": "spatial",
            "axis": "x",
            "extent": [bounds[0], bounds[2]],
            "step": dx,
            "reference_system": _reference(crs),
        },
        y_name: {
            "type": "spatial",
            "axis": "y",
            "extent": [bounds[1], bounds[3]],
            "step": dy,
            "reference_system": _reference(crs),
        },
    }
    if t_name is not None and start is not None and end is not None:
        dimensions[t_name] = {
            "type": "temporal",
            "extent": [format_datetime(start), format_datetime(end)],
        }
    coords = {x_name, y_name, t_name}
    variables: dict[str, Any] = {}
    for name, array in sorted(arrays.items()):
        if name in coords:
            continue
        dims = _dims(array)
        if not dims:
            continue
        variable: dict[str, Any] = {
            "dimensions": list(dims),
            "type": "data" if {x_name, y_name} <= set(dims) else "auxiliary",
        }
        units = array.attrs.get("units")
        if isinstance(units, str) and units:
            variable["unit"] = units
        description = array.attrs.get("description") or array.attrs.get("long_name")
        if isinstance(description, str) and description:
            variable["description"] = description
        variables[name] = variable
    return CubeInfo(
        crs,
        bounds,
        (int(y.size), int(x.size)),
        transform,
        start,
        end,
        dimensions,
        variables,
        attrs,
        int(group.metadata.zarr_format),
        consolidated,
    )


def _find(arrays: Mapping[str, Any], names: tuple[str, ...], standard: str) -> str | None:
    for name in names:
        if name in arrays:
            return name
    for name, array in arrays.items():
        if array.attrs.get("standard_name") == standard:
            return name
    return None


def _dims(array: Any) -> tuple[str, ...]:
    names = getattr(array.metadata, "dimension_names", None)
    if names:
        return tuple(str(n) for n in names)
    return tuple(array.attrs.get("_ARRAY_DIMENSIONS") or ())


def _crs(arrays: Mapping[str, Any], attrs: Mapping[str, Any], x_name: str) -> Any:
    from pyproj import CRS

    for array in arrays.values():
        mapping = array.attrs.get("grid_mapping")
        if isinstance(mapping, str) and mapping in arrays:
            cf = dict(arrays[mapping].attrs)
            for key in ("crs_wkt", "spatial_ref"):
                if isinstance(cf.get(key), str):
                    return parse_crs(cf[key])
            if isinstance(cf.get("spatial_epsg"), int):
                return parse_crs(cf["spatial_epsg"])
            return CRS.from_cf(cf)
    for key in ("projection", "crs", "spatial_ref"):
        if isinstance(attrs.get(key), str | int):
            return parse_crs(attrs[key])
    if x_name in ("lon", "longitude"):
        return CRS.from_epsg(4326)
    raise ValueError("no CRS: no grid_mapping variable or projection attribute")


def _reference(crs: Any) -> Any:
    epsg = crs.to_epsg(min_confidence=100)
    return epsg if epsg is not None else crs.to_json_dict()


def _time_name(arrays: Mapping[str, Any]) -> str | None:
    for name in _T_NAMES:
        if name in arrays and _dims(arrays[name]) == (name,):
            return name
    for name, array in arrays.items():
        units = array.attrs.get("units")
        if _dims(array) == (name,) and isinstance(units, str) and _CF_TIME.match(units):
            return name
    return None


def _time_range(array: Any) -> tuple[datetime | None, datetime | None]:
    """Min and max of a CF time coordinate (``<unit> since <date>``), fill values ignored."""
    units = array.attrs.get("units")
    match = _CF_TIME.match(units) if isinstance(units, str) else None
    if match is None or match.group(1).lower() not in _UNIT_SECONDS:
        raise ValueError(f"time coordinate has no CF units: {units!r}")
    scale = _UNIT_SECONDS[match.group(1).lower()]
    origin = datetime.fromisoformat(match.group(2).strip().replace(" ", "T").rstrip("Z"))
    origin = origin.replace(tzinfo=UTC) if origin.tzinfo is None else origin.astimezone(UTC)
    values = np.asarray(array[...], float).ravel()
    fill = array.attrs.get("_FillValue")
    if isinstance(fill, int | float):
        values = values[values != fill]
    values = values[np.isfinite(values)]
    if values.size == 0:
        return None, None
    return (
        origin + timedelta(seconds=float(values.min()) * scale),
        origin + timedelta(seconds=float(values.max()) * scale),
    )


def cube_properties(cube: CubeInfo) -> dict[str, Any]:
    """Item properties of a cube: time range, projection, datacube dimensions and variables."""
    minx, miny, maxx, maxy = cube.bounds
    properties: dict[str, Any] = {"datetime": None}
    if cube.start is not None and cube.end is not None:
        if cube.start == cube.end:
            properties["datetime"] = format_datetime(cube.start)
        else:
            properties["start_datetime"] = format_datetime(cube.start)
            properties["end_datetime"] = format_datetime(cube.end)
    title = cube.attrs.get("title")
    if isinstance(title, str) and title:
        properties["title"] = title
    properties.update(_stac.projection_fields(cube.crs))
    properties["proj:shape"] = list(cube.shape)
    properties["proj:transform"] = list(cube.transform)
    properties["proj:bbox"] = [minx, miny, maxx, maxy]
    properties["cube:dimensions"] = cube.dimensions
    properties["cube:variables"] = cube.variables
    return properties


def cube_asset(ctx: BuildContext, path: str, cube: CubeInfo) -> dict[str, Any]:
    """The asset of a Zarr store: its directory, media type, size and how xarray opens it."""
    return {
        "href": path,
        "type": _stac.ZARR,
        "roles": ["data"],
        "file:size": ctx.dir_size(path),
        "xarray:open_kwargs": {"engine": "zarr", "consolidated": cube.consolidated},
    }


CUBE_EXTENSIONS = (_stac.PROJECTION, _stac.DATACUBE, _stac.FILE, XARRAY)


class ZarrRecogniser:
    """Items from Zarr stores not listed by a footprint catalog (see the module docstring)."""

    name = "zarr"
    version = 1

    def recognise(self, view: ArchiveView) -> Iterator[Claim]:
        for root in zarr_roots(view):
            files = frozenset(e.path for e in view.under(root))
            item_id = re.sub(r"\.zarr$", "", posixpath.basename(root))
            top = root.split("/", 1)[0] if "/" in root else "zarr"
            info = collection_info(slug(top))

            def build(
                ctx: BuildContext, root: str = root, item_id: str = item_id
            ) -> dict[str, Any]:
                cube = read_cube(ctx.zarr_store(root))
                footprint = footprint_from_bounds(cube.bounds, cube.crs)
                return _stac.new_item(
                    item_id,
                    footprint.geometry,
                    footprint.bbox,
                    cube_properties(cube),
                    {"data": cube_asset(ctx, root, cube)},
                    CUBE_EXTENSIONS,
                )

            yield Claim(files, (Candidate(info, item_id, (root + "/",), build),))


RECOGNISER = ZarrRecogniser()
