"""Writes, reads and failures of both catalog backends: round trips, upserts, deletes,
transactions (including a writer killed mid-transaction), 404s and ``open_store`` dispatch."""

from __future__ import annotations

import copy
import os
import signal
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from eoaccess.errors import InvalidInputError, NotFoundError
from eoaccess.query import make_query
from eoaccess.stores import CatalogStore, open_store
from eoaccess.stores.embedded import EmbeddedStore
from eoaccess.stores.pgstac import PgstacStore, redact
from tests.stores.conftest import BACKENDS, ITEMS, all_pages, oracle, stored

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(params=BACKENDS)
def uri(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Where a fresh store lives: a new archive directory, or this module's pgstac database."""
    if request.param == "pgstac":
        return request.getfixturevalue("pg_dsn")  # type: ignore[no-any-return]
    return str(tmp_path / "archive")


@pytest.fixture
def empty(uri: str) -> Iterator[CatalogStore]:
    store = open_store(uri)
    yield store
    store.close()


def _collection(cid: str) -> dict[str, Any]:
    return {
        "type": "Collection",
        "stac_version": "1.0.0",
        "id": cid,
        "description": "test",
        "license": "CC0-1.0",
        "extent": {
            "spatial": {"bbox": [[-180.0, -90.0, 180.0, 90.0]]},
            "temporal": {"interval": [[None, None]]},
        },
        "links": [],
    }


def _items(cid: str, count: int, start: int = 0) -> list[dict[str, Any]]:
    """``count`` items of collection ``cid`` (a collection per test keeps the shared pgstac
    database of this module apart between tests)."""
    items = []
    for source in ITEMS[start : start + count]:
        item = copy.deepcopy(source)
        item["collection"] = cid
        item["properties"]["eoaccess:fingerprint"] = f"print-{item['id']}"
        items.append(item)
    return items


def _ids_in(store: CatalogStore, cid: str) -> list[str]:
    found, _ = all_pages(store, make_query(collections=cid, limit=500, sortby="id"))
    return [item["id"] for item in found]


def test_items_come_back_exactly_as_written(store: CatalogStore) -> None:
    for item in ITEMS:
        assert store.get_item(item["collection"], item["id"]) == stored(item)
    found, _ = all_pages(store, make_query(limit=1000))
    assert sorted(found, key=lambda i: i["id"]) == sorted(map(stored, ITEMS), key=lambda i: i["id"])


def test_collections_are_listed_by_id(store: CatalogStore) -> None:
    listed = store.collections()
    assert [c["id"] for c in listed] == sorted(
        ["its-live-mosaic", "landsat-c2-l2", "modis-swath", "sentinel-2-l2a"]
    )
    assert store.get_collection("modis-swath") == listed[2]


def test_unknown_names_are_not_found(store: CatalogStore) -> None:
    with pytest.raises(NotFoundError, match="collection 'nope' not found"):
        store.get_collection("nope")
    with pytest.raises(NotFoundError, match="collection 'nope' not found"):
        store.get_item("nope", ITEMS[0]["id"])
    with pytest.raises(NotFoundError, match="item 'nope' not found in collection 'modis-swath'"):
        store.get_item("modis-swath", "nope")


def test_upsert_replaces_and_delete_removes(empty: CatalogStore) -> None:
    cid = "upsert-delete"
    with empty.transaction() as writer:
        writer.upsert_collection(_collection(cid))
        assert writer.upsert_items(_items(cid, 12)) == 12
    original = _items(cid, 12)
    moved = copy.deepcopy(original[0])
    moved["geometry"] = {"type": "Point", "coordinates": [-33.25, 12.5]}
    moved["bbox"] = [-33.25, 12.5, -33.25, 12.5]
    moved["properties"] = {
        "datetime": "2030-01-01T00:00:00Z",
        "gsd": 7,
        "eoaccess:fingerprint": "v2",
    }
    with empty.transaction() as writer:
        assert writer.upsert_items([moved]) == 1
    assert empty.get_item(cid, moved["id"]) == stored(moved)
    assert empty.item_fingerprints(cid)[(cid, moved["id"])] == "v2"
    # The old footprint and time no longer find it; the new ones do.
    assert _ids_in(empty, cid) == sorted(i["id"] for i in original)
    at_new_place = empty.search(make_query(collections=cid, point="-33.25,12.5"))
    assert [i["id"] for i in at_new_place.items] == [moved["id"]]
    newest = empty.search(make_query(collections=cid, limit=1))
    assert newest.items[0]["id"] == moved["id"] and newest.number_matched == 12
    old_place = make_query(collections=cid, intersects=original[0]["geometry"], limit=100)
    assert moved["id"] not in [i["id"] for i in empty.search(old_place).items]

    with empty.transaction() as writer:
        assert writer.delete_items(cid, [original[1]["id"], original[2]["id"], "missing"]) == 2
    with pytest.raises(NotFoundError):
        empty.get_item(cid, original[1]["id"])
    assert len(_ids_in(empty, cid)) == 10
    assert (cid, original[2]["id"]) not in empty.item_fingerprints(cid)

    with empty.transaction() as writer:
        writer.delete_collection(cid)
    with pytest.raises(NotFoundError):
        empty.get_collection(cid)
    assert empty.item_fingerprints(cid) == {}
    assert empty.search(make_query(collections=cid)).number_matched == 0
    with pytest.raises(NotFoundError), empty.transaction() as writer:
        writer.delete_collection(cid)


def test_fingerprints_come_from_the_items(empty: CatalogStore) -> None:
    cid = "fingerprints"
    items = _items(cid, 5)
    del items[4]["properties"]["eoaccess:fingerprint"]
    with empty.transaction() as writer:
        writer.upsert_collection(_collection(cid))
        writer.upsert_items(items)
    assert empty.item_fingerprints(cid) == {
        (cid, item["id"]): f"print-{item['id']}" for item in items[:4]
    }
    assert set(empty.item_fingerprints()) >= set(empty.item_fingerprints(cid))


def test_a_failed_transaction_changes_nothing(empty: CatalogStore) -> None:
    cid = "rollback"
    with empty.transaction() as writer:
        writer.upsert_collection(_collection(cid))
        writer.upsert_items(_items(cid, 5))
    before = all_pages(empty, make_query(collections=cid))
    with pytest.raises(RuntimeError, match="boom"), empty.transaction() as writer:
        writer.upsert_items(_items(cid, 20, start=5))
        writer.delete_items(cid, [_items(cid, 1)[0]["id"]])
        writer.upsert_collection({**_collection(cid), "description": "changed"})
        raise RuntimeError("boom")
    assert all_pages(empty, make_query(collections=cid)) == before
    assert empty.get_collection(cid)["description"] == "test"


def test_a_search_inside_a_transaction_works(empty: CatalogStore) -> None:
    cid = "search-while-writing"
    with empty.transaction() as writer:
        writer.upsert_collection(_collection(cid))
        writer.upsert_items(_items(cid, 3))
        assert empty.search(make_query(collections="no-such-collection")).number_matched == 0
    assert len(_ids_in(empty, cid)) == 3


def test_bad_items_are_refused_with_their_id(empty: CatalogStore) -> None:
    cid = "refused"
    with empty.transaction() as writer:
        writer.upsert_collection(_collection(cid))
    timeless = _items(cid, 1)[0]
    timeless["properties"] = {"datetime": None, "start_datetime": "2020-01-01T00:00:00Z"}
    reversed_range = _items(cid, 1)[0]
    reversed_range["properties"].update(
        start_datetime="2021-01-01T00:00:00Z", end_datetime="2020-01-01T00:00:00Z"
    )
    refusals = [
        (timeless, InvalidInputError, f"item '{timeless['id']}' needs a datetime"),
        (_items("no-such-collection", 1)[0], NotFoundError, "upsert the collection first"),
        (reversed_range, InvalidInputError, "start_datetime is after end_datetime"),
    ]
    for item, error, message in refusals:
        with pytest.raises(error, match=message), empty.transaction() as writer:
            writer.upsert_items([item])
    assert _ids_in(empty, cid) == []


def test_count_follows_writes_made_while_paging(empty: CatalogStore) -> None:
    cid = "paging-while-writing"
    with empty.transaction() as writer:
        writer.upsert_collection(_collection(cid))
        writer.upsert_items(_items(cid, 10))
    query = make_query(collections=cid, limit=4, sortby="id")
    first = empty.search(query)
    assert first.number_matched == 10
    with empty.transaction() as writer:
        writer.upsert_items(_items(cid, 5, start=10))
    second = empty.search(query, first.next_token)
    assert second.number_matched == 15
    # The next page continues after the last item shown, new items included.
    last = first.items[-1]["id"]
    after = [i for i in sorted(i["id"] for i in _items(cid, 15)) if i > last]
    assert [i["id"] for i in second.items] == after[:4]


_KILLED_WRITER = textwrap.dedent(
    """
    import sys, time
    from eoaccess.stores import open_store
    from tests.stores.test_store import _collection, _items

    store = open_store(sys.argv[1])
    with store.transaction() as writer:
        writer.upsert_collection({**_collection("crash"), "description": "half-written"})
        writer.delete_items("crash", [_items("crash", 1)[0]["id"]])
        if hasattr(store, "path"):
            # Small page cache: uncommitted pages reach the write-ahead log before the kill.
            writer.conn.execute("PRAGMA cache_size = 8")
        for round in range(200):
            writer.upsert_items(_items("crash", 100, start=100))
            if round == 3:
                print("writing", flush=True)
        time.sleep(60)
    """
)


def test_a_writer_killed_mid_transaction_leaves_the_catalog_as_it_was(uri: str) -> None:
    store = open_store(uri)
    with store.transaction() as writer:
        writer.upsert_collection(_collection("crash"))
        writer.upsert_items(_items("crash", 30))
    before = (all_pages(store, make_query(collections="crash")), store.item_fingerprints("crash"))
    store.close()

    child = subprocess.Popen(
        [sys.executable, "-c", _KILLED_WRITER, uri],
        cwd=REPO,
        stdout=subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    assert child.stdout is not None
    assert child.stdout.readline() == b"writing\n"
    child.send_signal(signal.SIGKILL)
    child.wait(timeout=30)
    assert child.returncode == -signal.SIGKILL
    wal = Path(uri) / ".eoaccess" / "catalog.sqlite-wal"
    if not uri.startswith("postgresql://"):
        # The uncommitted changes did reach the disk; reopening must ignore them.
        assert wal.stat().st_size > 100_000

    reopened = open_store(uri)
    try:
        after = (
            all_pages(reopened, make_query(collections="crash")),
            reopened.item_fingerprints("crash"),
        )
        assert after == before
        assert reopened.get_collection("crash")["description"] == "test"
        with reopened.transaction() as writer:  # the catalog takes writes again
            writer.delete_collection("crash")
    finally:
        reopened.close()


def test_open_store_dispatches_on_the_uri(tmp_path: Path) -> None:
    archive = tmp_path / "archive"
    by_archive = open_store(None, archive)
    try:
        assert isinstance(by_archive, EmbeddedStore)
        assert by_archive.uri == str(archive / ".eoaccess" / "catalog.sqlite")
        assert (archive / ".eoaccess" / "catalog.sqlite").is_file()
    finally:
        by_archive.close()
    for spelling in (archive, archive / ".eoaccess", f"embedded://{archive}"):
        again = open_store(spelling)
        try:
            assert isinstance(again, EmbeddedStore) and again.uri == by_archive.uri
        finally:
            again.close()
    single_file = open_store(tmp_path / "elsewhere" / "cat.sqlite")
    single_file.close()
    assert (tmp_path / "elsewhere" / "cat.sqlite").is_file()
    with pytest.raises(InvalidInputError, match="unsupported catalog URI"):
        open_store("mysql://host/db")
    with pytest.raises(InvalidInputError, match="give an archive directory"):
        open_store(None)


@pytest.mark.postgres
def test_open_store_opens_pgstac_for_postgresql_uris(pg_dsn: str) -> None:
    for spelling in (pg_dsn, pg_dsn.replace("postgresql://", "postgres://", 1)):
        store = open_store(spelling)
        try:
            assert isinstance(store, PgstacStore)
            assert store.uri == spelling
            assert store.search(make_query(collections="none")).number_matched == 0
        finally:
            store.close()


def test_redact_removes_the_password() -> None:
    assert (
        redact("postgresql://me:secret@db.example:5433/stac")
        == "postgresql://me@db.example:5433/stac"
    )
    assert redact("postgresql://db/stac") == "postgresql://db/stac"


def test_query_results_match_oracle_after_reload(empty: CatalogStore) -> None:
    """Upserting the same items twice leaves one copy of each (ids are unique per collection)."""
    cid = "twice"
    items = _items(cid, 40)
    for _ in range(2):
        with empty.transaction() as writer:
            writer.upsert_collection(_collection(cid))
            writer.upsert_items(copy.deepcopy(items))
    query = make_query(collections=cid, bbox="-180,-60,60,60", limit=9)
    found, matched = all_pages(empty, query)
    assert found == oracle(query, items)
    assert set(matched) == {len(found)}
