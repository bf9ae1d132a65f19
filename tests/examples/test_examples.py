"""Every script in examples/ runs as a user would run it (a subprocess with the project's
Python) against a real server over a copy of the tiny sample archive, and writes exactly the
expected files."""

from __future__ import annotations

import csv
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from eoaccess.harmony import HarmonySettings
from eoaccess.server import ServerSettings, create_app, start_in_thread
from eoaccess.stores import open_store

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
KAGUYA_MONO = "kaguya_terrain_camera_monoscopic_uncontrolled_observations"
KAGUYA_STEREO = "kaguya_terrain_camera_stereoscopic_uncontrolled_observations"


@dataclass(frozen=True)
class Served:
    url: str
    root: Path


@pytest.fixture(scope="module")
def served_archive(
    tiny_archive: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Served]:
    """A copy of the tiny archive (the session one stays untouched), ingested and served."""
    from eoaccess.ingest import ingest

    root = tmp_path_factory.mktemp("examples") / "archive"
    shutil.copytree(tiny_archive, root, ignore=shutil.ignore_patterns(".eoaccess"))
    ingest(root)
    store = open_store(None, root)
    # Harmony jobs on Dask threads: a cluster of worker processes takes ~10 s to start.
    settings = ServerSettings(harmony=HarmonySettings(processes=False))
    with start_in_thread(create_app(store, root, settings)) as server:
        yield Served(server.url, root)
    store.close()


def _run(script: str, source: str, out: Path) -> str:
    done = subprocess.run(
        [sys.executable, str(EXAMPLES / script), source, str(out)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as handle:
        return list(csv.DictReader(handle))


def _files(folder: Path) -> list[str]:
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())


def _check_seed000(out: Path, stdout: str) -> None:
    rows = _rows(out / "velocity.csv")
    assert len(rows) == 24  # one row per image pair of the tiny cube
    assert list(rows[0]) == [
        "point", "requested_lon", "requested_lat", "lon", "lat", "x", "y", "offset_m",
        "mid_date", "v", "v_error",
    ]  # fmt: skip
    assert sum(1 for r in rows if r["v"]) == 21
    assert _files(out) == ["footprint.html", "velocity.csv", "velocity.png"]
    assert (out / "velocity.png").read_bytes().startswith(b"\x89PNG")
    assert "<svg" in (out / "footprint.html").read_text()
    assert stdout.endswith(f"21 velocities at the point -> {out}\n")


def _check_seed001(out: Path, stdout: str) -> None:
    import h5py

    name = "ATL03_20200427193622_04930702_006_02_subsetted.h5"
    assert _files(out) == [name]  # the one tiny granule inside the box and the month
    lines = [line.split() for line in stdout.splitlines() if line.startswith(name)]
    assert [parts[1] for parts in lines] == ["gt1l", "gt1r", "gt2l", "gt2r", "gt3l", "gt3r"]
    with h5py.File(out / name, "r") as h5:
        for _, beam, count, _ in lines:
            lat = h5[f"{beam}/heights/lat_ph"][:]
            lon = h5[f"{beam}/heights/lon_ph"][:]
            assert int(count) == len(lat) > 0
            assert (lat >= 40).all() and (lat <= 41).all()
            assert (lon >= -105.5).all() and (lon <= -105).all()
    assert sum(int(parts[2]) for parts in lines) == 8558
    assert "successful" in stdout


def _check_seed002(out: Path, stdout: str) -> None:
    rows = _rows(out / "scenes.csv")
    assert [(r["id"], r["collection"]) for r in rows] == [
        ("TC2W2B0_01_06210N058E0043", KAGUYA_STEREO),
        ("TC1W2B0_01_06210N054E0043", KAGUYA_STEREO),
    ]
    assert [round(float(r["incidence_angle"]), 2) for r in rows] == [27.91, 27.81]
    listed = (out / "rclone-files.txt").read_text().splitlines()
    assert listed[0].startswith("# rclone copy --files-from THIS_FILE --http-url ")
    assert listed[2:] == [
        f"{i}/{i}.tif" for i in ("TC2W2B0_01_06210N058E0043", "TC1W2B0_01_06210N054E0043")
    ]
    assert _files(out / "data") == sorted(
        f"{KAGUYA_STEREO}/{i}/{i}.tif"
        for i in ("TC2W2B0_01_06210N058E0043", "TC1W2B0_01_06210N054E0043")
    )
    assert "Downloaded 2 files" in stdout


def _check_seed003(out: Path, stdout: str) -> None:
    items = sorted(p.name for p in (out / KAGUYA_MONO).iterdir())
    assert items == [
        "TC1S2B0_01_05524N011E0019",
        "TC1S2B0_01_05524N025E0019",
        "TC1S2B0_01_05525N005E0009",
    ]
    assert len(_files(out)) == 21  # seven assets per item
    assert f"{KAGUYA_MONO}: 5 items, 3 intersect the polygon" in stdout
    assert "Downloaded 21 files" in stdout


def _check_seed004(out: Path, stdout: str) -> None:
    rows = _rows(out / "ndwi_daily.csv")
    assert [r["interval_from"][:10] for r in rows] == [
        "2023-11-01", "2023-11-02", "2023-11-05", "2023-11-06",
    ]  # fmt: skip
    assert [r["scene_id"] for r in rows] == [
        "20231101_181639_1040",
        "20231102_185407_54_2427",
        "20231105_190442_57_242d",
        "20231106_190059_56_2423",
    ]
    assert {"mean", "p50", "sampleCount", "acquired"} <= set(rows[0])
    assert _files(out) == ["ndwi_daily.csv", "ndwi_daily.png"]
    assert "20231101_181639_1040" in stdout


CHECKS: dict[str, Callable[[Path, str], None]] = {
    "seed000_itslive.py": _check_seed000,
    "seed001_atl03.py": _check_seed001,
    "seed002_kaguya.py": _check_seed002,
    "seed003_kaguya.py": _check_seed003,
    "seed004_arps.py": _check_seed004,
}


def test_every_example_is_checked_and_short() -> None:
    scripts = sorted(p.name for p in EXAMPLES.glob("*.py"))
    assert scripts == sorted(CHECKS)
    for name in scripts:
        assert len((EXAMPLES / name).read_text().splitlines()) <= 30, name


@pytest.mark.parametrize("script", sorted(CHECKS))
def test_example_against_the_server(script: str, served_archive: Served, tmp_path: Path) -> None:
    out = tmp_path / "out"
    CHECKS[script](out, _run(script, served_archive.url, out))


def test_example_against_the_archive_folder(served_archive: Served, tmp_path: Path) -> None:
    """The same script reads an ingested archive folder directly, without the server."""
    out = tmp_path / "out"
    _check_seed003(out, _run("seed003_kaguya.py", str(served_archive.root), out))
