"""The STAC API routes against the real embedded store, over HTTP on loopback."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

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

EXPECTED_CONFORMANCE = {
    "https://api.stacspec.org/v1.0.0/core",
    "https://api.stacspec.org/v1.0.0/collections",
    "https://api.stacspec.org/v1.0.0/ogcapi-features",
    "https://api.stacspec.org/v1.0.0/item-search",
    "https://api.stacspec.org/v1.0.0/item-search#filter",
    "https://api.stacspec.org/v1.0.0/item-search#sort",
    "https://api.stacspec.org/v1.0.0/item-search#fields",
    "https://api.stacspec.org/v1.0.0/ogcapi-features#filter",
    "https://api.stacspec.org/v1.0.0/ogcapi-features#sort",
    "https://api.stacspec.org/v1.0.0/ogcapi-features#fields",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/filter",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/features-filter",
    "http://www.opengis.net/spec/cql2/1.0/conf/cql2-text",
    "http://www.opengis.net/spec/cql2/1.0/conf/cql2-json",
    "http://www.opengis.net/spec/cql2/1.0/conf/basic-cql2",
    "http://www.opengis.net/spec/cql2/1.0/conf/advanced-comparison-operators",
    "http://www.opengis.net/spec/cql2/1.0/conf/basic-spatial-functions",
}

# Lunar scenes are one a day, so newest first is scene 35 down to scene 0.
LUNAR_NEWEST_FIRST = [lunar_id(n) for n in reversed(range(LUNAR_COUNT))]


@pytest.fixture(scope="module")
def http(served: ServedArchive) -> httpx.Client:
    with httpx.Client(base_url=served.url, timeout=30) as client:
        yield client  # type: ignore[misc]


def links(doc: dict[str, Any], rel: str) -> list[dict[str, Any]]:
    return [link for link in doc["links"] if link["rel"] == rel]


def link(doc: dict[str, Any], rel: str) -> dict[str, Any]:
    (found,) = links(doc, rel)
    return found


def ids(doc: dict[str, Any]) -> list[str]:
    return [feature["id"] for feature in doc["features"]]


# --- discovery --------------------------------------------------------------------------------


def test_landing_page_advertises_v1_conformance_and_links(
    served: ServedArchive, http: httpx.Client
) -> None:
    response = http.get("/")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert body["type"] == "Catalog" and body["stac_version"] == "1.0.0"
    assert set(body["conformsTo"]) == EXPECTED_CONFORMANCE
    url = served.url
    searches = links(body, "search")
    assert sorted((s["method"], s["href"], s["type"]) for s in searches) == [
        ("GET", f"{url}search", "application/geo+json"),
        ("POST", f"{url}search", "application/geo+json"),
    ]
    assert link(body, "data")["href"] == f"{url}collections"
    assert link(body, "conformance")["href"] == f"{url}conformance"
    assert link(body, "service-desc") == {
        "rel": "service-desc",
        "type": "application/vnd.oai.openapi+json;version=3.0",
        "href": f"{url}api",
    }
    assert link(body, "self")["href"] == url and link(body, "root")["href"] == url
    assert sorted(c["href"] for c in links(body, "child")) == [
        f"{url}collections/{ICE}",
        f"{url}collections/{LUNAR}",
    ]


def test_conformance_route_matches_landing_page(http: httpx.Client) -> None:
    assert set(http.get("/conformance").json()["conformsTo"]) == EXPECTED_CONFORMANCE


def test_openapi_document_at_api(http: httpx.Client) -> None:
    response = http.get("/api")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/vnd.oai.openapi+json;version=3.0"
    paths = response.json()["paths"]
    assert {"/search", "/collections", "/collections/{collection_id}/items"} <= set(paths)
    assert set(paths["/search"]) == {"get", "post"}


def test_collections_have_links_and_count(served: ServedArchive, http: httpx.Client) -> None:
    body = http.get("/collections").json()
    assert [c["id"] for c in body["collections"]] == [ICE, LUNAR]
    assert body["numberMatched"] == body["numberReturned"] == 2
    assert "type" not in body  # the STAC API entity has no type member
    assert link(body, "self")["href"] == f"{served.url}collections"
    lunar = body["collections"][1]
    assert link(lunar, "self")["href"] == f"{served.url}collections/{LUNAR}"
    assert link(lunar, "parent")["href"] == served.url
    assert link(lunar, "root")["href"] == served.url
    assert link(lunar, "items") == {
        "rel": "items",
        "type": "application/geo+json",
        "href": f"{served.url}collections/{LUNAR}/items",
    }


def test_one_collection(served: ServedArchive, http: httpx.Client) -> None:
    body = http.get(f"/collections/{LUNAR}").json()
    assert body["id"] == LUNAR and body["extent"]["spatial"]["bbox"] == [[10.0, -5.0, 16.0, 1.0]]
    assert link(body, "self")["href"] == f"{served.url}collections/{LUNAR}"


def test_queryables_come_from_collection_summaries(
    served: ServedArchive, http: httpx.Client
) -> None:
    response = http.get("/queryables")
    assert response.headers["content-type"] == "application/schema+json"
    schema = response.json()
    assert schema["$id"] == f"{served.url}queryables"
    assert schema["$schema"] == "https://json-schema.org/draft/2019-09/schema"
    assert schema["type"] == "object"
    props = schema["properties"]
    assert props["view:incidence_angle"] == {"type": "number"}
    assert props["processing:level"] == {"type": "string", "enum": ["L2B", "L2C"]}
    assert props["datetime"]["format"] == "date-time"
    per_collection = http.get(f"/collections/{ICE}/queryables").json()
    assert per_collection["$id"] == f"{served.url}collections/{ICE}/queryables"
    assert "view:incidence_angle" not in per_collection["properties"]


# --- items and features -----------------------------------------------------------------------


def test_item_has_links_and_absolute_asset_hrefs(served: ServedArchive, http: httpx.Client) -> None:
    item_url = f"{served.url}collections/{LUNAR}/items/{lunar_id(7)}"
    response = http.get(item_url)
    assert response.headers["content-type"] == "application/geo+json"
    item = response.json()
    assert link(item, "self")["href"] == item_url
    assert link(item, "parent")["href"] == f"{served.url}collections/{LUNAR}"
    assert link(item, "collection")["href"] == f"{served.url}collections/{LUNAR}"
    assert link(item, "root")["href"] == served.url
    href = item["assets"]["image"]["href"]
    assert href == f"{served.url}files/lunar/tc/{lunar_id(7)}.tif"
    assert http.get(href).content == lunar_file_bytes(7)


def test_items_route_pages_with_next_links(http: httpx.Client) -> None:
    seen: list[str] = []
    url: str | None = f"/collections/{LUNAR}/items?limit=10"
    pages = 0
    while url:
        body = http.get(url).json()
        pages += 1
        assert body["numberMatched"] == LUNAR_COUNT
        assert body["numberReturned"] == len(body["features"])
        seen += ids(body)
        nexts = links(body, "next")
        url = nexts[0]["href"] if nexts else None
        if url:
            assert nexts[0]["method"] == "GET" and "token=" in url and "limit=10" in url
    assert pages == 4
    assert seen == LUNAR_NEWEST_FIRST


def test_items_route_self_link_is_the_request_url(
    served: ServedArchive, http: httpx.Client
) -> None:
    body = http.get(f"/collections/{LUNAR}/items").json()
    assert link(body, "self")["href"] == f"{served.url}collections/{LUNAR}/items"
    assert len(body["features"]) == 10  # default page size


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"bbox": "10.2,-4.8,10.8,-4.2"}, [lunar_id(0)]),
        ({"datetime": "2009-01-05T03:00:00Z"}, [lunar_id(4)]),
        (
            {"datetime": "2009-01-02T00:00:00Z/2009-01-04T23:59:59Z"},
            [lunar_id(3), lunar_id(2), lunar_id(1)],
        ),
        ({"datetime": "../2009-01-02T12:00:00Z"}, [lunar_id(1), lunar_id(0)]),
        ({"datetime": "2009-02-04T00:00:00Z/.."}, [lunar_id(35), lunar_id(34)]),
        ({"datetime": "2009-02-04T00:00:00Z/"}, [lunar_id(35), lunar_id(34)]),
    ],
)
def test_items_route_bbox_and_datetime(
    http: httpx.Client, params: dict[str, str], expected: list[str]
) -> None:
    assert ids(http.get(f"/collections/{LUNAR}/items", params=params).json()) == expected


# --- item search ------------------------------------------------------------------------------


def search_get(http: httpx.Client, **params: Any) -> dict[str, Any]:
    response = http.get("/search", params=params)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/geo+json"
    return response.json()  # type: ignore[no-any-return]


def search_post(http: httpx.Client, body: dict[str, Any]) -> dict[str, Any]:
    response = http.post("/search", json=body)
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def test_search_counts_everything(http: httpx.Client) -> None:
    body = search_get(http, limit=5)
    assert body["numberMatched"] == LUNAR_COUNT + ICE_COUNT
    assert body["numberReturned"] == 5


def test_search_ids_and_collections(http: httpx.Client) -> None:
    body = search_get(http, ids=f"{lunar_id(3)},{lunar_id(5)}", collections=LUNAR)
    assert sorted(ids(body)) == [lunar_id(3), lunar_id(5)]
    assert search_get(http, ids=lunar_id(3), collections=ICE)["features"] == []


def test_search_intersects_get_and_post(http: httpx.Client) -> None:
    point = {"type": "Point", "coordinates": [11.5, -3.5]}  # cell (1, 1) = scene 7
    assert ids(search_get(http, intersects=json.dumps(point))) == [lunar_id(7)]
    assert ids(search_post(http, {"intersects": point})) == [lunar_id(7)]


def test_search_datetime_over_time_ranges(http: httpx.Client) -> None:
    # Cubes cover 2018-01-01 to (2020 + n)-12-31: only n = 2 and 3 reach mid-2022.
    body = search_get(http, collections=ICE, datetime="2022-06-01T00:00:00Z/..")
    assert sorted(ids(body)) == sorted(cube_name(n).removesuffix(".zarr") for n in (2, 3))


def test_search_filter_text_and_json(http: httpx.Client) -> None:
    # incidence 20 + 1.5 n > 70 for n >= 34
    expected = [lunar_id(35), lunar_id(34)]
    assert ids(search_get(http, filter="view:incidence_angle > 70")) == expected
    assert (
        ids(search_get(http, **{"filter": "view:incidence_angle > 70", "filter-lang": "cql2-text"}))
        == expected
    )
    cql2_json = {"op": ">", "args": [{"property": "view:incidence_angle"}, 70]}
    assert (
        ids(search_get(http, **{"filter": json.dumps(cql2_json), "filter-lang": "cql2-json"}))
        == expected
    )
    assert ids(search_post(http, {"filter": cql2_json})) == expected
    assert ids(search_post(http, {"filter": cql2_json, "filter-lang": "cql2-json"})) == expected
    text = "\"processing:level\" = 'L2B' AND view:incidence_angle BETWEEN 60 AND 70"
    # L2B are the odd scenes; 60 <= 20 + 1.5 n <= 70 for n in 27..33
    assert ids(search_get(http, filter=text)) == [lunar_id(n) for n in (33, 31, 29, 27)]


def test_search_sortby_get_and_post(http: httpx.Client) -> None:
    body = search_get(http, collections=LUNAR, sortby="+view:incidence_angle", limit=4)
    assert ids(body) == [lunar_id(n) for n in range(4)]
    body = search_get(http, collections=LUNAR, sortby="-properties.datetime", limit=3)
    assert ids(body) == LUNAR_NEWEST_FIRST[:3]
    body = search_post(
        http, {"collections": [LUNAR], "sortby": [{"field": "id", "direction": "asc"}], "limit": 3}
    )
    assert ids(body) == [lunar_id(n) for n in range(3)]


def test_search_fields_include_and_exclude(served: ServedArchive, http: httpx.Client) -> None:
    body = search_post(
        http, {"ids": [lunar_id(2)], "fields": {"include": ["properties.gsd"], "exclude": []}}
    )
    (item,) = body["features"]
    assert set(item) == {"type", "stac_version", "id", "collection", "links", "properties"}
    assert item["properties"] == {"gsd": 10.0}
    assert link(item, "self")["href"].startswith(served.url)
    body = search_get(http, ids=lunar_id(2), fields="-assets,-geometry")
    (item,) = body["features"]
    assert "assets" not in item and "geometry" not in item and item["properties"]["gsd"] == 10.0
    (item,) = search_get(http, ids=lunar_id(2), fields="assets")["features"]
    assert item["assets"]["label"]["href"] == f"{served.url}files/lunar/tc/{lunar_id(2)}.lbl"


def test_get_search_next_links_carry_the_query_and_a_token(http: httpx.Client) -> None:
    body = search_get(http, collections=LUNAR, limit=7, sortby="id")
    seen = ids(body)
    while nexts := links(body, "next"):
        (next_link,) = nexts
        assert next_link["method"] == "GET"
        params = httpx.URL(next_link["href"]).params
        assert params["collections"] == LUNAR and params["limit"] == "7" and params["token"]
        body = http.get(next_link["href"]).json()
        seen += ids(body)
    assert seen == [lunar_id(n) for n in range(LUNAR_COUNT)]


def test_post_search_next_links_repeat_the_body(served: ServedArchive, http: httpx.Client) -> None:
    request = {"collections": [LUNAR], "limit": 10, "filter": "processing:level = 'L2C'"}
    body = search_post(http, request)
    assert body["numberMatched"] == LUNAR_COUNT // 2
    seen = ids(body)
    pages = 1
    while nexts := links(body, "next"):
        (next_link,) = nexts
        assert next_link["method"] == "POST" and next_link["merge"] is True
        assert next_link["href"] == f"{served.url}search"
        assert {k: v for k, v in next_link["body"].items() if k != "token"} == request
        body = search_post(http, next_link["body"])
        seen += ids(body)
        pages += 1
    assert pages == 2
    assert seen == [lunar_id(n) for n in reversed(range(0, LUNAR_COUNT, 2))]


def test_limit_above_maximum_is_capped(http: httpx.Client) -> None:
    body = search_get(http, limit=1_000_000)
    assert body["numberReturned"] == LUNAR_COUNT + ICE_COUNT
    assert links(body, "next") == []
    assert search_post(http, {"limit": 100_000})["numberReturned"] == LUNAR_COUNT + ICE_COUNT


# --- public origin behind a proxy ---------------------------------------------------------------


def test_x_forwarded_headers_shape_every_href(http: httpx.Client) -> None:
    headers = {
        "X-Forwarded-Proto": "https",
        "X-Forwarded-Host": "data.example.org",
        "X-Forwarded-Prefix": "/stac/",
    }
    landing = http.get("/", headers=headers).json()
    assert link(landing, "self")["href"] == "https://data.example.org/stac/"
    assert {s["href"] for s in links(landing, "search")} == {"https://data.example.org/stac/search"}
    item = http.get(f"/collections/{LUNAR}/items/{lunar_id(1)}", headers=headers).json()
    assert item["assets"]["image"]["href"] == (
        f"https://data.example.org/stac/files/lunar/tc/{lunar_id(1)}.tif"
    )
    page = http.get(f"/collections/{LUNAR}/items?limit=2", headers=headers).json()
    assert link(page, "next")["href"].startswith(
        f"https://data.example.org/stac/collections/{LUNAR}/items?limit=2&token="
    )


def test_forwarded_header_wins_and_keeps_the_port(http: httpx.Client) -> None:
    headers = {
        "Forwarded": 'for=192.0.2.60;proto=https;host="maps.example.net:8443", for=10.0.0.1',
        "X-Forwarded-Host": "ignored.example.org",
    }
    landing = http.get("/", headers=headers).json()
    assert link(landing, "self")["href"] == "https://maps.example.net:8443/"


def test_bad_forwarded_values_are_not_echoed(served: ServedArchive, http: httpx.Client) -> None:
    headers = {"X-Forwarded-Host": "evil.example.org/<script>", "X-Forwarded-Proto": "gopher"}
    assert link(http.get("/", headers=headers).json(), "self")["href"] == served.url
