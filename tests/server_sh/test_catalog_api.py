"""The Sentinel Hub Catalog API: byoc- collection ids, tile-id features, integer ``next`` paging."""

from __future__ import annotations

import pytest

from tests.server_sh.conftest import ShServer

ROOT = "/api/v1/catalog/1.0.0"


def by_time(server: ShServer) -> list[dict]:
    return sorted(server.archive.tiles, key=lambda t: t["sensingTime"])


def test_landing_conformance_and_collections(sh_tiny: ShServer) -> None:
    landing = sh_tiny.get(f"{ROOT}/").json()
    assert "https://api.stacspec.org/v1.0.0/item-search" in landing["conformsTo"]
    assert sh_tiny.get(f"{ROOT}/conformance").json()["conformsTo"] == landing["conformsTo"]
    public = f"byoc-{sh_tiny.archive.collection_id}"
    assert [c["id"] for c in sh_tiny.get(f"{ROOT}/collections").json()["collections"]] == [public]
    for name in (public, sh_tiny.archive.collection_id):
        assert sh_tiny.get(f"{ROOT}/collections/{name}").json()["id"] == public
    assert sh_tiny.get(f"{ROOT}/collections/byoc-nope").status_code == 404


def test_features_are_the_byoc_tiles(sh_tiny: ShServer) -> None:
    tile = by_time(sh_tiny)[0]
    public = f"byoc-{sh_tiny.archive.collection_id}"
    feature = sh_tiny.get(f"{ROOT}/collections/{public}/items/{tile['id']}").json()
    assert feature["id"] == tile["id"] and feature["collection"] == public
    assert feature["properties"]["datetime"] == tile["sensingTime"]
    assert "eoaccess:fingerprint" not in feature["properties"]
    qa = feature["assets"]["analysis_ready_ps_qa"]["href"]
    assert (
        qa == f"{sh_tiny.base}/files/arps/{tile['path'].replace('(BAND)', 'analysis_ready_ps_qa')}"
    )
    assert sh_tiny.get(f"{ROOT}/collections/{public}/items/no-such-tile").status_code == 404


def search(server: ShServer, **body: object) -> dict:
    reply = server.post(
        f"{ROOT}/search", {"collections": [f"byoc-{server.archive.collection_id}"], **body}
    )
    assert reply.status_code == 200, reply.text
    assert reply.headers["content-type"] == "application/geo+json"
    return reply.json()


def test_paging_with_integer_next_tokens(sh_tiny: ShServer) -> None:
    seen, token, pages = [], None, []
    while True:
        page = search(sh_tiny, limit=3, **({"next": token} if token is not None else {}))
        seen += [f["id"] for f in page["features"]]
        pages.append(page["context"])
        token = page["context"].get("next")
        if token is None:
            break
    assert pages == [{"limit": 3, "returned": 3, "next": 3}, {"limit": 3, "returned": 1}]
    assert seen == [t["id"] for t in by_time(sh_tiny)]  # oldest first


def test_one_day_finds_that_days_tile_first(sh_tiny: ShServer) -> None:
    # Seed 004 searches [day, next day] and takes the first feature.
    page = search(sh_tiny, datetime="2023-11-02T00:00:00Z/2023-11-03T00:00:00Z")
    assert page["features"][0]["properties"]["datetime"] == "2023-11-02T00:00:00Z"
    evening = search(sh_tiny, datetime="2023-11-02T00:00:00Z/2023-11-02T23:59:59Z")
    assert [f["properties"]["datetime"] for f in evening["features"]] == ["2023-11-02T00:00:00Z"]


def test_ids_bbox_fields_and_filter(sh_tiny: ShServer) -> None:
    wanted = [t["id"] for t in by_time(sh_tiny)[1:3]]
    assert [f["id"] for f in search(sh_tiny, ids=wanted)["features"]] == wanted
    assert search(sh_tiny, bbox=[10, 10, 11, 11])["features"] == []
    slim = search(sh_tiny, fields={"include": ["properties.datetime"], "exclude": []}, limit=1)
    assert set(slim["features"][0]["properties"]) == {"datetime"}
    cloudy = search(sh_tiny, filter="eo:cloud_cover > 20", **{"filter-lang": "cql2-text"})
    assert all(f["properties"]["eo:cloud_cover"] > 20 for f in cloudy["features"])


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        ({"limit": 0}, 400, "limit"),
        ({"limit": 101}, 400, "limit"),
        ({"next": "abc"}, 400, "next"),
        ({"next": -1}, 400, "next"),
        ({"collections": []}, 400, "collections"),
        ({"collections": ["byoc-nope"]}, 404, "byoc-nope"),
        ({"query": {}}, 400, "unknown search parameter(s) query"),
        ({"datetime": "yesterday"}, 400, "datetime"),
        ({"bbox": [1, 2, 3]}, 400, "bbox"),
    ],
)
def test_bad_searches(sh_tiny: ShServer, body: dict, status: int, message: str) -> None:
    full = {"collections": [f"byoc-{sh_tiny.archive.collection_id}"], **body}
    reply = sh_tiny.post(f"{ROOT}/search", full)
    assert reply.status_code == status and message in reply.json()["description"]
