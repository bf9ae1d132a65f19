"""Acceptance: seed 004's workflow with the real sentinelhub-py, unchanged, against our server.

SHConfig points at the served small ARPS archive; the client fetches an OAuth2 token, runs the
Statistical API with the seed's NDWI evalscript and ``percentiles k=[50]``, finds each day's tile
with the Catalog API, reads only the QA header through the BYOC files endpoint and maps the median
scene index to a scene id and acquisition time with the seed's own helpers. Every number is
compared with a plain numpy computation over the same pixels (rasterio reads, reprojected to the
request grid by exact nearest neighbour).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import numpy as np
import pytest
import rasterio
import requests
from rasterio.io import MemoryFile
from rasterio.transform import from_bounds

from tests.server_sh.conftest import CLIENT_ID, CLIENT_SECRET, ShServer
from tests.stats.archives import SEED_AOI, nearest_on_grid, seed_evalscript

START, END = "2023-11-01T00:00:00Z", "2023-12-01T00:00:00Z"


# --- seed 004's helpers, verbatim -------------------------------------------------------------


def parse_scene_mask(scene_mask: str) -> dict:
    entries = scene_mask.split("\n")
    scene_map = {}
    for entry in entries:
        scene, idx = entry.split("[")
        scene = scene.replace("PSScene/", "")
        idx = idx.replace("]", "")
        scene_map[idx] = scene
    return scene_map


def datetime_from_scene_id(scene_id: str) -> datetime:
    scene_tokens = scene_id.split("_")
    ymd = scene_tokens[0]
    hms = scene_tokens[1]
    return datetime(year=int(ymd[0:4]), month=int(ymd[4:6]), day=int(ymd[6:]), hour=int(hms[0:2]),
                    minute=int(hms[2:4]), second=int(hms[4:]))  # fmt: skip


# --- the client side ---------------------------------------------------------------------------


@pytest.fixture
def sh(sh_small: ShServer, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")  # the seed's users set it for http
    from sentinelhub import DataCollection, SHConfig

    config = SHConfig(sh_base_url=sh_small.base, sh_token_url=f"{sh_small.base}/oauth/token",
                      sh_client_id=CLIENT_ID, sh_client_secret=CLIENT_SECRET)  # fmt: skip
    return {
        "config": config,
        "collection": DataCollection.define_byoc(sh_small.archive.collection_id),
    }


def get_stats(sh: dict[str, Any], bbox: Any, **grid: Any) -> dict:
    from sentinelhub import SentinelHubStatistical

    request = SentinelHubStatistical(
        aggregation=SentinelHubStatistical.aggregation(
            evalscript=seed_evalscript(), time_interval=(START, END), aggregation_interval="P1D",
            **grid,
        ),
        calculations={"scenes": {"statistics": {"B0": {"percentiles": {"k": [50]}}}}},
        input_data=[SentinelHubStatistical.input_data(sh["collection"], maxcc=1)],
        bbox=bbox,
        config=sh["config"],
    )  # fmt: skip
    return request.get_data()[0]


def catalog_search(sh: dict[str, Any], bbox: Any, start_time: str, end_time: str) -> Any:
    from sentinelhub import SentinelHubCatalog

    return SentinelHubCatalog(config=sh["config"]).search(
        sh["collection"], bbox=bbox, time=(start_time, end_time)
    )


def get_arps_metadata(sh: dict[str, Any], base: str, item_id: str) -> dict:
    from sentinelhub import SentinelHubBYOC, SentinelHubSession

    tile_info = SentinelHubBYOC(config=sh["config"]).get_tile(sh["collection"], item_id)
    target_file = "analysis_ready_ps_qa"
    file_name = tile_info["path"].split("/")[-1].replace("(BAND)", target_file)
    source_len = tile_info["additionalData"]["filesMetadata"][target_file]["headerSize"]
    download_url = (f"{base}/api/v1/byoc/collections/{sh['collection'].collection_id}"
                    f"/tiles/{item_id}/files/{file_name}")  # fmt: skip
    session = SentinelHubSession(config=sh["config"])
    headers = {"Range": f"bytes=0-{source_len - 1}",
               "Authorization": f"Bearer {session.token['access_token']}"}  # fmt: skip
    response = requests.get(download_url, headers=headers, stream=True, timeout=30)
    assert response.status_code == 206 and len(response.content) == source_len  # header only
    with MemoryFile(response.content) as memfile, memfile.open() as dataset:
        return dataset.tags()


# --- the reference -----------------------------------------------------------------------------


def reference(server: ShServer, day: str, crs: str, transform: Any, shape: tuple[int, int]) -> dict:
    folder = server.archive.day_folder(day)
    green, nir, inside = nearest_on_grid(
        folder / "analysis_ready_ps_sr.tif", [2, 4], crs, transform, shape
    )
    cloud, scene, _ = nearest_on_grid(
        folder / "analysis_ready_ps_qa.tif", [1, 2], crs, transform, shape
    )
    clear = (inside == 1) & (green != 0) & (cloud == 1)
    with np.errstate(all="ignore"):
        ndwi = ((green - nir) / (green + nir)).astype(np.float32).astype(np.float64)[clear]
    with rasterio.open(folder / "analysis_ready_ps_qa.tif") as qa:
        tags = qa.tags()
    return {"ndwi": ndwi, "scenes": scene[clear], "tags": tags}


def check_interval(entry: dict, ref: dict, pixels: int) -> None:
    ndwi = entry["outputs"]["default"]["bands"]["B0"]["stats"]
    scenes = entry["outputs"]["scenes"]["bands"]["B0"]["stats"]
    assert ndwi["sampleCount"] == scenes["sampleCount"] == pixels
    assert ndwi["noDataCount"] == pixels - ref["ndwi"].size
    if ref["ndwi"].size == 0:
        assert ndwi["mean"] == "NaN" and scenes["percentiles"]["50.0"] == "NaN"
        return
    assert ndwi["mean"] == pytest.approx(ref["ndwi"].mean(), rel=1e-6, abs=1e-9)
    assert ndwi["stDev"] == pytest.approx(ref["ndwi"].std(ddof=1), rel=1e-6, abs=1e-9)
    assert ndwi["min"] == pytest.approx(ref["ndwi"].min(), abs=1e-6)
    assert ndwi["max"] == pytest.approx(ref["ndwi"].max(), abs=1e-6)
    assert scenes["percentiles"]["50.0"] == np.percentile(ref["scenes"], 50, method="higher")


# --- the tests -----------------------------------------------------------------------------------


def test_seed_004_workflow_with_sentinelhub_py(sh: dict[str, Any], sh_small: ShServer) -> None:
    from sentinelhub import CRS, BBox, bbox_to_dimensions

    sample_bbox = BBox(bbox=SEED_AOI, crs=CRS.WGS84)
    sample_size = bbox_to_dimensions(sample_bbox, resolution=3)
    result = get_stats(sh, sample_bbox, size=sample_size)
    assert result["status"] == "OK"
    width, height = sample_size
    transform = from_bounds(*SEED_AOI, width, height)
    days = [d["interval"]["from"][:10] for d in result["data"]]
    assert days == sorted(t["sensingTime"][:10] for t in sh_small.archive.tiles)  # days with tiles
    references = {}
    for entry in result["data"]:
        day = entry["interval"]["from"][:10]
        references[day] = reference(sh_small, day, "EPSG:4326", transform, (height, width))
        check_interval(entry, references[day], width * height)

    # The seed's aggregation loop: catalog search, header-only read, scene id, acquisition time.
    values, unmatched = [], []
    for r in result["data"]:
        ndwi = r["outputs"]["default"]["bands"]["B0"]["stats"]["mean"]
        tile_date_from = r["interval"]["from"]
        tile_date_to = tile_date_from[0:10] + "T23:59:59Z"
        if ndwi == "NaN":
            continue
        scene_index = str(
            int(r["outputs"]["scenes"]["bands"]["B0"]["stats"]["percentiles"]["50.0"])
        )
        tile_info = list(catalog_search(sh, sample_bbox, tile_date_from, tile_date_to))
        assert len(tile_info) == 1
        tile_metadata = get_arps_metadata(sh, sh_small.base, tile_info[0]["id"])
        try:
            scene_id = parse_scene_mask(tile_metadata["SCENE_IDS[LAYER_2_VALUE]"])[scene_index]
            values.append({"date": datetime_from_scene_id(scene_id), "ndwi": ndwi})
        except KeyError:
            unmatched.append(tile_date_from)
    assert unmatched == []  # every median index is a listed scene in the sample
    expected = []
    for day, ref in references.items():
        if ref["ndwi"].size == 0:
            continue
        median = int(np.percentile(ref["scenes"], 50, method="higher"))
        scene_id = parse_scene_mask(ref["tags"]["SCENE_IDS[LAYER_2_VALUE]"])[str(median)]
        expected.append((datetime_from_scene_id(scene_id), ref["ndwi"].mean()))
        assert scene_id.startswith(day.replace("-", ""))  # acquired on the tile's day
    assert [v["date"] for v in values] == [e[0] for e in expected]
    assert [v["ndwi"] for v in values] == pytest.approx([e[1] for e in expected], rel=1e-6)
    assert all(18 <= v["date"].hour <= 19 for v in values)  # San Francisco's overpasses (UTC)


def test_native_pixels_in_utm_match_exactly(sh: dict[str, Any], sh_small: ShServer) -> None:
    from sentinelhub import CRS, BBox

    with rasterio.open(
        sh_small.archive.day_folder("2023-11-05") / "analysis_ready_ps_sr.tif"
    ) as src:
        bounds, transform, shape = tuple(src.bounds), src.transform, (src.height, src.width)
    result = get_stats(sh, BBox(bounds, crs=CRS(32610)), resolution=(3, 3))
    assert result["status"] == "OK" and len(result["data"]) == len(sh_small.archive.tiles)
    for entry in result["data"]:
        ref = reference(sh_small, entry["interval"]["from"][:10], "EPSG:32610", transform, shape)
        check_interval(entry, ref, shape[0] * shape[1])
        if ref["ndwi"].size:  # same pixels, same arithmetic: equal to the last bit
            assert entry["outputs"]["default"]["bands"]["B0"]["stats"]["mean"] == ref["ndwi"].mean()
