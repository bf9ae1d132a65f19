"""The geometry of a gridded dataset: spatial and time dimensions, CRS, cell edges and extent.

Time series and gridded subsets both need the same facts about a lazily opened cube: which
dimensions are x, y and time, the CRS from its grid mapping, and the transform between lon/lat
and the native grid. They are computed once here from coordinates only, so nothing but the
(small) coordinate arrays is read.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np
import pyproj
import xarray as xr

from eoaccess.errors import InvalidInputError

_X_NAMES = ("x", "lon", "longitude", "easting")
_Y_NAMES = ("y", "lat", "latitude", "northing")
_TIME_NAMES = ("time", "mid_date", "t", "date", "datetime")
LONLAT = pyproj.CRS.from_epsg(4326)


@dataclass(frozen=True)
class Grid:
    """A regular (or at least monotonic) grid of cell centres in a known CRS."""

    x_dim: str
    """Name of the x (easting/longitude) dimension."""
    y_dim: str
    """Name of the y (northing/latitude) dimension."""
    time_dim: str | None
    """Name of the time dimension, or None for a single 2-D field."""
    x: np.ndarray
    """Cell-centre x coordinates, in the dataset's order."""
    y: np.ndarray
    """Cell-centre y coordinates, in the dataset's order (often descending)."""
    crs: pyproj.CRS
    """Native CRS, from the grid mapping."""

    @property
    def res_x(self) -> float:
        """Cell width (positive), from the coordinate spacing."""
        return _spacing(self.x)

    @property
    def res_y(self) -> float:
        """Cell height (positive), from the coordinate spacing."""
        return _spacing(self.y)

    @property
    def extent(self) -> tuple[float, float, float, float]:
        """Native bounds of the cell edges (minx, miny, maxx, maxy)."""
        return (
            float(self.x.min()) - self.res_x / 2,
            float(self.y.min()) - self.res_y / 2,
            float(self.x.max()) + self.res_x / 2,
            float(self.y.max()) + self.res_y / 2,
        )

    @cached_property
    def lonlat_crs(self) -> pyproj.CRS:
        """The lon/lat CRS requests are read in: WGS 84 for Earth data (the STAC convention),
        the body's own geographic CRS elsewhere (a point on the Moon is in lunar lon/lat)."""
        ellipsoid = self.crs.ellipsoid
        if ellipsoid is None or 6.3e6 < ellipsoid.semi_major_metre < 6.4e6:
            return LONLAT
        return self.crs if self.crs.is_geographic else self.crs.geodetic_crs or LONLAT

    @cached_property
    def geod(self) -> pyproj.Geod:
        """The ellipsoid of the data's body, for distances in metres."""
        return self.lonlat_crs.get_geod() or LONLAT.get_geod()  # type: ignore[return-value]

    @cached_property
    def from_lonlat(self) -> pyproj.Transformer:
        """Lon/lat to native coordinates, x/y order."""
        return pyproj.Transformer.from_crs(self.lonlat_crs, self.crs, always_xy=True)

    @cached_property
    def to_lonlat(self) -> pyproj.Transformer:
        """Native coordinates to lon/lat, x/y order."""
        return pyproj.Transformer.from_crs(self.crs, self.lonlat_crs, always_xy=True)

    def extent_lonlat(self) -> tuple[float, float, float, float]:
        """The extent as a lon/lat box (densified edges, so curved edges are covered)."""
        return transform_bounds(self.extent, self.crs, self.lonlat_crs)

    def window(self, bounds: tuple[float, float, float, float]) -> tuple[slice, slice] | None:
        """Index slices (x, y) of the cells whose area meets the native ``bounds``, or None."""
        minx, miny, maxx, maxy = bounds
        hx, hy = self.res_x / 2, self.res_y / 2
        xs = np.flatnonzero((self.x + hx > minx) & (self.x - hx < maxx))
        ys = np.flatnonzero((self.y + hy > miny) & (self.y - hy < maxy))
        if xs.size == 0 or ys.size == 0:
            return None
        return slice(int(xs[0]), int(xs[-1]) + 1), slice(int(ys[0]), int(ys[-1]) + 1)

    def nearest(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Indices of the nearest cell centres to native points, and whether each point lies
        inside the grid (within half a cell of the outer centres)."""
        ix = _nearest_index(self.x, x)
        iy = _nearest_index(self.y, y)
        minx, miny, maxx, maxy = self.extent
        inside = (x >= minx) & (x <= maxx) & (y >= miny) & (y <= maxy)
        return ix, iy, inside


def _spacing(values: np.ndarray) -> float:
    if values.size < 2:
        raise InvalidInputError("the grid has a single cell along one axis: its size is unknown")
    return float(np.abs(np.median(np.diff(values.astype(np.float64)))))


def _nearest_index(coords: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Index of the nearest coordinate for each value (coordinates monotonic either way)."""
    c = coords.astype(np.float64)
    order = np.argsort(c)
    s = c[order]
    pos = np.clip(np.searchsorted(s, values), 1, s.size - 1)
    left = s[pos - 1]
    right = s[pos]
    pick = np.where(np.abs(values - left) <= np.abs(right - values), pos - 1, pos)
    return order[pick]


def transform_bounds(
    bounds: tuple[float, float, float, float],
    src: pyproj.CRS,
    dst: pyproj.CRS,
    densify: int = 64,
) -> tuple[float, float, float, float]:
    """Bounds of a box after transforming its densified outline (edges bend under projection)."""
    import shapely

    minx, miny, maxx, maxy = bounds
    box = shapely.box(minx, miny, maxx, maxy)
    step = max(maxx - minx, maxy - miny) / densify or 1.0
    ring = np.asarray(shapely.segmentize(box, step).exterior.coords)
    tr = pyproj.Transformer.from_crs(src, dst, always_xy=True)
    tx, ty = tr.transform(ring[:, 0], ring[:, 1])
    ok = np.isfinite(tx) & np.isfinite(ty)
    if not ok.any():
        raise InvalidInputError(f"the box {_fmt(bounds)} cannot be expressed in {dst.name}")
    return float(tx[ok].min()), float(ty[ok].min()), float(tx[ok].max()), float(ty[ok].max())


def _fmt(bounds: Iterable[float]) -> str:
    return ",".join(f"{v:.6g}" for v in bounds)


def format_bounds(bounds: Iterable[float]) -> str:
    """A bbox as ``w,s,e,n`` with 6 significant digits, for messages."""
    return _fmt(bounds)


def _find_dim(ds: xr.Dataset, names: Sequence[str], axis: str) -> str | None:
    for dim in ds.dims:
        if str(dim).lower() in names:
            return str(dim)
    for coord in ds.coords.values():
        if coord.attrs.get("axis", "").upper() == axis and coord.ndim == 1:
            return str(coord.dims[0])
    return None


def _time_dim(ds: xr.Dataset, spatial: tuple[str, str]) -> str | None:
    for dim in ds.dims:
        if dim in spatial or dim not in ds.coords:
            continue
        if np.issubdtype(ds[dim].dtype, np.datetime64):
            return str(dim)
    for dim in ds.dims:
        if str(dim).lower() in _TIME_NAMES:
            return str(dim)
    return None


def crs_of(ds: xr.Dataset) -> pyproj.CRS | None:
    """The dataset's CRS: what the reader attached (rioxarray), else a CF grid mapping."""
    try:
        crs = ds.rio.crs
    except Exception:  # rioxarray raises on conflicting or odd grid mappings
        crs = None
    if crs is not None:
        return pyproj.CRS.from_user_input(crs.to_wkt())
    for var in ds.variables.values():
        name = var.attrs.get("grid_mapping") or var.encoding.get("grid_mapping")
        if name and name in ds.variables:
            attrs = ds[name].attrs
            for key in ("crs_wkt", "spatial_ref"):
                if attrs.get(key):
                    return pyproj.CRS.from_user_input(attrs[key])
            try:
                return pyproj.CRS.from_cf(attrs)
            except pyproj.exceptions.CRSError:
                continue
    return None


def grid_of(ds: xr.Dataset, *, what: str = "the data") -> Grid:
    """The grid of a lazily opened dataset; a clear error if it is not a georeferenced grid."""
    x_dim = _find_dim(ds, _X_NAMES, "X")
    y_dim = _find_dim(ds, _Y_NAMES, "Y")
    if x_dim is None or y_dim is None or x_dim not in ds.coords or y_dim not in ds.coords:
        raise InvalidInputError(
            f"{what} is not a georeferenced grid: no x/y (or lon/lat) coordinates "
            f"among its dimensions {', '.join(map(str, ds.dims)) or '(none)'}"
        )
    crs = crs_of(ds)
    if crs is None:
        if x_dim.lower().startswith("lon") and y_dim.lower().startswith("lat"):
            crs = LONLAT
        else:
            raise InvalidInputError(
                f"{what} has no CRS: no grid mapping (crs_wkt/spatial_ref) on its variables"
            )
    x = np.asarray(ds[x_dim].values, dtype=np.float64)
    y = np.asarray(ds[y_dim].values, dtype=np.float64)
    return Grid(x_dim, y_dim, _time_dim(ds, (x_dim, y_dim)), x, y, crs)


def spatial_variables(ds: xr.Dataset, grid: Grid) -> list[str]:
    """Data variables laid out on the grid (both spatial dimensions), in dataset order."""
    return [
        str(name)
        for name, var in ds.data_vars.items()
        if grid.x_dim in var.dims and grid.y_dim in var.dims
    ]


def check_variables(ds: xr.Dataset, names: Sequence[str], *, what: str = "the data") -> None:
    """Raise naming the available variables if any of ``names`` is not in ``ds``."""
    unknown = [n for n in names if n not in ds.variables]
    if unknown:
        available = ", ".join(sorted(map(str, ds.data_vars)))
        raise InvalidInputError(
            f"unknown variable{'s' if len(unknown) > 1 else ''} "
            f"{', '.join(repr(n) for n in unknown)} in {what}; available: {available}"
        )


def parse_variables(value: str | Sequence[str] | None) -> tuple[str, ...] | None:
    """``"v,vx"`` or a sequence of names into a tuple (None = the default selection)."""
    if value is None:
        return None
    names = value.split(",") if isinstance(value, str) else [str(v) for v in value]
    cleaned = tuple(dict.fromkeys(n.strip() for n in names if n.strip()))
    if not cleaned:
        raise InvalidInputError("no variable given: name at least one, e.g. v,vx")
    return cleaned


def time_values(ds: xr.Dataset, grid: Grid) -> np.ndarray | None:
    """The time coordinate as datetime64[ns] (None without a time dimension)."""
    if grid.time_dim is None or grid.time_dim not in ds.coords:
        return None
    values: Any = ds[grid.time_dim].values
    if not np.issubdtype(values.dtype, np.datetime64):
        return None
    return values.astype("datetime64[ns]")
