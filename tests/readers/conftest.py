"""Fixtures of the reader tests: files of every supported layout, served over HTTP and S3.

``formats`` writes small datasets with known values into one directory: Zarr v2 and v3, with
and without consolidated metadata (names without ``.zarr`` too), NetCDF-4 with groups, NetCDF
classic, HDF5 behind a user block, a COG big enough to have tiles outside the first block, an
HDF5 file whose groups hold much more data than metadata, and grids whose footprints cross the
antimeridian or hold a pole. ``formats_http`` serves that directory with the Range server and
``formats_s3`` copies it into the moto bucket. ``redirecting_server`` answers every request
with S3's ``PermanentRedirect`` naming another endpoint (seed 000).
"""

from __future__ import annotations

import os
import threading
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from tests.harness.http import RangeHTTPServer, start_http_server
from tests.harness.ports import free_port
from tests.harness.s3 import S3Server

ITSLIVE_CUBE = "itslive/datacubes/v2/N60W130/ITS_LIVE_vel_EPSG3413_G0120_X-3250000_Y250000.zarr"
KAGUYA_ID = "TC1S2B0_01_07495N079E3030"
COG_SIZE, COG_BLOCK = 512, 128


def grid_dataset(x0: float = 500_000.0, y0: float = 4_000_000.0, n: int = 6) -> xr.Dataset:
    """A small UTM grid (EPSG:32610) with a time axis, a timedelta and a CF grid mapping."""
    x = x0 + 30.0 * np.arange(n) + 15.0
    y = y0 - 30.0 * np.arange(n - 1) - 15.0
    time = pd.date_range("2024-01-01", periods=3, freq="D")
    values = np.arange(3 * (n - 1) * n, dtype="float32").reshape(3, n - 1, n)
    ds = xr.Dataset(
        {
            "v": (("time", "y", "x"), values, {"units": "m/yr", "grid_mapping": "mapping"}),
            "dt": (("time",), np.array([1.5, 2.0, 3.0], "float32"), {"units": "days"}),
            "mapping": ((), np.int32(0), {"grid_mapping_name": "transverse_mercator"}),
        },
        coords={"time": time, "y": y, "x": x},
        attrs={"title": "grid"},
    )
    import pyproj

    ds["mapping"].attrs = pyproj.CRS.from_epsg(32610).to_cf()
    ds["mapping"].attrs.pop("crs_wkt", None)  # CF parameters only: the reader adds the WKT
    return ds


def _write_zarr(ds: xr.Dataset, path: Path, zarr_format: int, consolidated: bool) -> None:
    from zarr.errors import ZarrUserWarning

    with warnings.catch_warnings():
        # zarr warns that consolidated metadata is not (yet) in the v3 specification
        warnings.simplefilter("ignore", ZarrUserWarning)
        ds.to_zarr(path, mode="w", zarr_format=zarr_format, consolidated=consolidated)


def _write_cog(path: Path) -> None:
    import rasterio
    from rasterio.transform import from_origin

    rng = np.random.default_rng(6)
    data = rng.integers(0, 30000, (2, COG_SIZE, COG_SIZE), dtype="int16")
    profile = {
        "driver": "COG",
        "width": COG_SIZE,
        "height": COG_SIZE,
        "count": 2,
        "dtype": "int16",
        "crs": "EPSG:32633",
        "transform": from_origin(400_000, 5_000_000, 10, 10),
        "blocksize": COG_BLOCK,
        "compress": "deflate",
        "overviews": "none",
        "nodata": -1,
    }
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(data)


def _write_groups_h5(path: Path) -> None:
    """NetCDF-4 with groups: each group's data is ~4 MB, its metadata a few kB."""
    rng = np.random.default_rng(1)
    n = 500_000
    root = xr.Dataset(attrs={"title": "groups"})
    root.to_netcdf(path, engine="h5netcdf", mode="w")
    for name in ("beam1/heights", "beam2/heights"):
        t = np.arange(n, dtype="float64") * 0.001
        ds = xr.Dataset(
            {
                "h": (("delta_time",), rng.normal(size=n).astype("float64")),
                "lat": (("delta_time",), 40 + t * 1e-5),
                "lon": (("delta_time",), -105 + t * 1e-5),
            },
            coords={"delta_time": ("delta_time", t, {"units": "seconds since 2018-01-01"})},
        )
        ds["h"].attrs["coordinates"] = "lat lon"
        ds.to_netcdf(path, engine="h5netcdf", group=name, mode="a")


def _write_userblock_h5(path: Path) -> None:
    import h5py

    with h5py.File(path, "w", userblock_size=512) as handle:
        handle.create_dataset("values", data=np.arange(10, dtype="int32"))
    with open(path, "r+b") as handle:
        handle.write(b"not an HDF5 signature: user block")


@dataclass(frozen=True)
class Formats:
    """The written files, by role; ``root`` is the directory they are in."""

    root: Path

    def path(self, name: str) -> str:
        return os.fspath(self.root / name)


@pytest.fixture(scope="session")
def formats(tmp_path_factory: pytest.TempPathFactory) -> Formats:
    root = tmp_path_factory.mktemp("formats")
    ds = grid_dataset()
    _write_zarr(ds, root / "v2c.zarr", 2, True)
    _write_zarr(ds, root / "v2.zarr", 2, False)
    _write_zarr(ds, root / "v3c.zarr", 3, True)
    _write_zarr(ds, root / "v3.zarr", 3, False)
    _write_zarr(ds, root / "cube_without_suffix", 2, True)
    (root / "v2.zarr" / "v" / "ignored_sort_link").mkdir()  # listing must skip empty folders
    ds.to_netcdf(root / "grid.nc", engine="netcdf4", format="NETCDF4")
    ds.to_netcdf(root / "grid.h5", engine="h5netcdf")  # HDF5 under another name
    ds.drop_vars("dt").to_netcdf(root / "classic.nc", engine="netcdf4", format="NETCDF3_CLASSIC")
    _write_groups_h5(root / "groups.nc")
    _write_userblock_h5(root / "userblock.h5")
    _write_cog(root / "cog.tif")
    (root / "notes.txt").write_text("plain text, not data\n")
    # A grid holding the North Pole (footprint tests).
    polar = grid_dataset(-500_000.0, 500_000.0, n=21)
    polar = polar.assign_coords(
        x=-500_000 + 50_000 * np.arange(21) + 25_000.0,
        y=500_000 - 50_000 * np.arange(20) - 25_000.0,
    )
    import pyproj

    polar["mapping"].attrs = {"crs_wkt": pyproj.CRS.from_epsg(3413).to_wkt()}
    polar.to_zarr(root / "polar.zarr", mode="w", zarr_format=2, consolidated=True)
    return Formats(root)


@pytest.fixture(scope="session")
def formats_http(formats: Formats) -> Iterator[RangeHTTPServer]:
    server = start_http_server(formats.root)
    yield server
    server.stop()


@dataclass(frozen=True)
class S3Formats:
    """The ``formats`` directory in the moto bucket ``reader-formats``."""

    server: S3Server

    def url(self, name: str) -> str:
        return f"s3://reader-formats/f/{name}"


@pytest.fixture(scope="session")
def formats_s3(s3_server: S3Server, formats: Formats) -> S3Formats:
    s3_server.upload_tree(formats.root, "reader-formats", "f")
    return S3Formats(s3_server)


# --- seed 000: a server that sends every request elsewhere ---------------------------------------


@dataclass
class RedirectingServer:
    """Answers every request with S3's 301 ``PermanentRedirect`` naming ``endpoint``."""

    url: str
    hits: list[str]
    _server: ThreadingHTTPServer

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


def start_redirecting_server(endpoint: str, bucket: str) -> RedirectingServer:
    hits: list[str] = []
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>PermanentRedirect</Code>'
        "<Message>The bucket you are attempting to access must be addressed using the specified "
        f"endpoint.</Message><Endpoint>{endpoint}</Endpoint><Bucket>{bucket}</Bucket>"
        "<RequestId>N4K18PDJ5AXTVHG0</RequestId></Error>"
    ).encode()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            pass

        def _redirect(self) -> None:
            hits.append(self.path)
            self.send_response(301)
            self.send_header("Content-Type", "application/xml")
            self.send_header("x-amz-bucket-region", "us-west-2")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        do_GET = do_HEAD = _redirect

    port = free_port()
    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return RedirectingServer(f"http://127.0.0.1:{port}", hits, server)
