"""STAC API sources: paging with prefetch, and every failure as one clear error naming the URL
(unreachable, not a catalog, HTTP errors, a failing or malformed page, a refused query)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from eoaccess.catalog import (
    CatalogResponseError,
    NotACatalogError,
    QueryRejectedError,
    SourceUnreachableError,
    open_catalog,
)
from eoaccess.errors import InvalidInputError, NotFoundError
from eoaccess.server import RunningServer, start_in_thread
from tests.catalog.fake_api import Script, create_fake_api
from tests.harness.ports import free_port


@pytest.fixture
def script() -> Script:
    return Script()


@pytest.fixture
def fake(script: Script) -> Iterator[RunningServer]:
    server = start_in_thread(create_fake_api(script))
    yield server
    server.stop()


def test_pages_follow_next_links_merging_post_bodies(fake: RunningServer, script: Script) -> None:
    with open_catalog(fake.url) as catalog:
        result = catalog.search(collections="fake")
        ids = [i["id"] for i in result.items()]
        assert result.matched() == 6
    assert ids == [f"item-{n:03d}" for n in range(6)]
    assert script.requested[:3] == [1, 2, 3]


def test_the_next_page_is_fetched_while_the_current_one_is_used(
    fake: RunningServer, script: Script
) -> None:
    with open_catalog(fake.url) as catalog:
        pages = catalog.search().pages()
        first = next(pages)
        assert [i["id"] for i in first] == ["item-000", "item-001"]
        # page 2 is requested without asking for it: the prefetch thread does
        assert script.event(2).wait(timeout=30)
        assert [i["id"] for i in next(pages)] == ["item-002", "item-003"]
        pages.close()


def test_max_items_stops_reading(fake: RunningServer, script: Script) -> None:
    with open_catalog(fake.url) as catalog:
        assert [i["id"] for i in catalog.search(max_items=3).items()] == [
            "item-000",
            "item-001",
            "item-002",
        ]


def test_a_failing_page_raises_naming_it(fake: RunningServer, script: Script) -> None:
    script.failing_page = 2
    with open_catalog(fake.url) as catalog:
        result = catalog.search()
        with pytest.raises(CatalogResponseError) as caught:
            list(result.items())
    message = str(caught.value)
    assert message == (
        f"page 2 of the search failed: HTTP 500 Internal Server Error from POST "
        f"{fake.url}search: database unavailable"
    )


def test_a_malformed_item_raises_naming_the_page(fake: RunningServer, script: Script) -> None:
    script.malformed_page = 1
    with open_catalog(fake.url) as catalog, pytest.raises(CatalogResponseError) as caught:
        list(catalog.search().items())
    assert str(caught.value) == (
        f"{fake.url}search (page 1): item 'broken' is malformed: it has no properties object"
    )


def test_a_refused_query_carries_the_servers_reason(fake: RunningServer, script: Script) -> None:
    script.refuse = "unknown collection 'x'"
    with open_catalog(fake.url) as catalog, pytest.raises(QueryRejectedError) as caught:
        list(catalog.search(collections="x").items())
    assert str(caught.value).endswith(": unknown collection 'x'")
    assert caught.value.exit_code == 2


def test_bad_query_values_fail_before_any_request(fake: RunningServer, script: Script) -> None:
    with open_catalog(fake.url) as catalog:
        with pytest.raises(InvalidInputError, match=r"bbox latitude 95 is outside -90\.\.90"):
            catalog.search(bbox=[0, 0, 1, 95])
        with pytest.raises(InvalidInputError, match="invalid datetime 'yesterday'"):
            catalog.search(datetime="yesterday")
    assert script.requested == []


def test_unreachable_and_non_catalog_sources(fake: RunningServer) -> None:
    closed = f"http://127.0.0.1:{free_port()}/"
    with pytest.raises(SourceUnreachableError, match=f"^{closed}: cannot connect"):
        open_catalog(closed)
    with pytest.raises(NotACatalogError, match=f"^{fake.url}web/ is not JSON"):
        open_catalog(f"{fake.url}web/")
    with pytest.raises(NotFoundError, match=f"^{fake.url}nothing-here does not exist$"):
        open_catalog(f"{fake.url}nothing-here")
    with pytest.raises(NotACatalogError, match="not a STAC API landing page"):
        open_catalog(f"{fake.url}web/", kind="stac_api")
