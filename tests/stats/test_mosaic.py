"""Mosaicking tiles onto the AOI's pixels, driven with in-memory rasters (no files)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import numpy as np
import pytest
import shapely

from eoaccess.errors import InvalidInputError
from eoaccess.stats._aoi import Grid, coverage, pixel_map
from eoaccess.stats._bands import BandSource
from eoaccess.stats._mosaic import Tile, mosaic

CRS = "EPSG:32610"
# Three 4 x 4 tiles on one lattice: A covers columns 0-3, B columns 2-5 (shifted right), C = A.
A_GRID = Grid(CRS, (1.0, 0.0, 0.0, 0.0, -1.0, 4.0), 4, 4)
B_GRID = Grid(CRS, (1.0, 0.0, 2.0, 0.0, -1.0, 4.0), 4, 4)
BANDS = {"red": BandSource("red", "data", 1, 0.0), "qa": BandSource("qa", "data", 2, None)}


class ArrayReader:
    """A RasterReader over arrays, recording every window read."""

    def __init__(self, rasters: dict[str, tuple[Grid, np.ndarray]]) -> None:
        self.rasters = rasters
        self.reads: list[tuple[str, tuple[int, ...], tuple[int, int, int, int]]] = []

    def grid(self, location: str) -> Grid:
        return self.rasters[location][0]

    def read(
        self, location: str, indexes: Sequence[int], window: tuple[int, int, int, int]
    ) -> np.ndarray:
        self.reads.append((location, tuple(indexes), window))
        row, col, height, width = window
        data = self.rasters[location][1]
        return data[[i - 1 for i in indexes], row : row + height, col : col + width]


def tile(
    name: str, day: int, grid: Grid, cloud: float | None = None, with_grid: bool = True
) -> Tile:
    return Tile(name, "c", datetime(2023, 11, day, tzinfo=UTC), cloud, {"data": name},
                {"data": grid} if with_grid else {})  # fmt: skip


def raster(red: float, nodata_columns: Sequence[int] = ()) -> np.ndarray:
    data = np.stack([np.full((4, 4), red), np.full((4, 4), red * 10)])
    for column in nodata_columns:
        data[0, :, column] = 0.0  # red's no-data value
    return data


def setup() -> tuple[object, dict, ArrayReader]:
    grid = Grid(CRS, (1.0, 0.0, 0.0, 0.0, -1.0, 4.0), 6, 4)  # the AOI: columns 0-5
    cover = coverage(grid, shapely.box(*grid.bounds))
    maps = {g: pixel_map(cover, g) for g in (A_GRID, B_GRID)}
    reader = ArrayReader({"A": (A_GRID, raster(1.0, [3])), "B": (B_GRID, raster(2.0)),
                          "C": (A_GRID, raster(3.0))})  # fmt: skip
    return cover, maps, reader


def red_image(result: object, cover: object) -> np.ndarray:
    return result.samples["red"].reshape(4, 6)  # type: ignore[attr-defined]


def test_most_recent_tile_wins_and_no_data_falls_through() -> None:
    cover, maps, reader = setup()
    tiles = [tile("A", 2, A_GRID), tile("B", 1, B_GRID)]
    result = mosaic(tiles, BANDS, cover, maps.__getitem__, reader)
    # A (newest) covers columns 0-3 except its no-data column 3, which B fills; B adds 4-5.
    np.testing.assert_array_equal(red_image(result, cover)[0], [1, 1, 1, 2, 2, 2])
    np.testing.assert_array_equal(result.samples["qa"].reshape(4, 6)[0], [10, 10, 10, 20, 20, 20])
    np.testing.assert_array_equal(result.tile_index.reshape(4, 6)[0], [0, 0, 0, 1, 1, 1])
    assert result.samples["dataMask"].sum() == 24
    assert [t.id for t in result.tiles] == ["A", "B"]
    # Only the window of each file holding AOI pixels, both bands in one read.
    assert reader.reads == [("A", (1, 2), (0, 0, 4, 4)), ("B", (1, 2), (0, 0, 4, 4))]


def test_least_recent_and_least_cloudy_orders() -> None:
    cover, maps, reader = setup()
    tiles = [tile("A", 2, A_GRID, cloud=50.0), tile("C", 1, A_GRID, cloud=10.0)]
    oldest = mosaic(tiles, BANDS, cover, maps.__getitem__, reader, "leastRecent")
    assert [t.id for t in oldest.tiles] == ["C", "A"]
    np.testing.assert_array_equal(red_image(oldest, cover)[0], [3, 3, 3, 3, 0, 0])
    clearest = mosaic(tiles, BANDS, cover, maps.__getitem__, reader, "leastCC")
    assert [t.id for t in clearest.tiles] == ["C", "A"]
    newest = mosaic(tiles, BANDS, cover, maps.__getitem__, reader)
    np.testing.assert_array_equal(red_image(newest, cover)[0], [1, 1, 1, 3, 0, 0])
    np.testing.assert_array_equal(newest.samples["dataMask"].reshape(4, 6)[0], [1, 1, 1, 1, 0, 0])


def test_grids_missing_from_items_are_read_from_files() -> None:
    cover, maps, reader = setup()
    result = mosaic([tile("B", 1, B_GRID, with_grid=False)], BANDS, cover, maps.__getitem__, reader)
    np.testing.assert_array_equal(red_image(result, cover)[0], [0, 0, 2, 2, 2, 2])


def test_a_tile_without_the_asset_is_an_error() -> None:
    cover, maps, reader = setup()
    broken = Tile("X", "c", datetime(2023, 11, 1, tzinfo=UTC), None, {"other": "A"}, {})
    with pytest.raises(InvalidInputError, match="item X has no asset data"):
        mosaic([broken], BANDS, cover, maps.__getitem__, reader)
