"""Catalog stores loaded with the same synthetic items: the embedded one and pgstac.

Each PostgreSQL-backed module gets a database of its own (``CREATE DATABASE`` on the session
cluster), so modules never see each other's items.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from eoaccess.matching import DEFAULT_SORTBY, ItemMatcher, sort_items
from eoaccess.query import Query
from eoaccess.stores import CatalogStore, open_store
from eoaccess.stores._synthetic import synthetic_collections, synthetic_items
from tests.harness.postgres import PostgresCluster

TIED_DATETIME = "2019-03-04T05:06:07Z"


def make_items() -> list[dict[str, Any]]:
    """~300 synthetic items plus a few made to test edge cases: equal datetimes across
    collections (so the tie-break decides), a null property, full-precision coordinates."""
    items = list(synthetic_items(300, seed=7))
    for item in items[10:70:10]:
        if item["properties"].get("datetime"):
            item["properties"]["datetime"] = TIED_DATETIME
    items[3]["properties"]["eo:cloud_cover"] = None
    items[4]["geometry"] = {
        "type": "Polygon",
        "coordinates": [[[0.1 + 0.2, 0.7], [1 / 3, 0.7], [1 / 3, 2 / 3], [0.1 + 0.2, 0.7]]],
    }
    items[4]["bbox"] = [0.1 + 0.2, 2 / 3, 1 / 3, 0.7]
    return items


ITEMS = make_items()
COLLECTIONS = synthetic_collections()


_ORACLE_CACHE: dict[str, list[dict[str, Any]]] = {}


def oracle(query: Query, items: list[dict[str, Any]] = ITEMS) -> list[dict[str, Any]]:
    """What :mod:`eoaccess.matching` says a search returns, in order (without links)."""
    key = repr(query.with_page_size(1)) if items is ITEMS else ""
    if key and key in _ORACLE_CACHE:
        return copy.deepcopy(_ORACLE_CACHE[key])
    matcher = ItemMatcher(query)
    kept = [item for item in items if matcher.matches(item)]
    ordered = [stored(item) for item in sort_items(kept, query.sortby or DEFAULT_SORTBY)]
    if key:
        _ORACLE_CACHE[key] = copy.deepcopy(ordered)
    return ordered


def stored(item: dict[str, Any]) -> dict[str, Any]:
    """An item as a store returns it: as written, minus links."""
    copied = copy.deepcopy(item)
    copied.pop("links", None)
    return copied


def all_pages(store: CatalogStore, query: Query) -> tuple[list[dict[str, Any]], list[int | None]]:
    """Every item of a search, following tokens; and numberMatched of each page."""
    items: list[dict[str, Any]] = []
    matched: list[int | None] = []
    token = None
    while True:
        page = store.search(query, token)
        assert len(page.items) <= query.limit
        items += page.items
        matched.append(page.number_matched)
        token = page.next_token
        if token is None:
            return items, matched
        assert len(page.items) == query.limit, "a page before the last is full"


def load(store: CatalogStore, items: list[dict[str, Any]] = ITEMS) -> None:
    with store.transaction() as writer:
        for collection in COLLECTIONS:
            writer.upsert_collection(collection)
        assert writer.upsert_items(copy.deepcopy(items)) == len(items)


def fresh_database(cluster: PostgresCluster, name: str) -> str:
    """A new, empty database on the session cluster; its DSN."""
    import psycopg
    from psycopg import sql

    name = re.sub(r"[^a-z0-9_]", "_", name.lower())[:60]
    admin = cluster.dsn.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return cluster.dsn.rsplit("/", 1)[0] + "/" + name


@pytest.fixture(scope="module")
def pg_dsn(request: pytest.FixtureRequest, postgres: PostgresCluster) -> str:
    """An empty database for this test module."""
    return fresh_database(postgres, f"eo_{Path(str(request.path)).stem}")


@pytest.fixture(scope="module")
def embedded_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CatalogStore]:
    """The embedded store of a fresh archive directory, loaded with :data:`ITEMS`."""
    store = open_store(None, tmp_path_factory.mktemp("archive"))
    load(store)
    yield store
    store.close()


@pytest.fixture(scope="module")
def pgstac_store(pg_dsn: str) -> Iterator[CatalogStore]:
    """A pgstac store in this module's database, loaded with :data:`ITEMS`."""
    store = open_store(pg_dsn)
    load(store)
    yield store
    store.close()


BACKENDS = ["embedded", pytest.param("pgstac", marks=pytest.mark.postgres)]


@pytest.fixture(scope="module", params=BACKENDS)
def store(request: pytest.FixtureRequest) -> CatalogStore:
    """Each backend in turn, loaded with :data:`ITEMS`."""
    return request.getfixturevalue(f"{request.param}_store")  # type: ignore[no-any-return]
