"""open_dataset: every format over local paths, http and s3; detection; STAC inputs; CRS."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pystac
import pytest
import xarray as xr

from eoaccess.errors import InvalidInputError, NotFoundError
from eoaccess.readers import detect_format, open_dataset, open_info
from eoaccess.transfer import S3Options, TransferConfig
from tests.harness.http import RangeHTTPServer
from tests.readers.conftest import (
    ITSLIVE_CUBE,
    KAGUYA_ID,
    Formats,
    S3Formats,
    grid_dataset,
    start_redirecting_server,
)

GRID_FILES = [
    "v2c.zarr",
    "v2.zarr",
    "v3c.zarr",
    "v3.zarr",
    "cube_without_suffix",
    "grid.nc",
    "grid.h5",
]


def _check_grid(ds: xr.Dataset) -> None:
    expected = grid_dataset()
    np.testing.assert_array_equal(ds["v"].values, expected["v"].values)
    np.testing.assert_array_equal(ds["x"].values, expected["x"].values)
    assert ds["time"].dtype == np.dtype("datetime64[ns]")
    assert ds["dt"].dtype == np.dtype("timedelta64[ns]")  # CF "days" decoded
    assert ds["dt"].values[0] == np.timedelta64(36, "h")
    assert "mapping" in ds.coords  # decode_coords="all"
    assert ds.rio.crs.to_epsg() == 32610  # from CF parameters only


@pytest.mark.parametrize("name", GRID_FILES)
def test_local_formats(formats: Formats, name: str) -> None:
    ds = open_dataset(formats.path(name))
    _check_grid(ds)
    info = open_info(ds)
    assert info is not None
    assert info.format == ("zarr" if "zarr" in name or "suffix" in name else "hdf5")


@pytest.mark.parametrize("name", GRID_FILES)
def test_http_formats(formats_http: RangeHTTPServer, name: str) -> None:
    ds = open_dataset(f"{formats_http.url}/{name}")
    _check_grid(ds)
    assert open_info(ds).io().remote  # type: ignore[union-attr]


@pytest.mark.s3
@pytest.mark.parametrize("name", GRID_FILES)
def test_s3_formats(formats_s3: S3Formats, name: str) -> None:
    config = TransferConfig(s3=S3Options(endpoint_url=formats_s3.server.endpoint))
    ds = open_dataset(formats_s3.url(name), config=config)
    _check_grid(ds)


def test_netcdf_classic_local_and_http(formats: Formats, formats_http: RangeHTTPServer) -> None:
    for href in (formats.path("classic.nc"), f"{formats_http.url}/classic.nc"):
        ds = open_dataset(href)
        assert open_info(ds).format == "netcdf3"  # type: ignore[union-attr]
        np.testing.assert_array_equal(ds["v"].values, grid_dataset()["v"].values)
        assert ds.rio.crs.to_epsg() == 32610


def test_detection_reads_content_not_names(formats: Formats) -> None:
    assert detect_format(formats.path("grid.nc")) == "hdf5"  # NetCDF-4 is HDF5
    assert detect_format(formats.path("classic.nc")) == "netcdf3"
    assert detect_format(formats.path("userblock.h5")) == "hdf5"  # signature at offset 512
    assert detect_format(formats.path("cog.tif")) == "geotiff"
    assert detect_format(formats.path("cube_without_suffix")) == "zarr"
    assert detect_format(formats.path("v3.zarr")) == "zarr"
    ds = open_dataset(formats.path("userblock.h5"))
    assert ds["values"].values.tolist() == list(range(10))  # no dimension scales: phony dims


def test_bad_inputs_are_clear_errors(
    formats: Formats, formats_http: RangeHTTPServer, tmp_path: Path
) -> None:
    with pytest.raises(InvalidInputError, match="unknown data format"):
        open_dataset(formats.path("notes.txt"))
    with pytest.raises(NotFoundError, match="does not exist"):
        open_dataset(formats.path("missing.nc"))
    with pytest.raises(NotFoundError, match="does not exist"):
        open_dataset(f"{formats_http.url}/missing.nc")
    with pytest.raises(InvalidInputError, match="directory without Zarr metadata"):
        open_dataset(tmp_path)
    with pytest.raises(InvalidInputError, match="unknown engine 'grib'"):
        open_dataset(formats.path("grid.nc"), engine="grib")
    with pytest.raises(InvalidInputError, match="unsupported URL scheme 'ftp'"):
        open_dataset("ftp://example.org/x.nc")
    with pytest.raises(InvalidInputError, match="GeoTIFF, which has no groups"):
        open_dataset(formats.path("cog.tif"), group="a")
    corrupt = tmp_path / "corrupt.h5"
    corrupt.write_bytes(b"\x89HDF\r\n\x1a\n" + b"\x00" * 100)
    with pytest.raises(InvalidInputError, match=r"cannot read .*corrupt\.h5 as HDF5"):
        open_dataset(corrupt)


def test_engine_forces_a_reader(formats: Formats) -> None:
    ds = open_dataset(formats.path("grid.nc"), engine="netcdf4")  # alias of the HDF5 reader
    assert open_info(ds).format == "hdf5"  # type: ignore[union-attr]


def test_groups_in_netcdf4(formats: Formats, formats_http: RangeHTTPServer) -> None:
    for href in (formats.path("groups.nc"), f"{formats_http.url}/groups.nc"):
        ds = open_dataset(href, group="beam2/heights")
        assert ds.sizes["delta_time"] == 500_000
        assert ds["delta_time"].dtype == np.dtype("datetime64[ns]")
        assert {"lat", "lon"} <= set(ds.coords)
        with pytest.raises(
            NotFoundError, match=r"no group 'beam3' \(groups: beam1/heights, beam2/heights"
        ):
            open_dataset(href, group="beam3")


def test_atl03_heights_group(tiny_archive: Path, http_server: RangeHTTPServer) -> None:
    granule = next((tiny_archive / "atl03").rglob("*.h5"))
    rel = granule.relative_to(tiny_archive).as_posix()
    for href in (granule, f"{http_server.url}/{rel}"):
        ds = open_dataset(href, group="gt1l/heights")
        assert ds["delta_time"].dtype == np.dtype("datetime64[ns]")
        assert {"lat_ph", "lon_ph"} <= set(ds.coords)
        assert "h_ph" in ds.data_vars and ds["signal_conf_ph"].dims == (
            "delta_time",
            "ds_surf_type",
        )
        first = ds["delta_time"].values[0]
        assert np.datetime64("2020-04-26") < first < np.datetime64("2020-04-28")
        assert 39.5 < float(ds["lat_ph"].min()) < float(ds["lat_ph"].max()) < 40.5


def test_itslive_cube_like_the_tutorial(tiny_archive: Path, http_server: RangeHTTPServer) -> None:
    ds = open_dataset(f"{http_server.url}/{ITSLIVE_CUBE}")
    assert ds["date_dt"].dtype == np.dtype("timedelta64[ns]")
    assert ds["mid_date"].dtype == np.dtype("datetime64[ns]")
    assert ds.rio.crs.to_epsg() == 3413
    assert int(ds["mapping"].attrs["spatial_epsg"]) == 3413  # the tutorial's attribute survives
    assert ds["v"].dims == ("mid_date", "y", "x")
    local = xr.open_dataset(tiny_archive / ITSLIVE_CUBE, engine="zarr", decode_timedelta=True)
    np.testing.assert_array_equal(
        ds["v"].isel(mid_date=3).values, local["v"].isel(mid_date=3).values
    )


def test_seed000_http_url_with_a_region_redirect(
    tiny_archive: Path, http_server: RangeHTTPServer
) -> None:
    """The tutorial's errors: xarray picked NetCDF for a .zarr URL, then S3 answered 301."""
    host = http_server.url.removeprefix("http://")
    wrong = start_redirecting_server(host, "its-live-data")
    try:
        ds = open_dataset(f"{wrong.url}/{ITSLIVE_CUBE}")
        assert ds.rio.crs.to_epsg() == 3413
        assert float(ds["v"].isel(mid_date=0, x=0, y=0)) == pytest.approx(
            float(open_dataset(tiny_archive / ITSLIVE_CUBE)["v"].isel(mid_date=0, x=0, y=0)),
            nan_ok=True,
        )
        assert wrong.hits and all(p.startswith("/itslive/") for p in wrong.hits)
    finally:
        wrong.stop()


@pytest.mark.s3
def test_seed000_s3_region_redirect(formats_s3: S3Formats) -> None:
    moto_host = formats_s3.server.endpoint.removeprefix("http://")
    wrong = start_redirecting_server(moto_host, "reader-formats")
    try:
        config = TransferConfig(s3=S3Options(endpoint_url=wrong.url, region="us-east-1"))
        for name in ("v2c.zarr", "v2.zarr"):  # consolidated, and listed through the redirect
            _check_grid(open_dataset(formats_s3.url(name), config=config))
        assert len(wrong.hits) == 1  # the bucket's new location serves everything after
    finally:
        wrong.stop()


def test_geotiff_tags_and_crs(tiny_archive: Path, http_server: RangeHTTPServer) -> None:
    qa = next((tiny_archive / "arps").rglob("*_qa.tif"))
    ds = open_dataset(f"{http_server.url}/{qa.relative_to(tiny_archive).as_posix()}")
    assert ds["band_data"].dims == ("band", "y", "x")
    assert ds.rio.crs.to_epsg() == 32610
    assert "PSScene/" in ds["band_data"].attrs["SCENE_IDS[LAYER_2_VALUE]"]


def _kaguya_item(tiny_archive: Path, realdata: Path) -> dict:
    """The real Kaguya item, its image href pointed at the sample's COG of the same scene."""
    item = json.loads((realdata / "kaguya" / KAGUYA_ID / "item.json").read_text())
    tif = next((tiny_archive / "kaguya").rglob(f"{KAGUYA_ID}.tif"))
    item["assets"]["image"]["href"] = str(tif)
    return item


def test_real_kaguya_item_gives_the_iau_crs(tiny_archive: Path, realdata: Path) -> None:
    item = _kaguya_item(tiny_archive, realdata)
    ds = open_dataset(item)
    assert open_info(ds).target.asset_key == "image"  # type: ignore[union-attr]
    assert ds.rio.crs.to_string() == "IAU_2015:30115"
    assert open_info(ds).target.crs.to_authority() == ("IAU_2015", "30115")  # type: ignore[union-attr]
    assert ds.sizes["x"] == 67 and ds.sizes["y"] == 69


def test_stac_crs_is_attached_when_the_file_has_none(tmp_path: Path) -> None:
    """A Zarr grid without grid mapping gets the item's proj:wkt2 (IAU id kept)."""
    import pyproj

    ds = grid_dataset().drop_vars("mapping")
    del ds["v"].attrs["grid_mapping"]
    ds.to_zarr(tmp_path / "moon.zarr", zarr_format=2, consolidated=True)
    wkt2 = pyproj.CRS("IAU_2015:30115").to_wkt()
    item = {
        "type": "Feature",
        "stac_version": "1.0.0",
        "geometry": None,
        "id": "moon",
        "properties": {"proj:wkt2": wkt2, "datetime": "2009-06-07T12:47:56Z"},
        "assets": {
            "data": {"href": "moon.zarr", "roles": ["data"]},
            "thumbnail": {"href": "t.jpg"},
        },
        "links": [],
    }
    (tmp_path / "item.json").write_text(json.dumps(item))
    for source in (str(tmp_path / "item.json"), pystac.Item.from_file(str(tmp_path / "item.json"))):
        opened = open_dataset(source)
        assert pyproj.CRS(opened["spatial_ref"].attrs["crs_wkt"]).to_authority() == (
            "IAU_2015",
            "30115",
        )
        assert opened.rio.crs is not None
        assert opened["v"].encoding["grid_mapping"] == "spatial_ref"
    asset = pystac.Item.from_file(str(tmp_path / "item.json")).assets["data"]
    assert open_dataset(asset)["spatial_ref"].attrs["crs_wkt"] == wkt2
    code_only = dict(item, properties={"proj:code": "EPSG:32610"})
    code_only["assets"] = {"data": {"href": str(tmp_path / "moon.zarr")}}
    assert open_dataset(code_only).rio.crs.to_epsg() == 32610


def test_item_asset_choice(tmp_path: Path, formats: Formats) -> None:
    shutil.copy(formats.path("grid.nc"), tmp_path / "g.nc")
    base = {
        "type": "Feature",
        "id": "x",
        "properties": {},
        "links": [{"rel": "self", "href": str(tmp_path / "x.json")}],
    }
    by_key = dict(
        base,
        assets={"thumbnail": {"href": "t.png", "roles": ["thumbnail"]}, "image": {"href": "g.nc"}},
    )
    assert open_info(open_dataset(by_key)).target.asset_key == "image"  # type: ignore[union-attr]
    by_type = dict(
        base,
        assets={
            "meta": {"href": "m.xml", "roles": ["metadata"]},
            "b": {"href": "g.nc", "type": "application/x-hdf5"},
        },
    )
    assert open_info(open_dataset(by_type)).target.asset_key == "b"  # type: ignore[union-attr]
    with pytest.raises(NotFoundError, match="no data asset"):
        open_dataset(dict(base, assets={"thumbnail": {"href": "t.png", "roles": ["thumbnail"]}}))
    with pytest.raises(NotFoundError, match="no asset 'nope'"):
        open_dataset(by_key, asset="nope")
    with pytest.raises(InvalidInputError, match="cannot open a int"):
        open_dataset(3)


def test_footprint_catalog_is_not_a_dataset(realdata: Path) -> None:
    with pytest.raises(InvalidInputError, match=r"FeatureCollection .* not a dataset"):
        open_dataset(realdata / "itslive" / "catalog_v02_regions.json")


def test_xarray_options_pass_through(formats: Formats) -> None:
    ds = open_dataset(formats.path("v2c.zarr"), decode_timedelta=False, chunks={})
    assert ds["dt"].dtype == np.dtype("float32")
    assert ds["v"].chunks is not None  # dask-backed


def test_public_names() -> None:
    import eoaccess.readers as readers

    assert set(readers.__all__) == {
        "DEFAULT_OPTIONS",
        "IOReport",
        "OpenInfo",
        "Signature",
        "Target",
        "crs_from_stac",
        "dataset_crs",
        "detect_format",
        "io_report",
        "open_dataset",
        "open_info",
        "readers",
        "register_reader",
        "register_signature",
    }
    assert readers.readers() == ["geotiff", "hdf5", "netcdf3", "zarr"]


@pytest.mark.parametrize("name", ["v2c.zarr", "cog.tif"])
def test_lazy_arrays_pickle_for_distributed_workers(
    formats_http: RangeHTTPServer, name: str
) -> None:
    import pickle

    ds = open_dataset(f"{formats_http.url}/{name}", chunks={})
    var = ds["v"] if "v" in ds else ds["band_data"]
    copy = pickle.loads(pickle.dumps(var))
    np.testing.assert_array_equal(copy.values, var.values)
