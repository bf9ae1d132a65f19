"""Tiles of an interval mosaicked onto the AOI's pixels.

Each interval's tiles are put in the mosaicking order (``mostRecent`` first by default, as in
Sentinel Hub) and each AOI pixel takes its bands from the first tile that has data there: inside
the tile's raster and no band at its no-data value. Only the window of each file that holds AOI
pixels is read, through a small :class:`RasterReader` protocol (rasterio in production, arrays in
tests). The result keeps, per pixel, which tile it came from, for provenance.
"""

from __future__ import annotations

import functools
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
    """Band values of the AOI pixels of one interval, in one of two layouts.

    *Full*: one tile holds every AOI pixel (the usual case: a tile covering the AOI, or the last
    tile of the interval): :attr:`values` are that tile's bands over all n pixels, as read
    (views, no copy), and :attr:`data` says which have data. *Compact*: :attr:`pixels` lists the
    AOI positions with data and :attr:`values` hold the bands there only. Either way bands keep
    the files' own dtypes, and no full-size array is made for pixels without data: they all have
    the same inputs (every band 0, ``dataMask`` 0). :attr:`samples` and :attr:`tile_index`
    rebuild the plain full-size arrays on demand.
    """

    count: int
    """AOI pixels (n)."""
    pixels: np.ndarray | None
    """Compact layout: the ``(k,)`` AOI positions (0…n-1, unique) of the entries; None: the
    entries are the n AOI pixels in order."""
    values: dict[str, np.ndarray]
    """Band name -> one value per entry, in the band's dtype (any value where no data)."""
    data: np.ndarray | None
    """Booleans per entry: has data; None: every entry has."""
    source: np.ndarray | int
    """Index into :attr:`tiles` of the tile of each entry, or of every entry with data."""
    tiles: tuple[Tile, ...]
    """The interval's tiles in mosaicking order."""

    @property
    def size(self) -> int:
        """Entries (k): the n pixels, or those with data."""
        return self.count if self.pixels is None else int(self.pixels.size)

    @property
    def tile_of(self) -> np.ndarray:
        """Index into :attr:`tiles` of each entry's tile, -1 where no data."""
        if isinstance(self.source, np.ndarray):
            return self.source
        if self.data is None:
            return np.full(self.size, self.source, dtype=np.int32)
        return np.where(self.data, np.int32(self.source), np.int32(-1))

    def zeroed(self) -> dict[str, np.ndarray]:
        """:attr:`values` with 0 where no data (a pixel's inputs as Sentinel Hub gives them)."""
        if self.data is None:
            return dict(self.values)
        return {k: np.where(self.data, v, v.dtype.type(0)) for k, v in self.values.items()}

    @functools.cached_property
    def samples(self) -> dict[str, np.ndarray]:
        """Band name -> ``(n,)`` values (0 where no tile has data); ``dataMask`` is 0/1."""
        if self.pixels is None:
            full = self.zeroed()
            full[DATA_MASK] = (
                np.ones(self.count) if self.data is None else self.data.astype(np.float64)
            )
            return full
        full = {}
        for name, values in self.values.items():
            full[name] = np.zeros(self.count, dtype=values.dtype)
            full[name][self.pixels] = values
        mask = np.zeros(self.count, dtype=np.float64)
        mask[self.pixels] = 1.0
        full[DATA_MASK] = mask
        return full

    @functools.cached_property
    def tile_index(self) -> np.ndarray:
        """``(n,)`` index into :attr:`tiles` of the tile each pixel came from, -1 for none."""
        if self.pixels is None:
            return self.tile_of
        index = np.full(self.count, -1, dtype=np.int32)
        index[self.pixels] = self.tile_of
        return index


def _common_pixels(pmaps: Sequence[PixelMap]) -> np.ndarray:
    """AOI positions every map covers (sorted)."""
    pixels = pmaps[0].pixels
    for pmap in pmaps[1:]:
        if pmap is not pmaps[0]:
            pixels = np.intersect1d(pixels, pmap.pixels, assume_unique=True)
    return pixels


def _valid(picked: np.ndarray, sources: Sequence[BandSource], valid: np.ndarray | None) -> Any:
    """AND of ``valid`` and "no band at its no-data value" (None: every pixel valid so far)."""
    for k, source in enumerate(sources):
        if source.nodata is None:
            continue
        band = picked[k]
        if np.isnan(source.nodata):
            has = ~np.isnan(band)
        elif np.issubdtype(band.dtype, np.integer) and not float(source.nodata).is_integer():
            continue  # an integer band never holds a fractional no-data value
        else:
            has = band != source.nodata
        valid = has if valid is None else np.logical_and(valid, has, out=valid)
    return valid


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
    filled: np.ndarray | None = None  # full-size bookkeeping only once a second tile is needed
    taken_parts: list[np.ndarray] = []
    value_parts: dict[str, list[np.ndarray]] = {name: [] for name in bands}
    tile_parts: list[np.ndarray] = []
    done = 0
    by_asset: dict[str, list[BandSource]] = {}
    for source in bands.values():
        by_asset.setdefault(source.asset, []).append(source)
    for t, tile in enumerate(ordered):
        if done == n:
            break
        missing = [a for a in by_asset if a not in tile.assets]
        if missing:
            raise InvalidInputError(f"item {tile.id} has no asset {', '.join(missing)}")
        grids = {a: tile.grids.get(a) or reader.grid(tile.assets[a]) for a in by_asset}
        pmaps = {a: maps(grids[a]) for a in by_asset}
        if any(p.empty for p in pmaps.values()):
            continue
        candidates = _common_pixels(list(pmaps.values()))
        if done:  # after the first tile with data, only pixels still without data
            if filled is None:
                filled = np.zeros(n, dtype=bool)
                for part in taken_parts:
                    filled[part] = True
            candidates = candidates[~filled[candidates]]
        if candidates.size == 0:
            continue
        picked_by_asset: dict[str, np.ndarray] = {}
        valid: np.ndarray | None = None
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
            picked_by_asset[asset] = picked
            valid = _valid(picked, sources, valid)
        if (
            not done
            and candidates.size == n
            and (valid is None or t == len(ordered) - 1 or bool(valid.all()))
        ):  # this tile gives the whole mosaic: keep its bands as read
            values = {
                s.name: picked_by_asset[a][k]
                for a, sources in by_asset.items()
                for k, s in enumerate(sources)
            }
            return Mosaic(n, None, values, valid, t, ordered)
        # Gather every band once, at the pixels this tile provides, in its own dtype.
        keep = None if valid is None else np.flatnonzero(valid)
        taken = candidates if keep is None else candidates[keep]
        if taken.size == 0:
            continue
        for asset, sources in by_asset.items():
            picked = picked_by_asset[asset]
            for k, source in enumerate(sources):
                value_parts[source.name].append(picked[k] if keep is None else picked[k][keep])
        taken_parts.append(taken)
        tile_parts.append(np.full(taken.size, t, dtype=np.int32))
        if filled is not None:
            filled[taken] = True
        done += int(taken.size)
    values = {name: _joined(parts, np.float64) for name, parts in value_parts.items()}
    return Mosaic(
        n, _joined(taken_parts, np.int64), values, None, _joined(tile_parts, np.int32), ordered
    )


def _joined(parts: list[np.ndarray], empty: type[np.generic]) -> np.ndarray:
    """One array from the per-tile parts (no copy for a single tile)."""
    if not parts:
        return np.zeros(0, dtype=empty)
    return parts[0] if len(parts) == 1 else np.concatenate(parts)
