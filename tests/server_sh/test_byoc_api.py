"""The Sentinel Hub BYOC API: ``{"data": …}`` from collection.json/tiles.json, files with Range."""

from __future__ import annotations

import httpx
import pytest

from tests.server_sh.conftest import ShServer

ROOT = "/api/v1/byoc"


def test_collections_and_one_collection(sh_tiny: ShServer) -> None:
    import json

    described = json.loads((sh_tiny.archive.product / "collection.json").read_text())
    listed = sh_tiny.get(f"{ROOT}/collections").json()
    assert listed["data"] == [described] and "nextToken" not in listed["links"]
    assert sh_tiny.get(f"{ROOT}/collections/{described['id']}").json() == {"data": described}
    assert sh_tiny.get(f"{ROOT}/collections/byoc-{described['id']}").json() == {"data": described}
    assert (
        sh_tiny.get(f"{ROOT}/collections", params={"search": "nothing like it"}).json()["data"]
        == []
    )
    missing = sh_tiny.get(f"{ROOT}/collections/unknown")
    assert missing.status_code == 404 and "unknown" in missing.json()["description"]


def test_tiles_page_with_view_tokens(sh_tiny: ShServer) -> None:
    cid = sh_tiny.archive.collection_id
    first = sh_tiny.get(f"{ROOT}/collections/{cid}/tiles", params={"count": 3}).json()
    assert first["links"] == {"currentToken": "0", "nextToken": "3"}
    rest = sh_tiny.get(f"{ROOT}/collections/{cid}/tiles",
                       params={"count": 3, "viewtoken": "3"}).json()  # fmt: skip
    assert first["data"] + rest["data"] == sh_tiny.archive.tiles
    tile = sh_tiny.archive.tiles[1]
    by_path = sh_tiny.get(f"{ROOT}/collections/{cid}/tiles", params={"path": tile["path"]}).json()
    assert by_path["data"] == [tile]
    assert sh_tiny.get(f"{ROOT}/collections/{cid}/tiles/{tile['id']}").json() == {"data": tile}
    assert sh_tiny.get(f"{ROOT}/collections/{cid}/tiles/nope").status_code == 404
    assert sh_tiny.get(f"{ROOT}/collections/{cid}/tiles", params={"count": 0}).status_code == 400


def test_tile_files_with_range_requests(sh_tiny: ShServer) -> None:
    cid = sh_tiny.archive.collection_id
    tile = sh_tiny.archive.tiles[0]
    header = tile["additionalData"]["filesMetadata"]["analysis_ready_ps_qa"]["headerSize"]
    name = tile["path"].split("/")[-1].replace("(BAND)", "analysis_ready_ps_qa")
    url = f"{ROOT}/collections/{cid}/tiles/{tile['id']}/files/{name}"
    local = (
        sh_tiny.archive.product / tile["path"].replace("(BAND)", "analysis_ready_ps_qa")
    ).read_bytes()
    part = sh_tiny.get(url, headers={"Range": f"bytes=0-{header - 1}"})
    assert part.status_code == 206
    assert part.content == local[:header]
    assert part.headers["content-range"] == f"bytes 0-{header - 1}/{len(local)}"
    whole = sh_tiny.get(url)
    assert whole.status_code == 200 and whole.content == local
    head = httpx.head(f"{sh_tiny.base}{url}", headers=sh_tiny.headers)
    assert head.status_code == 200 and int(head.headers["content-length"]) == len(local)


@pytest.mark.parametrize("name", ["nothing.tif", "..%2Ftiles.json", "%2E%2E"])
def test_files_outside_the_tile_are_not_found(sh_tiny: ShServer, name: str) -> None:
    cid = sh_tiny.archive.collection_id
    tile = sh_tiny.archive.tiles[0]
    reply = sh_tiny.get(f"{ROOT}/collections/{cid}/tiles/{tile['id']}/files/{name}")
    assert reply.status_code == 404 and reply.json()["description"]


def test_the_api_is_read_only(sh_tiny: ShServer) -> None:
    reply = sh_tiny.post(f"{ROOT}/collections", {"name": "new"})
    assert reply.status_code == 405 and reply.json()["description"]
