"""The sample ITS_LIVE product: catalog and datacubes shaped like the real ones (FORMATS.md §1)."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import xarray as xr
import zarr
from pyproj import CRS, Transformer

from eoaccess.sample import generate_sample
from eoaccess.sample._common import tree_size
from eoaccess.sample.itslive import CUBES, PLANS, SEED_POINT, cube_relpath
from tests.shared_paths import REALDATA

REAL_CATALOG = REALDATA / "itslive" / "catalog_v02_regions.json"
needs_real = pytest.mark.skipif(
    not REAL_CATALOG.exists(), reason="real ITS_LIVE catalog not present"
)
OLD_KEYS = [
    "fill-opacity",
    "fill",
    "roi_percent_coverage",
    "data_epsg",
    "geometry_epsg",
    "datacube_exist",
    "zarr_url",
]
NEW_KEYS = [
    "fill-opacity",
    "fill",
    "roi_percent_coverage",
    "epsg",
    "geometry_epsg",
    "datacube_exist",
    "zarr_url",
    "granule_count",
    "composite_zarr_url",
]
# The 60 data variables of a real v2 cube (mapping included), as the producer's own tests list them.
CUBE_VARIABLES = {
    *(f"{c}_{s}" for c in ("vx", "vy", "va", "vr") for s in ("error", "error_modeled", "error_slow",
                                                              "error_stationary", "stable_shift",
                                                              "stable_shift_slow", "stable_shift_stationary")),
    "v", "vx", "vy", "vr", "va", "v_error",
    "stable_count_slow", "stable_count_stationary", "stable_shift_flag",
    "M11", "M12", "M11_dr_to_vr_factor", "M12_dr_to_vr_factor",
    "date_center", "date_dt", "acquisition_date_img1", "acquisition_date_img2",
    "mission_img1", "mission_img2", "satellite_img1", "satellite_img2", "sensor_img1", "sensor_img2",
    "chip_size_height", "chip_size_width", "interp_mask", "autoRIFT_software_version", "granule_url",
    "landice", "floatingice", "roi_valid_percentage", "mapping",
}  # fmt: skip
VELOCITY_3D = ("v", "vx", "vy", "v_error", "va", "vr", "M11", "M12")
ZLIB = {"id": "blosc", "cname": "zlib", "clevel": 2, "shuffle": 1, "blocksize": 0}
LZ4 = {"id": "blosc", "cname": "lz4", "clevel": 5, "shuffle": 1, "blocksize": 0}
SATELLITE_MISSION = {"7": "L", "8": "L", "9": "L", "1A": "S", "1B": "S", "2A": "S", "2B": "S"}
LIFETIMES = {
    "7": ("1999-05-28", "2022-04-06"),
    "8": ("2013-04-11", "2030-01-01"),
    "9": ("2021-10-31", "2030-01-01"),
    "1A": ("2014-10-03", "2030-01-01"),
    "1B": ("2016-09-26", "2021-12-23"),
    "2A": ("2015-07-04", "2030-01-01"),
    "2B": ("2017-07-06", "2030-01-01"),
}


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Any]:
    dest = tmp_path_factory.mktemp("itslive")
    summary = generate_sample(dest, "tiny", products=["itslive"])
    return dest / "itslive", summary


@pytest.fixture(scope="module")
def root(archive: tuple[Path, Any]) -> Path:
    return archive[0]


@pytest.fixture(scope="module")
def catalog(root: Path) -> dict:
    return json.loads((root / "catalog_v02.json").read_text())


def _cube_paths(root: Path) -> dict[str, Path]:
    return {key: root / cube_relpath(CUBES[key]) for key, *_ in PLANS["tiny"].cubes}


def _open(path: Path) -> xr.Dataset:
    return xr.open_dataset(path, engine="zarr", decode_timedelta=True, decode_coords="all")


@pytest.fixture(scope="module")
def cubes(root: Path) -> dict[str, xr.Dataset]:
    return {key: _open(path).load() for key, path in _cube_paths(root).items()}


def _dir_of(lon: float, lat: float) -> str:
    ns, ew = ("N" if lat >= 0 else "S"), ("E" if lon >= 0 else "W")
    return f"{ns}{int(10 * math.trunc(abs(lat) / 10)):02d}{ew}{int(10 * math.trunc(abs(lon) / 10)):03d}"


def _check_feature(feature: dict) -> tuple[int, int, int]:
    """Assert one catalog feature follows the real catalog's conventions; return (epsg, x, y)."""
    assert list(feature) == ["type", "properties", "geometry"]
    props = feature["properties"]
    keys = [k for k in props if k != "region"]
    assert keys in (OLD_KEYS, NEW_KEYS)
    assert props["fill"] == "red"
    assert isinstance(props["roi_percent_coverage"], float)
    assert props["fill-opacity"] == pytest.approx(
        1.0 - props["roi_percent_coverage"] / 100.0, abs=1e-12
    )
    assert props["datacube_exist"] in (0, 1)
    if "data_epsg" in props:
        assert re.fullmatch(r"EPSG:\d{4,5}", props["data_epsg"])
        epsg = int(props["data_epsg"][5:])
    else:
        assert isinstance(props["epsg"], int) and isinstance(props["granule_count"], int)
        assert isinstance(props["composite_zarr_url"], str)
        epsg = props["epsg"]
    ring = props["geometry_epsg"]["coordinates"][0]
    assert props["geometry_epsg"]["type"] == "Polygon" and len(ring) == 5
    (x0, y0), (x1, _), (_, y1) = ring[0], ring[1], ring[2]
    assert all(isinstance(v, int) for p in ring for v in p)
    assert ring == [[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]
    assert (x1 - x0, y1 - y0) == (100_000, 100_000)
    mid_x, mid_y = (x0 + x1) // 2, (y0 + y1) // 2
    to_ll = Transformer.from_crs(epsg, 4326, always_xy=True)
    lon, lat = to_ll.transform(mid_x, mid_y)
    name = f"{_dir_of(lon, lat)}/ITS_LIVE_vel_EPSG{epsg}_G0120_X{mid_x}_Y{mid_y}.zarr"
    assert props["zarr_url"].endswith("/" + name)
    geometry = feature["geometry"]
    assert geometry["type"] == "Polygon" and len(geometry["coordinates"][0]) == 5
    lonlat = geometry["coordinates"][0]
    if all(abs(abs(p[0]) - 180.0) > 1e-9 for p in lonlat):  # antimeridian tiles are re-ordered
        expected = [[round(c, 6) for c in to_ll.transform(*p)] for p in ring]
        assert lonlat == expected
    return epsg, mid_x, mid_y


# --------------------------------------------------------------------------------------------
# Layout and catalog


def test_layout_and_summary(archive: tuple[Path, Any]) -> None:
    root, summary = archive
    product = summary.products[0]
    assert product.product == "itslive" and product.root == root
    assert (product.files, product.bytes) == tree_size(root)
    assert product.bytes < 5_000_000
    assert sorted(p.name for p in root.iterdir()) == ["catalog_v02.json", "datacubes"]
    assert sorted(str(p.relative_to(root)) for p in root.glob("datacubes/v2/*/*.zarr")) == sorted(
        [
            "datacubes/v2/N60W130/ITS_LIVE_vel_EPSG3413_G0120_X-3250000_Y250000.zarr",
            "datacubes/v2/S40W070/ITS_LIVE_vel_EPSG32718_G0120_X650000_Y4550000.zarr",
            "datacubes/v2/N30E090/ITS_LIVE_vel_EPSG32646_G0120_X750000_Y3350000.zarr",
        ]
    )
    for path in _cube_paths(root).values():
        assert {".zgroup", ".zattrs", ".zmetadata"} <= {p.name for p in path.iterdir()}
    assert product.items == len(json.loads((root / "catalog_v02.json").read_text())["features"])


@needs_real
def test_real_catalog_passes_the_convention_checks() -> None:
    """The checks applied to the sample hold for the real catalog copy."""
    real = json.loads(REAL_CATALOG.read_text())
    assert real["name"] == "catalog_v02"
    for feature in real["features"]:
        _check_feature(feature)


@needs_real
def test_catalog_follows_real_conventions(root: Path, catalog: dict) -> None:
    assert list(catalog) == list(json.loads(REAL_CATALOG.read_text()))
    assert catalog["type"] == "FeatureCollection" and catalog["name"] == "catalog_v02"
    seen = set()
    for feature in catalog["features"]:
        key = _check_feature(feature)
        assert key not in seen
        seen.add(key)
        url = feature["properties"]["zarr_url"]
        assert url.startswith("datacubes/v2/") and "://" not in url
        assert (root / url / ".zmetadata").exists() == (
            feature["properties"]["datacube_exist"] == 1
        )
    exist = [f for f in catalog["features"] if f["properties"]["datacube_exist"] == 1]
    assert len(exist) == 3 and len(catalog["features"]) == 27  # 3 cubes + their 8 neighbours
    styles = {"data_epsg" in f["properties"] for f in catalog["features"]}
    assert styles == {True, False}  # readers must handle both ``epsg`` and ``data_epsg``
    patagonia = next(f for f in exist if "EPSG32718" in f["properties"]["zarr_url"])["properties"]
    assert patagonia["data_epsg"] == "EPSG:32718" and patagonia["region"] == "PAT"
    alaska = next(f for f in exist if "EPSG3413" in f["properties"]["zarr_url"])["properties"]
    assert alaska["epsg"] == 3413 and alaska["granule_count"] == 24 and "region" not in alaska
    assert alaska["roi_percent_coverage"] == 100.0 and alaska["fill-opacity"] == 0.0


@needs_real
def test_catalog_text_is_formatted_like_gdal(root: Path) -> None:
    text = (root / "catalog_v02.json").read_text()
    real = REAL_CATALOG.read_text()
    assert text.splitlines()[:4] == real.splitlines()[:4]
    assert text.endswith("\n]\n}\n") and real.endswith("\n]\n}\n")
    lines = text.splitlines()[4:-2]
    assert all(
        line.startswith('{ "type": "Feature", "properties": { "fill-opacity": ') for line in lines
    )
    assert '"fill": "red", "roi_percent_coverage": 100.0, "epsg": 3413' in text


def test_seed_point_joins_the_alaska_cube(root: Path) -> None:
    """Seed 000's spatial join: read the catalog with geopandas and find the cube of a point."""
    gpd = pytest.importorskip("geopandas")
    from shapely.geometry import Point

    catalog = gpd.read_file(root / "catalog_v02.json")
    point = gpd.GeoDataFrame(
        {"label": ["point"]}, geometry=gpd.GeoSeries([Point(*SEED_POINT)], crs="EPSG:4326")
    )
    hit = catalog.sjoin(point, how="inner")
    assert list(hit["zarr_url"]) == [
        "datacubes/v2/N60W130/ITS_LIVE_vel_EPSG3413_G0120_X-3250000_Y250000.zarr"
    ]
    assert int(hit["datacube_exist"].iloc[0]) == 1
    ds = _open(root / hit["zarr_url"].iloc[0])
    x, y = Transformer.from_crs(4326, ds.mapping.attrs["spatial_epsg"], always_xy=True).transform(
        *SEED_POINT
    )
    assert ds.x.min() <= x <= ds.x.max() and ds.y.min() <= y <= ds.y.max()
    series = ds.v.sel(x=x, y=y, method="nearest")
    assert series.notnull().sum() >= 15 and float(series.median()) > 300  # on a fast glacier


# --------------------------------------------------------------------------------------------
# Zarr encodings


def _zarray(meta: dict, name: str) -> dict:
    return meta["metadata"][f"{name}/.zarray"]


def _zattrs(meta: dict, name: str) -> dict:
    return meta["metadata"][f"{name}/.zattrs"]


@pytest.mark.parametrize("key", ["alaska", "patagonia", "hma"])
def test_zarray_encodings_match_formats(root: Path, key: str) -> None:
    path = _cube_paths(root)[key]
    meta = json.loads((path / ".zmetadata").read_text())
    assert meta["zarr_consolidated_format"] == 1
    names = {k.split("/")[0] for k in meta["metadata"] if "/" in k}
    assert names == CUBE_VARIABLES | {"mid_date", "x", "y"}
    for name in names:  # consolidated metadata equals the per-array documents
        assert json.loads((path / name / ".zarray").read_text()) == _zarray(meta, name)
        assert json.loads((path / name / ".zattrs").read_text()) == _zattrs(meta, name)
    n = _zarray(meta, "mid_date")["shape"][0]
    ny, nx = _zarray(meta, "landice")["shape"]
    assert (ny, nx) == (40, 40)

    def check(
        name: str, dtype: str, chunks: list[int], compressor: dict, fill: Any, dims: list[str]
    ) -> None:
        za = _zarray(meta, name)
        assert (za["zarr_format"], za["dtype"], za["chunks"], za["compressor"]) == (
            2,
            dtype,
            chunks,
            compressor,
        )
        assert za["fill_value"] == fill and za["filters"] is None and za["order"] == "C"
        assert _zattrs(meta, name)["_ARRAY_DIMENSIONS"] == dims

    dims3 = ["mid_date", "y", "x"]
    for name in VELOCITY_3D:
        check(name, "<i2", [n, 10, 10], ZLIB, -32767, dims3)
        assert _zattrs(meta, name)["grid_mapping"] == "mapping"
    for name in ("v", "vx", "vy", "v_error", "va", "vr"):
        assert _zattrs(meta, name)["units"] == "meter/year"
    check("interp_mask", "|u1", [n, 10, 10], LZ4, 0, dims3)
    check("chip_size_height", "<u2", [n, 10, 10], LZ4, 0, dims3)
    check("chip_size_width", "<u2", [n, 10, 10], LZ4, 0, dims3)
    for comp in ("vx", "vy", "va", "vr"):
        check(f"{comp}_error", "<f4", [n], ZLIB, -32767.0, ["mid_date"])
        check(f"{comp}_stable_shift_slow", "<f4", [n], ZLIB, -32767.0, ["mid_date"])
    check("M11_dr_to_vr_factor", "<f4", [n], ZLIB, 0.0, ["mid_date"])
    for name in ("mid_date", "acquisition_date_img1", "acquisition_date_img2", "date_center"):
        check(name, "<f8", [n], LZ4, "NaN", ["mid_date"])
        assert _zattrs(meta, name)["units"] == "days since 1970-01-01"
    check("date_dt", "<f4", [n], LZ4, "NaN", ["mid_date"])
    assert _zattrs(meta, "date_dt")["units"] == "days"
    check("roi_valid_percentage", "<f4", [n], LZ4, "NaN", ["mid_date"])
    for k in (1, 2):
        check(f"satellite_img{k}", "<U2", [n], LZ4, None, ["mid_date"])
        check(f"mission_img{k}", "<U1", [n], LZ4, None, ["mid_date"])
    check("granule_url", "<U1024", [n], LZ4, None, ["mid_date"])
    check("stable_shift_flag", "|u1", [n], LZ4, None, ["mid_date"])
    check("x", "<f8", [nx], ZLIB, "NaN", ["x"])
    check("y", "<f8", [ny], ZLIB, "NaN", ["y"])
    for name in ("landice", "floatingice"):
        check(name, "|u1", [ny, nx], ZLIB, 255, ["y", "x"])
        attrs = _zattrs(meta, name)
        assert attrs["flag_values"] == [0, 1] and attrs["missing_value"] == 255
    check("mapping", "<U1", [], LZ4, None, [])


@pytest.mark.parametrize("key", ["alaska", "patagonia", "hma"])
def test_mapping_and_global_attributes(root: Path, cubes: dict[str, xr.Dataset], key: str) -> None:
    spec = CUBES[key]
    ds = cubes[key]
    assert "mapping" in ds.coords  # decode_coords="all" follows grid_mapping
    m = ds.mapping.attrs
    assert m["spatial_epsg"] == spec.epsg and CRS.from_wkt(m["crs_wkt"]).to_epsg() == spec.epsg
    assert CRS.from_wkt(m["spatial_ref"]).to_epsg() == spec.epsg
    assert CRS.from_proj4(m["proj4text"]).equals(CRS.from_epsg(spec.epsg), ignore_axis_order=True)
    if spec.epsg == 3413:
        assert m["grid_mapping_name"] == "polar_stereographic"
        assert (m["straight_vertical_longitude_from_pole"], m["standard_parallel"]) == (-45.0, 70.0)
    else:
        assert m["grid_mapping_name"] == "universal_transverse_mercator"
        assert m["utm_zone_number"] == spec.epsg % 100
    x0, y0 = float(ds.x[0]), float(ds.y[0])
    assert m["GeoTransform"] == f"{x0 - 60} 120 0 {y0 + 60} 0 -120"
    g = ds.attrs
    assert g["Conventions"] == "CF-1.8" and g["projection"] == str(spec.epsg)
    assert g["title"] == "ITS_LIVE datacube of image pair velocities"
    name = cube_relpath(spec).split("/", 2)[2]
    assert g["url"] == f"https://its-live-data.s3.amazonaws.com/datacubes/v2/{name}"
    assert g["s3"] == f"s3://its-live-data/datacubes/v2/{name}"
    proj = json.loads(g["proj_polygon"])
    assert len(proj) == 17 and proj[0] == proj[-1] == [spec.mid_x - 50_000.0, spec.mid_y - 50_000.0]
    geo = json.loads(g["geo_polygon"])
    to_ll = Transformer.from_crs(spec.epsg, 4326, always_xy=True)
    assert geo[8] == pytest.approx(list(to_ll.transform(*proj[8])), abs=1e-6)
    lon, lat = to_ll.transform(spec.mid_x, spec.mid_y)
    assert (g["longitude"], g["latitude"]) == (round(lon, 2), round(lat, 2))
    assert g["date_created"] == "25-Sep-2023 22:00:23"


# --------------------------------------------------------------------------------------------
# Decoded contents


@pytest.mark.parametrize("key", ["alaska", "patagonia", "hma"])
def test_xarray_decodes_times_and_grid(cubes: dict[str, xr.Dataset], key: str) -> None:
    spec = CUBES[key]
    ds = cubes[key]
    n = {k: n for k, n, _ in PLANS["tiny"].cubes}[key]
    assert dict(ds.sizes) == {"mid_date": n, "y": 40, "x": 40}
    assert ds.mid_date.dtype.kind == "M" and ds.date_dt.dtype.kind == "m"
    assert ds.acquisition_date_img1.dtype.kind == "M" and ds.date_center.dtype.kind == "M"
    mid = ds.mid_date.values
    assert np.unique(mid).size == n and not (np.diff(mid.astype(np.int64)) > 0).all()
    np.testing.assert_array_equal(np.diff(ds.x.values), 120.0)
    np.testing.assert_array_equal(np.diff(ds.y.values), -120.0)
    # Cell centres of the 120 m grid of the 100 km tile.
    assert ((ds.x.values - (spec.mid_x - 50_000) - 60) % 120 == 0).all()
    assert ((spec.mid_y + 50_000 - ds.y.values - 60) % 120 == 0).all()
    assert spec.mid_x - 50_000 < ds.x.min() and ds.x.max() < spec.mid_x + 50_000
    # date_dt and the centre date follow the acquisitions; mid_date adds img1's YYMMDD in microseconds.
    t1, t2 = ds.acquisition_date_img1.values, ds.acquisition_date_img2.values
    assert (t1 < t2).all()
    np.testing.assert_allclose(
        (t2 - t1) / np.timedelta64(1, "s"), ds.date_dt.values / np.timedelta64(1, "s"), atol=2
    )
    centre = t1 + (t2 - t1) / 2
    assert (np.abs((ds.date_center.values - centre) / np.timedelta64(1, "ms")) < 1).all()
    token = np.array([int(str(t)[2:10].replace("-", "")) for t in t1.astype("datetime64[D]")])
    offset_us = (mid - ds.date_center.values) / np.timedelta64(1, "us")
    np.testing.assert_allclose(offset_us, token, atol=1)


@pytest.mark.parametrize("key", ["alaska", "patagonia", "hma"])
def test_missions_satellites_and_dates_agree(cubes: dict[str, xr.Dataset], key: str) -> None:
    ds = cubes[key]
    s1, s2 = ds.satellite_img1.values, ds.satellite_img2.values
    assert set(s1) | set(s2) <= set(SATELLITE_MISSION)
    for k, sats in ((1, s1), (2, s2)):
        assert [SATELLITE_MISSION[s] for s in sats] == list(ds[f"mission_img{k}"].values)
        times = ds[f"acquisition_date_img{k}"].values
        for sat, t in zip(sats, times, strict=True):
            start, end = LIFETIMES[sat]
            assert np.datetime64(start) <= t <= np.datetime64(end)
    # Pairs are made within one constellation (Landsat, Sentinel-1 or Sentinel-2).
    assert [a[0] if a[0] in "12" else "L" for a in s1] == [
        b[0] if b[0] in "12" else "L" for b in s2
    ]
    dt = ds.date_dt.values / np.timedelta64(1, "D")
    days = np.round(dt)
    repeat = {"L": 8, "1": 6, "2": 5}
    for a, b, d in zip(s1, s2, days, strict=True):
        family = a[0] if a[0] in "12" else "L"
        assert d % repeat[family] == 0, (a, b, d)
    assert set(s1) >= {"1A", "2A"} or set(s1) >= {"1B", "2B"} or "1A" in set(s1) | set(s2)
    families = {a[0] if a[0] in "12" else "L" for a in s1}
    assert families == {"L", "1", "2"}


@pytest.mark.parametrize("key", ["alaska", "patagonia", "hma"])
def test_granule_urls_follow_real_naming(cubes: dict[str, xr.Dataset], key: str) -> None:
    ds = cubes[key]
    directory = cube_relpath(CUBES[key]).split("/")[2]
    landsat = r"L[EC]0[789]_L1(TP|GT)_\d{6}_(\d{8})_\d{8}_02_T[12]"
    sentinel2 = r"S2[AB]_MSIL1C_(\d{8})T\d{6}_N\d{4}_R\d{3}_T\d{2}[A-Z]{3}_\d{8}T\d{6}"
    sentinel1 = r"S1[AB]_IW_SLC__1SDH_(\d{8})T\d{6}_\d{8}T\d{6}_\d{6}_[0-9A-F]{6}_[0-9A-F]{4}"
    family = {
        "L": ("landsatOLI", landsat),
        "1": ("sentinel1", sentinel1),
        "2": ("sentinel2", sentinel2),
    }
    for k in range(ds.sizes["mid_date"]):
        url = str(ds.granule_url.values[k])
        sat = str(ds.satellite_img1.values[k])
        folder, scene = family[sat[0] if sat[0] in "12" else "L"]
        m = re.fullmatch(
            rf"https://its-live-data\.s3\.amazonaws\.com/velocity_image_pair/{folder}/v02/{directory}/"
            rf"(?P<a>{scene})_X_(?P<b>{scene})_G0120V02_P(?P<p>\d{{3}})\.nc",
            url,
        )
        assert m, url
        day1 = str(ds.acquisition_date_img1.values[k])[:10].replace("-", "")
        day2 = str(ds.acquisition_date_img2.values[k])[:10].replace("-", "")
        assert day1 in m.group("a") and day2 in m.group("b")
        assert int(m.group("p")) == round(float(ds.roi_valid_percentage.values[k]))


def test_velocity_field_is_a_flowing_glacier(cubes: dict[str, xr.Dataset]) -> None:
    ds = cubes["alaska"]
    ice = ds.landice == 1
    assert 0.3 < float(ice.mean()) < 1.0  # the window holds glacier and its margin
    v_ice = float(ds.v.where(ice).median())
    v_rock = float(ds.v.where(~ice).median())
    assert v_ice > 500 and v_rock < 60
    # Stored rounded from the same float field: magnitude and components agree within rounding.
    assert float(np.abs(np.hypot(ds.vx, ds.vy) - ds.v).max()) <= 1.25
    missing = ds.v.isnull()
    for name in ("vx", "vy", "v_error", "chip_size_width", "chip_size_height"):
        assert (ds[name].isnull() == missing).all(), name
    assert not (ds.interp_mask.notnull() & missing).any()
    # Every stored layer has data in the cube (the producer skips empty granules).
    assert (ds.v.notnull().sum(("x", "y")) > 0).all()
    # Noise falls with the pair's time separation: the spread on rock follows vx_error.
    spread = ds.vx.where(~ice).std(("x", "y"))
    ok = spread.notnull()
    assert np.corrcoef(spread[ok], ds.vx_error[ok])[0, 1] > 0.9
    assert float(ds.vx_error.min()) > 0
    # The seasonal speed-up (spring) shows in the median ice speed of the layers.
    dt = ds.date_dt / np.timedelta64(1, "D")
    doy = ds.date_center.dt.dayofyear
    expected = np.cos(2 * np.pi * (doy - 140) / 365.25) * np.sinc(dt / 365.25)
    median = ds.v.where(ice).median(("x", "y"))
    ok = median.notnull()
    assert np.corrcoef(median[ok], expected[ok])[0, 1] > 0.6


def test_radar_variables_only_on_sentinel1(cubes: dict[str, xr.Dataset]) -> None:
    for ds in cubes.values():
        radar = np.isin(ds.satellite_img1.values, ["1A", "1B"])
        assert radar.any()
        for name in ("va", "vr", "M11", "M12"):
            assert not ds[name].isel(mid_date=~radar).notnull().any()
            assert ds[name].isel(mid_date=radar).notnull().any()
        for name in ("va_error", "vr_stable_shift", "M11_dr_to_vr_factor"):
            assert (
                ds[name].isel(mid_date=~radar).isnull().all()
                and ds[name].isel(mid_date=radar).notnull().all()
            )
        r = ds.isel(mid_date=radar)
        # Azimuth/range components are a rotation of vx/vy, and vr = (M11 vx + M12 vy) * factor.
        assert (
            float(np.abs(np.hypot(r.va, r.vr) - np.hypot(r.vx, r.vy)).max()) <= 1.5
        )  # 4 roundings
        dr = (r.M11 * r.vx + r.M12 * r.vy) * r.M11_dr_to_vr_factor
        assert float(np.abs(dr - r.vr).max()) <= 0.01 * float(np.abs(r.vr).max()) + 2


def test_ice_masks_are_consistent(cubes: dict[str, xr.Dataset]) -> None:
    for ds in cubes.values():
        for name in ("landice", "floatingice"):
            assert set(np.unique(ds[name].values)) <= {0.0, 1.0}
        assert not ((ds.landice == 1) & (ds.floatingice == 1)).any()
    pat = cubes["patagonia"]
    floating = pat.floatingice == 1
    assert 0.05 < float(floating.mean()) < 0.6  # a calving tongue afloat in its lake
    assert float(pat.v.where(floating).median()) > 1000  # it keeps flowing fast
    land = (pat.landice == 0) & (pat.floatingice == 0)
    lake = land & pat.v.isnull().all("mid_date")
    assert lake.any()  # open lake water: outside the region of interest, never measured


def test_roi_valid_percentage_counts_valid_pixels(cubes: dict[str, xr.Dataset]) -> None:
    for ds in cubes.values():
        pct = ds.roi_valid_percentage.values
        assert ((pct > 0) & (pct <= 100)).all()
        ratio = ds.v.notnull().sum(("x", "y")).values / pct
        np.testing.assert_allclose(ratio, ratio[0], rtol=1e-5)  # valid pixels / ROI pixels * 100


def test_zarr_reads_the_raw_chunks(root: Path) -> None:
    """zarr-python reads the chunk files; absent chunks read as the fill value."""
    path = _cube_paths(root)["patagonia"]
    group = zarr.open_group(path, mode="r")
    raw = xr.open_dataset(path, engine="zarr", mask_and_scale=False, decode_times=False)
    for name in ("v", "va", "interp_mask", "chip_size_width", "granule_url", "landice"):
        np.testing.assert_array_equal(group[name][...], raw[name].values)
    n = raw.sizes["mid_date"]
    assert group["v"].chunks == (n, 10, 10)
    chunk_files = {p.name for p in (path / "v").iterdir()} - {".zarray", ".zattrs"}
    assert chunk_files <= {f"0.{j}.{i}" for j in range(4) for i in range(4)}
    assert len(chunk_files) >= 12  # lake-only chunks may be absent, glacier ones are stored


def test_deterministic(root: Path, tmp_path: Path) -> None:
    again = generate_sample(tmp_path / "a", "tiny", products=["itslive"]).products[0].root
    files = sorted(p.relative_to(root) for p in root.rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(again) for p in again.rglob("*") if p.is_file())
    for rel in files:
        assert (root / rel).read_bytes() == (again / rel).read_bytes(), rel
    other = generate_sample(tmp_path / "b", "tiny", products=["itslive"], seed=1).products[0].root
    rel = Path(cube_relpath(CUBES["alaska"])) / "granule_url" / "0"
    assert (other / rel).read_bytes() != (root / rel).read_bytes()


def test_plans_keep_the_real_grid_where_promised() -> None:
    assert all(key in CUBES for plan in PLANS.values() for key, *_ in plan.cubes)
    assert {grid for _, _, grid in PLANS["tiny"].cubes} == {40}
    assert PLANS["small"].cubes[0][0] == "alaska" and PLANS["small"].cubes[0][2] is None
    assert all(grid is None for plan in ("default", "large") for *_, grid in PLANS[plan].cubes)


def test_column_blocks_assemble_into_one_cube(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Cubes with many layers are synthesised in blocks narrower than a row: keys still line up."""
    from eoaccess.sample import itslive

    monkeypatch.setattr(itslive, "BLOCK_VALUES", 24 * 10 * 20)  # 2 chunk columns per block
    root = generate_sample(tmp_path, "tiny", products=["itslive"]).products[0].root
    ds = _open(root / cube_relpath(CUBES["alaska"])).load()
    chunk_files = {p.name for p in (root / cube_relpath(CUBES["alaska"]) / "v").iterdir()}
    assert {f"0.{j}.{i}" for j in range(4) for i in range(4)} <= chunk_files
    valid = ds.v.notnull().sum(("x", "y")).values
    ratio = valid / ds.roi_valid_percentage.values
    np.testing.assert_allclose(ratio, ratio[0], rtol=1e-5)
    assert (valid > 0).all() and float(ds.v.where(ds.landice == 1).median()) > 500
