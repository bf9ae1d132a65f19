"""One battery of searches against both catalog backends: each answer must equal what
:mod:`eoaccess.matching` computes over the same items in Python, page by page."""

from __future__ import annotations

from typing import Any

import pytest
import shapely
import shapely.geometry

from eoaccess.errors import InvalidInputError
from eoaccess.matching import apply_fields
from eoaccess.query import Fields, make_query
from eoaccess.stores import CatalogStore
from tests.stores.conftest import ITEMS, TIED_DATETIME, all_pages, oracle

ANTIMERIDIAN = next(i for i in ITEMS if i["geometry"]["type"] == "MultiPolygon")
POLAR = next(i for i in ITEMS if i["bbox"][3] == 90.0)
LANDSAT = next(i for i in ITEMS if i["collection"] == "landsat-c2-l2")
RANGE_ITEM = next(i for i in ITEMS if i["properties"].get("start_datetime"))
MICROS = next(i for i in ITEMS if "." in (i["properties"].get("datetime") or ""))


def _inside(item: dict[str, Any], part: int = 0) -> list[float]:
    geometry = shapely.geometry.shape(item["geometry"])
    parts = list(getattr(geometry, "geoms", [geometry]))
    point = parts[part].representative_point()
    return [point.x, point.y]


# Each case: make_query keywords. Every one selects something (checked below).
SPATIAL_CASES: dict[str, dict[str, Any]] = {
    "bbox": {"bbox": "0,35,40,60"},
    "bbox-southern": {"bbox": [-80, -60, -30, 0]},
    "bbox-antimeridian": {"bbox": "170,-60,-170,60"},
    "bbox-polar": {"bbox": "-180,85,180,90"},
    "point-in-landsat": {"point": _inside(LANDSAT)},
    "point-west-of-antimeridian": {"point": _inside(ANTIMERIDIAN, 1)},
    "point-near-pole": {"point": [12.5, 89.99]},
    "polygon": {
        "intersects": {
            "type": "Polygon",
            "coordinates": [[[-20, -10], [60, -30], [40, 50], [-20, -10]]],
        }
    },
    "multipolygon-across-antimeridian": {
        "intersects": {
            "type": "MultiPolygon",
            "coordinates": [
                [[[175, -40], [180, -40], [180, 40], [175, 40], [175, -40]]],
                [[[-180, -40], [-175, -40], [-175, 40], [-180, 40], [-180, -40]]],
            ],
        }
    },
}
TIME_CASES: dict[str, dict[str, Any]] = {
    "instant-with-micros": {"datetime": MICROS["properties"]["datetime"]},
    "instant-tied": {"datetime": TIED_DATETIME},
    "interval": {"datetime": "2018-01-01T00:00:00Z/2018-12-31T23:59:59Z"},
    "open-start": {"datetime": "../2016-03-01T00:00:00Z"},
    "open-end": {"datetime": "2024-06-01T00:00:00Z/.."},
    "date-only": {"datetime": "2019-05-03"},
    "inside-a-range": {"datetime": RANGE_ITEM["properties"]["start_datetime"][:7]},
    "bbox-and-time": {"bbox": "-180,-60,0,60", "datetime": "2017-01-01/2020-12-31"},
}
NAME_CASES: dict[str, dict[str, Any]] = {
    "ids": {"ids": [ITEMS[5]["id"], ITEMS[50]["id"], ITEMS[250]["id"], "no-such-item"]},
    "ids-and-collection": {
        "ids": [ITEMS[5]["id"], ITEMS[50]["id"], ITEMS[250]["id"]],
        "collections": [ITEMS[50]["collection"]],
    },
    "collections": {"collections": ["landsat-c2-l2", "modis-swath"]},
    "collection-and-bbox": {"collections": "sentinel-2-l2a", "bbox": "-180,-90,0,90"},
}
# (CQL2 text, the same filter written as CQL2-JSON)
FILTER_CASES: dict[str, tuple[str, dict[str, Any]]] = {
    "lt": ('"eo:cloud_cover" < 20', {"op": "<", "args": [{"property": "eo:cloud_cover"}, 20]}),
    "lte": ("eo:cloud_cover <= 5.5", {"op": "<=", "args": [{"property": "eo:cloud_cover"}, 5.5]}),
    "gt": ("eo:cloud_cover > 90", {"op": ">", "args": [{"property": "eo:cloud_cover"}, 90]}),
    "gte": ("gsd >= 120", {"op": ">=", "args": [{"property": "gsd"}, 120]}),
    "eq": ("gsd = 30", {"op": "=", "args": [{"property": "gsd"}, 30]}),
    "neq": ("gsd <> 10", {"op": "<>", "args": [{"property": "gsd"}, 10]}),
    "eq-string": (
        "platform = 'landsat-9'",
        {"op": "=", "args": [{"property": "platform"}, "landsat-9"]},
    ),
    "between": (
        "eo:cloud_cover BETWEEN 10 AND 30",
        {"op": "between", "args": [{"property": "eo:cloud_cover"}, 10, 30]},
    ),
    "in": (
        "platform IN ('landsat-8', 'terra')",
        {"op": "in", "args": [{"property": "platform"}, ["landsat-8", "terra"]]},
    ),
    "like": (
        "platform LIKE 'sentinel-2_'",
        {"op": "like", "args": [{"property": "platform"}, "sentinel-2_"]},
    ),
    "like-percent": (
        "platform LIKE '%sat%'",
        {"op": "like", "args": [{"property": "platform"}, "%sat%"]},
    ),
    "is-null": (
        "eo:cloud_cover IS NULL",
        {"op": "isNull", "args": [{"property": "eo:cloud_cover"}]},
    ),
    "not": (
        "NOT (eo:cloud_cover < 50)",
        {"op": "not", "args": [{"op": "<", "args": [{"property": "eo:cloud_cover"}, 50]}]},
    ),
    "and": (
        "gsd = 10 AND eo:cloud_cover < 30",
        {
            "op": "and",
            "args": [
                {"op": "=", "args": [{"property": "gsd"}, 10]},
                {"op": "<", "args": [{"property": "eo:cloud_cover"}, 30]},
            ],
        },
    ),
    "or": (
        "gsd = 500 OR eo:cloud_cover > 95",
        {
            "op": "or",
            "args": [
                {"op": "=", "args": [{"property": "gsd"}, 500]},
                {"op": ">", "args": [{"property": "eo:cloud_cover"}, 95]},
            ],
        },
    ),
    "properties-prefix": (
        "properties.gsd = 120",
        {"op": "=", "args": [{"property": "properties.gsd"}, 120]},
    ),
    "id": (f"id = '{ITEMS[9]['id']}'", {"op": "=", "args": [{"property": "id"}, ITEMS[9]["id"]]}),
    "collection": (
        "collection = 'modis-swath'",
        {"op": "=", "args": [{"property": "collection"}, "modis-swath"]},
    ),
    "s-intersects": (
        "S_INTERSECTS(geometry, POLYGON((-20 -10, 60 -30, 40 50, -20 -10)))",
        {
            "op": "s_intersects",
            "args": [
                {"property": "geometry"},
                {
                    "type": "Polygon",
                    "coordinates": [[[-20, -10], [60, -30], [40, 50], [-20, -10]]],
                },
            ],
        },
    ),
    "s-intersects-bbox-antimeridian": (
        "S_INTERSECTS(geometry, BBOX(170, -60, -170, 60))",
        {"op": "s_intersects", "args": [{"property": "geometry"}, {"bbox": [170, -60, -170, 60]}]},
    ),
    "s-within": (
        "S_WITHIN(geometry, BBOX(-100, -50, 100, 50))",
        {"op": "s_within", "args": [{"property": "geometry"}, {"bbox": [-100, -50, 100, 50]}]},
    ),
    "s-disjoint": (
        "S_DISJOINT(geometry, BBOX(-170, -80, 170, 80))",
        {"op": "s_disjoint", "args": [{"property": "geometry"}, {"bbox": [-170, -80, 170, 80]}]},
    ),
    "t-intersects": (
        "T_INTERSECTS(datetime, INTERVAL('2018-01-01T00:00:00Z', '2018-12-31T23:59:59Z'))",
        {
            "op": "t_intersects",
            "args": [
                {"property": "datetime"},
                {"interval": ["2018-01-01T00:00:00Z", "2018-12-31T23:59:59Z"]},
            ],
        },
    ),
    "t-intersects-range-dates": (
        "T_INTERSECTS(INTERVAL(start_datetime, end_datetime), INTERVAL('2019-06-01', '2019-06-30'))",
        {
            "op": "t_intersects",
            "args": [
                {"interval": [{"property": "start_datetime"}, {"property": "end_datetime"}]},
                {"interval": ["2019-06-01", "2019-06-30"]},
            ],
        },
    ),
    "t-intersects-open": (
        "T_INTERSECTS(datetime, INTERVAL('2024-01-01T00:00:00Z', '..'))",
        {
            "op": "t_intersects",
            "args": [{"property": "datetime"}, {"interval": ["2024-01-01T00:00:00Z", ".."]}],
        },
    ),
    "t-before": (
        "T_BEFORE(datetime, TIMESTAMP('2016-01-01T00:00:00Z'))",
        {
            "op": "t_before",
            "args": [{"property": "datetime"}, {"timestamp": "2016-01-01T00:00:00Z"}],
        },
    ),
    "timestamp-comparison": (
        "datetime > TIMESTAMP('2022-01-01T00:00:00Z')",
        {"op": ">", "args": [{"property": "datetime"}, {"timestamp": "2022-01-01T00:00:00Z"}]},
    ),
    "casei": (
        "CASEI(platform) = 'LANDSAT-9'",
        {"op": "=", "args": [{"op": "casei", "args": [{"property": "platform"}]}, "LANDSAT-9"]},
    ),
    "sql-and-residual": (
        "eo:cloud_cover < 40 AND CASEI(platform) = CASEI('Sentinel-2A')",
        {
            "op": "and",
            "args": [
                {"op": "<", "args": [{"property": "eo:cloud_cover"}, 40]},
                {
                    "op": "=",
                    "args": [
                        {"op": "casei", "args": [{"property": "platform"}]},
                        {"op": "casei", "args": ["Sentinel-2A"]},
                    ],
                },
            ],
        },
    ),
}
SORT_CASES = [
    "eo:cloud_cover",
    "-eo:cloud_cover",
    "gsd,-datetime",
    "-gsd,eo:cloud_cover",
    "datetime",
    "-datetime",
    "id",
    "-collection",
    "end_datetime",
    "-start_datetime",
    "platform,-view:off_nadir",
    "-properties.gsd,id",
]
FIELDS_CASES: list[dict[str, list[str]]] = [
    {"include": ["properties.gsd", "properties.eo:cloud_cover"]},
    {"exclude": ["assets", "geometry"]},
    {"include": ["properties.platform", "assets.data.href"], "exclude": ["properties.platform"]},
    {"exclude": ["properties.datetime", "bbox"]},
]
ALL_CASES: dict[str, dict[str, Any]] = {
    **SPATIAL_CASES,
    **TIME_CASES,
    **NAME_CASES,
    **{f"filter-{name}": {"filter": text} for name, (text, _) in FILTER_CASES.items()},
    **{f"sortby-{name}": {"sortby": name} for name in SORT_CASES},
}


def _ids(items: list[dict[str, Any]]) -> list[str]:
    return [item["id"] for item in items]


def check(store: CatalogStore, limit: int = 50, **criteria: Any) -> list[dict[str, Any]]:
    """Page through a search; assert items, order and numberMatched equal the oracle's."""
    query = make_query(limit=limit, **criteria)
    expected = oracle(query)
    found, matched = all_pages(store, query)
    assert _ids(found) == _ids(expected)
    assert found == expected
    assert matched == [len(expected)] * len(matched)
    return found


@pytest.mark.parametrize("criteria", SPATIAL_CASES.values(), ids=SPATIAL_CASES.keys())
def test_spatial(store: CatalogStore, criteria: dict[str, Any]) -> None:
    assert check(store, **criteria)


@pytest.mark.parametrize("criteria", TIME_CASES.values(), ids=TIME_CASES.keys())
def test_datetime(store: CatalogStore, criteria: dict[str, Any]) -> None:
    assert check(store, **criteria)


@pytest.mark.parametrize("criteria", NAME_CASES.values(), ids=NAME_CASES.keys())
def test_ids_and_collections(store: CatalogStore, criteria: dict[str, Any]) -> None:
    assert check(store, **criteria)


@pytest.mark.parametrize("case", FILTER_CASES.values(), ids=FILTER_CASES.keys())
def test_cql2_text_and_json(store: CatalogStore, case: tuple[str, dict[str, Any]]) -> None:
    text, json_form = case
    # Text is parsed to CQL2-JSON at the boundary: the store sees the very same filter either
    # way, so one search per case tests both spellings.
    assert make_query(filter=text).filter == make_query(filter=json_form).filter
    assert check(store, filter=json_form)


@pytest.mark.parametrize("sortby", SORT_CASES)
def test_sortby(store: CatalogStore, sortby: str) -> None:
    found = check(store, sortby=sortby, limit=100)
    assert len(found) == len(ITEMS)


def test_sortby_with_filter_and_bbox(store: CatalogStore) -> None:
    assert check(store, sortby="-eo:cloud_cover", filter="gsd < 100", bbox="-180,-70,180,10")


def test_default_order_breaks_ties_by_collection_and_id_descending(store: CatalogStore) -> None:
    tied = check(store, datetime=TIED_DATETIME)
    keys = [(item["collection"], item["id"]) for item in tied]
    assert len(keys) >= 3
    assert keys == sorted(keys, reverse=True)


@pytest.mark.parametrize("fields", FIELDS_CASES)
def test_fields(store: CatalogStore, fields: dict[str, list[str]]) -> None:
    query = make_query(fields=fields, bbox="-180,-90,0,90", limit=40)
    found, _ = all_pages(store, query)
    wanted = Fields(tuple(fields.get("include", ())), tuple(fields.get("exclude", ())))
    assert found == [apply_fields(item, wanted) for item in oracle(query)]


@pytest.mark.parametrize("limit", [1, 7, 10_000])
def test_paging_through_every_page(store: CatalogStore, limit: int) -> None:
    criteria: dict[str, Any] = {"bbox": "-180,-60,-100,60"} if limit == 1 else {}
    query = make_query(limit=limit, **criteria)
    pages = []
    token = None
    while True:
        page = store.search(query, token)
        pages.append(page)
        token = page.next_token
        if token is None:
            break
    expected = oracle(query)
    assert len(pages) == -(-len(expected) // limit)  # ceil: no empty trailing page
    assert _ids([i for p in pages for i in p.items]) == _ids(expected)


def test_page_size_may_change_between_pages(store: CatalogStore) -> None:
    first = store.search(make_query(limit=5, sortby="gsd"))
    second = store.search(make_query(limit=20, sortby="gsd"), first.next_token)
    expected = oracle(make_query(sortby="gsd"))
    assert _ids(first.items + second.items) == _ids(expected[:25])


def test_token_of_another_query_is_refused(store: CatalogStore) -> None:
    page = store.search(make_query(limit=3))
    assert page.next_token
    with pytest.raises(InvalidInputError, match="different search"):
        store.search(make_query(limit=3, sortby="gsd"), page.next_token)
    with pytest.raises(InvalidInputError, match="invalid paging token"):
        store.search(make_query(limit=3), "not-a-token")


def test_every_case_selects_something_and_not_everything() -> None:
    """Guards the battery itself: a case that matches nothing (or everything) tests little."""
    for name, criteria in ALL_CASES.items():
        if name.startswith("sortby-"):
            continue
        count = len(oracle(make_query(**criteria)))
        assert 0 < count < len(ITEMS), name


@pytest.mark.postgres
def test_backends_agree(embedded_store: CatalogStore, pgstac_store: CatalogStore) -> None:
    """The first page of every case, side by side (each backend is checked in full above)."""
    for name, criteria in ALL_CASES.items():
        query = make_query(limit=100, **criteria)
        embedded, pgstac = embedded_store.search(query), pgstac_store.search(query)
        assert embedded.items == pgstac.items, name
        assert embedded.number_matched == pgstac.number_matched, name
        assert (embedded.next_token is None) == (pgstac.next_token is None), name
