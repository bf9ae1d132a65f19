"""Gridded subsets: native window from a lon/lat bbox, time, variables, masks, formats, reads."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyproj
import pytest
import rasterio
import shapely
import shapely.geometry
import shapely.ops
import xarray as xr

from eoaccess.cli import main
from eoaccess.errors import InvalidInputError
from eoaccess.subset import subset
from tests.harness.http import RangeHTTPServer, RequestRecord
from tests.subset.conftest import PATAGONIA

BBOX = (-138.98, 60.73, -138.93, 60.76)
"""Inside the tiny Alaska cube (EPSG:3413), around the seed point."""


def _open(path: Path | str) -> xr.Dataset:
    engine = "zarr" if str(path).endswith(".zarr") else None
    return xr.open_dataset(path, engine=engine, decode_coords="all", decode_timedelta=True)


def _expected_window(ds: xr.Dataset, bbox: tuple[float, ...], epsg: int) -> tuple[slice, slice]:
    """Cells meeting the bounds of the densified bbox in the native CRS (independent oracle)."""
    box = shapely.segmentize(shapely.box(*bbox), 0.0005)
    ring = np.asarray(box.exterior.coords)
    x, y = pyproj.Transformer.from_crs(4326, epsg, always_xy=True).transform(ring[:, 0], ring[:, 1])
    xs = np.flatnonzero((ds.x.values + 60 > x.min()) & (ds.x.values - 60 < x.max()))
    ys = np.flatnonzero((ds.y.values + 60 > y.min()) & (ds.y.values - 60 < y.max()))
    return slice(xs[0], xs[-1] + 1), slice(ys[0], ys[-1] + 1)


def test_bbox_time_variables_to_netcdf(alaska_cube: Path, tmp_path: Path) -> None:
    result = subset(
        alaska_cube,
        bbox=BBOX,
        datetime="2018-01-01/2023-06-30",
        variables=["v", "vx", "date_dt"],
        output=tmp_path / "cut.nc",
    )
    src = _open(alaska_cube)
    xs, ys = _expected_window(src, BBOX, 3413)
    times = src.mid_date.values
    keep = np.flatnonzero(
        (times >= np.datetime64("2018-01-01"))
        & (times <= np.datetime64("2023-06-30T23:59:59.999999"))
    )
    keep = keep[np.argsort(times[keep])]
    expected = src[["v", "vx", "date_dt"]].isel(x=xs, y=ys, mid_date=keep)

    out = _open(result.path)
    assert result.path == tmp_path / "cut.nc" and result.format == "netcdf"
    assert result.bytes == result.path.stat().st_size
    assert set(out.data_vars) == {"v", "vx", "date_dt"}
    np.testing.assert_array_equal(out.x.values, expected.x.values)
    np.testing.assert_array_equal(out.y.values, expected.y.values)
    np.testing.assert_array_equal(out.mid_date.values, expected.mid_date.values)
    np.testing.assert_array_equal(out.v.values, expected.v.values)
    np.testing.assert_array_equal(out.date_dt.values, expected.date_dt.values)
    # The fill value, dtype and CRS survive the round trip.
    assert out.v.encoding["dtype"] == np.int16 and out.v.encoding["_FillValue"] == -32767
    assert out.rio.crs.to_epsg() == 3413
    assert result.counts == {"cells": out.x.size * out.y.size, "time_steps": keep.size}
    assert result.start is not None and result.end is not None
    assert result.start.isoformat().startswith(str(expected.mid_date.values[0])[:19])
    assert result.end.isoformat().startswith(str(expected.mid_date.values[-1])[:19])
    west, south, east, north = result.bbox  # type: ignore[misc]
    assert west <= BBOX[0] and south <= BBOX[1] and east >= BBOX[2] and north >= BBOX[3]
    assert "eoaccess" in out.attrs["history"] and "bbox=-138.98,60.73" in out.attrs["history"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cut.nc"]


def test_bbox_in_native_crs(alaska_cube: Path, tmp_path: Path) -> None:
    src = _open(alaska_cube)
    x, y = src.x.values, src.y.values
    # Edges between cell centres 3..9 (x) and 10..14 (y).
    box = (x[3] - 10, y[14] - 10, x[9] + 10, y[10] + 10)
    result = subset(alaska_cube, bbox=box, bbox_crs="EPSG:3413", variables="v", output=tmp_path)
    out = _open(result.path)
    assert result.path.name == f"{alaska_cube.stem}_subsetted.nc"
    np.testing.assert_array_equal(out.x.values, x[3:10])
    np.testing.assert_array_equal(out.y.values, y[10:15])
    np.testing.assert_array_equal(
        out.v.values, src.v.isel(x=slice(3, 10), y=slice(10, 15)).sortby("mid_date").values
    )


def test_polygon_masks_cells_outside(alaska_cube: Path, tmp_path: Path) -> None:
    triangle = {
        "type": "Polygon",
        "coordinates": [[[-138.97, 60.74], [-138.94, 60.74], [-138.955, 60.76], [-138.97, 60.74]]],
    }
    result = subset(alaska_cube, intersects=triangle, variables="v", output=tmp_path / "tri.nc")
    out = _open(result.path)
    src = _open(alaska_cube).sortby("mid_date")
    poly = shapely.ops.transform(
        pyproj.Transformer.from_crs(4326, 3413, always_xy=True).transform,
        shapely.segmentize(shapely.geometry.shape(triangle), 0.0005),
    )
    xx, yy = np.meshgrid(out.x.values, out.y.values)
    inside = shapely.contains_xy(poly, xx, yy)
    assert 0 < inside.sum() < inside.size
    assert result.counts["cells_inside"] == int(inside.sum())
    window = src.v.sel(x=out.x, y=out.y).values
    np.testing.assert_array_equal(out.v.values[:, ~inside], np.nan)
    np.testing.assert_array_equal(out.v.values[:, inside], window[:, inside])


def test_zarr_output(alaska_cube: Path, tmp_path: Path) -> None:
    result = subset(alaska_cube, bbox=BBOX, variables="v,v_error", output=tmp_path / "cut.zarr")
    out = _open(result.path)
    src = _open(alaska_cube)
    xs, ys = _expected_window(src, BBOX, 3413)
    np.testing.assert_array_equal(out.v.values, src.v.isel(x=xs, y=ys).sortby("mid_date").values)
    assert out.v.encoding["chunks"] == (24, 10, 10)
    assert (result.path / ".zmetadata").is_file()
    assert result.bytes == sum(p.stat().st_size for p in result.path.rglob("*") if p.is_file())
    assert out.rio.crs.to_epsg() == 3413


def test_geotiff_output_one_band_per_time_step(alaska_cube: Path, tmp_path: Path) -> None:
    result = subset(
        alaska_cube, bbox=BBOX, datetime="2021/2022", variables="v", output=tmp_path / "v.tif"
    )
    src = _open(alaska_cube)
    xs, ys = _expected_window(src, BBOX, 3413)
    times = src.mid_date.values
    keep = np.flatnonzero(
        (times >= np.datetime64("2021-01-01")) & (times < np.datetime64("2023-01-01"))
    )
    expected = src.v.isel(x=xs, y=ys, mid_date=keep).sortby("mid_date")
    with rasterio.open(result.path) as tif:
        assert tif.count == expected.sizes["mid_date"] == result.counts["time_steps"]
        assert tif.crs.to_epsg() == 3413
        assert tif.nodata == -32767 and tif.dtypes[0] == "int16"
        assert (
            tif.transform.c == float(expected.x[0]) - 60
            and tif.transform.f == float(expected.y[0]) + 60
        )
        assert tif.descriptions[0] == str(expected.mid_date.values[0])
        data = tif.read()
    np.testing.assert_array_equal(
        np.where(data == -32767, np.nan, data.astype(np.float32)), expected.values
    )


def test_geotiff_needs_one_variable_and_leaves_nothing(alaska_cube: Path, tmp_path: Path) -> None:
    with pytest.raises(InvalidInputError, match=r"one variable per file.*v, vx"):
        subset(alaska_cube, bbox=BBOX, variables="v,vx", output=tmp_path / "v.tif")
    assert list(tmp_path.iterdir()) == []


def test_reprojection(alaska_cube: Path, tmp_path: Path) -> None:
    result = subset(
        alaska_cube,
        bbox=BBOX,
        variables="v",
        crs="EPSG:4326",
        resolution=0.002,
        output=tmp_path / "ll.nc",
    )
    out = _open(result.path)
    assert out.rio.crs.to_epsg() == 4326
    assert np.allclose(np.abs(np.diff(out.x.values)), 0.002)
    assert (
        BBOX[0] - 0.01 < float(out.x.min()) < BBOX[0]
        and BBOX[2] < float(out.x.max()) < BBOX[2] + 0.01
    )
    # Nearest resampling only copies source values.
    src_values = set(
        np.unique(_open(alaska_cube).v.values[np.isfinite(_open(alaska_cube).v.values)])
    )
    warped = out.v.values[np.isfinite(out.v.values)]
    assert warped.size > 0 and set(np.unique(warped)) <= src_values


def test_utm_cube(tiny_archive: Path, tmp_path: Path) -> None:
    cube = tiny_archive / PATAGONIA
    src = _open(cube)
    lon, lat = pyproj.Transformer.from_crs(32718, 4326, always_xy=True).transform(
        src.x.values[[10, 20]], src.y.values[[25, 15]]
    )
    result = subset(
        cube, bbox=(lon[0], lat[0], lon[1], lat[1]), variables="v", output=tmp_path / "p.nc"
    )
    assert _open(result.path).rio.crs.to_epsg() == 32718
    assert 10 * 10 <= result.counts["cells"] <= 13 * 13


def test_bad_requests(alaska_cube: Path, tmp_path: Path) -> None:
    with pytest.raises(
        InvalidInputError,
        match=r"^the bbox -105\.5,40,-105,41 does not intersect the data \(extent -139\.0\d*,60\.7",
    ):
        subset(alaska_cube, bbox="-105.5,40,-105,41", output=tmp_path)
    with pytest.raises(
        InvalidInputError,
        match=r"datetime 1990-01-01T00:00:00Z/1990-12-31.* \(time range 2014-01-10",
    ):
        subset(alaska_cube, bbox=BBOX, datetime="1990", output=tmp_path)
    with pytest.raises(InvalidInputError, match=r"unknown variable 'speed' .*available: .*v_error"):
        subset(alaska_cube, variables="v,speed", output=tmp_path)
    with pytest.raises(InvalidInputError, match="south 61 is greater than north 60"):
        subset(alaska_cube, bbox="-139,61,-138,60", output=tmp_path)
    with pytest.raises(InvalidInputError, match="unknown output format 'jpeg'"):
        subset(alaska_cube, bbox=BBOX, format="jpeg", output=tmp_path)
    with pytest.raises(InvalidInputError, match="resolution needs an output crs"):
        subset(alaska_cube, resolution=100, output=tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_reads_only_the_window(
    big_cube_server: RangeHTTPServer, big_cube_root: Path, tmp_path: Path
) -> None:
    """A 1 % spatial subset of a cube over HTTP reads at most 5 % of the cube's bytes."""
    cube = next(big_cube_root.rglob("*.zarr"))
    rel = cube.relative_to(big_cube_root).as_posix()
    src = _open(cube)
    # 20x20 of 200x200 cells = 1 %, not aligned to the 10x10 chunks: 3x3 chunks per variable.
    x, y = src.x.values, src.y.values
    first = len(big_cube_server.log)
    result = subset(
        f"{big_cube_server.url}/{rel}",
        bbox=(x[64] - 1, y[116] - 1, x[83] + 1, y[97] + 1),
        bbox_crs="EPSG:3413",
        output=tmp_path / "cut.nc",
    )
    assert result.counts["cells"] == 20 * 20
    total = sum(p.stat().st_size for p in cube.rglob("*") if p.is_file())
    read = sum(_served(big_cube_root, r) for r in big_cube_server.log[first:])
    assert read <= 0.05 * total, f"read {read} of {total} bytes"
    assert result.bytes_read is not None and result.bytes_read <= 0.05 * total
    v_chunks = {r.path.rsplit("/", 1)[-1] for r in big_cube_server.log[first:] if "/v/" in r.path}
    assert v_chunks == {f"0.{j}.{i}" for j in (9, 10, 11) for i in (6, 7, 8)}


def _served(root: Path, record: RequestRecord) -> int:
    """Bytes the server sent for one request (whole file or the asked range)."""
    path = root / record.path.lstrip("/")
    if record.status not in (200, 206) or not path.is_file():
        return 0
    size = path.stat().st_size
    if record.status == 200 or record.range is None:
        return size
    first, _, last = record.range.removeprefix("bytes=").partition("-")
    return min(int(last), size - 1) - int(first) + 1


def test_cli_subset(alaska_cube: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    args = ["subset", str(alaska_cube), "--bbox", ",".join(map(str, BBOX)), "--variables", "v"]
    assert main([*args, "--output", str(tmp_path / "a.nc"), "--json"]) == 0
    record = json.loads(capsys.readouterr().out)
    assert record["path"] == str(tmp_path / "a.nc") and record["counts"]["cells"] > 0
    assert main([*args, "--format", "zarr", "--output", str(tmp_path)]) == 0
    assert (tmp_path / f"{alaska_cube.stem}_subsetted.zarr").is_dir()
    capsys.readouterr()
    assert main(["subset", str(alaska_cube), "--bbox", "0,0,1,1", "--output", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "does not intersect the data" in err[0]
