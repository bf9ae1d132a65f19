"""Parallel paging of STAC API searches (datetime slices) against our real server on loopback:
the same ids in the same order as the sequential walk — ties at slice boundaries, items whose
time range spans boundaries, max_items, a datetime query — bounded look-ahead, and a failing
page of a slice raised where it would have been yielded."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from eoaccess.catalog import CatalogResponseError, open_catalog
from eoaccess.catalog._base import Page
from eoaccess.catalog._partitions import Slice, plan_slices, sliced_pages
from eoaccess.catalog.stac_api import StacApi
from eoaccess.query import Interval, make_query
from eoaccess.server import RunningServer, create_app, start_in_thread
from eoaccess.stores import open_store

START = datetime(2020, 1, 1, tzinfo=UTC)
COLLECTIONS = ("alpha", "beta", "gamma")
DAYS = 60


def _stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _item(cid: str, iid: str, properties: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "Feature",
        "stac_version": "1.0.0",
        "id": iid,
        "collection": cid,
        "geometry": {"type": "Point", "coordinates": [len(iid) % 90, 0.0]},
        "bbox": [len(iid) % 90, 0.0, len(iid) % 90, 0.0],
        "properties": properties,
        "assets": {"data": {"href": f"https://example.invalid/{cid}/{iid}.tif"}},
        "links": [],
    }


def _items() -> list[dict[str, Any]]:
    """Every day at midnight: two items per collection plus one id shared by all three
    collections (ties on datetime, broken by collection then id); every fifth day a 20-day
    range item without ``datetime`` (it spans several slice boundaries)."""
    items = []
    for day in range(DAYS):
        moment = _stamp(START + timedelta(days=day))
        for cid in COLLECTIONS:
            for k in range(2):
                items.append(_item(cid, f"{cid}-{day:03d}-{k}", {"datetime": moment}))
            items.append(_item(cid, f"shared-{day:03d}", {"datetime": moment}))
        if day % 5 == 0:
            end = _stamp(START + timedelta(days=day + 20))
            props = {"datetime": None, "start_datetime": moment, "end_datetime": end}
            items.append(_item("beta", f"range-{day:03d}", props))
    return items


def _collection(cid: str) -> dict[str, Any]:
    return {
        "type": "Collection",
        "stac_version": "1.0.0",
        "id": cid,
        "description": f"{cid} items of the parallel paging tests",
        "license": "CC0-1.0",
        "extent": {
            "spatial": {"bbox": [[-180.0, -90.0, 180.0, 90.0]]},
            "temporal": {"interval": [[_stamp(START), _stamp(START + timedelta(days=DAYS))]]},
        },
        "links": [],
    }


@dataclass
class Recorder:
    """ASGI wrapper: records every ``/search`` body, fails the chosen ones with HTTP 500."""

    app: Any
    bodies: list[dict[str, Any]] = field(default_factory=list)
    fail: Callable[[dict[str, Any]], bool] = lambda body: False

    async def __call__(
        self,
        scope: dict[str, Any],
        receive: Callable[[], Awaitable[dict[str, Any]]],
        send: Callable[[dict[str, Any]], Awaitable[None]],
    ) -> None:
        if scope["type"] != "http" or not scope["path"].endswith("/search"):
            await self.app(scope, receive, send)
            return
        chunks = []
        while True:
            message = await receive()
            chunks.append(message.get("body", b""))
            if not message.get("more_body"):
                break
        raw = b"".join(chunks)
        body = json.loads(raw) if raw else {}
        self.bodies.append(body)
        if self.fail(body):
            payload = json.dumps({"description": "database unavailable"}).encode()
            headers = [(b"content-type", b"application/json")]
            await send({"type": "http.response.start", "status": 500, "headers": headers})
            await send({"type": "http.response.body", "body": payload})
            return
        replayed = False

        async def replay() -> dict[str, Any]:
            nonlocal replayed
            if replayed:
                return await receive()
            replayed = True
            return {"type": "http.request", "body": raw, "more_body": False}

        await self.app(scope, replay, send)


@dataclass(frozen=True)
class Served:
    url: str
    recorder: Recorder
    items: list[dict[str, Any]]


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    folder: Path = tmp_path_factory.mktemp("parallel") / "archive"
    folder.mkdir()
    store = open_store(folder)
    items = _items()
    with store.transaction() as writer:
        for cid in COLLECTIONS:
            writer.upsert_collection(_collection(cid))
        writer.upsert_items(items)
    recorder = Recorder(create_app(store, folder))
    server: RunningServer = start_in_thread(recorder)
    yield Served(server.url, recorder, items)
    server.stop()
    store.close()


@pytest.fixture
def recorder(served: Served) -> Iterator[Recorder]:
    served.recorder.bodies.clear()
    yield served.recorder
    served.recorder.fail = lambda body: False


def _ids(url: str, concurrency: int, **search: Any) -> list[tuple[str, str]]:
    with open_catalog(url) as catalog:
        result = catalog.search(concurrency=concurrency, **search)
        return [(i["collection"], i["id"]) for i in result.items()]


@pytest.mark.parametrize(
    "search",
    [
        {"limit": 20},
        {"limit": 7},
        {"limit": 20, "max_items": 150},
        {"limit": 20, "datetime": "2020-01-10T00:00:00Z/2020-02-10T00:00:00Z"},
        {"limit": 13, "collections": ["alpha", "beta"], "sortby": "-datetime"},
        {"limit": 20, "datetime": "2020-01-10T00:00:00Z/.."},
    ],
)
def test_slices_give_the_sequential_order(
    served: Served, recorder: Recorder, search: dict[str, Any]
) -> None:
    sequential = _ids(served.url, 1, **search)
    sequential_requests = len(recorder.bodies)
    for concurrency in (2, 3, 4):
        recorder.bodies.clear()
        assert _ids(served.url, concurrency, **search) == sequential, concurrency
        # It really was sliced: requests with datetimes the query did not have.
        asked = {body.get("datetime") for body in recorder.bodies}
        assert len(asked) > 1, concurrency
    assert len(sequential) == len(set(sequential))
    assert sequential_requests >= 4


def test_ties_and_ranges_at_hand_made_boundaries(served: Served) -> None:
    """Boundaries on the midnight tie groups (4 items each, one id in 3 collections) with range
    items crossing them: slice by slice the walk's exact order."""
    query = make_query(limit=10)
    t1, t2 = START + timedelta(days=40), START + timedelta(days=20)
    slices = [
        Slice(0, t1, None, None),
        Slice(1, t2, t1, Interval(t2, t1)),
        Slice(2, None, t2, Interval(None, t2)),
    ]
    with open_catalog(served.url) as catalog:
        api = catalog.sources[0]
        assert isinstance(api, StacApi)
        expected = [(i["collection"], i["id"]) for p in api._server_pages(query) for i in p.items]
        walk = api._server_pages(query)
        first = next(walk)
        pages = list(sliced_pages(query, first, walk, slices, api._server_pages))
    got = [(i["collection"], i["id"]) for p in pages for i in p.items]
    assert got == expected
    assert len(got) == len(served.items)
    at_boundary = [i for i in served.items if i["properties"].get("datetime") == _stamp(t1)]
    assert len(at_boundary) == 9  # the tie group on the boundary is there


def test_a_failing_page_of_a_slice_is_raised_in_place(served: Served, recorder: Recorder) -> None:
    recorder.fail = lambda body: bool(body.get("token")) and body.get("datetime") is not None
    with open_catalog(served.url) as catalog:
        sequential = _ids(served.url, 1, limit=20)
        got: list[tuple[str, str]] = []
        with pytest.raises(CatalogResponseError) as caught:
            for item in catalog.search(limit=20, concurrency=3).items():
                got.append((item["collection"], item["id"]))
    message = str(caught.value)
    assert message.startswith("slice 2 of 3 (")
    assert "page 2 of the search failed: HTTP 500 Internal Server Error" in message
    assert message.endswith("database unavailable")
    # Everything before the failing page was yielded, in order; nothing after it.
    assert got == sequential[: len(got)]
    assert 20 <= len(got) < len(sequential)


def test_look_ahead_is_bounded_by_max_items(served: Served, recorder: Recorder) -> None:
    expected = _ids(served.url, 1, limit=10, max_items=100)
    recorder.bodies.clear()
    assert _ids(served.url, 4, limit=10, max_items=100) == expected
    assert len({body.get("datetime") for body in recorder.bodies}) == 4  # sliced in 4
    # 10 pages are needed; each of the 3 other slices holds at most its share of them (3) plus
    # the one in flight when the caller stops; the walk reads at most one page past its part.
    # Without the bound the last slice, open below, would read the remaining ~45 pages.
    assert len(recorder.bodies) <= 10 + 3 * (3 + 1) + 1


def test_automatic_concurrency_stays_sequential_for_fast_servers(served: Served) -> None:
    query = make_query(limit=20)
    items = sorted(served.items, key=lambda i: i["properties"].get("datetime") or "", reverse=True)[
        :20
    ]
    first = Page(items, len(served.items), "test")
    start = START
    assert plan_slices(query, first, None, lambda: start, first_seconds=0.01) is None
    planned = plan_slices(query, first, None, lambda: start, first_seconds=1.0)
    assert planned is not None and len(planned) == 4
    assert plan_slices(query, first, 1, lambda: start, first_seconds=1.0) is None
    assert plan_slices(query, first, 4, lambda: None, first_seconds=1.0) is None  # no span
    descending = make_query(limit=20, sortby="datetime")  # ascending: not the sliced order
    assert plan_slices(descending, first, 4, lambda: start, first_seconds=1.0) is None


def test_bad_concurrency_is_refused(served: Served) -> None:
    from eoaccess.errors import InvalidInputError

    with open_catalog(served.url) as catalog, pytest.raises(InvalidInputError) as caught:
        catalog.search(concurrency=0)
    assert str(caught.value) == "concurrency must be a whole number >= 1, not 0"


def test_cli_search_concurrency(
    served: Served, recorder: Recorder, capsys: pytest.CaptureFixture[str]
) -> None:
    from eoaccess.cli import main

    outputs = []
    for concurrency in ("1", "3"):
        recorder.bodies.clear()
        args = ["-q", "search", served.url, "--limit", "20", "--format", "urls"]
        assert main([*args, "--concurrency", concurrency]) == 0
        outputs.append(capsys.readouterr().out)
        sliced = len({body.get("datetime") for body in recorder.bodies}) > 1
        assert sliced == (concurrency == "3")
    assert outputs[0] == outputs[1]
    assert len(outputs[0].splitlines()) == len(served.items)
    assert main(["-q", "search", served.url, "--concurrency", "0"]) == 2
    assert "--concurrency" in capsys.readouterr().err


# --- stac-fastapi-pgstac -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def pgstac_api(postgres: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """stac-fastapi-pgstac as its documentation runs it (uvicorn, app factory), in its own
    process, over a database of its own in the session's PostgreSQL holding the same items."""
    import os
    import subprocess
    import sys
    import time
    from urllib.parse import urlsplit, urlunsplit

    import httpx
    import psycopg

    from tests.harness.ports import free_port

    with psycopg.connect(postgres.dsn, autocommit=True) as connection:
        connection.execute("DROP DATABASE IF EXISTS parallel_paging")
        connection.execute("CREATE DATABASE parallel_paging")
    parts = urlsplit(postgres.dsn)
    dsn = urlunsplit(parts._replace(path="/parallel_paging"))
    store = open_store(dsn)
    try:
        with store.transaction() as writer:
            for cid in COLLECTIONS:
                writer.upsert_collection(_collection(cid))
            writer.upsert_items(_items())
    finally:
        store.close()
    port = free_port()
    env = {
        **os.environ,
        "PGHOST": parts.hostname or "127.0.0.1",
        "PGPORT": str(parts.port or 5432),
        "PGUSER": parts.username or "postgres",
        "PGPASSWORD": parts.password or "",
        "PGDATABASE": "parallel_paging",
    }
    log = tmp_path_factory.mktemp("pgstac") / "server.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [
                *(sys.executable, "-m", "uvicorn", "stac_fastapi.pgstac.app:create_app"),
                *("--factory", "--host", "127.0.0.1", "--port", str(port)),
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=log.parent,
        )
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + 60
        while process.poll() is None and time.monotonic() < deadline:
            try:
                if httpx.get(url, timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.2)
        else:
            pytest.fail(f"stac-fastapi-pgstac did not start: {log.read_text()[-2000:]}")
        yield url
    finally:
        process.terminate()
        process.wait(timeout=30)


@pytest.mark.parametrize(
    "search",
    [
        {"limit": 20},
        {"limit": 20, "max_items": 150},
        {"limit": 11, "datetime": "2020-01-10T00:00:00Z/2020-02-10T00:00:00Z"},
    ],
)
def test_slices_give_pgstacs_sequential_order(
    pgstac_api: str, search: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """pgstac orders ties by id alone (one id in three collections: its own order) and counts
    nothing by default (the split is estimated from the first page's density)."""
    import eoaccess.catalog.stac_api as stac_api

    planned: list[int] = []

    def recording(*args: Any, **kwargs: Any) -> list[Slice] | None:
        slices = plan_slices(*args, **kwargs)
        planned.append(len(slices or ()))
        return slices

    monkeypatch.setattr(stac_api, "plan_slices", recording)
    sequential = _ids(pgstac_api, 1, **search)
    assert len(sequential) == len(set(sequential)) >= 150
    for concurrency in (2, 4):
        assert _ids(pgstac_api, concurrency, **search) == sequential, concurrency
    # really sliced (concurrency=1 never plans; max_items=150 needs only 3 slices of 2+ pages)
    assert planned[0] == 2 and planned[1] in (3, 4)


def test_pgstac_ties_at_hand_made_boundaries(pgstac_api: str) -> None:
    query = make_query(limit=10)
    t1, t2 = START + timedelta(days=40), START + timedelta(days=20)
    slices = [
        Slice(0, t1, None, None),
        Slice(1, t2, t1, Interval(t2, t1)),
        Slice(2, None, t2, Interval(None, t2)),
    ]
    with open_catalog(pgstac_api) as catalog:
        api = catalog.sources[0]
        assert isinstance(api, StacApi)
        expected = [(i["collection"], i["id"]) for p in api._server_pages(query) for i in p.items]
        walk = api._server_pages(query)
        first = next(walk)
        pages = list(sliced_pages(query, first, walk, slices, api._server_pages))
    assert [(i["collection"], i["id"]) for p in pages for i in p.items] == expected
    assert len(expected) == len(_items())


def test_slices_never_ask_wider_than_the_query() -> None:
    """A tiny span (sub-second query start): bounds rounded to whole seconds stay inside it."""
    start = START + timedelta(microseconds=400_000)
    query = make_query(limit=2, datetime=f"{start.isoformat()}/..")
    items = [_item("alpha", f"i{n}", {"datetime": "2020-01-01T00:00:01.5Z"}) for n in range(2)]
    planned = plan_slices(query, Page(items, 100, "test"), 4, lambda: None, 1.0)
    assert planned is not None
    assert [p.lower for p in planned] == [START + timedelta(seconds=1), START, None]
    for piece in planned[1:]:
        assert piece.interval is not None and piece.interval.start is not None
        assert piece.interval.start >= start
    assert planned[-1].interval == Interval(start, planned[-1].upper)
