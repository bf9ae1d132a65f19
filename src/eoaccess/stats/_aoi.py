"""The AOI as pixels: the output grid, the pixels the AOI covers, and where each lies in a tile.

Statistics are computed on one grid (a CRS, an affine transform, a width and height): the request
gives it (Statistical API: bbox + width/height or resx/resy), or it is the data's own pixel
lattice clipped to the AOI (``eoaccess stats`` by default, so no pixel is resampled). The AOI's
pixels (centres inside the geometry) are found once — a :class:`Coverage` — and every tile grid
gets a :class:`PixelMap` (nearest-neighbour source pixel of each AOI pixel) once, then reused for
every interval: ARPS tiles of one grid cell share a single map.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from eoaccess.errors import InvalidInputError

MAX_PIXELS = 25_000_000
"""Largest output grid (5,000 × 5,000 pixels) one request may ask for."""


@dataclass(frozen=True)
class Grid:
    """A north-up or rotated raster grid."""

    crs: str
    """Anything pyproj understands (``EPSG:32610``, WKT)."""
    transform: tuple[float, float, float, float, float, float]
    """Affine coefficients a, b, c, d, e, f (rasterio order): x = a·col + b·row + c."""
    width: int
    height: int

    @property
    def size(self) -> int:
        return self.width * self.height

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        a, b, c, d, e, f = self.transform
        xs = [c, c + a * self.width, c + b * self.height, c + a * self.width + b * self.height]
        ys = [f, f + d * self.width, f + e * self.height, f + d * self.width + e * self.height]
        return min(xs), min(ys), max(xs), max(ys)

    def centres(self, flat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """x, y of the centres of the pixels with flat indices ``flat`` (row × width + col)."""
        rows, cols = np.divmod(flat, self.width)
        u, v = cols + 0.5, rows + 0.5
        a, b, c, d, e, f = self.transform
        return a * u + b * v + c, d * u + e * v + f


@functools.lru_cache(maxsize=64)
def crs_of(text: str) -> Any:
    """The pyproj CRS of a CRS string (cached: parsing WKT is slow)."""
    import pyproj

    try:
        return pyproj.CRS.from_user_input(text)
    except pyproj.exceptions.CRSError as exc:
        raise InvalidInputError(f"unknown CRS {text!r}: {exc}") from None


@functools.lru_cache(maxsize=64)
def _transformer(source: str, target: str) -> Any:
    import pyproj

    return pyproj.Transformer.from_crs(crs_of(source), crs_of(target), always_xy=True)


def same_crs(first: str, second: str) -> bool:
    return first == second or bool(crs_of(first) == crs_of(second))


def reproject_geometry(geometry: Any, source: str, target: str) -> Any:
    """A shapely geometry in another CRS (densified so straight edges keep their shape)."""
    import shapely
    from shapely.ops import transform

    if same_crs(source, target):
        return geometry
    minx, miny, maxx, maxy = geometry.bounds
    step = max(maxx - minx, maxy - miny) / 64 or 1.0
    return transform(_transformer(source, target).transform, shapely.segmentize(geometry, step))


def _check_size(width: int, height: int) -> None:
    if width < 1 or height < 1:
        raise InvalidInputError(f"the AOI is {width} x {height} pixels: it must cover a pixel")
    if width * height > MAX_PIXELS:
        raise InvalidInputError(
            f"the AOI is {width} x {height} = {width * height:,} pixels, more than the "
            f"{MAX_PIXELS:,} allowed; use a coarser resolution or a smaller AOI"
        )


def grid_from_bounds(
    bounds: tuple[float, float, float, float],
    crs: str,
    *,
    size: tuple[int, int] | None = None,
    resolution: tuple[float, float] | None = None,
) -> Grid:
    """A north-up grid over ``bounds`` with ``size`` (width, height) or ``resolution`` (x, y)."""
    west, south, east, north = bounds
    if not (east > west and north > south):
        raise InvalidInputError(f"the AOI bounds {bounds} are empty")
    if size is not None:
        width, height = (int(v) for v in size)
    elif resolution is not None:
        resx, resy = (float(abs(v)) for v in resolution)
        if not (resx > 0 and resy > 0) or not (math.isfinite(resx) and math.isfinite(resy)):
            raise InvalidInputError(f"invalid resolution {resolution}")
        width = max(1, round((east - west) / resx))
        height = max(1, round((north - south) / resy))
    else:
        raise InvalidInputError("give the output size (width/height) or resolution (resx/resy)")
    _check_size(width, height)
    return Grid(
        crs,
        ((east - west) / width, 0.0, west, 0.0, -(north - south) / height, north),
        width,
        height,
    )


def snapped_grid(
    bounds: tuple[float, float, float, float], lattice: Grid, resolution: float | None = None
) -> Grid:
    """The part of a north-up data lattice (pixel edges of ``lattice``) covering ``bounds``.

    With ``resolution`` the lattice keeps its origin but takes that pixel size.
    """
    a, b, c, d, e, f = lattice.transform
    if b or d:
        raise InvalidInputError("the data grid is rotated; give crs= and resolution=")
    if resolution is not None:
        a, e = abs(resolution) * (1 if a > 0 else -1), abs(resolution) * (1 if e > 0 else -1)
    west, south, east, north = bounds
    # Tolerances keep a bound lying on a pixel edge from adding a sliver pixel.
    col0 = math.floor((west - c) / a + 1e-9)
    col1 = math.ceil((east - c) / a - 1e-9)
    row0 = math.floor((north - f) / e + 1e-9)
    row1 = math.ceil((south - f) / e - 1e-9)
    width, height = max(1, col1 - col0), max(1, row1 - row0)
    _check_size(width, height)
    return Grid(lattice.crs, (a, 0.0, c + col0 * a, 0.0, e, f + row0 * e), width, height)


@dataclass(frozen=True, eq=False)
class Coverage:
    """The pixels of a grid whose centres lie in the AOI (computed once per request)."""

    grid: Grid
    flat: np.ndarray
    """Sorted flat indices (row × width + col) of the AOI's pixels."""

    @property
    def count(self) -> int:
        return int(self.flat.size)


def coverage(grid: Grid, geometry: Any) -> Coverage:
    """The AOI pixels of ``grid`` for a shapely ``geometry`` in the grid's CRS."""
    import shapely
    from rasterio.features import geometry_mask
    from rasterio.transform import Affine

    box = shapely.box(*grid.bounds)
    if geometry.covers(box):  # a bbox request: every pixel, no rasterising
        flat = np.arange(grid.size, dtype=np.int64)
    else:
        inside = geometry_mask(
            [geometry],
            out_shape=(grid.height, grid.width),
            transform=Affine(*grid.transform),
            invert=True,
        )
        flat = np.flatnonzero(inside).astype(np.int64)
    if flat.size == 0:
        raise InvalidInputError(
            "the AOI covers no pixel centre at this resolution; use a larger AOI or finer pixels"
        )
    return Coverage(grid, flat)


@dataclass(frozen=True, eq=False)
class PixelMap:
    """Where the AOI's pixels lie in one source raster (nearest neighbour)."""

    window: tuple[int, int, int, int]
    """row_off, col_off, height, width of the smallest source window holding them."""
    rows: np.ndarray
    """Source rows of the mapped pixels, relative to the window."""
    cols: np.ndarray
    """Source columns, relative to the window."""
    pixels: np.ndarray
    """Positions (0…coverage.count-1) of the AOI pixels that fall inside the raster."""
    dense: bool = False
    """Every AOI pixel maps, one to one and in order, onto the whole window: the window's values
    are the AOI's, and reading needs no gathering."""

    @property
    def empty(self) -> bool:
        return self.pixels.size == 0


def _aligned_offset(grid: Grid, source: Grid) -> tuple[int, int] | None:
    """(row, col) of the grid's origin in the source when both share a north-up lattice."""
    a, b, c, d, e, f = grid.transform
    sa, sb, sc, sd, se, sf = source.transform
    if b or d or sb or sd or a != sa or e != se or not same_crs(grid.crs, source.crs):
        return None
    col, row = (c - sc) / sa, (f - sf) / se
    if abs(col - round(col)) > 1e-9 or abs(row - round(row)) > 1e-9:
        return None
    return round(row), round(col)


def pixel_map(cover: Coverage, source: Grid) -> PixelMap:
    """Map every AOI pixel centre to the source pixel containing it."""
    offset = _aligned_offset(cover.grid, source)
    if offset is not None:  # the data's own lattice: integer arithmetic, exact
        rows, cols = np.divmod(cover.flat, cover.grid.width)
        rows, cols = rows + offset[0], cols + offset[1]
        inside = (cols >= 0) & (cols < source.width) & (rows >= 0) & (rows < source.height)
        return _from_source_pixels(cover, inside, rows, cols)
    x, y = cover.grid.centres(cover.flat)
    if not same_crs(cover.grid.crs, source.crs):
        x, y = _transformer(cover.grid.crs, source.crs).transform(x, y)
        x, y = np.asarray(x), np.asarray(y)
    a, b, c, d, e, f = source.transform
    det = a * e - b * d
    dx, dy = x - c, y - f
    with np.errstate(invalid="ignore"):
        u = np.floor((e * dx - b * dy) / det)
        v = np.floor((a * dy - d * dx) / det)
    inside = (u >= 0) & (u < source.width) & (v >= 0) & (v < source.height)
    return _from_source_pixels(cover, inside, v, u)


def _from_source_pixels(
    cover: Coverage, inside: np.ndarray, rows: np.ndarray, cols: np.ndarray
) -> PixelMap:
    pixels = np.flatnonzero(inside)
    if pixels.size == 0:
        empty = np.empty(0, dtype=np.int64)
        return PixelMap((0, 0, 0, 0), empty, empty, empty)
    rows, cols = rows[inside].astype(np.int64), cols[inside].astype(np.int64)
    row0, col0 = int(rows.min()), int(cols.min())
    height, width = int(rows.max()) - row0 + 1, int(cols.max()) - col0 + 1
    rows, cols = rows - row0, cols - col0
    dense = bool(
        pixels.size == cover.count == height * width
        and np.array_equal(rows * width + cols, np.arange(pixels.size))
    )
    return PixelMap((row0, col0, height, width), rows, cols, pixels, dense)
