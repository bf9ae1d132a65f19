"""The ARPS sample (seed 004): daily SR + QA COGs over San Francisco and their BYOC tile JSON.

Checked against FORMATS.md §4, COMPAT.md (BYOC tile shape) and the real outputs printed in seed
004 (the QA header tags, the ``filesMetadata`` keys), and driven through the seed's own workflow:
header-only Range read of the QA file, scene index -> scene id -> acquisition time.
"""

from __future__ import annotations

import ast
import hashlib
import json
import re
import struct
import urllib.request
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import rasterio
from rasterio.io import MemoryFile
from rasterio.transform import from_origin
from shapely.geometry import box, shape

from eoaccess.errors import InvalidInputError
from eoaccess.sample import generate_sample
from eoaccess.sample._arps_days import plan_month
from eoaccess.sample._arps_tiff import s3_etag, tiff_layout
from eoaccess.sample._arps_world import Window, solar_angles, to_lonlat
from eoaccess.sample.arps import AOI, GRID_NORTH, GRID_WEST, QA_FILE, SR_FILE, header_size
from tests.harness.http import start_http_server
from tests.shared_paths import SEEDS

DAYS = [date(2023, 11, d) for d in range(1, 7)]  # tiny covers the first six days of the month
SCENE_ID = re.compile(r"^(\d{8})_(\d{6})_(\d{2}_)?[0-9a-f]{4}$")


# --- seed 004's own helpers, as the notebook writes them ---------------------------------------


def parse_scene_mask(scene_mask: str) -> dict[str, str]:
    """Seed 004: map the SCENE_IDS[LAYER_2_VALUE] entries to {value: scene id}."""
    scene_map = {}
    for entry in scene_mask.split("\n"):
        scene, idx = entry.split("[")
        scene_map[idx.replace("]", "")] = scene.replace("PSScene/", "")
    return scene_map


def datetime_from_scene_id(scene_id: str) -> datetime:
    """Seed 004: acquisition time (UTC) from the first 15 characters of a PSScene id."""
    ymd, hms = scene_id.split("_")[:2]
    return datetime(
        int(ymd[:4]), int(ymd[4:6]), int(ymd[6:]), int(hms[:2]), int(hms[2:4]), int(hms[4:])
    )


def _seed_literal(start: str) -> dict[str, Any]:
    """A dict printed in seed 004's outputs, found by its opening characters."""
    texts = sorted(SEEDS.glob("004_*.txt"))
    if not texts:
        pytest.skip(f"seed 004 not found in {SEEDS}")
    text = texts[0].read_text(encoding="utf-8")
    match = re.search(re.escape(start) + r".*?\}\}?\n", text, flags=re.DOTALL)
    assert match, f"seed 004 no longer prints {start!r}"
    return ast.literal_eval(match.group(0).strip())


# --- fixtures ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("arps-tiny")
    summary = generate_sample(root, "tiny", products=["arps"])
    assert summary.products[0].product == "arps"
    return root / "arps"


@pytest.fixture(scope="module")
def tiles(archive: Path) -> list[dict[str, Any]]:
    return json.loads((archive / "tiles.json").read_text())["data"]


@pytest.fixture(scope="module")
def collection(archive: Path) -> dict[str, Any]:
    return json.loads((archive / "collection.json").read_text())


def _file(archive: Path, tile: dict[str, Any], band: str) -> Path:
    return archive / tile["path"].replace("(BAND)", band)


def _read(path: Path) -> tuple[np.ndarray, dict[str, str]]:
    with rasterio.open(path) as src:
        return src.read(), src.tags()


def _tree_digest(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


# --- layout ------------------------------------------------------------------------------------


def test_layout_one_folder_per_tile_day(archive: Path, tiles: list[dict[str, Any]]) -> None:
    files = sorted(str(p.relative_to(archive)) for p in archive.rglob("*") if p.is_file())
    expected = {"collection.json", "tiles.json"}
    for tile in tiles:
        expected |= {str(_file(archive, tile, b).relative_to(archive)) for b in (SR_FILE, QA_FILE)}
    assert files == sorted(expected)  # nothing else, nothing missing
    days = [t["path"].split("/")[1] for t in tiles]
    assert days == sorted(days) and len(days) == 4  # four tiles; two days have none
    assert set(days) < {d.isoformat() for d in DAYS}
    for tile in tiles:
        assert re.fullmatch(r"32610_536_4168/2023-11-0[1-6]/\(BAND\)\.tif", tile["path"])
        assert _file(archive, tile, QA_FILE).name == "analysis_ready_ps_qa.tif"  # FORMATS: …_qa.tif
        assert _file(archive, tile, SR_FILE).name == "analysis_ready_ps_sr.tif"


def test_summary_matches_archive(tmp_path: Path) -> None:
    summary = generate_sample(tmp_path, "tiny", products=["arps"], seed=3).products[0]
    collection_id = json.loads((tmp_path / "arps" / "collection.json").read_text())["id"]
    assert summary.collections == (collection_id,)
    assert summary.items == 4 and summary.files == 10
    assert summary.bytes == sum(
        p.stat().st_size for p in (tmp_path / "arps").rglob("*") if p.is_file()
    )
    assert any("EPSG:32610" in note for note in summary.notes)


def test_deterministic(archive: Path, tmp_path: Path) -> None:
    generate_sample(tmp_path, "tiny", products=["arps"])
    assert _tree_digest(tmp_path / "arps") == _tree_digest(archive)


def test_other_seed_differs(archive: Path, tmp_path: Path) -> None:
    generate_sample(tmp_path, "tiny", products=["arps"], seed=1)
    ours, theirs = _tree_digest(archive), _tree_digest(tmp_path / "arps")
    assert ours.keys() != theirs.keys() or ours != theirs


# --- surface reflectance COG -------------------------------------------------------------------


def test_sr_is_a_4_band_int16_cog(archive: Path, tiles: list[dict[str, Any]]) -> None:
    for tile in tiles:
        with rasterio.open(_file(archive, tile, SR_FILE)) as src:
            assert (src.count, src.dtypes, src.nodata) == (4, ("int16",) * 4, 0)
            assert src.descriptions == ("blue", "green", "red", "nir")
            assert src.crs.to_epsg() == 32610 and src.res == (3.0, 3.0)
            assert (src.width, src.height) == (64, 64)
            assert src.profile["compress"] == "lzw" and src.profile["tiled"]
            assert src.block_shapes == [(32, 32)] * 4
            assert src.overviews(1) == [2]
            structure = src.tags(ns="IMAGE_STRUCTURE")
            assert structure["LAYOUT"] == "COG" and structure["PREDICTOR"] == "2"
            # On the 3 m lattice of the 24 km grid cell 32610_536_4168.
            assert (src.bounds.left - GRID_WEST) % 3 == 0 and (GRID_NORTH - src.bounds.top) % 3 == 0
            west, south, east, north = src.bounds
            assert 536_000 <= west < east <= 560_000 and 4_168_000 <= south < north <= 4_192_000


def test_sr_values_are_reflectance_x10000_with_nodata(
    archive: Path, tiles: list[dict[str, Any]]
) -> None:
    partial_coverage = 0
    for tile in tiles:
        sr, _ = _read(_file(archive, tile, SR_FILE))
        qa, _ = _read(_file(archive, tile, QA_FILE))
        empty = qa[1] == 0
        assert np.array_equal((sr == 0).all(axis=0), empty)  # nodata in every band, exactly there
        assert not (sr[:, ~empty] == 0).any()
        assert sr[:, ~empty].min() >= 1 and sr[:, ~empty].max() <= 10000
        assert (qa[0][empty] == 0).all()  # no data is never "clear"
        partial_coverage += bool(empty.any())
    assert partial_coverage >= 1  # some day a pass covers only part of the tile


def _ndwi(sr: np.ndarray) -> np.ndarray:
    green, nir = sr[1].astype(float), sr[3].astype(float)
    return np.divide(
        green - nir, green + nir, out=np.full(green.shape, np.nan), where=green + nir > 0
    )


def test_water_and_land(archive: Path, tiles: list[dict[str, Any]]) -> None:
    """Mission Creek (high NDWI) between SoMa blocks (low NDWI) in every clear view."""
    for tile in tiles:
        sr, _ = _read(_file(archive, tile, SR_FILE))
        qa, _ = _read(_file(archive, tile, QA_FILE))
        clear = qa[0] == 1
        if clear.mean() < 0.2:
            continue
        ndwi = _ndwi(sr)[clear]
        water = ndwi > 0.2
        assert 0.1 < water.mean() < 0.6
        assert np.median(ndwi[water]) > 0.35  # turbid Bay water
        assert np.median(ndwi[~water]) < -0.1  # roofs, streets, trees
        assert ((ndwi > 0.2) | (ndwi < 0.05)).mean() > 0.97  # a shoreline, not a gradient


def test_clouds_are_bright_where_flagged(archive: Path, tiles: list[dict[str, Any]]) -> None:
    cloudy_days = 0
    for tile in tiles:
        sr, _ = _read(_file(archive, tile, SR_FILE))
        qa, _ = _read(_file(archive, tile, QA_FILE))
        valid, clear = qa[1] > 0, qa[0] == 1
        flagged = valid & ~clear
        if flagged.sum() < 0.2 * valid.sum():
            continue
        cloudy_days += 1
        blue = sr[0].astype(float)
        assert np.percentile(blue[flagged], 75) > 3000  # thick clouds: reflectance > 0.3
        if clear.any():
            assert np.percentile(blue[clear], 99) < 2000
            ndwi = _ndwi(sr)
            assert abs(np.median(ndwi[flagged & (blue > 3000)])) < 0.1  # white: flat spectrum
    assert cloudy_days >= 2


def test_sky_varies_from_clear_to_overcast(archive: Path, tiles: list[dict[str, Any]]) -> None:
    clear = []
    for tile in tiles:
        qa, _ = _read(_file(archive, tile, QA_FILE))
        clear.append(100 * np.sum(qa[0] == 1) / np.sum(qa[1] > 0))  # of the pixels with data
    clear.sort()
    assert clear[0] < 15  # nearly fully cloudy
    assert any(20 < c < 80 for c in clear)  # partly cloudy
    assert clear[-1] > 90  # clear


# --- QA GeoTIFF ----------------------------------------------------------------------------------


def test_qa_layers(archive: Path, tiles: list[dict[str, Any]]) -> None:
    for tile in tiles:
        with (
            rasterio.open(_file(archive, tile, QA_FILE)) as qa,
            rasterio.open(_file(archive, tile, SR_FILE)) as sr,
        ):
            assert (qa.count, qa.dtypes) == (2, ("uint16", "uint16"))
            assert qa.descriptions == ("cloud_mask", "scene_mask")
            assert qa.nodata is None  # 0 means cloud in layer 1 and "no scene" in layer 2
            assert (qa.transform, qa.crs, qa.shape) == (sr.transform, sr.crs, sr.shape)
            assert qa.tags(ns="IMAGE_STRUCTURE")["LAYOUT"] == "COG"
            data = qa.read()
        assert set(np.unique(data[0]).tolist()) <= {0, 1}
        assert data[1].max() < 600  # the techspec's traceability range


def test_qa_tags_have_the_real_keys(archive: Path, tiles: list[dict[str, Any]]) -> None:
    real = _seed_literal("{'CREATED'")
    for tile in tiles:
        _, tags = _read(_file(archive, tile, QA_FILE))
        assert tags.keys() == real.keys()
        assert tags["PIPELINE_VERSION"] == real["PIPELINE_VERSION"] == "1.0.0"
        assert tags["RUN_TYPE"] == real["RUN_TYPE"]
        assert re.fullmatch(r"2024-11-08T\d\d:\d\d:\d\dZ", tags["CREATED"])
        assert re.fullmatch(r"\d{1,3}\.\d\d", tags["PERCENTAGE_CLEAR"])
        assert tags["PS_SCENE_IDS[LAYER_2_VALUE]"] == tags["SCENE_IDS[LAYER_2_VALUE]"]
        # Same line form as the real tags: "PSScene/<id>[<value>]" lines, then "None[<value>]".
        for key in ("SCENE_IDS[LAYER_2_VALUE]", "SCENE_SOLAR_AZIMUTH[LAYER_2_VALUE]"):
            assert tags[key].split("\n")[-1] == "None[0]"
            assert real[key].split("\n")[-1].startswith("None[")


def test_percentage_clear_is_the_cloud_mask(archive: Path, tiles: list[dict[str, Any]]) -> None:
    for tile in tiles:
        qa, tags = _read(_file(archive, tile, QA_FILE))
        assert tags["PERCENTAGE_CLEAR"] == f"{100 * np.mean(qa[0] == 1):.2f}"


def test_scene_mask_maps_to_scene_ids(archive: Path, tiles: list[dict[str, Any]]) -> None:
    two_passes = 0
    for tile in tiles:
        day = date.fromisoformat(tile["path"].split("/")[1])
        qa, tags = _read(_file(archive, tile, QA_FILE))
        scene_map = parse_scene_mask(tags["SCENE_IDS[LAYER_2_VALUE]"])
        assert scene_map.pop("0") == "None"
        present = {str(v) for v in np.unique(qa[1]).tolist()} - {"0"}
        assert present == scene_map.keys()  # every value listed, every listed value present
        assert len(present) >= 2  # seams between scenes in every tile
        satellites: dict[str, list[tuple[int, datetime]]] = {}
        for value, scene_id in scene_map.items():
            assert SCENE_ID.match(scene_id), scene_id
            when = datetime_from_scene_id(scene_id)
            assert when.date() == day
            assert datetime(2023, 11, day.day, 18) <= when <= datetime(2023, 11, day.day, 19, 30)
            satellites.setdefault(scene_id[-4:], []).append((int(value), when))
        for frames in satellites.values():  # consecutive frames of a pass: values follow time
            frames.sort()
            assert [w for _, w in frames] == sorted(w for _, w in frames)
            assert [v for v, _ in frames] == list(range(frames[0][0], frames[0][0] + len(frames)))
        two_passes += len(satellites) == 2
        for key in ("SCENE_SOLAR_AZIMUTH[LAYER_2_VALUE]", "SCENE_SOLAR_ELEVATION[LAYER_2_VALUE]"):
            angles = parse_scene_mask(tags[key])
            assert angles.pop("0") == "None" and angles.keys() == scene_map.keys()
            low, high = (135, 180) if "AZIMUTH" in key else (25, 40)  # November, late morning
            assert all(low < float(a) < high for a in angles.values())
    assert two_passes >= 1


def test_both_scene_id_forms_occur() -> None:
    """FORMATS.md: ids are YYYYMMDD_HHMMSS_FF_SSSS (SuperDove) or YYYYMMDD_HHMMSS_SSSS (Dove-R)."""
    window = Window(553_500.0, 4_180_800.0, 400, 400)
    month = [date(2023, 11, 1) + timedelta(days=i) for i in range(30)]
    ids = [s.scene_id for p in plan_month(0, window, month) if p for s in p.scenes]
    assert any(len(i.split("_")) == 4 for i in ids) and any(len(i.split("_")) == 3 for i in ids)
    assert all(SCENE_ID.match(i) for i in ids)


def test_month_history() -> None:
    """Missing days, a storm that muddies the Bay, vegetation greening after it."""
    window = Window(553_500.0, 4_180_800.0, 400, 400)
    month = [date(2023, 11, 1) + timedelta(days=i) for i in range(30)]
    plans = plan_month(0, window, month)
    present = [p for p in plans if p is not None]
    assert 10 <= len(present) <= 26
    assert {p.sky for p in present} == {"clear", "partial", "overcast"}
    turbidity = [p.turbidity for p in present]
    assert max(turbidity) - min(turbidity) > 0.3
    assert present[-1].greenness - present[0].greenness > 0.3
    # The tiny archive is the first six days of the same history.
    assert [p and p.sky for p in plans[:6]] == [
        p and p.sky for p in plan_month(0, window, month)[:6]
    ]


def test_seed_workflow_median_scene_to_acquisition_time(
    archive: Path, tiles: list[dict[str, Any]]
) -> None:
    """Seed 004: the median scene index of the clear pixels names the scene and its time."""
    for tile in tiles:
        qa, tags = _read(_file(archive, tile, QA_FILE))
        clear = qa[0] == 1
        if not clear.any():
            continue
        median = str(int(np.percentile(qa[1][clear], 50, method="nearest")))
        scene_id = parse_scene_mask(tags["SCENE_IDS[LAYER_2_VALUE]"])[median]
        assert datetime_from_scene_id(scene_id).strftime("%Y-%m-%d") in tile["path"]


def test_solar_angles_at_solar_noon() -> None:
    """2 Nov in San Francisco: noon at ~19:53 UTC, sun due south at 90 - 37.77 - 14.8 degrees."""
    minutes = [datetime(2023, 11, 2, 18, tzinfo=UTC) + timedelta(minutes=m) for m in range(180)]
    angles = [solar_angles(t, -122.415, 37.77) for t in minutes]
    noon = int(np.argmax([e for _, e in angles]))
    assert abs(minutes[noon] - datetime(2023, 11, 2, 19, 53, tzinfo=UTC)) <= timedelta(minutes=3)
    assert angles[noon][1] == pytest.approx(37.5, abs=0.5)
    assert angles[noon][0] == pytest.approx(180, abs=1.5)
    assert angles[0][0] < angles[noon][0]  # morning sun in the south-east


# --- header-only reads -------------------------------------------------------------------------


def test_header_size_is_what_tiles_json_says(archive: Path, tiles: list[dict[str, Any]]) -> None:
    real = _seed_literal("{'analysis_ready_ps_qa'")
    for tile in tiles:
        files = tile["additionalData"]["filesMetadata"]
        assert files.keys() == real.keys() == {QA_FILE, SR_FILE}
        for band, meta in files.items():
            path = _file(archive, tile, band)
            assert meta["headerSize"] == header_size(path)
            assert 1000 < meta["headerSize"] < path.stat().st_size
            assert meta["etag"] == '"' + hashlib.md5(path.read_bytes()).hexdigest() + '"'


def test_header_bytes_hold_every_tag(archive: Path, tiles: list[dict[str, Any]]) -> None:
    for tile in tiles:
        for band in (QA_FILE, SR_FILE):
            path = _file(archive, tile, band)
            size = header_size(path)
            with open(path, "rb") as fh:
                assert tiff_layout(fh).metadata_end <= size
            with rasterio.open(path) as full:
                tags, descriptions = full.tags(), full.descriptions
            with MemoryFile(path.read_bytes()[:size]) as mem, mem.open() as head:
                assert head.tags() == tags
                assert head.descriptions == descriptions
                assert head.crs.to_epsg() == 32610


def test_header_size_agrees_with_gdal_block_offsets(
    archive: Path, tiles: list[dict[str, Any]]
) -> None:
    """The first image byte is the smallest block offset GDAL reports over all resolutions."""
    for tile in tiles:
        for band in (QA_FILE, SR_FILE):
            path = _file(archive, tile, band)
            offsets = []
            for level in (None, 0):  # full resolution, then the one overview
                with rasterio.open(path, overview_level=level) as src:
                    for row in range(-(-src.height // 32)):
                        for col in range(-(-src.width // 32)):
                            item = src.get_tag_item(f"BLOCK_OFFSET_{col}_{row}", "TIFF", bidx=1)
                            offsets.append(int(item))
            # GDAL's COG puts a 4-byte size leader before each block; header_size stops at data.
            assert header_size(path) == min(offsets)


def test_header_range_request_over_http(archive: Path, tiles: list[dict[str, Any]]) -> None:
    """Seed 004's get_arps_metadata: one Range request of headerSize bytes gives the tags."""
    server = start_http_server(archive)
    try:
        tile = tiles[0]
        size = tile["additionalData"]["filesMetadata"][QA_FILE]["headerSize"]
        url = f"{server.url}/{tile['path'].replace('(BAND)', QA_FILE)}"
        request = urllib.request.Request(url, headers={"Range": f"bytes=0-{size - 1}"})
        with urllib.request.urlopen(request, timeout=10) as response:
            assert response.status == 206
            body = response.read()
        assert len(body) == size
        with MemoryFile(body) as mem, mem.open() as dataset:
            tags = dataset.tags()
        scene_map = parse_scene_mask(tags["SCENE_IDS[LAYER_2_VALUE]"])
        assert len(scene_map) >= 3 and scene_map["0"] == "None"
        requests = server.requests_for("/" + tile["path"].replace("(BAND)", QA_FILE))
        assert [(r.method, r.range, r.status) for r in requests] == [
            ("GET", f"bytes=0-{size - 1}", 206)
        ]
    finally:
        server.stop()


def test_header_size_of_bigtiff_cog(tmp_path: Path) -> None:
    path = tmp_path / "big.tif"
    profile = {"driver": "COG", "width": 64, "height": 64, "count": 1, "dtype": "uint16"}
    profile |= {"crs": "EPSG:32610", "transform": from_origin(550_000, 4_180_000, 3, 3)}
    with rasterio.open(path, "w", bigtiff="YES", blocksize=32, **profile) as dst:
        dst.write(np.arange(64 * 64, dtype="uint16").reshape(1, 64, 64))
        dst.update_tags(SCENE_IDS="PSScene/20231102_190001_45_2495[10]\nNone[0]")
    with open(path, "rb") as fh:
        assert tiff_layout(fh).bigtiff
    with MemoryFile(path.read_bytes()[: header_size(path)]) as mem, mem.open() as head:
        assert head.tags()["SCENE_IDS"].endswith("None[0]")


def test_header_size_rejects_bad_layouts(tmp_path: Path) -> None:
    not_tiff = tmp_path / "not.tif"
    not_tiff.write_bytes(b"PK\x03\x04 a zip, not a TIFF")
    with pytest.raises(InvalidInputError, match="not a TIFF"):
        header_size(not_tiff)
    # A 1x1 TIFF whose IFD comes after its pixel: no prefix of it holds the whole header.
    entries = [(256, 3, 1, 1), (257, 3, 1, 1), (258, 3, 1, 8), (273, 4, 1, 8), (278, 3, 1, 1)]
    entries.append((279, 4, 1, 1))
    ifd = struct.pack("<H", len(entries))
    for tag, ftype, count, value in entries:
        packed = struct.pack("<H", value) + b"\0\0" if ftype == 3 else struct.pack("<I", value)
        ifd += struct.pack("<HHI", tag, ftype, count) + packed
    tail_ifd = tmp_path / "tail.tif"
    tail_ifd.write_bytes(b"II*\0" + struct.pack("<I", 10) + b"\x7f\0" + ifd + b"\0\0\0\0")
    with open(tail_ifd, "rb") as fh:
        layout = tiff_layout(fh)
    assert (layout.first_data_offset, layout.ifd_count) == (8, 1) and layout.metadata_end > 8
    with pytest.raises(InvalidInputError, match="cloud-optimized"):
        header_size(tail_ifd)


def test_s3_etag_multipart(tmp_path: Path) -> None:
    path = tmp_path / "blob"
    path.write_bytes(b"0123456789")
    digests = b"".join(hashlib.md5(part).digest() for part in (b"0123", b"4567", b"89"))
    assert s3_etag(path, chunk=4) == f'"{hashlib.md5(digests).hexdigest()}-3"'
    assert s3_etag(path) == '"' + hashlib.md5(b"0123456789").hexdigest() + '"'


# --- BYOC JSON -----------------------------------------------------------------------------------


def test_tiles_json_has_the_byoc_tile_shape(archive: Path, tiles: list[dict[str, Any]]) -> None:
    keys = {"id", "path", "status", "sensingTime", "created", "tileGeometry", "coverGeometry"}
    assert len({t["id"] for t in tiles}) == len(tiles)
    for tile in tiles:
        assert tile.keys() == keys | {"additionalData"}
        assert uuid.UUID(tile["id"]).version == 4
        assert tile["status"] == "INGESTED"
        day = tile["path"].split("/")[1]
        assert tile["sensingTime"] == f"{day}T00:00:00Z"
        for key in ("tileGeometry", "coverGeometry"):
            assert tile[key]["crs"]["properties"]["name"] == "urn:ogc:def:crs:EPSG::32610"
        assert tile["coverGeometry"]["type"] == "MultiPolygon"
        extra = tile["additionalData"]
        assert (extra["minMetersPerPixel"], extra["maxMetersPerPixel"]) == (3.0, 6.0)
        with rasterio.open(_file(archive, tile, QA_FILE)) as src:
            assert shape(tile["tileGeometry"]).equals(box(*src.bounds))
            valid = src.read(2) > 0
        cover = shape(tile["coverGeometry"])
        assert cover.within(shape(tile["tileGeometry"]).buffer(0.01))
        # The cover outlines the pixels with data (to the pixels cut by its edges).
        assert cover.area == pytest.approx(valid.sum() * 9.0, rel=0.02)


def test_collection_json_maps_evalscript_bands(
    collection: dict[str, Any], tiles: list[dict[str, Any]]
) -> None:
    assert uuid.UUID(collection["id"])
    bands = collection["additionalData"]["bands"]
    assert list(bands) == ["blue", "green", "red", "nir", "cloud_mask", "scene_mask"]
    for i, name in enumerate(("blue", "green", "red", "nir"), start=1):
        assert bands[name] == {
            "source": SR_FILE, "bandIndex": i, "bitDepth": 16, "sampleFormat": "INT", "noData": 0
        }  # fmt: skip
    assert bands["cloud_mask"] == {
        "source": QA_FILE,
        "bandIndex": 1,
        "bitDepth": 16,
        "sampleFormat": "UINT",
    }
    assert bands["scene_mask"] == {
        "source": QA_FILE,
        "bandIndex": 2,
        "bitDepth": 16,
        "sampleFormat": "UINT",
    }
    # The bands seed 004's evalscript asks for (dataMask is derived, not stored).
    assert {"green", "nir", "cloud_mask", "scene_mask"} <= bands.keys()
    extra = collection["additionalData"]
    assert extra["fromSensingTime"] == tiles[0]["sensingTime"]
    assert extra["toSensingTime"] == tiles[-1]["sensingTime"]
    assert extra["hasSensingTimes"] == "YES"
    # The tiny tile lies inside the seed's AOI.
    lon_w, lat_s, lon_e, lat_n = AOI
    assert shape(extra["extent"]).within(box(lon_w, lat_s, lon_e, lat_n))
    west, south, *_ = shape(tiles[0]["tileGeometry"]).bounds
    lon, lat = to_lonlat(west, south)
    assert shape(extra["extent"]).exterior.coords[0] == pytest.approx((lon, lat), abs=1e-6)
