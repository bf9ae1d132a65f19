"""Trajectory (ATL03) subsets, checked against a brute-force oracle over every photon."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import h5py
import numpy as np
import pytest
import shapely
import xarray as xr

from eoaccess.cli import main
from eoaccess.errors import InvalidInputError
from eoaccess.subset import subset
from tests.harness.http import RangeHTTPServer
from tests.subset.conftest import GRANULE

BEAMS = ("gt1l", "gt1r", "gt2l", "gt2r", "gt3l", "gt3r")
SEED_BOX = (-105.5, 40.0, -105.0, 41.0)
EPOCH = dt.datetime(2018, 1, 1, tzinfo=dt.UTC)


def _inside(f: h5py.File, beam: str, area: shapely.Geometry, t0: float, t1: float) -> np.ndarray:
    h = f[f"{beam}/heights"]
    lon, lat, t = h["lon_ph"][()], h["lat_ph"][()], h["delta_time"][()]
    return shapely.intersects_xy(area, lon, lat) & (t >= t0) & (t <= t1)


def _segment_of_photons(beg: np.ndarray, cnt: np.ndarray, n: int) -> np.ndarray:
    """Segment row of every photon, from 1-based ph_index_beg/segment_ph_cnt."""
    owner = np.full(n, -1, dtype=np.int64)
    for k in np.flatnonzero(cnt > 0):
        owner[beg[k] - 1 : beg[k] - 1 + cnt[k]] = k
    return owner


def _paths(f: h5py.File) -> list[str]:
    names: list[str] = []
    f.visit(names.append)
    return sorted(names)


def _check_subset(
    src_path: Path, out_path: Path, area: shapely.Geometry, t0: float, t1: float
) -> int:
    """Every beam of the output equals the oracle's photons and their segments; returns photons."""
    total = 0
    with h5py.File(src_path) as src, h5py.File(out_path) as out:
        assert _paths(out) == _paths(src)  # the whole hierarchy is kept
        for beam in BEAMS:
            keep = _inside(src, beam, area, t0, t1)
            total += int(keep.sum())
            for name, dset in src[f"{beam}/heights"].items():
                np.testing.assert_array_equal(out[f"{beam}/heights/{name}"][()], dset[()][keep])
            # Segments: the kept photons sit in the same segments (by segment_id) as before.
            sg, og = src[f"{beam}/geolocation"], out[f"{beam}/geolocation"]
            n_src = src[f"{beam}/heights/delta_time"].shape[0]
            src_owner = _segment_of_photons(sg["ph_index_beg"][()], sg["segment_ph_cnt"][()], n_src)
            beg, cnt = og["ph_index_beg"][()], og["segment_ph_cnt"][()]
            assert cnt.sum() == keep.sum()
            assert np.all((beg == 0) == (cnt == 0))
            nz = cnt > 0
            assert np.all(beg[nz][1:] == beg[nz][:-1] + cnt[nz][:-1]) and (
                not nz.any() or beg[nz][0] == 1
            )
            out_owner = _segment_of_photons(beg, cnt, int(keep.sum()))
            np.testing.assert_array_equal(
                og["segment_id"][()][out_owner], sg["segment_id"][()][src_owner[keep]]
            )
            # geophys_corr keeps the same segments as geolocation.
            np.testing.assert_array_equal(
                out[f"{beam}/geophys_corr/delta_time"][()], og["delta_time"][()]
            )
            rows = np.searchsorted(sg["segment_id"][()], og["segment_id"][()])
            np.testing.assert_array_equal(
                og["solar_elevation"][()], sg["solar_elevation"][()][rows]
            )
            # The background rates cover the kept span and come from the source records.
            bt = out[f"{beam}/bckgrd_atlas/delta_time"][()]
            assert set(bt) <= set(src[f"{beam}/bckgrd_atlas/delta_time"][()])
            if keep.any():
                kept_t = out[f"{beam}/heights/delta_time"][()]
                assert bt.min() <= kept_t.min() and bt.max() >= kept_t.max() - 0.02
    return total


def test_bbox_and_time_like_the_seed(granule: Path, tmp_path: Path) -> None:
    result = subset(granule, bbox=SEED_BOX, datetime="2020-04-27/2020-05-28", output=tmp_path)
    assert result.path == tmp_path / f"{granule.stem}_subsetted.h5"
    assert result.kind == "trajectory" and result.format == "hdf5"
    t1 = (dt.datetime(2020, 5, 29, tzinfo=dt.UTC) - EPOCH).total_seconds() - 1e-6
    t0 = (dt.datetime(2020, 4, 27, tzinfo=dt.UTC) - EPOCH).total_seconds()
    photons = _check_subset(granule, result.path, shapely.box(*SEED_BOX), t0, t1)
    assert photons == result.counts["photons"] > 0
    assert result.bytes == result.path.stat().st_size
    west, south, east, north = result.bbox  # type: ignore[misc]
    assert SEED_BOX[0] <= west < east <= SEED_BOX[2] and SEED_BOX[1] <= south < north <= SEED_BOX[3]
    assert result.start is not None and result.start.date() == dt.date(2020, 4, 27)


def test_attributes_metadata_and_history(granule: Path, tmp_path: Path) -> None:
    result = subset(granule, bbox=(-105.3, 40.0, -105.1, 40.05), output=tmp_path)
    with h5py.File(granule) as src, h5py.File(result.path) as out:
        for name in _paths(src):
            a, b = src[name], out[name]
            skip = {"DIMENSION_LIST", "REFERENCE_LIST"}
            assert sorted(set(a.attrs) - skip) == sorted(set(b.attrs) - skip), name
            for key in set(a.attrs) - skip:
                np.testing.assert_array_equal(a.attrs[key], b.attrs[key])
                assert a.attrs.get_id(key).get_type() == b.attrs.get_id(key).get_type(), (name, key)
            if isinstance(a, h5py.Dataset) and not name.startswith("gt"):
                np.testing.assert_array_equal(a[()], b[()])  # ancillary groups copied whole
        history = out.attrs["history"].decode()
        assert history.startswith(src.attrs["history"].decode() + "\n")
        assert "eoaccess" in history.splitlines()[-1] and "bbox=-105.3,40,-105.1,40.05" in history
        assert out["gt1l/heights/h_ph"].chunks == src["gt1l/heights/h_ph"].chunks
        assert out["gt1l/heights/h_ph"].compression == "gzip"


def test_opens_in_xarray_with_dimension_scales(granule: Path, tmp_path: Path) -> None:
    result = subset(granule, bbox=SEED_BOX, output=tmp_path)
    ds = xr.open_dataset(result.path, group="gt1l/heights")
    assert np.issubdtype(ds.delta_time.dtype, np.datetime64)
    assert {"lat_ph", "lon_ph"} <= set(ds.coords)
    assert ds.sizes["delta_time"] > 0 and ds.signal_conf_ph.dims == ("delta_time", "ds_surf_type")
    geo = xr.open_dataset(result.path, group="gt1l/geolocation")
    assert geo.sizes["delta_time"] == geo.ph_index_beg.size


def test_polygon(granule: Path, tmp_path: Path) -> None:
    triangle = shapely.Polygon([(-105.3, 39.95), (-105.1, 39.95), (-105.25, 40.06)])
    result = subset(granule, intersects=triangle, output=tmp_path / "tri.h5")
    assert result.path == tmp_path / "tri.h5"
    photons = _check_subset(granule, result.path, triangle, -np.inf, np.inf)
    assert photons == result.counts["photons"] > 0


def test_beam_outside_keeps_empty_arrays(granule: Path, tmp_path: Path) -> None:
    # A sliver east of the left beams keeps some beams and empties others.
    with h5py.File(granule) as f:
        lons = {b: f[f"{b}/heights/lon_ph"][()] for b in BEAMS}
    cut = float(np.median(np.concatenate(list(lons.values()))))
    box = (cut, 39.0, -105.0, 41.0)
    result = subset(granule, bbox=box, output=tmp_path)
    _check_subset(granule, result.path, shapely.box(*box), -np.inf, np.inf)
    with h5py.File(result.path) as out:
        sizes = {b: out[f"{b}/heights/h_ph"].shape[0] for b in BEAMS}
    assert 0 in sizes.values() and max(sizes.values()) > 0
    assert result.counts["beams"] == sum(1 for n in sizes.values() if n)


def test_bad_requests(granule: Path, tmp_path: Path) -> None:
    with pytest.raises(
        InvalidInputError,
        match=r"the bbox -100,40,-99,41 does not intersect the data of ATL03_\S+ \(extent -105\.\d+,39\.8",
    ):
        subset(granule, bbox=(-100, 40, -99, 41), output=tmp_path)
    with pytest.raises(InvalidInputError, match=r"datetime 2019-01-01.* does not intersect"):
        subset(granule, datetime="2019-01-01/2019-02-01", output=tmp_path)
    with pytest.raises(InvalidInputError, match="cannot be reprojected"):
        subset(granule, bbox=SEED_BOX, crs="EPSG:3857", output=tmp_path)
    with pytest.raises(InvalidInputError, match="variable subsetting is not offered"):
        subset(granule, bbox=SEED_BOX, variables="h_ph", output=tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_over_http_and_cli(
    http_server: RangeHTTPServer, granule: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"{http_server.url}/{GRANULE}"
    code = main(
        [
            "subset",
            url,
            "--bbox",
            ",".join(map(str, SEED_BOX)),
            "--datetime",
            "2020-04-27/2020-05-28",
            "--output",
            str(tmp_path),
        ]
    )
    assert code == 0
    out = tmp_path / f"{granule.stem}_subsetted.h5"
    assert capsys.readouterr().out.startswith(f"{out} (hdf5")
    _check_subset(granule, out, shapely.box(*SEED_BOX), -np.inf, np.inf)


@pytest.fixture(scope="module")
def dense_granule(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A granule with ~80,000 photons per strong beam (8 chunks of 10,000) over 1.3° of latitude."""
    from eoaccess.sample import atl03
    from eoaccess.sample._atl03_beam import Density

    granule = next(
        g for g in atl03.plan_granules("small") if (g.orbit.rgt, g.orbit.cycle) == (493, 7)
    )
    path = tmp_path_factory.mktemp("dense") / granule.name
    atl03._write_granule(path, granule, Density(signal=0.5, noise=0.05), 0, lambda n: None)
    return path


def test_reads_only_candidate_photons(dense_granule: Path, tmp_path: Path) -> None:
    """Photon positions are read only in the ranges of segments near the box, not per beam."""
    box = (-105.5, 40.3, -105.0, 40.35)
    result = subset(dense_granule, bbox=box, output=tmp_path)
    _check_subset(dense_granule, result.path, shapely.box(*box), -np.inf, np.inf)
    with h5py.File(dense_granule) as f:
        total = sum(f[f"{b}/heights/delta_time"].shape[0] for b in BEAMS)
    kept, scanned = result.counts["photons"], result.counts["photons_scanned"]
    assert kept <= scanned <= 0.1 * total
    assert result.bytes_read is not None and result.bytes_read < 0.75 * dense_granule.stat().st_size
