"""Products outside the sample's layouts: a Zarr v3 cube, a plain GeoTIFF, a NetCDF granule."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import rasterio
import shapely
import shapely.geometry
import xarray as xr
from pyproj import CRS
from rasterio.transform import from_origin

from eoaccess.ingest import ingest
from tests.ingest.conftest import all_items, open_catalog


@pytest.fixture
def archive(tmp_path: Path) -> Path:
    root = tmp_path / "archive"
    # A Zarr v3 cube in UTM 33N with a CF grid mapping and a time coordinate.
    x = 500_000 + 30.0 * np.arange(20) + 15
    y = 6_000_000 - 30.0 * np.arange(10) - 15
    time = pd.to_datetime(["2021-03-01T10:00", "2021-01-15T08:30", "2021-06-30T23:59"])
    cube = xr.Dataset(
        {"ndvi": (("time", "y", "x"), np.zeros((3, 10, 20), "float32"), {"grid_mapping": "crs"})},
        coords={"time": time, "y": y, "x": x},
    )
    cube["crs"] = xr.DataArray(0, attrs={"crs_wkt": CRS.from_epsg(32633).to_wkt()})
    cube.to_zarr(root / "cubes" / "ndvi_2021.zarr", zarr_format=3, consolidated=False)
    # A plain GeoTIFF in lon/lat with a dated folder and a same-named thumbnail.
    tif = root / "scenes" / "2022-07-14" / "scene_a.tif"
    tif.parent.mkdir(parents=True)
    with rasterio.open(
        tif,
        "w",
        driver="GTiff",
        width=40,
        height=20,
        count=1,
        dtype="uint8",
        crs="EPSG:4326",
        transform=from_origin(10.0, 50.0, 0.05, 0.05),
        nodata=255,
    ) as dst:
        dst.write(np.ones((1, 20, 40), "uint8"))
    (tif.parent / "scene_a.png").write_bytes(b"\x89PNG fake thumbnail")
    # A NetCDF granule with ACDD attributes only (no tracks, no lat/lon arrays).
    granule = xr.Dataset(
        {"sst": (("t",), np.zeros(4, "float32"))},
        attrs={
            "short_name": "SST_L2",
            "time_coverage_start": "2020-05-01T00:00:00Z",
            "time_coverage_end": "2020-05-01T00:05:00Z",
            "geospatial_lat_min": -10.0,
            "geospatial_lat_max": 5.0,
            "geospatial_lon_min": 170.0,
            "geospatial_lon_max": -175.0,
        },
    )
    (root / "granules").mkdir()
    granule.to_netcdf(root / "granules" / "SST_L2_20200501.nc", engine="h5netcdf")
    return root


def test_generic_products(archive: Path, tmp_path: Path) -> None:
    report = ingest(archive, tmp_path / "catalog")
    assert report.skipped == ()
    with open_catalog(tmp_path / "catalog") as store:
        items = all_items(store)
    assert sorted(items) == [
        ("SST_L2", "SST_L2_20200501"),
        ("cubes", "ndvi_2021"),
        ("scenes", "scene_a"),
    ]

    cube = items[("cubes", "ndvi_2021")]["properties"]
    assert (cube["start_datetime"], cube["end_datetime"]) == (
        "2021-01-15T08:30:00Z",
        "2021-06-30T23:59:00Z",
    )
    assert cube["proj:code"] == "EPSG:32633" and cube["proj:shape"] == [10, 20]
    assert cube["proj:bbox"] == [500_000.0, 5_999_700.0, 500_600.0, 6_000_000.0]
    assert cube["cube:variables"]["ndvi"]["dimensions"] == ["time", "y", "x"]
    asset = items[("cubes", "ndvi_2021")]["assets"]["data"]
    assert asset["href"] == "cubes/ndvi_2021.zarr" and asset["type"] == "application/vnd+zarr"
    assert asset["xarray:open_kwargs"] == {"engine": "zarr", "consolidated": False}

    scene = items[("scenes", "scene_a")]
    assert scene["properties"]["datetime"] == "2022-07-14T00:00:00Z"
    assert scene["bbox"] == pytest.approx([10.0, 49.0, 12.0, 50.0])
    assert scene["properties"]["proj:code"] == "EPSG:4326"
    assert scene["assets"]["data"]["type"] == "image/tiff; application=geotiff"  # not tiled
    assert scene["assets"]["data"]["raster:bands"] == [
        {"data_type": "uint8", "nodata": 255, "spatial_resolution": 0.05}
    ]
    assert scene["assets"]["thumbnail"]["href"] == "scenes/2022-07-14/scene_a.png"
    assert scene["assets"]["thumbnail"]["roles"] == ["thumbnail"]

    granule = items[("SST_L2", "SST_L2_20200501")]
    assert granule["properties"]["start_datetime"] == "2020-05-01T00:00:00Z"
    assert granule["properties"]["end_datetime"] == "2020-05-01T00:05:00Z"
    assert granule["assets"]["data"]["type"] == "application/netcdf"
    # Its box crosses the antimeridian: two polygons, bbox west > east.
    assert granule["bbox"] == [170.0, -10.0, -175.0, 5.0]
    shape = shapely.geometry.shape(granule["geometry"])
    assert shape.geom_type == "MultiPolygon"
    assert shape.contains(shapely.Point(179, 0)) and shape.contains(shapely.Point(-179, 0))
    assert not shape.contains(shapely.Point(0, 0))
