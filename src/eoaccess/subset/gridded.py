"""Subsets of gridded data (Zarr cubes, NetCDF/HDF5 grids, GeoTIFFs): window, time, variables.

The request's area is densified and transformed into the grid's native CRS, and its bounds
give the index window — so only the chunks (or GeoTIFF blocks) under the window are read from
the lazily opened source. A polygon (``intersects``) additionally masks the cells whose centres
fall outside it (to NaN, written back as the variable's fill value). Time steps are picked by
value (ITS_LIVE's ``mid_date`` is not sorted) and written in time order. Reprojection, when
asked for, runs on the cut window with rioxarray.
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import replace
from pathlib import Path
from typing import Any, NoReturn

import numpy as np
import pyproj
import shapely
import xarray as xr

from eoaccess.errors import InvalidInputError
from eoaccess.subset._grid import (
    Grid,
    check_variables,
    format_bounds,
    grid_of,
    spatial_variables,
    time_values,
    transform_bounds,
)
from eoaccess.subset._outputs import OutputFormat, format_for_suffix, get_format
from eoaccess.subset._request import SubsetRequest, SubsetResult, bbox_geometry
from eoaccess.subset._source import basename, grid_io, href_text, open_grid_dataset

DEFAULT_FORMAT = "netcdf"


def _transform_geometry(geometry: Any, src: pyproj.CRS, dst: pyproj.CRS) -> Any:
    """``geometry`` densified (64 steps along its larger side) and transformed to ``dst``."""
    minx, miny, maxx, maxy = geometry.bounds
    step = max(maxx - minx, maxy - miny) / 64 or 1.0
    dense = shapely.segmentize(geometry, step)
    tr = pyproj.Transformer.from_crs(src, dst, always_xy=True)

    def apply(xy: np.ndarray) -> np.ndarray:
        tx, ty = tr.transform(xy[:, 0], xy[:, 1])
        return np.column_stack([tx, ty])

    out = shapely.transform(dense, apply)
    coords = shapely.get_coordinates(out)
    if not np.isfinite(coords).all():
        return None
    return out


def native_area(request: SubsetRequest, grid: Grid) -> tuple[Any, Any]:
    """The requested bbox and polygon in the grid's CRS (each None when not given).

    The bbox goes straight from its own CRS to the native one (no detour through lon/lat).
    """
    box = None
    if request.bbox is not None:
        src = request.bbox_crs or grid.lonlat_crs
        shape = (
            bbox_geometry(request.bbox, None)  # lon/lat: split at the antimeridian
            if request.bbox_crs is None
            else shapely.box(*request.bbox)
        )
        box = _transform_geometry(shape, src, grid.crs)
        if box is None:
            _no_overlap("bbox", request.bbox, grid)
    polygon = None
    if request.intersects is not None:
        polygon = _transform_geometry(request.intersects, grid.lonlat_crs, grid.crs)
        if polygon is None:
            _no_overlap("polygon", request.intersects.bounds, grid)
    return box, polygon


def _no_overlap(what: str, bounds: Any, grid: Grid) -> NoReturn:
    raise InvalidInputError(
        f"the {what} {format_bounds(bounds)} does not intersect the data "
        f"(extent {format_bounds(grid.extent_lonlat())})"
    )


def spatial_window(request: SubsetRequest, grid: Grid) -> tuple[slice, slice, Any]:
    """Index window (x, y) of the request and the native polygon to mask with (or None)."""
    box, polygon = native_area(request, grid)
    extent = shapely.box(*grid.extent)
    area = extent
    for part, what, given in (
        (box, "bbox", request.bbox),
        (polygon, "polygon", request.intersects.bounds if polygon is not None else None),
    ):
        if part is None:
            continue
        if not part.intersects(extent):
            _no_overlap(what, given, grid)
        area = area.intersection(part)
    if area.is_empty:
        _no_overlap("area", request.area_lonlat().bounds, grid)
    window = grid.window(area.bounds)
    if window is None:
        _no_overlap("area", request.area_lonlat().bounds, grid)
    return window[0], window[1], polygon


def time_selection(ds: xr.Dataset, grid: Grid, request: SubsetRequest) -> np.ndarray | None:
    """Indices of the time steps inside the request, in time order (None: no time axis)."""
    times = time_values(ds, grid)
    if times is None:
        if request.datetime is not None:
            raise InvalidInputError(
                "the data has no time axis to select from: drop the datetime from the request"
            )
        return None
    keep = np.ones(times.size, dtype=bool)
    if request.datetime is not None:
        start, end = request.datetime.start, request.datetime.end
        if start is not None:
            keep &= times >= np.datetime64(start.replace(tzinfo=None), "ns")
        if end is not None:
            keep &= times <= np.datetime64(end.replace(tzinfo=None), "ns")
    index = np.flatnonzero(keep)
    if index.size == 0:
        valid = times[~np.isnat(times)]
        span = (
            f"{np.datetime_as_string(valid.min(), 's')}Z/{np.datetime_as_string(valid.max(), 's')}Z"
            if valid.size
            else "empty"
        )
        assert request.datetime is not None
        raise InvalidInputError(
            f"the datetime {request.datetime.to_text()} does not intersect the data "
            f"(time range {span})"
        )
    return index[np.argsort(times[index], kind="stable")]


def _grid_mapping_names(ds: xr.Dataset, names: tuple[str, ...]) -> list[str]:
    found = []
    for name in names:
        var = ds[name]
        gm = var.attrs.get("grid_mapping") or var.encoding.get("grid_mapping")
        if gm and gm in ds.variables and gm not in found:
            found.append(str(gm))
    return found


def _mask_outside(sub: xr.Dataset, grid: Grid, polygon: Any) -> int:
    """Set cells whose centre lies outside ``polygon`` to NaN/fill; return cells inside."""
    xs = np.asarray(sub[grid.x_dim].values, dtype=np.float64)
    ys = np.asarray(sub[grid.y_dim].values, dtype=np.float64)
    shapely.prepare(polygon)
    xx, yy = np.meshgrid(xs, ys)
    inside = shapely.contains_xy(polygon, xx, yy)
    mask = xr.DataArray(inside, dims=(grid.y_dim, grid.x_dim))
    for name in spatial_variables(sub, grid):
        da = sub[name]
        encoding = dict(da.encoding)
        if da.dtype.kind in "iub":
            fill = encoding.get("_FillValue", encoding.get("missing_value"))
            masked = da.where(mask, other=fill) if fill is not None else da.where(mask)
        else:
            masked = da.where(mask)
        masked.attrs = da.attrs
        masked.encoding = encoding
        sub[name] = masked
    return int(inside.sum())


def _reproject(sub: xr.Dataset, grid: Grid, request: SubsetRequest) -> tuple[xr.Dataset, Grid]:
    """Resample the grid variables into ``request.crs`` (rioxarray/GDAL warp)."""
    import rioxarray  # noqa: F401 - registers the .rio accessor
    from rasterio.enums import Resampling

    try:
        method = Resampling[request.resampling]
    except KeyError:
        names = ", ".join(m.name for m in Resampling if m.value < 20)
        raise InvalidInputError(
            f"unknown resampling {request.resampling!r}; choose from {names}"
        ) from None
    assert request.crs is not None
    spatial = spatial_variables(sub, grid)
    gms = _grid_mapping_names(sub, tuple(spatial))
    warped: dict[str, xr.DataArray] = {}
    for name in spatial:
        da = sub[name].reset_coords(drop=True)
        da = da.rio.set_spatial_dims(x_dim=grid.x_dim, y_dim=grid.y_dim).rio.write_crs(grid.crs)
        encoding = dict(sub[name].encoding)
        if da.dtype.kind == "f":
            da = da.rio.write_nodata(np.nan)
        out = da.rio.reproject(
            request.crs.to_wkt(), resolution=request.resolution, resampling=method
        )
        mapping = out.rio.grid_mapping  # the coordinate rioxarray wrote the new CRS to
        out.attrs = {k: v for k, v in sub[name].attrs.items() if k != "grid_mapping"}
        out.encoding = {**encoding, "grid_mapping": mapping}
        warped[name] = out
    rest = sub.drop_vars([*spatial, *gms, grid.x_dim, grid.y_dim], errors="ignore")
    rest = rest.drop_dims([d for d in (grid.x_dim, grid.y_dim) if d in rest.dims])
    merged = xr.merge([rest, xr.Dataset(warped)], combine_attrs="override", compat="override")
    merged.attrs = sub.attrs
    first = next(iter(warped.values()))
    x_dim, y_dim = first.rio.x_dim, first.rio.y_dim
    new_grid = Grid(
        x_dim,
        y_dim,
        grid.time_dim,
        np.asarray(merged[x_dim].values, dtype=np.float64),
        np.asarray(merged[y_dim].values, dtype=np.float64),
        request.crs,
    )
    return merged, new_grid


def resolve_output(output: Path, base: str, request: SubsetRequest) -> tuple[Path, OutputFormat]:
    """The output path and format: ``output`` itself when its suffix names a format (or a
    format is given), else ``output/<base>_subsetted<suffix>``."""
    by_suffix = format_for_suffix(output)
    fmt = get_format(request.format) if request.format else by_suffix or get_format(DEFAULT_FORMAT)
    if by_suffix is not None:
        return output, fmt
    return output / f"{base}_subsetted{fmt.suffixes[0]}", fmt


def _as_utc(value: np.datetime64) -> dt.datetime:
    seconds = value.astype("datetime64[us]").astype(np.int64) / 1e6
    return dt.datetime.fromtimestamp(seconds, tz=dt.UTC)


def subset_gridded(
    href: str | os.PathLike[str], request: SubsetRequest, output: str | os.PathLike[str]
) -> SubsetResult:
    """Cut a gridded dataset to ``request`` and write it to ``output`` (file or directory)."""
    text = href_text(href)
    path, fmt = resolve_output(Path(output), basename(text), request)
    ds = open_grid_dataset(href)
    grid = grid_of(ds, what=text)
    names = request.variables or tuple(str(n) for n in ds.data_vars)
    check_variables(ds, names, what=text)

    xs, ys, polygon = (
        spatial_window(request, grid)
        if request.bbox is not None or request.intersects is not None
        else (slice(None), slice(None), None)
    )
    times = time_selection(ds, grid, request)
    keep = [*names, *(g for g in _grid_mapping_names(ds, names) if g not in names)]
    sub = ds[keep]
    index: dict[str, Any] = {grid.x_dim: xs, grid.y_dim: ys}
    if times is not None and grid.time_dim in sub.dims:
        index[str(grid.time_dim)] = times
    sub = sub.isel({k: v for k, v in index.items() if k in sub.dims})
    # Read the window now: only the chunks under it are fetched, once.
    sub = sub.load()
    io = grid_io(ds)
    ds.close()

    counts: dict[str, int] = {
        "cells": int(sub.sizes.get(grid.x_dim, 0) * sub.sizes.get(grid.y_dim, 0))
    }
    if times is not None:
        counts["time_steps"] = int(times.size)
    if polygon is not None:
        counts["cells_inside"] = _mask_outside(sub, grid, polygon)
    out_grid = replace(
        grid,
        x=np.asarray(sub[grid.x_dim].values, dtype=np.float64),
        y=np.asarray(sub[grid.y_dim].values, dtype=np.float64),
    )
    if request.crs is not None:
        sub, out_grid = _reproject(sub, grid, request)
        counts["cells"] = int(out_grid.x.size * out_grid.y.size)
    sub.attrs = {**ds.attrs, "history": _history(ds.attrs.get("history"), text, request)}
    fmt.write(sub, path, out_grid)

    bbox = transform_bounds(out_grid.extent, out_grid.crs, out_grid.lonlat_crs)
    kept_times = time_values(sub, out_grid) if times is not None else None
    start = end = None
    if kept_times is not None and kept_times.size:
        start, end = _as_utc(kept_times.min()), _as_utc(kept_times.max())
    return SubsetResult(
        path=path,
        bytes=_size(path),
        kind="gridded",
        format=fmt.name,
        counts=counts,
        bbox=bbox,
        start=start,
        end=end,
        variables=tuple(names),
        source=text,
        requests=io.requests if io else None,
        bytes_read=io.bytes_read if io else None,
    )


def _history(previous: Any, href: str, request: SubsetRequest) -> str:
    from eoaccess import __version__

    stamp = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    line = f"{stamp} eoaccess {__version__} subset of {href}: {request.describe()}"
    return f"{previous}\n{line}" if previous else line


def _size(path: Path) -> int:
    if path.is_dir():
        return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
    return path.stat().st_size
