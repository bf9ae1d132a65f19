"""The file routes over an archive on S3 (a moto server on loopback), read with obstore."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from eoaccess.server import ServerSettings, create_app, start_in_thread
from eoaccess.stores import CatalogStore
from tests.harness.ports import free_port
from tests.harness.s3 import S3Server
from tests.server.conftest import LUNAR_COUNT, cube_name, lunar_file_bytes, lunar_id

pytestmark = pytest.mark.s3


@pytest.fixture(scope="module")
def s3_served(
    s3_server: S3Server, archive_root: Path, catalog_store: CatalogStore
) -> Iterator[str]:
    """The test archive uploaded to s3://served-archive/v1/ and served from there."""
    s3_server.upload_tree(archive_root, "served-archive", "v1")
    settings = ServerSettings(s3_endpoint=s3_server.endpoint)
    app = create_app(catalog_store, "s3://served-archive/v1", settings)
    with start_in_thread(app) as server:
        yield server.url


def test_whole_file_and_ranges_from_s3(s3_served: str) -> None:
    url = f"{s3_served}files/lunar/tc/{lunar_id(3)}.tif"
    data = lunar_file_bytes(3)
    full = httpx.get(url)
    assert full.status_code == 200 and full.content == data
    assert full.headers["content-length"] == str(len(data))
    assert full.headers["etag"].startswith('"')
    part = httpx.get(url, headers={"Range": "bytes=100-199"})
    assert part.status_code == 206 and part.content == data[100:200]
    assert part.headers["content-range"] == f"bytes 100-199/{len(data)}"
    tail = httpx.get(url, headers={"Range": "bytes=-7"})
    assert tail.content == data[-7:]
    assert httpx.get(url, headers={"Range": f"bytes={len(data)}-"}).status_code == 416
    head = httpx.head(url)
    assert head.status_code == 200 and head.headers["content-length"] == str(len(data))


def test_s3_folder_index_and_missing_files(s3_served: str) -> None:
    page = httpx.get(f"{s3_served}files/lunar/tc/").text
    assert page.count('.tif">') == LUNAR_COUNT and page.count('.lbl">') == LUNAR_COUNT
    root = httpx.get(f"{s3_served}files/").text
    assert '<a href="lunar/">' in root and '<a href="ice/">' in root
    assert ".eoaccess" not in root
    assert httpx.get(f"{s3_served}files/lunar").status_code == 301
    missing = httpx.get(f"{s3_served}files/lunar/tc/none.tif")
    assert missing.status_code == 404 and missing.json()["code"] == "NotFoundError"
    assert httpx.get(f"{s3_served}files/.eoaccess/catalog.sqlite").status_code == 404


def test_s3_itslive_catalog_is_rewritten(s3_served: str) -> None:
    catalog = httpx.get(f"{s3_served}files/ice/catalog_v02.json").json()
    zarr_url = catalog["features"][2]["properties"]["zarr_url"]
    assert zarr_url == f"{s3_served}files/ice/cubes/{cube_name(2)}"
    assert httpx.get(f"{zarr_url}/.zgroup").json() == {"zarr_format": 2}


def test_unreachable_s3_is_503_json(catalog_store: CatalogStore) -> None:
    closed = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    app = create_app(catalog_store, "s3://served-archive/v1", ServerSettings(s3_endpoint=closed))
    with start_in_thread(app) as server:
        response = httpx.get(f"{server.url}files/lunar/tc/{lunar_id(1)}.tif", timeout=60)
    assert response.status_code == 503
    body = response.json()
    assert body["code"] == "DependencyError"
    assert body["description"].startswith("cannot read the archive at s3://served-archive/v1: ")
