"""Ingest works on the real files: USGS Kaguya items and ITS_LIVE's real footprint catalog."""

from __future__ import annotations

import contextlib
import hashlib
import json
from collections.abc import Iterator
from pathlib import Path

from eoaccess.ingest import FINGERPRINT, ingest
from tests.ingest.conftest import all_items, open_catalog

COLLECTION = "kaguya_terrain_camera_monoscopic_uncontrolled_observations"


def test_real_kaguya_items_and_itslive_catalog(realdata: Path, tmp_path: Path) -> None:
    catalog = tmp_path / "catalog"
    report = ingest(realdata, catalog)  # the real data is read-only: the catalog lives apart
    folders = sorted(p for p in (realdata / "kaguya").iterdir() if p.is_dir())
    assert report.counts(COLLECTION).added == len(folders)
    # The real ITS_LIVE catalog points at cubes in the real bucket: listed, not datable here.
    features = json.loads((realdata / "itslive" / "catalog_v02_regions.json").read_text())
    listed = sum(f["properties"]["datacube_exist"] == 1 for f in features["features"])
    assert [(s.path, s.reason) for s in report.skipped] == [
        (
            "itslive/catalog_v02_regions.json",
            f"{listed} of {listed} listed datacubes are not in the archive, so they cannot "
            "be dated (no time range without the cube)",
        )
    ]
    with open_catalog(catalog) as store:
        items = all_items(store)
    for folder in folders:
        source = json.loads((folder / "item.json").read_text())
        item = items[(COLLECTION, source["id"])]
        props = dict(item["properties"])
        props.pop(FINGERPRINT)
        assert props == source["properties"] and item["geometry"] == source["geometry"]
        # Sidecars saved next to item.json without the id prefix are the local assets;
        # the others stay absolute URLs of the real bucket.
        for key, name in (("caminfo_pvl", "caminfo.pvl"), ("isis_label", "isis.lbl")):
            asset = item["assets"][key]
            assert asset["href"] == f"kaguya/{folder.name}/{name}"
            digest = hashlib.sha256((folder / name).read_bytes()).hexdigest()
            assert asset["file:checksum"] == "1220" + digest
        assert item["assets"]["image"]["href"] == source["assets"]["image"]["href"]
        assert "file:checksum" not in item["assets"]["image"]


class RecordingProgress:
    """A :class:`~eoaccess._progress.Progress` that remembers its tasks and their steps."""

    def __init__(self) -> None:
        self.tasks: list[list[object]] = []

    @contextlib.contextmanager
    def task(self, description: str, total: int | None = None) -> Iterator[object]:
        record: list[object] = [description, total, 0]
        self.tasks.append(record)

        class Steps:
            def advance(self, steps: int = 1) -> None:
                record[2] = int(record[2]) + steps  # type: ignore[call-overload]

        yield Steps()


def test_progress_reports_listing_and_cataloguing(realdata: Path, tmp_path: Path) -> None:
    progress = RecordingProgress()
    report = ingest(realdata, tmp_path / "catalog", progress=progress)
    files = report.files
    assert progress.tasks == [
        [f"Listing {realdata}", None, files],
        ["Recognising products", None, 1],
        [f"Cataloguing {report.added} new or changed items", report.added, report.added],
    ]
    again = RecordingProgress()
    ingest(realdata, tmp_path / "catalog", progress=again)
    assert [t[0] for t in again.tasks] == [f"Listing {realdata}", "Recognising products"]
