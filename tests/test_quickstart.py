"""The quickstart end to end on the tiny archive: the steps, the files each seed writes, the
index page (links, rendering in headless Chromium), re-runs, and a clean stop on Ctrl-C."""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from rich.console import Console

from eoaccess.quickstart import (
    SEED_WORKFLOWS,
    FinishedSeed,
    QuickstartReport,
    SeedOutcome,
    run_quickstart,
)
from eoaccess.quickstart_report import write_index

STEPS = [
    "sample archive",
    "ingest",
    "STAC API",
    "seed 000 ITS_LIVE",
    "seed 001 ATL03 Harmony job",
    "seed 002 Kaguya + sidecars",
    "seed 003 Kaguya download",
    "seed 004 ARPS NDWI statistics",
]
SEED_KEYS = ["seed000_itslive", "seed001_atl03", "seed002_kaguya", "seed003_kaguya", "seed004_arps"]


class _Page(HTMLParser):
    """The parts of index.html the tests check: links, images, step rows, seed sections."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.links: list[str] = []
        self.images: list[str] = []
        self.steps: list[str] = []
        self.seeds: list[str] = []
        self.tags: set[str] = set()
        self.feed(text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        self.tags.add(tag)
        for name in ("href", "src"):
            if values.get(name):
                self.links.append(str(values[name]))
        if tag == "img":
            self.images.append(str(values["src"]))
        if values.get("data-step"):
            self.steps.append(str(values["data-step"]))
        if values.get("data-seed"):
            self.seeds.append(str(values["data-seed"]))


def _page(outputs: Path) -> _Page:
    return _Page((outputs / "index.html").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def first_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[QuickstartReport, str]:
    out = io.StringIO()
    root = tmp_path_factory.mktemp("quickstart")
    report = run_quickstart(root, console=Console(file=out, width=160), size="tiny")
    return report, out.getvalue()


def test_quickstart_runs_every_step_and_seed(first_run: tuple[QuickstartReport, str]) -> None:
    first, text = first_run
    assert [name for name, _, _ in first.steps] == STEPS
    assert first.stopped is None
    assert [s.workflow.key for s in first.seeds] == SEED_KEYS
    outputs = first.root / "outputs"
    seed000 = outputs / "seed000_itslive"
    for name in ("footprint.html", "footprint.png", "velocity.csv", "velocity.png"):
        assert (seed000 / name).stat().st_size > 1000, name
    assert first.steps[3][2] == (
        "cube ITS_LIVE_vel_EPSG3413_G0120_X-3250000_Y250000.zarr; 21 velocities at the point "
        f"→ {seed000}"
    )
    rclone = (outputs / "seed002_kaguya" / "rclone-files.txt").read_text().splitlines()
    assert rclone[0].startswith("# rclone copy --files-from") and rclone[0].endswith(" :http: data")
    assert len((outputs / "seed002_kaguya" / "scenes.csv").read_text().splitlines()) == 3
    seed003 = (
        outputs / "seed003_kaguya" / "kaguya_terrain_camera_monoscopic_uncontrolled_observations"
    )
    assert len(list(seed003.iterdir())) == 3  # one folder per item inside the polygon
    seed001 = outputs / "seed001_atl03"
    assert first.steps[4][2] == (f"job successful: 1 subsetted granule, 8,558 photons → {seed001}")
    photons = (seed001 / "photons_per_beam.csv").read_text().splitlines()
    assert photons[0] == "granule,beam,photons" and len(photons) == 7
    assert sum(int(line.rsplit(",", 1)[1]) for line in photons[1:]) == 8558
    assert [p.name for p in (seed001 / "data").iterdir()] == [
        "ATL03_20200427193622_04930702_006_02_subsetted.h5"
    ]
    assert json.loads((seed001 / "capabilities.json").read_text())["shortName"] == "ATL03"
    # The same cut done client-side from the granule's URL (the seed checks the photon counts).
    assert [p.name for p in (seed001 / "client-side").iterdir()] == [
        "ATL03_20200427193622_04930702_006_02_subsetted.h5"
    ]
    assert (seed001 / "photons.png").stat().st_size > 1000
    assert first.steps[6][2].startswith("3 of 5 items; 21 assets")
    assert first.steps[7][2].startswith("4 days of NDWI with scene provenance")
    table = (outputs / "seed004_arps" / "ndwi_daily.csv").read_text().splitlines()
    assert len(table) == 5 and "scene_id" in table[0]
    assert (outputs / "seed004_arps" / "ndwi_daily.png").stat().st_size > 1000
    assert first.server_url is not None and first.server_url.startswith("http://127.0.0.1:")
    assert first.steps[2][2].startswith("6 collections, 21 items via pystac-client")
    for collection in (
        "ATL03",
        "itslive_datacubes",
        "kaguya_terrain_camera_monoscopic_uncontrolled_observations",
    ):
        assert collection in text
    assert (first.root / "archive" / ".eoaccess").is_dir()
    # Staging folders of the seeds are gone once each is renamed into place.
    assert [p.name for p in outputs.iterdir() if p.name.startswith(".")] == []


def test_index_links_every_file_and_only_existing_ones(
    first_run: tuple[QuickstartReport, str],
) -> None:
    report, _ = first_run
    outputs = report.outputs
    page = _page(outputs)
    assert page.steps == STEPS
    assert page.seeds == SEED_KEYS
    assert not page.tags & {"script", "link", "iframe"}  # self-contained, nothing fetched
    local = [link for link in page.links if not link.startswith("#")]
    assert not [link for link in local if "://" in link or link.startswith("/")]
    for link in local:
        assert (outputs / link).exists(), link
    assert sorted(page.images) == [
        "seed000_itslive/footprint.png",
        "seed000_itslive/velocity.png",
        "seed001_atl03/photons.png",
        "seed004_arps/ndwi_daily.png",
    ]
    linked = set(local)
    for key in ("seed000_itslive", "seed001_atl03", "seed002_kaguya", "seed004_arps"):
        # Every top-level file of these seeds is linked (seed 003's many downloads are capped).
        for path in (outputs / key).rglob("*"):
            if path.is_file():
                assert path.relative_to(outputs).as_posix() in linked, path
    assert [f"examples/{k}.py" for k in SEED_KEYS] == [
        link for link in local if link.startswith("examples/")
    ]
    text = (outputs / "index.html").read_text()
    assert "Complete: every step finished." in text
    assert f"<code>{report.server_url}</code>" in text
    assert "ndwi_daily.csv</a>: 4 rows (first 4 shown)" in text
    assert "21 files, " in text and "… and 9 more" in text  # seed 003: 12 listed of 21


@pytest.mark.skipif(shutil.which("chromium") is None, reason="Debian chromium is not installed")
def test_index_renders_in_headless_chromium(
    first_run: tuple[QuickstartReport, str], tmp_path: Path
) -> None:
    report, _ = first_run
    shot = tmp_path / "index.png"
    subprocess.run(
        [
            "chromium",
            "--headless",
            "--no-sandbox",  # tests may run as root, where the sandbox refuses to start
            "--disable-gpu",
            "--hide-scrollbars",
            f"--screenshot={shot}",
            "--window-size=1200,2400",
            (report.outputs / "index.html").as_uri(),
        ],
        capture_output=True,
        timeout=120,
        check=True,
    )
    pixels = np.asarray(Image.open(shot).convert("L"), dtype=float)
    assert pixels.shape == (2400, 1200)
    assert pixels.std() > 20  # text, tables and plots, not a blank page
    # The inline plots render: the lower half of the page is not empty either.
    assert pixels[1200:].std() > 20


def test_rerun_reuses_the_archive_and_catalog(first_run: tuple[QuickstartReport, str]) -> None:
    root = first_run[0].root
    again = run_quickstart(root, console=Console(file=io.StringIO(), width=160), size="tiny")
    assert again.steps[0][2] == f"reused {root / 'archive'}"
    assert again.steps[1][2].endswith("(0 added, 0 updated, 0 removed)")
    assert again.steps[2][2].startswith("6 collections, 21 items")
    assert _page(again.outputs).seeds == SEED_KEYS


def test_index_of_a_stopped_run_lists_only_finished_seeds(tmp_path: Path) -> None:
    folder = tmp_path / "outputs" / "seed000_itslive"
    folder.mkdir(parents=True)
    (folder / "velocity.csv").write_text("mid_date,v\n2020-01-01,1.5\n")
    seed = SEED_WORKFLOWS[0]
    report = QuickstartReport(
        tmp_path,
        steps=[("sample archive", 1.0, "reused"), (seed.name, 2.0, "done")],
        seeds=[FinishedSeed(seed, SeedOutcome("1 velocity", "It ran."), 2.0, folder)],
        stopped="interrupted during seed 002 Kaguya + sidecars",
    )
    page_path = write_index(report, examples=tmp_path / "no-examples")
    page = _page(page_path.parent)
    assert page.steps == ["sample archive", "seed 000 ITS_LIVE"]
    assert page.seeds == ["seed000_itslive"]
    assert page.links == ["#seed000_itslive", "seed000_itslive/", "seed000_itslive/velocity.csv"]
    text = page_path.read_text()
    assert "Not complete: interrupted during seed 002 Kaguya + sidecars." in text
    assert "Complete: every step finished." not in text
    assert "velocity.csv</a>: 1 rows (first 1 shown)" in text


def test_ctrl_c_during_a_seed_stops_cleanly(tmp_path: Path) -> None:
    """SIGINT while a seed runs: exit 130 with one line, server gone, nothing partial kept."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}  # see the seed start as it is printed
    command = [
        sys.executable,
        "-m",
        "eoaccess",
        "-q",
        "quickstart",
        str(tmp_path),
        "--size",
        "tiny",
    ]
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
    )
    assert process.stdout is not None
    port = None
    for line in process.stdout:
        if found := re.search(r"collections served at http://127\.0\.0\.1:(\d+)/", line):
            port = int(found.group(1))
        if "seed 000 ITS_LIVE" in line:  # the rule printed as the seed starts
            process.send_signal(signal.SIGINT)
            break
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == 130
    # click first ends the terminal's "^C" line with a newline; then our one message line.
    assert stderr.splitlines() == ["", "eoaccess: aborted"]
    assert port is not None
    with pytest.raises(ConnectionRefusedError), socket.create_connection(("127.0.0.1", port), 2):
        pass
    outputs = tmp_path / "outputs"
    page = _page(outputs)
    text = (outputs / "index.html").read_text()
    stopped = re.search(r"Not complete: interrupted during (seed [^.]+)\.", text)
    assert stopped is not None
    interrupted = next(s for s in SEED_WORKFLOWS if s.name == stopped.group(1))
    assert interrupted.name not in page.steps and interrupted.key not in page.seeds
    assert not (outputs / interrupted.key).exists()
    for key in page.seeds:  # whatever finished before the signal is complete on disk
        assert (outputs / key).is_dir()
    leftovers = [
        p
        for p in outputs.rglob("*")
        if p.name.endswith((".part", ".part.json")) or ".tmp-" in p.name
    ]
    assert leftovers == []
