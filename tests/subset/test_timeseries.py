"""Point time series: nearest cell in the cube's CRS, tidy rows sorted by time, narrow reads."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pyproj
import pytest
import xarray as xr

from eoaccess.cli import main
from eoaccess.errors import InvalidInputError
from eoaccess.timeseries import parse_points, plot_timeseries, timeseries, write_timeseries
from tests.harness.http import RangeHTTPServer
from tests.subset.conftest import ALASKA, PATAGONIA, SEED_POINT


def _reference(cube: Path, lon: float, lat: float, epsg: int) -> tuple[int, int, xr.Dataset]:
    """Nearest cell by brute force over every cell centre, and the cube opened plainly."""
    ds = xr.open_dataset(cube, engine="zarr", decode_coords="all", decode_timedelta=True)
    x, y = pyproj.Transformer.from_crs(4326, epsg, always_xy=True).transform(lon, lat)
    xx, yy = np.meshgrid(ds.x.values, ds.y.values)
    j, i = np.unravel_index(np.argmin((xx - x) ** 2 + (yy - y) ** 2), xx.shape)
    return int(i), int(j), ds


def test_seed_point_matches_brute_force_nearest_cell(alaska_cube: Path) -> None:
    frame = timeseries(alaska_cube, [SEED_POINT], ["v", "vx"])
    i, j, ds = _reference(alaska_cube, *SEED_POINT, 3413)
    expected = ds[["v", "vx"]].isel(x=i, y=j).sortby("mid_date")

    assert list(frame.columns) == [
        "point",
        "requested_lon",
        "requested_lat",
        "lon",
        "lat",
        "x",
        "y",
        "offset_m",
        "mid_date",
        "v",
        "vx",
    ]
    assert len(frame) == ds.sizes["mid_date"] == 24
    assert (frame["x"] == ds.x.values[i]).all() and (frame["y"] == ds.y.values[j]).all()
    # mid_date is stored unsorted; the series is sorted.
    assert not np.all(np.diff(ds.mid_date.values).astype(np.int64) > 0)
    assert np.all(np.diff(frame["mid_date"].values).astype(np.int64) > 0)
    np.testing.assert_array_equal(frame["mid_date"].values, expected.mid_date.values)
    np.testing.assert_array_equal(frame["v"].values, expected.v.values)
    np.testing.assert_array_equal(frame["vx"].values, expected.vx.values)
    # Fill values (-32767) come back as NaN, never as numbers.
    assert frame["v"].isna().sum() == int(np.isnan(expected.v.values).sum()) > 0
    assert frame["v"].min() > -1000

    lon, lat = pyproj.Transformer.from_crs(3413, 4326, always_xy=True).transform(
        ds.x.values[i], ds.y.values[j]
    )
    assert frame["lon"].iloc[0] == pytest.approx(lon, abs=1e-9)
    assert frame["lat"].iloc[0] == pytest.approx(lat, abs=1e-9)
    distance = pyproj.Geod(ellps="WGS84").inv(*SEED_POINT, lon, lat)[2]
    assert frame["offset_m"].iloc[0] == pytest.approx(distance, rel=1e-9)
    assert 0 < distance < 120 * np.sqrt(2) / 2 * 1.1  # within half a (distorted) cell diagonal
    assert frame.attrs["crs"] == "EPSG:3413"
    assert frame.attrs["units"]["v"] == "meter/year"


def test_utm_cube_and_several_points(tiny_archive: Path) -> None:
    cube = tiny_archive / PATAGONIA
    ds = xr.open_dataset(cube, engine="zarr", decode_coords="all")
    x0, y0 = ds.x.values[[5, 30]], ds.y.values[[7, 22]]
    lon, lat = pyproj.Transformer.from_crs(32718, 4326, always_xy=True).transform(x0, y0)
    frame = timeseries(cube, list(zip(lon, lat, strict=True)), "v")
    assert sorted(frame["point"].unique()) == [0, 1]
    for k in (0, 1):
        rows = frame[frame["point"] == k]
        assert (rows["x"] == x0[k]).all() and (rows["y"] == y0[k]).all()
        assert rows["offset_m"].max() < 0.01  # requested exactly at the cell centre
        expected = ds.v.isel(x=[5, 30][k], y=[7, 22][k]).sortby("mid_date").values
        np.testing.assert_array_equal(rows["v"].values, expected)


def test_per_time_and_static_variables_are_columns(alaska_cube: Path) -> None:
    frame = timeseries(alaska_cube, SEED_POINT, ["v", "date_dt", "satellite_img1", "landice"])
    i, j, ds = _reference(alaska_cube, *SEED_POINT, 3413)
    order = np.argsort(ds.mid_date.values)
    np.testing.assert_array_equal(frame["date_dt"].values, ds.date_dt.values[order])
    assert list(frame["satellite_img1"]) == list(ds.satellite_img1.values[order])
    assert frame["landice"].nunique() == 1
    assert frame["landice"].iloc[0] == ds.landice.values[j, i]


def test_include_errors_adds_companions(alaska_cube: Path) -> None:
    frame = timeseries(alaska_cube, SEED_POINT, "v,vx", include_errors=True)
    assert frame.attrs["variables"] == ["v", "vx", "v_error", "vx_error"]


def test_point_read_touches_one_chunk_per_variable(http_server: RangeHTTPServer) -> None:
    url = f"{http_server.url}/{ALASKA}"
    first = len(http_server.log)
    frame = timeseries(url, [SEED_POINT], ["v", "vx", "v_error"])
    assert len(frame) == 24
    chunk = re.compile(r"\.zarr/([^/]+)/(\d+(?:\.\d+)*)$")
    reads: dict[str, list[str]] = {}
    for record in http_server.log[first:]:
        match = chunk.search(record.path)
        if match:
            reads.setdefault(match.group(1), []).append(match.group(2))
    three_d = {k: v for k, v in reads.items() if "." in v[0]}
    # One chunk of each asked-for 3-D variable, and no chunk of any other 3-D variable.
    assert sorted(three_d) == ["v", "v_error", "vx"]
    assert all(len(keys) == 1 for keys in three_d.values()), three_d
    assert len({keys[0] for keys in three_d.values()}) == 1


def test_points_in_two_chunks_read_two_chunks(http_server: RangeHTTPServer) -> None:
    url = f"{http_server.url}/{ALASKA}"
    ds = xr.open_dataset(url, engine="zarr")
    lon, lat = pyproj.Transformer.from_crs(3413, 4326, always_xy=True).transform(
        ds.x.values[[1, 2, 35]], ds.y.values[[1, 3, 35]]
    )
    first = len(http_server.log)
    timeseries(url, list(zip(lon, lat, strict=True)), ["v"])
    keys = sorted(r.path.rsplit("/", 1)[-1] for r in http_server.log[first:] if "/v/" in r.path)
    assert keys == ["0.0.0", "0.3.3"]


def test_errors_are_clear(alaska_cube: Path) -> None:
    with pytest.raises(
        InvalidInputError, match=r"the point -130,60 is outside the data \(extent -139"
    ):
        timeseries(alaska_cube, [(-130, 60)], "v")
    with pytest.raises(InvalidInputError, match=r"unknown variable 'speed' .* available: .*\bv\b"):
        timeseries(alaska_cube, [SEED_POINT], "v,speed")
    with pytest.raises(InvalidInputError, match="point"):
        parse_points("1,2,3")
    with pytest.raises(InvalidInputError, match="outside lon"):
        parse_points([(200, 10)])


def test_write_csv_parquet_and_plot(alaska_cube: Path, tmp_path: Path) -> None:
    frame = timeseries(alaska_cube, SEED_POINT, "v", include_errors=True)
    csv = write_timeseries(frame, tmp_path / "ts.csv")
    back = pd.read_csv(csv, parse_dates=["mid_date"])
    assert len(back) == 24
    np.testing.assert_array_equal(back["v"].values, frame["v"].values)
    assert back["mid_date"].iloc[0] == frame["mid_date"].iloc[0].tz_localize("UTC").floor("us")
    parquet = write_timeseries(frame, tmp_path / "ts.parquet")
    pd.testing.assert_frame_equal(pd.read_parquet(parquet), frame, check_like=False)
    png = plot_timeseries(frame, tmp_path / "ts.png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with pytest.raises(InvalidInputError, match=r"\.csv, \.parquet"):
        write_timeseries(frame, tmp_path / "ts.xlsx")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ts.csv", "ts.parquet", "ts.png"]


def test_cli(alaska_cube: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out, png = tmp_path / "v.csv", tmp_path / "v.png"
    point = f"{SEED_POINT[0]},{SEED_POINT[1]}"
    code = main(
        [
            "timeseries",
            str(alaska_cube),
            "--point",
            point,
            "--variables",
            "v",
            "--output",
            str(out),
            "--plot",
            str(png),
        ]
    )
    assert code == 0
    assert pd.read_csv(out).columns[-2:].tolist() == ["v", "v_error"]
    assert png.stat().st_size > 10_000
    capsys.readouterr()

    assert main(["timeseries", str(alaska_cube), "--point", point, "--variables", "v"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].endswith(",mid_date,v") and len(lines) == 25

    assert main(["timeseries", str(alaska_cube), "--point", "0,0"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "outside the data" in err[0]
