"""Fixtures of the subset and time series tests: hrefs into the tiny archive, a larger cube."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.harness.http import RangeHTTPServer, start_http_server

ALASKA = "itslive/datacubes/v2/N60W130/ITS_LIVE_vel_EPSG3413_G0120_X-3250000_Y250000.zarr"
PATAGONIA = "itslive/datacubes/v2/S40W070/ITS_LIVE_vel_EPSG32718_G0120_X650000_Y4550000.zarr"
GRANULE = "atl03/ATLAS/ATL03/006/2020/04/27/ATL03_20200427193622_04930702_006_02.h5"
"""RGT 493 cycle 7: crosses the seed-001 box within the seed's dates."""
SEED_POINT = (-138.958776, 60.748561)


@pytest.fixture(scope="session")
def alaska_cube(tiny_archive: Path) -> Path:
    """The tiny archive's Alaska cube (EPSG:3413, 40x40 cells, 24 layers, chunks (24,10,10))."""
    return tiny_archive / ALASKA


@pytest.fixture(scope="session")
def granule(tiny_archive: Path) -> Path:
    """A tiny ATL03 granule crossing the seed-001 box."""
    return tiny_archive / GRANULE


@pytest.fixture(scope="session")
def big_cube_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 200x200-cell Alaska cube (400 chunks per 3-D variable) for read-accounting tests."""
    from eoaccess._progress import NullProgress
    from eoaccess.sample._itslive_sites import CUBES
    from eoaccess.sample.itslive import _write_cube  # the sample's own cube writer, any grid

    root = tmp_path_factory.mktemp("bigcube")
    _write_cube(root, CUBES["alaska"], 24, 200, 0, NullProgress())
    return root


@pytest.fixture(scope="session")
def big_cube_server(big_cube_root: Path) -> Iterator[RangeHTTPServer]:
    """The 200x200 cube over HTTP (its own server, so its request log is ours alone)."""
    server = start_http_server(big_cube_root)
    yield server
    server.stop()
