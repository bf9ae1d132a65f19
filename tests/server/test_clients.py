"""Acceptance tests: real clients, unchanged, against the running server.

pystac-client (search, paging, filters, sort, fields), stac-api-validator (run offline, its
schema look-ups served from local copies) and the rclone binary over the http remote.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import httpx
import pytest
from pystac_client import Client
from pystac_client.conformance import ConformanceClasses

from tests.server.conftest import (
    ICE,
    ICE_COUNT,
    LUNAR,
    LUNAR_COUNT,
    ServedArchive,
    cube_name,
    lunar_file_bytes,
    lunar_id,
)
from tests.server.offline_schemas import run_validator

# --- pystac-client ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def client(served: ServedArchive) -> Client:
    return Client.open(served.url)


def test_client_sees_every_conformance_class(client: Client) -> None:
    for name in ("CORE", "COLLECTIONS", "FEATURES", "ITEM_SEARCH", "FILTER", "SORT", "FIELDS"):
        assert client.conforms_to(ConformanceClasses[name]), name


def test_client_lists_collections(client: Client) -> None:
    assert sorted(c.id for c in client.get_collections()) == [ICE, LUNAR]
    assert client.get_collection(LUNAR).extent.spatial.bboxes == [[10.0, -5.0, 16.0, 1.0]]


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_client_pages_through_more_than_ten_pages(client: Client, method: str) -> None:
    search = client.search(collections=[LUNAR], limit=3, method=method)
    assert search.matched() == LUNAR_COUNT
    pages = list(search.pages_as_dicts())
    assert len(pages) == 12
    assert [len(p["features"]) for p in pages] == [3] * 12
    ids = [f["id"] for p in pages for f in p["features"]]
    assert ids == [lunar_id(n) for n in reversed(range(LUNAR_COUNT))]


def test_client_max_items_stops_paging(client: Client) -> None:
    items = list(client.search(limit=4, max_items=9).items())
    assert len(items) == 9


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_client_cql2_text_and_json_filters(client: Client, method: str) -> None:
    text = client.search(filter="view:incidence_angle > 70", filter_lang="cql2-text", method=method)
    assert [i.id for i in text.items()] == [lunar_id(35), lunar_id(34)]
    as_json = client.search(
        filter={"op": "<", "args": [{"property": "view:incidence_angle"}, 23]}, method=method
    )
    assert [i.id for i in as_json.items()] == [lunar_id(1), lunar_id(0)]
    assert as_json.matched() == 2


def test_client_sortby(client: Client) -> None:
    search = client.search(collections=[LUNAR], sortby="+view:incidence_angle", max_items=5)
    assert [i.id for i in search.items()] == [lunar_id(n) for n in range(5)]
    search = client.search(
        collections=[LUNAR], sortby=[{"field": "id", "direction": "desc"}], max_items=2
    )
    assert [i.id for i in search.items()] == [lunar_id(35), lunar_id(34)]


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_client_fields(client: Client, method: str) -> None:
    search = client.search(
        ids=[lunar_id(4)], fields=["id", "properties.gsd", "-links"], method=method
    )
    (item,) = search.items_as_dicts()
    assert set(item) == {"type", "stac_version", "id", "collection", "properties"}
    assert item["properties"] == {"gsd": 10.0}


def test_client_intersects_bbox_and_open_datetime(client: Client) -> None:
    search = client.search(intersects={"type": "Point", "coordinates": [15.5, 0.5]})
    assert [i.id for i in search.items()] == [lunar_id(35)]
    assert [i.id for i in client.search(bbox=[10.1, -4.9, 10.2, -4.8]).items()] == [lunar_id(0)]
    open_end = client.search(collections=[LUNAR], datetime="2009-02-04/..")
    assert [i.id for i in open_end.items()] == [lunar_id(35), lunar_id(34)]
    open_start = client.search(collections=[LUNAR], datetime="../2009-01-01")
    assert [i.id for i in open_start.items()] == [lunar_id(0)]
    assert client.search(collections=[ICE], datetime="2023").matched() == 1


def test_client_items_and_their_assets(served: ServedArchive, client: Client) -> None:
    item = client.get_collection(LUNAR).get_item(lunar_id(9))
    assert item is not None
    href = item.assets["image"].href
    assert href == f"{served.url}files/lunar/tc/{lunar_id(9)}.tif"
    assert httpx.get(href).content == lunar_file_bytes(9)


# --- stac-api-validator -----------------------------------------------------------------------


def test_stac_api_validator_finds_no_errors(served: ServedArchive) -> None:
    output, errors, missing = run_validator(served.url, LUNAR)
    assert errors == [], output
    assert missing == set(), missing
    assert "Errors: none" in output


def test_stac_api_validator_extension_schema_lookups_kept_apart(served: ServedArchive) -> None:
    """The ice cubes use the projection extension, whose schema is not available offline:
    the only errors must be about that look-up, never about our responses."""
    output, errors, missing = run_validator(served.url, ICE, ("core", "collections", "features"))
    assert missing == {"https://stac-extensions.github.io/projection/v1.1.0/schema.json"}
    real = [e for e in errors if not any(url in e for url in missing)]
    assert real == [], output


# --- rclone -----------------------------------------------------------------------------------


def tree(root: Path) -> dict[str, bytes]:
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and ".eoaccess" not in p.relative_to(root).parts
    }


@pytest.mark.skipif(shutil.which("rclone") is None, reason="rclone is not installed")
def test_rclone_copies_a_folder_over_the_http_remote(served: ServedArchive, tmp_path: Path) -> None:
    dest = tmp_path / "copy"
    command = [
        "rclone",
        "copy",
        "--config",
        "/dev/null",
        "--http-url",
        f"{served.url}files/",
        ":http:",
        str(dest),
    ]
    result = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr
    copied, original = tree(dest), tree(served.root)
    assert len(copied) == 2 * LUNAR_COUNT + 4 * ICE_COUNT + 2
    # The ITS_LIVE catalog arrives with its zarr_url values pointing at this server.
    catalog = json.loads(copied.pop("ice/catalog_v02.json"))
    assert catalog["features"][0]["properties"]["zarr_url"] == (
        f"{served.url}files/ice/cubes/{cube_name(0)}"
    )
    original.pop("ice/catalog_v02.json")
    assert copied == original


@pytest.mark.skipif(shutil.which("rclone") is None, reason="rclone is not installed")
def test_rclone_lists_sizes_from_the_index(served: ServedArchive) -> None:
    command = [
        "rclone",
        "lsjson",
        "--config",
        "/dev/null",
        "--http-url",
        f"{served.url}files/",
        ":http:lunar/tc",
    ]
    result = subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    entries: list[dict[str, Any]] = json.loads(result.stdout)
    sizes = {e["Name"]: e["Size"] for e in entries}
    assert sizes[f"{lunar_id(3)}.tif"] == len(lunar_file_bytes(3))
    assert len(sizes) == 2 * LUNAR_COUNT
