"""Tiles of an interval mosaicked onto the AOI's pixels.

Each interval's tiles are put in the mosaicking order (``mostRecent`` first by default, as in
Sentinel Hub) and each AOI pixel takes its bands from the first tile that has data there: inside
the tile's raster and no band at its no-data value. Only the window of each file that holds AOI
pixels is read, through a small :class:`RasterReader` protocol (rasterio in production, arrays in
tests). The result keeps, per pixel, which tile it came from, for provenance.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar, Protocol

import numpy as np

from eoaccess.errors import InvalidInputError
from eoaccess.stats._aoi import Coverage, Grid, PixelMap
from eoaccess.stats._bands import BandSource
from eoaccess.stats._program import DATA_MASK


@dataclass(frozen=True)
class Tile:
    """One catalog item to read: its files, grids and BYOC facts."""

    id: str
    """Item id."""
    collection: str
    datetime: datetime
    cloud_cover: float | None
    """``eo:cloud_cover`` (percent), if known."""
    assets: Mapping[str, str]
    """Asset key -> readable location (local path or URL)."""
    grids: Mapping[str, Grid]
    """Asset key -> raster grid, from the item's projection fields (missing: read the file)."""
    tile_id: str | None = None
    """The BYOC tile id, when the collection has BYOC metadata."""
    header_sizes: Mapping[str, int] | None = None
    """Asset key -> bytes of the file's header (BYOC ``headerSize``), when recorded."""


class RasterReader(Protocol):
    """Reads raster windows (the only pixel I/O of statistics)."""

    def grid(self, location: str) -> Grid:
        """The grid of a raster file."""

    def read(
        self, location: str, indexes: Sequence[int], window: tuple[int, int, int, int]
    ) -> np.ndarray:
        """Bands ``indexes`` (1-based) of ``window`` (row_off, col_off, height, width):
        an array ``(len(indexes), height, width)``."""


class RasterioReader:
    """:class:`RasterReader` over rasterio/GDAL: local paths, http(s) (Range reads), s3."""

    _ENV: ClassVar[dict[str, str]] = {
        # A remote COG is one file: never list its folder, never probe for sidecars.
        "GDAL_DISABLE_READDIR_ON_OPEN": "EMPTY_DIR",
        "CPL_VSIL_CURL_USE_HEAD": "NO",
        "GDAL_HTTP_MAX_RETRY": "2",
    }

    def grid(self, location: str) -> Grid:
        import rasterio

        with rasterio.Env(**self._ENV), rasterio.open(location) as src:
            if src.crs is None:
                raise InvalidInputError(f"{location} has no CRS")
            return Grid(src.crs.to_string(), tuple(src.transform)[:6], src.width, src.height)  # type: ignore[arg-type]

    def read(
        self, location: str, indexes: Sequence[int], window: tuple[int, int, int, int]
    ) -> np.ndarray:
        import rasterio
        from rasterio.windows import Window

        row, col, height, width = window
        with rasterio.Env(**self._ENV), rasterio.open(location) as src:
            return src.read(list(indexes), window=Window(col, row, width, height))  # type: ignore[no-any-return]


def _recent(tile: Tile) -> tuple[float, str]:
    return (-tile.datetime.timestamp(), tile.id)


# Registry: Sentinel Hub mosaickingOrder -> sort key (first tile wins a pixel).
MOSAICKING_ORDERS: dict[str, Callable[[Tile], Any]] = {
    "mostRecent": _recent,
    "leastRecent": lambda t: (t.datetime.timestamp(), t.id),
    "leastCC": lambda t: (t.cloud_cover is None, t.cloud_cover or 0.0, *_recent(t)),
}


def parse_mosaicking_order(value: str | None) -> str:
    if value is None:
        return "mostRecent"
    if value not in MOSAICKING_ORDERS:
        raise InvalidInputError(
            f"invalid mosaickingOrder {value!r}; use one of {', '.join(MOSAICKING_ORDERS)}"
        )
    return value


@dataclass(frozen=True, eq=False)
class Mosaic:
    """Band values of the AOI pixels of one interval."""

    samples: dict[str, np.ndarray]
    """Band name -> ``(n,)`` values (0 where no tile has data); ``dataMask`` is 0/1."""
    tile_index: np.ndarray
    """``(n,)`` index into :attr:`tiles` of the tile each pixel came from, -1 for none."""
    tiles: tuple[Tile, ...]
    """The interval's tiles in mosaicking order."""


def _common_pixels(pmaps: Sequence[PixelMap]) -> np.ndarray:
    """AOI positions every map covers (sorted)."""
    pixels = pmaps[0].pixels
    for pmap in pmaps[1:]:
        if pmap is not pmaps[0]:
            pixels = np.intersect1d(pixels, pmap.pixels, assume_unique=True)
    return pixels


def mosaic(
    tiles: Sequence[Tile],
    bands: Mapping[str, BandSource],
    cover: Coverage,
    maps: Callable[[Grid], PixelMap],
    reader: RasterReader,
    order: str = "mostRecent",
) -> Mosaic:
    """Mosaic ``tiles`` (any order; sorted here) onto the AOI pixels for the named ``bands``."""
    ordered = tuple(sorted(tiles, key=MOSAICKING_ORDERS[order]))
    n = cover.count
    filled = np.zeros(n, dtype=bool)
    tile_index = np.full(n, -1, dtype=np.int32)
    samples: dict[str, np.ndarray] = {}
    by_asset: dict[str, list[BandSource]] = {}
    for source in bands.values():
        by_asset.setdefault(source.asset, []).append(source)
    for t, tile in enumerate(ordered):
        if filled.all():
            break
        missing = [a for a in by_asset if a not in tile.assets]
        if missing:
            raise InvalidInputError(f"item {tile.id} has no asset {', '.join(missing)}")
        grids = {a: tile.grids.get(a) or reader.grid(tile.assets[a]) for a in by_asset}
        pmaps = {a: maps(grids[a]) for a in by_asset}
        if any(p.empty for p in pmaps.values()):
            continue
        candidates = _common_pixels(list(pmaps.values()))
        if t:  # after the first tile, only pixels still without data
            candidates = candidates[~filled[candidates]]
        if candidates.size == 0:
            continue
        values: dict[str, np.ndarray] = {}
        valid = np.ones(candidates.size, dtype=bool)
        for asset, sources in by_asset.items():
            pmap = pmaps[asset]
            data = reader.read(tile.assets[asset], [s.index for s in sources], pmap.window)
            if pmap.dense and candidates.size == n:  # the window is the AOI: no gathering
                picked = data.reshape(len(sources), n)
            elif candidates.size == pmap.pixels.size:  # all of the map's pixels
                picked = data[:, pmap.rows, pmap.cols]
            else:
                at = np.searchsorted(pmap.pixels, candidates)  # every candidate is in the map
                picked = data[:, pmap.rows[at], pmap.cols[at]]
            for k, source in enumerate(sources):
                values[source.name] = picked[k]
                if source.nodata is not None:
                    if np.isnan(source.nodata):
                        valid &= ~np.isnan(picked[k])
                    else:
                        valid &= picked[k] != source.nodata
        if candidates.size == n:  # the first tile covers the whole AOI: no scattering either
            for name, band_values in values.items():
                samples[name] = np.where(valid, band_values, band_values.dtype.type(0))
            filled = valid.copy()
            tile_index = np.where(valid, t, -1).astype(np.int32)
            continue
        taken = candidates[valid]
        for name, band_values in values.items():
            if name not in samples:
                samples[name] = np.zeros(n, dtype=band_values.dtype)
            samples[name][taken] = band_values[valid]
        filled[taken] = True
        tile_index[taken] = t
    for name in bands:
        samples.setdefault(name, np.zeros(n, dtype=np.float64))
    samples[DATA_MASK] = filled.astype(np.float64)
    return Mosaic(samples, tile_index, ordered)
