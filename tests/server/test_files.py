"""``GET``/``HEAD /files/…``: Range, validators, folder indexes and the rewritten ITS_LIVE catalog."""

from __future__ import annotations

import email.utils
import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from eoaccess.server import create_app, start_in_thread
from eoaccess.server.errors import RangeNotSatisfiableError
from eoaccess.server.files import parse_range
from eoaccess.stores import CatalogStore
from tests.server.conftest import (
    ICE_COUNT,
    LUNAR_COUNT,
    ServedArchive,
    cube_name,
    lunar_file_bytes,
    lunar_id,
)

N = 5
DATA = lunar_file_bytes(N)
SIZE = len(DATA)
PATH = f"/files/lunar/tc/{lunar_id(N)}.tif"


@pytest.fixture(scope="module")
def http(served: ServedArchive) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=served.url, timeout=30) as client:
        yield client


def test_whole_file_with_validators(served: ServedArchive, http: httpx.Client) -> None:
    response = http.get(PATH)
    assert response.status_code == 200
    assert response.content == DATA
    headers = response.headers
    assert headers["content-length"] == str(SIZE)
    assert headers["accept-ranges"] == "bytes"
    assert headers["content-type"] == "image/tiff"
    mtime = (served.root / PATH.removeprefix("/files/")).stat().st_mtime
    assert email.utils.parsedate_to_datetime(headers["last-modified"]).timestamp() == int(mtime)
    assert headers["etag"].startswith('"') and headers["etag"].endswith('"')


@pytest.mark.parametrize(
    ("header", "start", "end"),
    [
        ("bytes=0-99", 0, 100),
        ("bytes=100-", 100, SIZE),
        ("bytes=-50", SIZE - 50, SIZE),
        (f"bytes=-{SIZE + 10}", 0, SIZE),
        ("bytes=10-10", 10, 11),
        (f"bytes=2000-{SIZE * 10}", 2000, SIZE),
        ("bytes=0-9,20-29", 0, 30),
        ("bytes=500-599, -10", 500, SIZE),
    ],
)
def test_ranges(http: httpx.Client, header: str, start: int, end: int) -> None:
    response = http.get(PATH, headers={"Range": header})
    assert response.status_code == 206
    assert response.headers["content-range"] == f"bytes {start}-{end - 1}/{SIZE}"
    assert response.headers["content-length"] == str(end - start)
    assert response.content == DATA[start:end]


@pytest.mark.parametrize("header", [f"bytes={SIZE}-", f"bytes={SIZE + 5}-{SIZE + 9}", "bytes=-0"])
def test_unsatisfiable_ranges_are_416(http: httpx.Client, header: str) -> None:
    response = http.get(PATH, headers={"Range": header})
    assert response.status_code == 416
    assert response.headers["content-range"] == f"bytes */{SIZE}"
    assert response.json()["code"] == "RangeNotSatisfiableError"
    assert f"({SIZE} bytes)" in response.json()["description"]


@pytest.mark.parametrize("header", ["bytes=abc", "items=0-1", "bytes=10-5", "bytes=", "bytes=-"])
def test_malformed_ranges_are_ignored(http: httpx.Client, header: str) -> None:
    response = http.get(PATH, headers={"Range": header})
    assert response.status_code == 200 and response.content == DATA


def test_parse_range_unit() -> None:
    assert parse_range(None, 10) is None
    assert parse_range("bytes=2-4", 10).content_range == "bytes 2-4/10"  # type: ignore[union-attr]
    with pytest.raises(RangeNotSatisfiableError):
        parse_range("bytes=0-", 0)


def test_head_has_the_get_headers_and_no_body(http: httpx.Client) -> None:
    get = http.get(PATH)
    head = http.head(PATH)
    assert head.status_code == 200 and head.content == b""
    for name in ("content-length", "etag", "last-modified", "accept-ranges", "content-type"):
        assert head.headers[name] == get.headers[name]
    partial = http.head(PATH, headers={"Range": "bytes=-100"})
    assert partial.status_code == 206
    assert partial.headers["content-range"] == f"bytes {SIZE - 100}-{SIZE - 1}/{SIZE}"


def test_conditional_requests(http: httpx.Client) -> None:
    etag = http.head(PATH).headers["etag"]
    not_modified = http.get(PATH, headers={"If-None-Match": etag})
    assert not_modified.status_code == 304 and not_modified.content == b""
    assert http.get(PATH, headers={"If-None-Match": '"other"'}).status_code == 200
    same = http.get(PATH, headers={"Range": "bytes=0-3", "If-Range": etag})
    assert same.status_code == 206 and same.content == DATA[:4]
    changed = http.get(PATH, headers={"Range": "bytes=0-3", "If-Range": '"stale"'})
    assert changed.status_code == 200 and changed.content == DATA


def test_folder_index_lists_relative_links(http: httpx.Client) -> None:
    response = http.get("/files/lunar/tc/")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    page = response.text
    for n in range(LUNAR_COUNT):
        assert f'<a href="{lunar_id(n)}.tif">' in page
        assert f'<a href="{lunar_id(n)}.lbl">' in page
    assert '<a href="../">' in page
    root = http.get("/files/").text
    assert '<a href="lunar/">' in root and '<a href="ice/">' in root
    assert ".eoaccess" not in root
    assert '<a href="docs%20with%20space/">' in root


def test_names_needing_quotes(http: httpx.Client) -> None:
    page = http.get("/files/docs%20with%20space/").text
    assert '<a href="read%20me%231.txt">read me#1.txt</a>' in page
    assert http.get("/files/docs%20with%20space/read%20me%231.txt").text == "hello archive\n"


def test_folder_without_slash_redirects(served: ServedArchive, http: httpx.Client) -> None:
    response = http.get("/files/lunar")
    assert response.status_code == 301
    assert response.headers["location"] == f"{served.url}files/lunar/"
    assert http.get("/files").headers["location"] == f"{served.url}files/"
    assert http.get(f"{PATH}/").status_code == 404


def test_missing_file_is_404_json(http: httpx.Client) -> None:
    response = http.get("/files/lunar/tc/nothing.tif")
    assert response.status_code == 404
    assert response.json() == {
        "code": "NotFoundError",
        "description": "no such file: lunar/tc/nothing.tif",
    }


# --- ITS_LIVE catalog -------------------------------------------------------------------------


def test_itslive_catalog_zarr_urls_point_at_served_cubes(
    served: ServedArchive, http: httpx.Client
) -> None:
    response = http.get("/files/ice/catalog_v02.json")
    assert response.status_code == 200
    catalog = response.json()
    urls = [f["properties"]["zarr_url"] for f in catalog["features"]]
    assert urls == [f"{served.url}files/ice/cubes/{cube_name(n)}" for n in range(ICE_COUNT)]
    assert response.headers["content-length"] == str(len(response.content))
    metadata = http.get(urls[1] + "/.zmetadata")
    assert metadata.status_code == 200
    assert metadata.json() == {"zarr_consolidated_format": 1, "metadata": {}}
    assert http.get(urls[1] + "/v/0", headers={"Range": "bytes=4-7"}).content == bytes([4, 5, 6, 7])
    tail = http.get("/files/ice/catalog_v02.json", headers={"Range": "bytes=-20"})
    assert tail.status_code == 206 and tail.content == response.content[-20:]


def test_itslive_catalog_follows_the_public_origin(http: httpx.Client) -> None:
    catalog = http.get(
        "/files/ice/catalog_v02.json",
        headers={"X-Forwarded-Host": "its-live.example.org", "X-Forwarded-Proto": "https"},
    ).json()
    assert catalog["features"][0]["properties"]["zarr_url"] == (
        f"https://its-live.example.org/files/ice/cubes/{cube_name(0)}"
    )


def test_real_itslive_catalog_with_absolute_urls_is_served_unchanged(
    realdata: Path, tmp_path: Path, catalog_store: CatalogStore
) -> None:
    root = tmp_path / "archive" / "itslive"
    root.mkdir(parents=True)
    shutil.copy(realdata / "itslive" / "catalog_v02_regions.json", root / "catalog_v02.json")
    original = (root / "catalog_v02.json").read_bytes()
    with start_in_thread(create_app(catalog_store, tmp_path / "archive")) as server:
        served = httpx.get(f"{server.url}files/itslive/catalog_v02.json")
    assert served.status_code == 200 and served.content == original
    first = json.loads(served.content)["features"][0]["properties"]["zarr_url"]
    assert first.startswith("http://its-live-data.s3.amazonaws.com/")


def test_without_an_archive_files_are_404(catalog_store: CatalogStore) -> None:
    with start_in_thread(create_app(catalog_store, None)) as server:
        response = httpx.get(f"{server.url}files/lunar/")
    assert response.status_code == 404
    assert "publishes no archive" in response.json()["description"]
