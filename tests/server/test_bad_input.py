"""Bad input gets a 4xx JSON answer with a ``description`` saying what is wrong — never a 500."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from eoaccess.server import create_app, start_in_thread
from eoaccess.server.errors import INTERNAL_ERROR_DESCRIPTION
from eoaccess.stores import CatalogStore
from tests.server.conftest import LUNAR, ServedArchive, lunar_id

POLYGON = {"type": "Polygon", "coordinates": [[[10, -5], [11, -5], [11, -4], [10, -5]]]}


@pytest.fixture(scope="module")
def http(served: ServedArchive) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=served.url, timeout=30) as client:
        yield client


def assert_error(response: httpx.Response, status: int, *fragments: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert set(body) == {"code", "description"}
    for fragment in fragments:
        assert fragment in body["description"], body["description"]
    assert "Traceback" not in body["description"]
    return body  # type: ignore[no-any-return]


GET_CASES: list[tuple[dict[str, str], tuple[str, ...]]] = [
    ({"bbox": "1,2,3"}, ("bbox must have 4 (or 6) numbers", "got 3")),
    ({"bbox": "1,2,3,4,5"}, ("got 5",)),
    ({"bbox": "a,b,c,d"}, ("bbox value must be a number", "'a'")),
    ({"bbox": "0,-91,1,1"}, ("latitude -91 is outside -90..90",)),
    ({"bbox": "0,1,1,95"}, ("latitude 95 is outside -90..90",)),
    ({"bbox": "0,5,1,1"}, ("south 5 is greater than north 1",)),
    ({"bbox": "0,nan,1,1"}, ("finite number",)),
    (
        {"bbox": "0,0,1,1", "intersects": json.dumps(POLYGON)},
        ("give only one of bbox, point and intersects",),
    ),
    ({"intersects": "{not json"}, ("intersects is not valid GeoJSON", "character 1")),
    ({"intersects": "/etc/passwd"}, ("intersects is not valid GeoJSON",)),
    ({"intersects": "[1, 2]"}, ("intersects must be a GeoJSON geometry object",)),
    ({"intersects": '{"type": "Blob", "coordinates": []}'}, ("invalid GeoJSON geometry type",)),
    ({"intersects": '{"type": "Polygon", "coordinates": "x"}'}, ("invalid GeoJSON Polygon",)),
    ({"datetime": "2020-13-01T00:00:00Z"}, ("invalid datetime",)),
    ({"datetime": "2020-01-01"}, ("invalid datetime '2020-01-01'", "RFC 3339")),
    ({"datetime": "1985-12-12T23:20:50.52"}, ("time zone",)),
    ({"datetime": "1985-04-12T23:20:50,52Z"}, ("invalid datetime",)),
    ({"datetime": "../.."}, ("open at both ends",)),
    ({"datetime": "/"}, ("open at both ends",)),
    ({"datetime": "2020-01-01T00:00:00Z/2020-02-01T00:00:00Z/"}, ("more than one '/'",)),
    ({"datetime": "2021-01-01T00:00:00Z/2020-01-01T00:00:00Z"}, ("starts after it ends",)),
    ({"filter": "view:incidence_angle >>> 3"}, ("invalid CQL2 filter", "1:23")),
    ({"filter": "gsd = "}, ("invalid CQL2 filter", "1:7")),
    ({"filter": '{"op": ', "filter-lang": "cql2-json"}, ("invalid CQL2 JSON", "character 7")),
    ({"filter": "gsd = 1", "filter-lang": "sql"}, ("unsupported filter-lang 'sql'",)),
    (
        {"filter": "gsd = 1", "filter-crs": "EPSG:3857"},
        ("filter-crs 'EPSG:3857' is not supported",),
    ),
    ({"limit": "0"}, ("limit 0 is outside 1..10000",)),
    ({"limit": "-1"}, ("limit -1 is outside",)),
    ({"limit": "ten"}, ("limit must be an integer, not 'ten'",)),
    ({"limit": "2.5"}, ("limit must be an integer",)),
    ({"query": '{"gsd": {"eq": 10}}'}, ("Query extension", "use 'filter'")),
]


@pytest.mark.parametrize(("params", "fragments"), GET_CASES)
def test_get_search_rejects(
    http: httpx.Client, params: dict[str, str], fragments: tuple[str, ...]
) -> None:
    body = assert_error(http.get("/search", params=params), 400, *fragments)
    assert body["code"] == "InvalidInputError"


@pytest.mark.parametrize(
    ("params", "fragments"),
    [
        ({"bbox": "1,2,3"}, ("got 3",)),
        ({"datetime": "yesterday"}, ("invalid datetime 'yesterday'",)),
        ({"limit": "0"}, ("limit 0",)),
        ({"filter": "gsd >"}, ("invalid CQL2 filter",)),
    ],
)
def test_items_route_rejects(
    http: httpx.Client, params: dict[str, str], fragments: tuple[str, ...]
) -> None:
    assert_error(http.get(f"/collections/{LUNAR}/items", params=params), 400, *fragments)


POST_CASES: list[tuple[Any, tuple[str, ...]]] = [
    ({"bbox": [0, 0, 1]}, ("got 3",)),
    ({"bbox": [0, 0, 1, "x"]}, ("bbox value must be a number",)),
    ({"bbox": [0, 0, 1, 1], "intersects": POLYGON}, ("give only one of bbox",)),
    ({"intersects": "POINT (1 2)"}, ("intersects must be an object, not 'POINT (1 2)'",)),
    ({"intersects": {"type": "Point", "coordinates": [1, 2, 3, 4]}}, ("invalid GeoJSON Point",)),
    ({"intersects": {"type": "GeometryCollection", "geometries": []}}, ("geometry is empty",)),
    ({"intersects": {"type": "Point", "coordinates": [200, 0]}}, ("outside lon/lat",)),
    ({"datetime": 2020}, ("datetime must be a string",)),
    ({"datetime": "2020-01-01T00:00:00"}, ("time zone",)),
    ({"limit": 0}, ("limit 0 is outside",)),
    ({"limit": True}, ("limit must be an integer",)),
    ({"filter": {"op": "=", "args": "oops"}}, ("invalid CQL2 filter",)),
    ({"filter": "gsd ==== 3", "filter-lang": "cql2-text"}, ("invalid CQL2 filter", "1:6")),
    ({"sortby": [{"field": "gsd", "direction": "sideways"}]}, ("asc or desc",)),
    ({"sortby": [42]}, ("invalid sortby entry 42",)),
    ({"collections": []}, ("collections is empty",)),
    ({"token": 12}, ("token must be a string, not 12",)),
    ({"token": ""}, ("token must be the string of a rel=next link",)),
    ({"fields": 5}, ("fields must be an object or a string, not 5",)),
    ({"sortby": {"field": "id"}}, ("sortby must be an array or a string",)),
    ({"ids": [1, 2]}, ("ids must be an array of strings, not [1, 2]",)),
    ({"collections": 7}, ("collections must be an array or a string, not 7",)),
    ({"limit": 5.5}, ("limit must be an integer or a string, not 5.5",)),
    ({"filter": True}, ("filter must be an object or a string, not True",)),
    ({"filter-lang": 5, "filter": "true"}, ("filter-lang must be a string",)),
    ({"query": {"gsd": {"eq": 10}}}, ("Query extension",)),
]


@pytest.mark.parametrize(("body", "fragments"), POST_CASES)
def test_post_search_rejects(http: httpx.Client, body: Any, fragments: tuple[str, ...]) -> None:
    assert_error(http.post("/search", json=body), 400, *fragments)


ODD_BUT_VALID_POST: list[dict[str, Any]] = [
    {"filter": {"op": "nonsense", "args": [1]}},
    {"filter": {"op": "=", "args": [{"property": "gsd"}, "abc"]}},
    {"filter": {"op": "in", "args": [{"property": "id"}, ["a", "b"]]}},
    {"filter": {"op": "a_contains", "args": [{"property": "instruments"}, ["tc"]]}},
    {"filter": {"op": "isNull", "args": [{"property": "eo:cloud_cover"}]}},
    {"filter": "true"},
    {"sortby": [{"field": "properties.nonexistent"}, {"field": "geometry"}]},
    {"fields": {"include": ["properties.x.y.z"]}},
    {"fields": "id,-geometry"},
    {"collections": LUNAR, "limit": "5"},
    {"bbox": [180, -90, -180, 90]},
    {"datetime": "9999-12-31T23:59:59Z/.."},
    {"unknown-member": 1},
]
ODD_BUT_VALID_GET: list[dict[str, str]] = [
    {"sortby": ",,,"},
    {"fields": ",,"},
    {"filter": "S_INTERSECTS(geometry, POINT(1 1))"},
    {"filter": "T_INTERSECTS(datetime, INTERVAL('2009-01-01', '2009-01-05'))"},
    {"filter": "CASEI(platform) = CASEI('KAGUYA')"},
    {"filter": "gsd + 1 > 5"},
    {"limit": "99999999999999999999999"},
    {"bbox": "170,-10,-170,10"},
]


@pytest.mark.parametrize("body", ODD_BUT_VALID_POST)
def test_odd_but_valid_post_bodies_are_answered(http: httpx.Client, body: dict[str, Any]) -> None:
    response = http.post("/search", json=body)
    assert response.status_code == 200, response.text
    assert response.json()["type"] == "FeatureCollection"


@pytest.mark.parametrize("params", ODD_BUT_VALID_GET)
def test_odd_but_valid_get_parameters_are_answered(
    http: httpx.Client, params: dict[str, str]
) -> None:
    response = http.get("/search", params=params)
    assert response.status_code == 200, response.text


def test_post_search_rejects_malformed_bodies(http: httpx.Client) -> None:
    assert_error(
        http.post("/search", content=b'{"limit": 1,', headers={"content-type": "application/json"}),
        400,
        "request body is not valid JSON",
        "character 12",
    )
    assert_error(http.post("/search", json=[1, 2]), 400, "request body")
    assert_error(
        http.post("/search", content=b"limit=1", headers={"content-type": "text/plain"}),
        400,
    )


def test_unknown_token_is_a_client_error(http: httpx.Client) -> None:
    assert_error(http.get("/search", params={"token": "not-a-token"}), 400)


@pytest.mark.parametrize(
    ("path", "fragment"),
    [
        ("/collections/no-such-collection", "no-such-collection"),
        ("/collections/no-such-collection/items", "no-such-collection"),
        ("/collections/no-such-collection/queryables", "no-such-collection"),
        (f"/collections/{LUNAR}/items/no-such-item", "no-such-item"),
        (f"/collections/no-such-collection/items/{lunar_id(1)}", "no-such-collection"),
        ("/no/such/route", "/no/such/route"),
    ],
)
def test_unknown_things_are_404(http: httpx.Client, path: str, fragment: str) -> None:
    assert_error(http.get(path), 404, fragment)


def test_unknown_collection_404_before_parameter_errors(http: httpx.Client) -> None:
    assert_error(http.get("/collections/nope/items", params={"bbox": "1,2"}), 404, "nope")


def test_wrong_method_is_405_json(http: httpx.Client) -> None:
    assert_error(http.delete("/search"), 405, "DELETE")


# --- paths under /files -----------------------------------------------------------------------


def raw_get(url: str, target: str) -> tuple[int, bytes]:
    """Send ``target`` byte for byte (HTTP clients normalise '..' before sending)."""
    parsed = httpx.URL(url)
    with socket.create_connection((parsed.host, parsed.port), timeout=10) as sock:
        sock.sendall(
            f"GET {target} HTTP/1.1\r\nHost: {parsed.host}:{parsed.port}\r\n"
            "Connection: close\r\n\r\n".encode()
        )
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    return int(head.split()[1]), body


TRAVERSALS = [
    "/files/../conftest.py",
    "/files/lunar/../../archive/lunar/tc/",
    "/files/%2e%2e/secret.txt",
    "/files/%2E%2E/%2E%2E/etc/passwd",
    "/files/lunar/%2e%2e%2f%2e%2e%2fsecret.txt",
    "/files/lunar/..%2f..%2fsecret.txt",
    "/files/..%5csecret.txt",
    "/files/lunar/tc/%00.tif",
    "/files/.eoaccess/",
    "/files/escape/secret.txt",
    "/files/escape-file",
    "/files/./lunar/",
]


@pytest.fixture(scope="module")
def trap(tmp_path_factory: pytest.TempPathFactory, catalog_store: CatalogStore) -> Iterator[str]:
    """An archive with a secret next to it and symlinks pointing out of it."""
    base = tmp_path_factory.mktemp("trap")
    (base / "secret.txt").write_text("top secret")
    root = base / "archive"
    (root / "lunar" / "tc").mkdir(parents=True)
    (root / "lunar" / "tc" / "ok.tif").write_bytes(b"fine")
    (root / ".eoaccess").mkdir()
    (root / ".eoaccess" / "catalog.db").write_bytes(b"private")
    (root / "escape").symlink_to(base)
    (root / "escape-file").symlink_to(base / "secret.txt")
    (root / "inside").symlink_to(root / "lunar")
    with start_in_thread(create_app(catalog_store, root)) as server:
        yield server.url


@pytest.mark.parametrize("target", TRAVERSALS)
def test_paths_leaving_the_archive_are_404(trap: str, target: str) -> None:
    status, body = raw_get(trap, target)
    assert status == 404, target
    assert b"top secret" not in body and b"private" not in body
    assert json.loads(body)["code"] == "NotFoundError"


def test_symlinks_inside_the_archive_still_work(trap: str) -> None:
    assert raw_get(trap, "/files/inside/tc/ok.tif") == (200, b"fine")
    status, index = raw_get(trap, "/files/")
    assert status == 200
    assert b'href="lunar/"' in index and b'href="inside/"' in index
    assert b"escape" not in index and b".eoaccess" not in index


# --- unexpected failures ----------------------------------------------------------------------


class _BrokenStore:
    """A store whose reads fail with an internal error (a bug, not bad input)."""

    uri = "broken://"

    def collections(self) -> list[dict[str, Any]]:
        raise RuntimeError("database file /secret/path is corrupt")

    def search(self, query: Any, token: str | None = None) -> Any:
        raise RuntimeError("database file /secret/path is corrupt")

    def close(self) -> None:
        pass


def test_unexpected_errors_are_500_json_without_details(tmp_path: Path) -> None:
    app = create_app(_BrokenStore(), tmp_path)  # type: ignore[arg-type]
    with start_in_thread(app) as server, httpx.Client(base_url=server.url) as http:
        for response in (http.get("/collections"), http.post("/search", json={})):
            body = assert_error(response, 500)
            assert body == {
                "code": "InternalServerError",
                "description": INTERNAL_ERROR_DESCRIPTION,
            }
        assert http.get("/conformance").status_code == 200  # the server lives on
