"""The same server over the PostgreSQL (pgstac) catalog: real clients must not see a difference."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from pystac_client import Client

from eoaccess.server import create_app, start_in_thread
from eoaccess.stores import open_store
from tests.harness.postgres import PostgresCluster
from tests.server.conftest import LUNAR, LUNAR_COUNT, load_catalog, lunar_id
from tests.server.offline_schemas import run_validator

pytestmark = pytest.mark.postgres


def fresh_database(cluster: PostgresCluster, name: str) -> str:
    """A new, empty database on the session cluster; its DSN."""
    import psycopg
    from psycopg import sql

    admin = cluster.dsn.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return cluster.dsn.rsplit("/", 1)[0] + "/" + name


@pytest.fixture(scope="module")
def pg_url(postgres: PostgresCluster, archive_root: Path) -> Iterator[str]:
    store = open_store(fresh_database(postgres, "eo_server"), archive_root)
    load_catalog(store)
    with start_in_thread(create_app(store, archive_root)) as server:
        yield server.url
    store.close()


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_pystac_client_pages_filters_and_sorts(pg_url: str, method: str) -> None:
    client = Client.open(pg_url)
    search = client.search(collections=[LUNAR], limit=3, method=method)
    assert search.matched() == LUNAR_COUNT
    pages = list(search.pages_as_dicts())
    assert len(pages) == 12
    assert [f["id"] for p in pages for f in p["features"]] == [
        lunar_id(n) for n in reversed(range(LUNAR_COUNT))
    ]
    text = client.search(filter="view:incidence_angle > 70", method=method)
    assert [i.id for i in text.items()] == [lunar_id(35), lunar_id(34)]
    as_json = client.search(
        filter={"op": "<", "args": [{"property": "view:incidence_angle"}, 23]}, method=method
    )
    assert [i.id for i in as_json.items()] == [lunar_id(1), lunar_id(0)]
    ordered = client.search(collections=[LUNAR], sortby="+view:incidence_angle", max_items=3)
    assert [i.id for i in ordered.items()] == [lunar_id(n) for n in range(3)]
    (item,) = client.search(
        ids=[lunar_id(4)], fields=["id", "-links"], method=method
    ).items_as_dicts()
    assert set(item) == {"type", "stac_version", "id", "collection"}


def test_stac_api_validator_over_pgstac(pg_url: str) -> None:
    output, errors, missing = run_validator(pg_url, LUNAR)
    assert errors == [] and missing == set(), output
    assert "Errors: none" in output
