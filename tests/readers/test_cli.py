"""``eoaccess open`` and ``eoaccess footprint`` through the real command line."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from shapely.geometry import shape

from tests.harness.http import RangeHTTPServer
from tests.readers.conftest import ITSLIVE_CUBE


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "eoaccess", *args],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


def test_open_prints_a_summary_with_stats(http_server: RangeHTTPServer) -> None:
    result = run_cli("open", f"{http_server.url}/{ITSLIVE_CUBE}", "--stats")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == ITSLIVE_CUBE.rsplit("/", 1)[1]
    assert "  format     zarr" in lines
    assert "  dimensions mid_date: 24, y: 40, x: 40" in lines
    assert "  crs        EPSG:3413 (WGS 84 / NSIDC Sea Ice Polar Stereographic North)" in lines
    assert "  time       2014-01-10T19:48:16 .. 2024-04-07T19:48:27" in lines
    assert any(line.startswith("  footprint  lon -139.00") and "(WGS 84)" in line for line in lines)
    assert any(line.split()[:2] == ["date_dt", "timedelta64[ns]"] for line in lines)
    # .zmetadata only; the summary then reads the three dimension coordinates
    assert "  opening    1 request, 35.7 kB" in lines
    assert "  in all     4 requests, 36.1 kB (summary included)" in lines


def test_open_hdf5_group(tiny_archive: Path) -> None:
    granule = next((tiny_archive / "atl03").rglob("*.h5"))
    result = run_cli("open", str(granule), "--group", "gt1l/heights")
    assert result.returncode == 0, result.stderr
    assert "  format     hdf5, group gt1l/heights" in result.stdout.splitlines()
    assert "lat_ph" in result.stdout and "datetime64[ns]" in result.stdout
    assert "  size       " in result.stdout


def test_footprint_writes_geojson_and_maps(tiny_archive: Path, tmp_path: Path) -> None:
    geojson, html, png = tmp_path / "f.geojson", tmp_path / "f.html", tmp_path / "f.png"
    cube = str(tiny_archive / ITSLIVE_CUBE)
    result = run_cli("footprint", cube, "--output", str(geojson), "--map", str(html))
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(
        "native   WGS 84 / NSIDC Sea Ice Polar Stereographic North: POLYGON (("
    )
    feature = json.loads(geojson.read_text())["features"][0]
    assert feature["properties"]["name"] == ITSLIVE_CUBE.rsplit("/", 1)[1]
    assert shape(feature["geometry"]).bounds[0] == pytest.approx(-139.00595, abs=1e-5)
    assert html.read_text().startswith("<!DOCTYPE html>")
    assert run_cli("footprint", cube, "--map", str(png)).returncode == 0
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("open", "/nonexistent/cube.zarr"), "does not exist"),
        (("open", "ftp://host/x.nc"), "unsupported URL scheme"),
        (("footprint", "/nonexistent/x.tif", "--map", "x.gif"), "does not exist"),
    ],
)
def test_errors_are_one_line(args: tuple[str, ...], message: str) -> None:
    result = run_cli(*args)
    assert result.returncode != 0
    assert len(result.stderr.strip().splitlines()) == 1 and message in result.stderr
    assert "Traceback" not in result.stderr
