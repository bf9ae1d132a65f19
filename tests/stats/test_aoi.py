"""Output grids, AOI pixels and the nearest-neighbour map from AOI pixels to tile pixels."""

from __future__ import annotations

import numpy as np
import pytest
import shapely

from eoaccess.errors import InvalidInputError
from eoaccess.stats._aoi import (
    MAX_PIXELS,
    Grid,
    coverage,
    grid_from_bounds,
    pixel_map,
    snapped_grid,
)

UTM = "EPSG:32610"
TILE = Grid(UTM, (3.0, 0.0, 553_403.0, 0.0, -3.0, 4_181_110.0), 64, 64)


def test_grid_from_size_and_resolution() -> None:
    grid = grid_from_bounds((0.0, 0.0, 10.0, 5.0), UTM, size=(20, 10))
    assert grid.transform == (0.5, 0.0, 0.0, 0.0, -0.5, 5.0)
    assert grid.bounds == (0.0, 0.0, 10.0, 5.0)
    by_resolution = grid_from_bounds((0.0, 0.0, 10.0, 5.0), UTM, resolution=(2.0, 1.0))
    assert (by_resolution.width, by_resolution.height) == (5, 5)


def test_too_many_pixels_is_refused() -> None:
    with pytest.raises(InvalidInputError, match="more than the 25,000,000 allowed"):
        grid_from_bounds((0.0, 0.0, 1.0, 1.0), UTM, size=(6000, 6000))
    assert MAX_PIXELS == 25_000_000


def test_snapped_grid_keeps_the_data_lattice() -> None:
    grid = snapped_grid((553_410.5, 4_181_000.0, 553_430.0, 4_181_100.0), TILE)
    a, _, c, _, e, f = grid.transform
    assert (a, e) == (3.0, -3.0)
    assert (c - TILE.transform[2]) % 3 == 0 and (TILE.transform[5] - f) % 3 == 0
    assert c <= 553_410.5 and c + 3 * grid.width >= 553_430.0
    # A bound on a pixel edge adds no sliver.
    exact = snapped_grid((553_403.0, 4_181_101.0, 553_409.0, 4_181_110.0), TILE)
    assert (exact.width, exact.height) == (2, 3)


def test_coverage_of_a_bbox_and_of_a_polygon() -> None:
    grid = grid_from_bounds((0.0, 0.0, 4.0, 4.0), UTM, size=(4, 4))
    assert coverage(grid, shapely.box(0, 0, 4, 4)).count == 16
    triangle = shapely.Polygon([(0, 0), (3.9, 0), (0, 3.9)])
    covered = coverage(grid, triangle)
    # Pixel centres (x+0.5, y+0.5) below the diagonal x + y = 3.9: 1 + 2 + 3 of 16.
    assert covered.count == 6
    rows, cols = np.divmod(covered.flat, 4)
    x, y = cols + 0.5, 4 - (rows + 0.5)
    assert np.all(x + y < 3.9)


def test_pixel_map_on_the_same_lattice_is_an_offset() -> None:
    grid = snapped_grid((553_403.0 + 30, 4_181_110.0 - 60, 553_403.0 + 90, 4_181_110.0 - 30), TILE)
    cover = coverage(grid, shapely.box(*grid.bounds))
    pmap = pixel_map(cover, TILE)
    assert pmap.pixels.size == cover.count == 20 * 10
    assert pmap.window == (10, 10, 10, 20)
    rows, cols = np.divmod(cover.flat, grid.width)
    assert np.array_equal(pmap.rows, rows) and np.array_equal(pmap.cols, cols)


def test_pixel_map_leaves_out_pixels_outside_the_tile() -> None:
    grid = snapped_grid((553_403.0 - 30, 4_181_110.0 - 30, 553_403.0 + 30, 4_181_110.0), TILE)
    cover = coverage(grid, shapely.box(*grid.bounds))
    pmap = pixel_map(cover, TILE)
    assert cover.count == 20 * 10 and pmap.pixels.size == 10 * 10
    assert pmap.window == (0, 0, 10, 10)


def test_pixel_map_across_crs_is_the_exact_nearest_neighbour() -> None:
    from rasterio.warp import transform_bounds

    from tests.stats.archives import _sampling

    west, south, east, north = transform_bounds(UTM, "EPSG:4326", *TILE.bounds)
    grid = grid_from_bounds((west, south, east, north), "EPSG:4326", size=(500, 400))
    cover = coverage(grid, shapely.box(*grid.bounds))
    pmap = pixel_map(cover, TILE)
    # The reference maps centres with GDAL's coordinate transformation instead of pyproj's.
    rows, cols, inside = _sampling(UTM, TILE.transform, (64, 64), "EPSG:4326", grid.transform,
                                   (400, 500))  # fmt: skip
    assert np.array_equal(pmap.pixels, np.flatnonzero(inside))
    r0, c0, _, _ = pmap.window
    assert np.array_equal(pmap.rows + r0, rows[inside])
    assert np.array_equal(pmap.cols + c0, cols[inside])
