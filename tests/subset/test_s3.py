"""Time series and subsets read straight from S3 (moto on loopback), as from HTTP."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from eoaccess.subset import subset
from eoaccess.timeseries import timeseries
from tests.conftest import S3Archive
from tests.subset.conftest import ALASKA, GRANULE, SEED_POINT

pytestmark = pytest.mark.s3


@pytest.fixture
def s3_env(s3_archive: S3Archive, monkeypatch: pytest.MonkeyPatch) -> S3Archive:
    monkeypatch.setenv("AWS_ENDPOINT_URL", s3_archive.server.endpoint)
    return s3_archive


def test_timeseries_from_s3(s3_env: S3Archive, alaska_cube: Path) -> None:
    remote = timeseries(f"{s3_env.url}/{ALASKA}", [SEED_POINT], "v")
    local = timeseries(alaska_cube, [SEED_POINT], "v")
    np.testing.assert_array_equal(remote["v"].values, local["v"].values)
    assert remote.attrs["href"].startswith("s3://")


def test_subsets_from_s3(
    s3_env: S3Archive, alaska_cube: Path, granule: Path, tmp_path: Path
) -> None:
    grid = subset(
        f"{s3_env.url}/{ALASKA}",
        bbox=(-138.98, 60.73, -138.93, 60.76),
        variables="v",
        output=tmp_path / "g.nc",
    )
    assert grid.counts["cells"] > 0 and grid.bytes_read and grid.requests
    track = subset(f"{s3_env.url}/{GRANULE}", bbox=(-105.5, 40, -105, 41), output=tmp_path)
    local = subset(granule, bbox=(-105.5, 40, -105, 41), output=tmp_path / "local")
    assert track.counts == local.counts and track.path.name == local.path.name
