"""``POST /api/v1/statistics``: request and response shapes (COMPAT.md), numbers, errors."""

from __future__ import annotations

import copy
from typing import Any

import numpy as np
import pytest
import rasterio

from tests.server_sh.conftest import ShServer
from tests.stats.archives import seed_evalscript

UTM = "http://www.opengis.net/def/crs/EPSG/0/32610"
DAYS = ["2023-11-01", "2023-11-02", "2023-11-05", "2023-11-06"]


def tile_bounds(server: ShServer) -> list[float]:
    with rasterio.open(server.archive.day_folder("2023-11-01") / "analysis_ready_ps_sr.tif") as src:
        return list(src.bounds)


def request(server: ShServer, **changes: Any) -> dict[str, Any]:
    """The seed's request over the tiny tile's own 3 m pixels (UTM bbox)."""
    body: dict[str, Any] = {
        "input": {
            "bounds": {"bbox": tile_bounds(server), "properties": {"crs": UTM}},
            "data": [{"type": f"byoc-{server.archive.collection_id}", "dataFilter": {}}],
        },
        "aggregation": {
            "evalscript": seed_evalscript(),
            "timeRange": {"from": "2023-11-01T00:00:00Z", "to": "2023-12-01T00:00:00Z"},
            "aggregationInterval": {"of": "P1D"},
            "resx": 3,
            "resy": 3,
        },
        "calculations": {"scenes": {"statistics": {"B0": {"percentiles": {"k": [50]}}}}},
    }
    for path, value in changes.items():
        target = body
        keys = path.split("__")
        for key in keys[:-1]:
            target = target[key]
        if value is None:
            target.pop(keys[-1], None)
        else:
            target[keys[-1]] = value
    return body


def day_reference(server: ShServer, day: str) -> dict[str, Any]:
    folder = server.archive.day_folder(day)
    with rasterio.open(folder / "analysis_ready_ps_sr.tif") as sr:
        green, nir = sr.read([2, 4]).astype(np.float64)
    with rasterio.open(folder / "analysis_ready_ps_qa.tif") as qa:
        cloud, scene = qa.read()
    clear = (green != 0) & (cloud == 1)
    with np.errstate(all="ignore"):
        ndwi = ((green - nir) / (green + nir)).astype(np.float32)[clear].astype(np.float64)
    return {"ndwi": ndwi, "scenes": scene[clear].astype(np.float64), "n": green.size}


def test_shapes_and_numbers(sh_tiny: ShServer) -> None:
    reply = sh_tiny.post("/api/v1/statistics", request(sh_tiny))
    assert reply.status_code == 200, reply.text
    body = reply.json()
    assert body["status"] == "OK" and body["geometryPixelCount"] == 64 * 64
    assert [d["interval"] for d in body["data"]] == [
        {"from": f"{d}T00:00:00Z", "to": f"2023-11-{int(d[-2:]) + 1:02d}T00:00:00Z"} for d in DAYS
    ]
    for entry in body["data"]:
        assert set(entry) == {"interval", "outputs"}
        assert set(entry["outputs"]) == {"default", "scenes"}
        ndwi = entry["outputs"]["default"]["bands"]["B0"]
        scenes = entry["outputs"]["scenes"]["bands"]["B0"]
        assert list(ndwi) == ["stats"]
        assert list(ndwi["stats"]) == ["min", "max", "mean", "stDev", "sampleCount", "noDataCount"]
        assert list(scenes["stats"])[-1] == "percentiles" and list(
            scenes["stats"]["percentiles"]
        ) == ["50.0"]
        ref = day_reference(sh_tiny, entry["interval"]["from"][:10])
        assert ndwi["stats"]["sampleCount"] == ref["n"] == 4096
        assert ndwi["stats"]["noDataCount"] == ref["n"] - ref["ndwi"].size
        assert ndwi["stats"]["mean"] == pytest.approx(ref["ndwi"].mean(), rel=1e-12)
        assert ndwi["stats"]["stDev"] == pytest.approx(ref["ndwi"].std(ddof=1), rel=1e-12)
        assert (ndwi["stats"]["min"], ndwi["stats"]["max"]) == (
            ref["ndwi"].min(),
            ref["ndwi"].max(),
        )
        assert scenes["stats"]["percentiles"]["50.0"] == np.percentile(
            ref["scenes"], 50, method="higher"
        )


def test_no_pixel_counted_gives_nan_strings(sh_tiny: ShServer) -> None:
    script = seed_evalscript().replace("dataMask: [clear]", "dataMask: [0]")
    body = sh_tiny.post(
        "/api/v1/statistics", request(sh_tiny, aggregation__evalscript=script)
    ).json()
    stats = body["data"][0]["outputs"]["default"]["bands"]["B0"]["stats"]
    assert stats == {"min": "NaN", "max": "NaN", "mean": "NaN", "stDev": "NaN",
                     "sampleCount": 4096, "noDataCount": 4096}  # fmt: skip
    assert body["data"][0]["outputs"]["scenes"]["bands"]["B0"]["stats"]["percentiles"] == {
        "50.0": "NaN"
    }


def test_failed_intervals_make_a_partial_reply(sh_tiny: ShServer) -> None:
    script = seed_evalscript().replace(
        "const clear",
        "if (sample.scene_mask == 539) { throw new Error('bad scene'); }\n    const clear",
    )
    body = sh_tiny.post(
        "/api/v1/statistics", request(sh_tiny, aggregation__evalscript=script)
    ).json()
    assert body["status"] == "PARTIAL"
    first, *others = body["data"]
    assert set(first) == {"interval", "error"}
    assert first["error"]["type"] == "EXECUTION_ERROR"
    assert "Error: bad scene (line" in first["error"]["message"]
    assert all("outputs" in d and "error" not in d for d in others) and len(others) == 3


def test_histograms_and_default_calculations(sh_tiny: ShServer) -> None:
    calculations = {"default": {"histograms": {"default": {"nBins": 4}},
                                "statistics": {"default": {"percentiles": {"k": [5, 95]}}}}}  # fmt: skip
    body = sh_tiny.post("/api/v1/statistics", request(sh_tiny, calculations=calculations)).json()
    band = body["data"][2]["outputs"]["default"]["bands"]["B0"]
    ref = day_reference(sh_tiny, "2023-11-05")
    counts, edges = np.histogram(ref["ndwi"], bins=4)
    assert [b["count"] for b in band["histogram"]["bins"]] == counts.tolist()
    assert band["histogram"]["bins"][0]["lowEdge"] == edges[0]
    assert band["histogram"]["bins"][-1]["highEdge"] == edges[-1]
    assert (band["histogram"]["underflow"], band["histogram"]["overflow"]) == (0, 0)
    assert list(band["stats"]["percentiles"]) == ["5.0", "95.0"]
    assert "histogram" in body["data"][2]["outputs"]["scenes"]["bands"]["B0"]


def test_last_interval_behaviour_and_cloud_filter(sh_tiny: ShServer) -> None:
    shortened = request(sh_tiny, aggregation__timeRange={"from": "2023-11-01T00:00:00Z",
                                                          "to": "2023-11-08T00:00:00Z"},
                        aggregation__aggregationInterval={"of": "P5D", "lastIntervalBehavior": "SHORTEN"})  # fmt: skip
    intervals = [
        d["interval"] for d in sh_tiny.post("/api/v1/statistics", shortened).json()["data"]
    ]
    assert intervals == [{"from": "2023-11-01T00:00:00Z", "to": "2023-11-06T00:00:00Z"},
                         {"from": "2023-11-06T00:00:00Z", "to": "2023-11-08T00:00:00Z"}]  # fmt: skip
    skipped = copy.deepcopy(shortened)
    skipped["aggregation"]["aggregationInterval"] = {"of": "P5D"}
    assert len(sh_tiny.post("/api/v1/statistics", skipped).json()["data"]) == 1
    items = sh_tiny.get(f"/collections/{sh_tiny.archive.collection_id}/items").json()["features"]
    clear_days = sorted(i["properties"]["datetime"][:10] for i in items
                        if i["properties"]["eo:cloud_cover"] <= 20)  # fmt: skip
    assert 0 < len(clear_days) < 4
    filtered = request(sh_tiny, input__data=[{"type": f"byoc-{sh_tiny.archive.collection_id}",
                                              "dataFilter": {"maxCloudCoverage": 20}}])  # fmt: skip
    body = sh_tiny.post("/api/v1/statistics", filtered).json()
    assert [d["interval"]["from"][:10] for d in body["data"]] == clear_days


def test_geometry_and_bbox_agree(sh_tiny: ShServer) -> None:
    west, south, east, north = tile_bounds(sh_tiny)
    ring = [[west, south], [east, south], [east, north], [west, north], [west, south]]
    polygon = {"geometry": {"type": "Polygon", "coordinates": [ring]}, "properties": {"crs": UTM}}
    by_polygon = sh_tiny.post("/api/v1/statistics", request(sh_tiny, input__bounds=polygon)).json()
    by_bbox = sh_tiny.post("/api/v1/statistics", request(sh_tiny)).json()
    assert by_polygon["data"] == by_bbox["data"]
    half = [[west, south], [east, south], [west, north], [west, south]]  # a triangle
    triangle = {"geometry": {"type": "Polygon", "coordinates": [half]}, "properties": {"crs": UTM}}
    body = sh_tiny.post("/api/v1/statistics", request(sh_tiny, input__bounds=triangle)).json()
    count = body["data"][0]["outputs"]["default"]["bands"]["B0"]["stats"]["sampleCount"]
    # Centres below the diagonal and the 64 on it (rasterising counts a centre on the edge).
    assert count == body["geometryPixelCount"] == sum(range(1, 65))


@pytest.mark.parametrize(
    ("changes", "status", "message"),
    [
        ({"aggregation__evalscript": "//VERSION=3\nfunction setup() { return {"}, 400, "SyntaxError"),
        ({"aggregation__evalscript": "function setup() {}"}, 400, "VERSION=3"),
        ({"aggregation__aggregationInterval": {"of": "P1X"}}, 400, "invalid aggregation interval 'P1X'"),
        ({"aggregation__aggregationInterval": {"of": "P1D", "lastIntervalBehavior": "DROP"}}, 400,
         "lastIntervalBehavior"),
        ({"input__bounds": {"bbox": [10, 10, 11, 11]}}, 400, "outside the data"),
        ({"aggregation__resx": None, "aggregation__resy": None, "aggregation__width": 6000,
          "aggregation__height": 6000}, 400, "more than the 25,000,000 allowed"),
        ({"aggregation__width": 10, "aggregation__height": 10}, 400, "either width and height"),
        ({"aggregation__resx": None, "aggregation__resy": None}, 400, "either width and height"),
        ({"calculations": {"ndvi": {}}}, 400, "output 'ndvi'"),
        ({"calculations": {"scenes": {"statistics": {"B7": {}}}}}, 400, "B7"),
        ({"calculations": {"default": {"statistics": {"B0": {"percentiles": {"k": [500]}}}}}}, 400,
         "outside 0 to 100"),
        ({"input__data": []}, 400, "exactly one data collection"),
        ({"input__data": [{"type": "byoc-unknown"}]}, 404, "no collection 'byoc-unknown'"),
        ({"aggregation__timeRange": {"from": "2023-12-01T00:00:00Z", "to": "2023-11-01T00:00:00Z"}},
         400, "end after it starts"),
        ({"aggregation__evalscript": None}, 400, "evalscript"),
        ({"input__bounds": {"properties": {"crs": UTM}}}, 400, "bbox or a geometry"),
    ],
)  # fmt: skip
def test_bad_requests_are_4xx_with_a_description(
    sh_tiny: ShServer, changes: dict[str, Any], status: int, message: str
) -> None:
    reply = sh_tiny.post("/api/v1/statistics", request(sh_tiny, **changes))
    assert reply.status_code == status, reply.text
    assert message in reply.json()["description"]


def test_malformed_json_is_a_400(sh_tiny: ShServer) -> None:
    import httpx

    reply = httpx.post(f"{sh_tiny.base}/api/v1/statistics", content=b"{not json",
                       headers={**sh_tiny.headers, "Content-Type": "application/json"})  # fmt: skip
    assert reply.status_code == 400 and reply.json()["description"]
