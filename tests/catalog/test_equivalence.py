"""The same query over the same items gives the same ids from every kind of source: the
embedded catalog of an archive, our STAC API, a static catalog and a stac-geoparquet file
(local and over HTTP) — and the ids are the right ones (checked against eoaccess.matching)."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from eoaccess.catalog import open_catalog, search_many
from eoaccess.catalog.stac_api import Capabilities, StacApi
from eoaccess.matching import DEFAULT_SORTBY, ItemMatcher, sort_items
from eoaccess.query import make_query
from tests.catalog.conftest import Sources

KAGUYA_MONO = "kaguya_terrain_camera_monoscopic_uncontrolled_observations"
KAGUYA_STEREO = "kaguya_terrain_camera_stereoscopic_uncontrolled_observations"

# One battery of searches; each is a dict of Catalog.search keyword arguments.
QUERIES: list[dict[str, Any]] = [
    {},
    {"collections": [KAGUYA_MONO, KAGUYA_STEREO]},
    {"collections": "itslive_datacubes,ATL03"},
    {"ids": ["TC1S2B0_01_05525N005E0009", "32610_536_4168_2023-11-02", "nope"]},
    {"bbox": [0, -10, 10, 10]},
    {"bbox": [170, -90, -170, 90]},
    {"point": (-122.39, 37.776)},
    {"intersects": "POLYGON ((-150 55, -130 55, -130 70, -150 70, -150 55))"},
    {"datetime": "2009-01-01/2009-03-01"},
    {"datetime": "2023-11-02/.."},
    {"datetime": "../2008-06-30"},
    {"filter": "gsd > 100"},
    {"filter": "\"eo:cloud_cover\" < 50 OR collection = 'ATL03'"},
    {"filter": "S_INTERSECTS(geometry, BBOX(-10, -40, 70, 70)) AND gsd < 120"},
    {"sortby": "-gsd,id"},
    {"sortby": "id", "max_items": 5},
    {"sortby": "datetime", "limit": 2},
    {"collections": [KAGUYA_MONO], "sortby": "-datetime", "limit": 1, "max_items": 3},
    {"datetime": "2009-01-01/2009-12-31", "bbox": [-60, -20, 10, 20], "sortby": "id"},
]


def expected_ids(sources: Sources, arguments: dict[str, Any]) -> list[str]:
    """The answer of eoaccess.matching over the items, in the query's order."""
    query = make_query(**arguments)
    matcher = ItemMatcher(query)
    ordered = sort_items(
        [i for i in sources.items if matcher.matches(i)], query.sortby or DEFAULT_SORTBY
    )
    ids = [i["id"] for i in ordered]
    return ids[: query.max_items] if query.max_items is not None else ids


@pytest.mark.parametrize("arguments", QUERIES, ids=[str(q) for q in QUERIES])
def test_every_kind_answers_alike(sources: Sources, arguments: dict[str, Any]) -> None:
    want = expected_ids(sources, arguments)
    full = expected_ids(sources, {**arguments, "max_items": None})
    for name, location in sources.all_kinds().items():
        with open_catalog(location) as catalog:
            result = catalog.search(**arguments)
            assert [i["id"] for i in result.items()] == want, name
            assert result.matched() == len(full), name
    assert want or arguments.get("ids") is None  # the battery mostly selects something


def test_kinds_are_recognised(sources: Sources) -> None:
    kinds = {name: open_catalog(loc).kind for name, loc in sources.all_kinds().items()}
    assert kinds == {
        "archive": "archive",
        "stac_api": "stac_api",
        "static": "static",
        "static_http": "static",
        "geoparquet": "geoparquet",
        "geoparquet_http": "geoparquet",
    }


@pytest.mark.parametrize(
    "limits",
    [
        {"filter": False, "sort": False, "fields": False},  # everything but search here
        {"post": False},  # GET /search only
        {"item_search": False},  # OGC API Features: /collections/{id}/items
    ],
    ids=["no-extensions", "get-only", "features-only"],
)
def test_what_an_api_cannot_do_is_done_here(
    sources: Sources, limits: dict[str, bool], monkeypatch: pytest.MonkeyPatch
) -> None:
    original = StacApi.__init__

    def limited(self: StacApi, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        changes = {k: v for k, v in limits.items() if k != "post"}
        self.capabilities = dataclasses.replace(self.capabilities, **changes)
        if limits.get("post") is False:
            self.search_methods = frozenset({"GET"})

    monkeypatch.setattr(StacApi, "__init__", limited)
    with open_catalog(sources.api) as catalog:
        assert isinstance(catalog.sources[0], StacApi)
        assert catalog.sources[0].capabilities != Capabilities(True, True, True, True, True) or (
            limits.get("post") is False
        )
        for arguments in QUERIES:
            result = catalog.search(**arguments)
            assert [i["id"] for i in result.items()] == expected_ids(sources, arguments), arguments


def test_fields_are_applied_by_every_kind(sources: Sources) -> None:
    for name, location in sources.all_kinds().items():
        with open_catalog(location) as catalog:
            items = list(catalog.search(fields="id,properties.gsd", sortby="id").items())
        assert [i["id"] for i in items] == sorted(i["id"] for i in sources.items), name
        for item in items:
            assert set(item) <= {"type", "stac_version", "id", "collection", "links", "properties"}
            assert set(item.get("properties", {})) <= {"gsd"}, name


def test_several_sources_merge_in_order_without_duplicates(sources: Sources) -> None:
    kinds = sources.all_kinds()
    result = search_many([kinds["stac_api"], kinds["static"], kinds["geoparquet"]], sortby="id")
    assert [i["id"] for i in result.items()] == sorted(i["id"] for i in sources.items)
    assert result.matched() == len(sources.items)
    # default order (newest first) across an API and a file, with a cap
    merged = search_many([kinds["archive"], kinds["geoparquet_http"]], max_items=7)
    assert [i["id"] for i in merged.items()] == expected_ids(sources, {"max_items": 7})
