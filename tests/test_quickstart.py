"""The quickstart runs end to end (on the tiny archive here) and a re-run reuses its work."""

from __future__ import annotations

import io
from pathlib import Path

from rich.console import Console

from eoaccess.quickstart import run_quickstart


def test_quickstart_builds_ingests_serves_and_reuses(tmp_path: Path) -> None:
    out = io.StringIO()
    first = run_quickstart(tmp_path, console=Console(file=out, width=160), size="tiny")
    text = out.getvalue()
    assert [name for name, _, _ in first.steps] == [
        "sample archive",
        "ingest",
        "STAC API",
        "seed 000 ITS_LIVE",
        "seed 002 Kaguya + sidecars",
        "seed 003 Kaguya download",
        "seed 004 ARPS NDWI statistics",
    ]
    outputs = tmp_path / "outputs"
    seed000 = outputs / "seed000_itslive"
    for name in ("footprint.html", "footprint.png", "velocity.csv", "velocity.png"):
        assert (seed000 / name).stat().st_size > 1000, name
    assert first.steps[3][2].startswith("cube ITS_LIVE_vel_EPSG3413_G0120_X-3250000_Y250000.zarr; ")
    assert (
        (outputs / "seed002_kaguya" / "rclone-files.txt")
        .read_text()
        .startswith("# rclone copy --files-from")
    )
    seed003 = (
        outputs / "seed003_kaguya" / "kaguya_terrain_camera_monoscopic_uncontrolled_observations"
    )
    assert len(list(seed003.iterdir())) == 3  # one folder per item inside the polygon
    assert first.steps[5][2].startswith("3 of 5 items; ")
    assert first.steps[6][2].startswith("4 days of NDWI with scene provenance")
    table = (outputs / "seed004_arps" / "ndwi_daily.csv").read_text().splitlines()
    assert len(table) == 5 and "scene_id" in table[0]
    assert (outputs / "seed004_arps" / "ndwi_daily.png").stat().st_size > 1000
    assert first.server_url is not None and first.server_url.startswith("http://127.0.0.1:")
    stac = first.steps[2][2]
    assert stac.startswith("6 collections, 21 items via pystac-client")
    for collection in (
        "ATL03",
        "itslive_datacubes",
        "kaguya_terrain_camera_monoscopic_uncontrolled_observations",
    ):
        assert collection in text
    assert (tmp_path / "archive" / ".eoaccess").is_dir()

    again = run_quickstart(tmp_path, console=Console(file=io.StringIO(), width=160), size="tiny")
    assert again.steps[0][2] == f"reused {tmp_path / 'archive'}"
    assert again.steps[1][2].endswith("(0 added, 0 updated, 0 removed)")
    assert again.steps[2][2].startswith("6 collections, 21 items")
