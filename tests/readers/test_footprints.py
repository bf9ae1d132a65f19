"""Footprints: cell edges in the native CRS; densified, antimeridian- and pole-safe lon/lat."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyproj
import pytest
import shapely
import xarray as xr
from shapely.geometry import MultiPolygon, Point, Polygon, shape

from eoaccess.errors import InvalidInputError
from eoaccess.footprints import LONLAT, footprint
from eoaccess.readers import open_dataset
from eoaccess.readers._crs import write_crs
from tests.readers.conftest import ITSLIVE_CUBE, KAGUYA_ID, Formats, grid_dataset


def _grid(crs: int, x0: float, x1: float, y0: float, y1: float, n: int = 50) -> xr.Dataset:
    """An in-memory grid of n x n cells spanning [x0, x1] x [y0, y1] (edges) in ``crs``."""
    dx, dy = (x1 - x0) / n, (y1 - y0) / n
    x = x0 + dx * (np.arange(n) + 0.5)
    y = y1 - dy * (np.arange(n) + 0.5)
    ds = xr.Dataset({"z": (("y", "x"), np.zeros((n, n), "float32"))}, coords={"x": x, "y": y})
    return write_crs(ds, pyproj.CRS.from_epsg(crs))


def test_native_footprint_uses_cell_edges(formats: Formats) -> None:
    ds = open_dataset(formats.path("v2c.zarr"))
    gdf = footprint(ds)
    assert len(gdf) == 1 and gdf.crs.to_epsg() == 32610
    # centres 500015 .. 500165 (30 m cells) and 3999985 .. 3999865: edges half a cell out
    assert gdf.geometry[0].bounds == (500_000.0, 3_999_850.0, 500_180.0, 4_000_000.0)
    assert gdf.geometry[0].area == 180.0 * 150.0
    assert gdf["name"][0] == "v2c.zarr"


def test_reprojection_is_densified_along_curved_edges() -> None:
    """A 1000 km square in EPSG:3413: its straight edges are curves in lon/lat."""
    ds = _grid(3413, -3_300_000, -2_300_000, 200_000, 1_200_000)
    dense = footprint(ds, crs=4326).geometry[0]
    naive = footprint(ds).to_crs(4326).geometry[0]  # the tutorial's way: 4 corners only
    to_lonlat = pyproj.Transformer.from_crs(3413, 4326, always_xy=True)
    middle = Point(to_lonlat.transform(-2_800_000, 1_200_000))  # middle of the top edge
    assert dense.exterior.distance(middle) < 1e-6
    assert naive.exterior.distance(middle) > 0.3  # degrees: a visibly wrong outline
    assert len(dense.exterior.coords) == 4 * 50 + 1  # one vertex per cell along each edge
    assert dense.is_valid and dense.exterior.is_ccw


def test_itslive_cube_footprint_lies_in_its_catalog_tile(tiny_archive: Path) -> None:
    ds = open_dataset(tiny_archive / ITSLIVE_CUBE)
    lonlat = footprint(ds, crs=4326)
    assert lonlat.crs.to_epsg() == 4326
    catalog = json.loads((tiny_archive / "itslive" / "catalog_v02.json").read_text())
    name = ITSLIVE_CUBE.rsplit("/", 1)[1]
    tile = next(f for f in catalog["features"] if f["properties"]["zarr_url"].endswith(name))
    assert shape(tile["geometry"]).buffer(1e-3).contains(lonlat.geometry[0])
    assert footprint(ds).crs.to_epsg() == 3413
    assert footprint(ds).geometry[0].bounds == (-3_231_360.0, 221_160.0, -3_226_560.0, 225_960.0)


def test_antimeridian_crossing_becomes_a_multipolygon() -> None:
    ds = _grid(32660, 600_000, 900_000, 5_000_000, 5_300_000)  # UTM 60N across 180°
    geometry = footprint(ds, crs=4326).geometry[0]
    assert isinstance(geometry, MultiPolygon) and len(geometry.geoms) == 2
    west, east = sorted(geometry.geoms, key=lambda g: g.bounds[0])
    assert west.bounds[0] == -180.0 or west.bounds[2] < -170  # the part east of 180°
    assert east.bounds[2] == 180.0
    assert west.bounds[0] >= -180 and east.bounds[2] <= 180
    total = pyproj.Geod(ellps="WGS84").geometry_area_perimeter(geometry)[0]
    assert abs(total) == pytest.approx(300_000.0**2, rel=0.01)  # UTM scale within 1 %


def test_lonlat_grid_over_180_is_split() -> None:
    lon = np.arange(170.25, 190.0, 0.5)  # 0..360 convention
    lat = np.arange(9.75, -10.0, -0.5)
    ds = xr.Dataset(
        {"z": (("lat", "lon"), np.zeros((lat.size, lon.size)))}, coords={"lon": lon, "lat": lat}
    )
    geometry = footprint(ds, crs=4326).geometry[0]
    assert isinstance(geometry, MultiPolygon)
    assert sorted(round(g.area, 6) for g in geometry.geoms) == [10 * 20.0, 10 * 20.0]


def test_polar_footprint_closes_over_the_pole(formats: Formats) -> None:
    ds = open_dataset(formats.path("polar.zarr"))
    geometry = footprint(ds, crs=4326).geometry[0]
    assert geometry.is_valid and geometry.bounds[3] == 90.0
    assert geometry.bounds[0] == -180.0 and geometry.bounds[2] == 180.0
    for lon in (-170, -45, 0, 100, 179):
        assert geometry.contains(Point(lon, 88.0))
    x0, y0, x1, y1 = footprint(ds).geometry[0].bounds
    assert (x0, y0, x1, y1) == (-500_000.0, -500_000.0, 550_000.0, 500_000.0)
    to_lonlat = pyproj.Transformer.from_crs(3413, 4326, always_xy=True)
    lowest = min(to_lonlat.transform(x, y)[1] for x in (x0, x1) for y in (y0, y1))
    assert geometry.bounds[1] == pytest.approx(lowest, abs=1e-6)  # the farthest corner


def test_points_dataset_gets_its_hull(tiny_archive: Path) -> None:
    granule = next((tiny_archive / "atl03").rglob("*.h5"))
    ds = open_dataset(granule, group="gt1l/heights")
    gdf = footprint(ds)
    assert gdf.crs.to_epsg() == 4326
    hull = gdf.geometry[0].buffer(1e-9)
    points = shapely.points(ds["lon_ph"].values, ds["lat_ph"].values)
    assert shapely.contains(hull, points).all()


def test_lunar_footprint_in_moon_lonlat(tiny_archive: Path, realdata: Path) -> None:
    item = json.loads((realdata / "kaguya" / KAGUYA_ID / "item.json").read_text())
    tif = next((tiny_archive / "kaguya").rglob(f"{KAGUYA_ID}.tif"))
    item["assets"]["image"]["href"] = str(tif)
    ds = open_dataset(item)
    gdf = footprint(ds, crs=LONLAT)
    assert "Moon" in gdf.crs.name
    sample_item = json.loads(tif.with_suffix(".json").read_text())
    west, _, _, north = shape(sample_item["geometry"]).bounds
    assert gdf.geometry[0].contains(shape(sample_item["geometry"]).centroid)
    assert gdf.geometry[0].bounds[0] == pytest.approx(west, abs=0.05)
    assert gdf.geometry[0].bounds[3] == pytest.approx(north, abs=0.05)
    with pytest.raises(InvalidInputError, match="celestial body"):
        footprint(ds, crs=4326)


def test_errors() -> None:
    with pytest.raises(InvalidInputError, match="neither an x/y grid nor lon/lat points"):
        footprint(xr.Dataset({"a": ("t", [1, 2])}))
    no_crs = grid_dataset().drop_vars("mapping")
    del no_crs["v"].attrs["grid_mapping"]
    with pytest.raises(InvalidInputError, match="has no CRS"):
        footprint(no_crs)
    ds = _grid(32610, 0, 10, 0, 10, n=2)
    with pytest.raises(InvalidInputError, match="invalid CRS 'EPSG:nope'"):
        footprint(ds, crs="EPSG:nope")
    assert isinstance(footprint(ds, crs=3857).geometry[0], Polygon)
