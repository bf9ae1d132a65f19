"""The search benchmark itself: load one synthetic catalog into both stores, start the systems,
time the same queries on each, page through a large result, and return the numbers.

:func:`run_benchmark` does everything given a PostgreSQL database; ``__main__`` adds the command
line, a throwaway cluster and the report. The smoke test runs it on a tiny catalog.
"""

from __future__ import annotations

import contextlib
import os
import platform
import random
import sqlite3
import statistics
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from benchmarks.search.systems import (
    BenchmarkError,
    DirectSearcher,
    HttpSearcher,
    Page,
    Paged,
    Searcher,
    eoaccess_serve_command,
    peer_command,
    peer_environment,
    start_process,
)
from eoaccess.query import MAX_LIMIT, Query, make_query, parse_filter
from eoaccess.stores import CatalogStore, open_store
from eoaccess.stores._synthetic import synthetic_collections, synthetic_items

PAGE = 100
SEED = 20240601
PAGING_COLLECTION = "sentinel-2-l2a"
BULK_CHUNK = 50_000


# --- queries --------------------------------------------------------------------------------------


def _bbox(rng: random.Random, size: float) -> list[float]:
    west, south = rng.uniform(-170, 170 - size), rng.uniform(-60, 70 - size)
    return [round(west, 3), round(south, 3), round(west + size, 3), round(south + size, 3)]


def _polygon(bbox: list[float]) -> str:
    west, south, east, north = bbox
    ring = [(west, south), (east, south), (east, north), (west, north), (west, south)]
    return "POLYGON((" + ", ".join(f"{x} {y}" for x, y in ring) + "))"


def _month(rng: random.Random) -> str:
    start = datetime(2015, 1, 1, tzinfo=UTC) + timedelta(days=rng.randrange(0, 3600))
    end = start + timedelta(days=30)
    return f"{start:%Y-%m-%dT%H:%M:%SZ}/{end:%Y-%m-%dT%H:%M:%SZ}"


# Each kind: a name and a function from a seeded RNG to one query. All are "selective": a few
# to a few thousand matches out of the catalog, the searches a map or an API client makes.
QUERY_KINDS: dict[str, Callable[[random.Random], Query]] = {
    "bbox 2°×2°": lambda rng: make_query(bbox=_bbox(rng, 2), limit=PAGE),
    "point intersects": lambda rng: make_query(
        point=[round(rng.uniform(-170, 170), 4), round(rng.uniform(-60, 70), 4)], limit=PAGE
    ),
    "bbox 5°×5° + 30-day datetime": lambda rng: make_query(
        bbox=_bbox(rng, 5), datetime=_month(rng), limit=PAGE
    ),
    "CQL2 properties (cloud cover, platform)": lambda rng: make_query(
        filter=f'"eo:cloud_cover" < {rng.uniform(0.2, 1.0):.2f} AND platform = '
        f"'{rng.choice(['landsat-8', 'landsat-9', 'sentinel-2a', 'sentinel-2b'])}'",
        limit=PAGE,
    ),
    # A POLYGON literal, not BBOX(…): pgstac refuses CQL2-JSON's {"bbox": […]} (the peer
    # answers 500); eoaccess accepts both.
    "CQL2 S_INTERSECTS 5°×5° polygon + cloud cover": lambda rng: make_query(
        filter=f"S_INTERSECTS(geometry, {_polygon(_bbox(rng, 5))}) "
        f'AND "eo:cloud_cover" < {rng.uniform(5, 30):.1f}',
        limit=PAGE,
    ),
}


def queries_of(kind: str, count: int) -> list[Query]:
    """The first ``count`` queries of ``kind``: one seeded sequence per kind, whatever the size."""
    rng = random.Random(f"{SEED}-{kind}")
    return [QUERY_KINDS[kind](rng) for _ in range(count)]


# --- configuration and results ---------------------------------------------------------------------


@dataclass(frozen=True)
class BenchConfig:
    """What one run does."""

    items: int = 1_000_000
    """Catalog size."""
    repeat: int = 60
    """Measured queries per kind and system."""
    warmup: int = 5
    """Unmeasured queries per kind first (connections, caches)."""
    paging_seconds: float = 60.0
    """Time budget for paging, per system."""
    paging_limit: int = MAX_LIMIT
    """Page size when paging: the largest every server allows (10,000)."""
    writer_items: int = 50_000
    """Items loaded into pgstac through the store writer before pypgstac's COPY loader."""
    direct: bool = True
    """Also measure the two stores called in-process (no HTTP)."""
    workdir: Path = Path("benchmarks/work/search")
    """Where the embedded catalog (kept and reused) and the server logs go."""


@dataclass(frozen=True)
class System:
    """One system under test and how to start it."""

    key: str
    """Short name used in results."""
    label: str
    """Name in the report."""
    http: bool
    """Measured over HTTP (a server process) rather than in-process."""
    describe: str
    """One line for the report: what exactly runs."""
    start: Callable[[Setup], Searcher] = field(repr=False, compare=False)
    """Starts it (without waiting for a server to listen)."""


@dataclass(frozen=True)
class Setup:
    """What the systems are started over."""

    archive: Path
    """The archive folder whose ``.eoaccess`` holds the embedded catalog."""
    dsn: str
    """The pgstac database (loaded by our store, shared by both pgstac servers)."""
    embedded: CatalogStore
    """The embedded store, opened in this process."""
    pgstac: CatalogStore
    """The pgstac store, opened in this process."""
    logs: Path
    """Folder for server logs."""


def _free_port() -> int:
    from tests.harness.ports import free_port

    return free_port()


def _http(
    setup: Setup, name: str, argv: Callable[[int], list[str]], env: dict[str, str] | None = None
) -> Searcher:
    """Start a server process on a free port (logging to ``name``.log); do not wait for it."""
    port = _free_port()
    return HttpSearcher(start_process(argv(port), port, setup.logs / f"{name}.log", env))


SYSTEMS: tuple[System, ...] = (
    System(
        "embedded",
        "eoaccess · embedded",
        True,
        "`eoaccess serve ARCHIVE` (SQLite + R*Tree catalog of the archive)",
        lambda s: _http(s, "embedded", lambda p: eoaccess_serve_command(p, s.archive, None)),
    ),
    System(
        "pgstac",
        "eoaccess · pgstac",
        True,
        "`eoaccess serve --catalog postgresql://…` (our pgstac store: exact `numberMatched`)",
        lambda s: _http(s, "pgstac", lambda p: eoaccess_serve_command(p, None, s.dsn)),
    ),
    System(
        "peer",
        "stac-fastapi-pgstac",
        True,
        "stac-fastapi-pgstac as shipped (`uvicorn stac_fastapi.pgstac.app:create_app --factory`):"
        " pgstac's default `context=off`, so no `numberMatched`",
        lambda s: _http(s, "peer", peer_command, peer_environment(s.dsn)),
    ),
    System(
        "peer-count",
        "stac-fastapi-pgstac · counting",
        True,
        "the same with `pgstac.context=on` for its connections: exact `numberMatched`, the work"
        " eoaccess does",
        lambda s: _http(s, "peer-count", peer_command, peer_environment(s.dsn, {"context": "on"})),
    ),
    System(
        "embedded-direct",
        "embedded store, no HTTP",
        False,
        "`store.search()` on the embedded store in the benchmark process",
        lambda s: DirectSearcher(s.embedded),
    ),
    System(
        "pgstac-direct",
        "pgstac store, no HTTP",
        False,
        "`store.search()` on our pgstac store (pgstac's `search()` SQL function)",
        lambda s: DirectSearcher(s.pgstac),
    ),
)


@dataclass(frozen=True)
class Timings:
    """Latencies of one query kind on one system, in milliseconds."""

    samples: tuple[float, ...]
    """One per measured query, in query order."""

    def quantile(self, q: float) -> float:
        """Nearest-rank quantile (``q`` in 0..1)."""
        ordered = sorted(self.samples)
        return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]

    @property
    def p50(self) -> float:
        return self.quantile(0.5)

    @property
    def p95(self) -> float:
        return self.quantile(0.95)


@dataclass(frozen=True)
class KindResult:
    """One query kind: how many items matched and how long each system took."""

    kind: str
    """Name from :data:`QUERY_KINDS`."""
    matched: tuple[int, ...]
    """``numberMatched`` of each measured query (agreed by every counting system)."""
    timings: dict[str, Timings]
    """Per system key."""
    counted_by: tuple[str, ...]
    """Keys of the systems that returned ``numberMatched`` for every measured query."""

    @property
    def median_matched(self) -> float:
        return statistics.median(self.matched) if self.matched else float("nan")


@dataclass(frozen=True)
class Environment:
    """Where and with what the run happened."""

    machine: str
    cpus: int
    python: str
    sqlite: str
    postgres: str
    """Server version, pgstac version and its size on disk."""
    peer: str
    """stac-fastapi-pgstac's version."""
    embedded_mib: float
    """Size of the embedded catalog file."""
    load_before: float
    """1-minute load average before the measurements."""
    load_after: float
    """… and after."""
    finished: str
    """UTC time the run ended."""


@dataclass(frozen=True)
class BenchResult:
    """Everything a run measured."""

    config: BenchConfig
    systems: tuple[System, ...]
    """The systems measured, in report order."""
    kinds: tuple[KindResult, ...]
    paging: dict[str, Paged]
    """Per system key: paging ``collections=sentinel-2-l2a`` at ``config.paging_limit``."""
    loads: dict[str, float | None]
    """Seconds each store took to load, None when an earlier load was reused."""
    filter_parse_ms: dict[str, float]
    """Per kind with a filter: median time of :func:`~eoaccess.query.parse_filter` (what the
    server does to every new filter it receives) over that kind's queries."""
    environment: Environment


# --- loading --------------------------------------------------------------------------------------


def load_store(
    store: CatalogStore, count: int, label: str, *, dsn: str | None = None, writer_items: int = 0
) -> float | None:
    """Load ``count`` synthetic items unless the store already holds them; seconds, or None
    when reused.

    Everything goes through the store writer, except that with ``dsn`` (pgstac) only the first
    ``writer_items`` do (they register the queryables and their indexes, as an eoaccess ingest
    would) and pypgstac's bulk loader (COPY) loads the rest: the writer's pgstac SQL functions
    dehydrate in PL/pgSQL at about a thousand items/s, too slow to set up a million items. The
    database is then vacuumed and analysed.
    """
    held = store.search(make_query(limit=1)).number_matched
    if held == count:
        print(f"{label}: reusing {count:,} items", flush=True)
        return None
    if held:
        raise BenchmarkError(f"{label} holds {held:,} items, not {count:,}: use a fresh place")
    started = time.perf_counter()
    items = synthetic_items(count, seed=SEED)
    with store.transaction() as writer:
        for collection in synthetic_collections():
            writer.upsert_collection(collection)
    done = 0
    while done < count:
        through_writer = dsn is None or done < writer_items
        size = min(BULK_CHUNK, count - done)
        if dsn is not None and through_writer:
            size = min(size, writer_items - done)
        batch = [next(items) for _ in range(size)]
        if through_writer:
            with store.transaction() as writer:
                writer.upsert_items(batch)
        else:
            assert dsn is not None
            _bulk_load(dsn, batch)
        done += len(batch)
        rate = done / (time.perf_counter() - started)
        print(f"{label}: {done:,}/{count:,} items ({rate:,.0f}/s)", flush=True)
    if dsn is not None:
        _vacuum_analyze(dsn)
        print(f"{label}: VACUUM ANALYZE done", flush=True)
    return time.perf_counter() - started


def _vacuum_analyze(dsn: str) -> None:
    """What an operator does after a bulk load: planner statistics and the visibility map now,
    rather than autovacuum catching up in the middle of the measurements."""
    import psycopg

    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("VACUUM (ANALYZE)")


def _bulk_load(dsn: str, items: list[dict[str, Any]]) -> None:
    from pypgstac.db import PgstacDB
    from pypgstac.load import Loader, Methods

    for item in items:
        item.pop("links", None)
    with PgstacDB(dsn=dsn) as db:
        Loader(db).load_items(iter(items), insert_mode=Methods.insert_ignore)


# --- measuring ------------------------------------------------------------------------------------


def check_agreement(query: Query, pages: dict[str, Page]) -> None:
    """Every system returned the same ids in the same order, and the same count if it counts."""
    ids = {page.ids for page in pages.values()}
    counts = {page.matched for page in pages.values() if page.matched is not None}
    if len(ids) != 1 or len(counts) > 1:
        detail = {key: (len(p.ids), p.ids[:3], p.matched) for key, p in pages.items()}
        raise BenchmarkError(f"systems disagree on {query.to_stac_json()}: {detail}")


def measure_latency(searchers: dict[str, Searcher], config: BenchConfig) -> tuple[KindResult, ...]:
    """Each kind's queries on every system, rotating which system goes first query by query so
    that load on the machine and warm caches favour none."""
    results = []
    keys = list(searchers)
    for kind in QUERY_KINDS:
        samples: dict[str, list[float]] = {key: [] for key in keys}
        matched: list[int] = []
        counting = set(keys)
        for n, query in enumerate(queries_of(kind, config.warmup + config.repeat)):
            pages: dict[str, Page] = {}
            shift = n % len(keys)
            for key in keys[shift:] + keys[:shift]:
                started = time.perf_counter()
                pages[key] = searchers[key].first_page(query)
                elapsed = (time.perf_counter() - started) * 1000
                if n >= config.warmup:
                    samples[key].append(elapsed)
            check_agreement(query, pages)
            counts = [p.matched for p in pages.values() if p.matched is not None]
            if n >= config.warmup:
                counting -= {key for key, page in pages.items() if page.matched is None}
                if counts:
                    matched.append(counts[0])
        result = KindResult(
            kind,
            tuple(matched),
            {k: Timings(tuple(v)) for k, v in samples.items()},
            tuple(k for k in keys if k in counting),
        )
        results.append(result)
        line = ", ".join(f"{key} {t.p50:.1f}/{t.p95:.1f} ms" for key, t in result.timings.items())
        print(f"{kind} (p50/p95; median matches {result.median_matched:,.0f}): {line}", flush=True)
    return tuple(results)


def measure_paging(searchers: dict[str, Searcher], config: BenchConfig) -> dict[str, Paged]:
    """Page through one large collection at the largest page size, one system after another."""
    query = make_query(collections=PAGING_COLLECTION, limit=config.paging_limit)
    paging = {}
    for key, searcher in searchers.items():
        paging[key] = paged = searcher.page_through(query, config.paging_seconds)
        print(
            f"paging {key}: {paged.items:,} items in {paged.pages} pages, {paged.seconds:.1f} s "
            f"({paged.items_per_second:,.0f} items/s)",
            flush=True,
        )
    return paging


def measure_filter_parsing(config: BenchConfig) -> dict[str, float]:
    """Median milliseconds to parse and validate each filter kind's CQL2 JSON, as the server
    does for every filter it has not seen recently."""
    medians = {}
    for kind in QUERY_KINDS:
        filters = [q.filter for q in queries_of(kind, config.warmup + config.repeat)]
        if not any(filters):
            continue
        samples = []
        for expression in filters:
            assert expression is not None
            started = time.perf_counter()
            parse_filter(expression, "cql2-json")
            samples.append((time.perf_counter() - started) * 1000)
        medians[kind] = statistics.median(samples[config.warmup :])
    return medians


@contextlib.contextmanager
def started_systems(systems: tuple[System, ...], setup: Setup) -> Iterator[dict[str, Searcher]]:
    """Start every system (servers in parallel), wait until all answer, close them afterwards."""
    searchers: dict[str, Searcher] = {}
    try:
        for system in systems:
            searchers[system.key] = system.start(setup)
        for searcher in searchers.values():
            if isinstance(searcher, HttpSearcher):
                searcher.server.wait_ready()
        yield searchers
    finally:
        for searcher in searchers.values():
            searcher.close()


def _postgres_versions(dsn: str) -> str:
    import psycopg
    import pypgstac

    with psycopg.connect(dsn) as conn:
        (server,) = conn.execute("SHOW server_version").fetchone()  # type: ignore[misc]
        (size,) = conn.execute(  # type: ignore[misc]
            "SELECT pg_size_pretty(sum(pg_total_relation_size(c.oid)))"
            " FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
            " WHERE n.nspname = 'pgstac' AND c.relkind = 'r'"
        ).fetchone()
    return f"PostgreSQL {server.split()[0]}, pgstac {pypgstac.__version__} ({size} on disk)"


def run_benchmark(config: BenchConfig, dsn: str) -> BenchResult:
    """Load (or reuse) the catalogs, measure every system, and return the numbers."""
    from stac_fastapi.pgstac.version import __version__ as peer_version

    archive = config.workdir / f"archive-{config.items}"
    systems = tuple(s for s in SYSTEMS if s.http or config.direct)
    embedded = open_store(None, archive)
    pgstac: CatalogStore | None = None
    try:
        pgstac = open_store(dsn)
        loads = {
            "embedded": load_store(embedded, config.items, "embedded"),
            "pgstac": load_store(
                pgstac, config.items, "pgstac", dsn=dsn, writer_items=config.writer_items
            ),
        }
        setup = Setup(archive, dsn, embedded, pgstac, config.workdir / "logs")
        load_before = os.getloadavg()[0]
        with started_systems(systems, setup) as searchers:
            kinds = measure_latency(searchers, config)
            paging = measure_paging(searchers, config)
        filter_parse_ms = measure_filter_parsing(config)
        load_after = os.getloadavg()[0]
        postgres = _postgres_versions(dsn)
    finally:
        embedded.close()
        if pgstac is not None:
            pgstac.close()
    environment = Environment(
        machine=platform.machine(),
        cpus=os.cpu_count() or 0,
        python=platform.python_version(),
        sqlite=sqlite3.sqlite_version,
        postgres=postgres,
        peer=peer_version,
        # After closing: until then recent writes may sit in the write-ahead log.
        embedded_mib=Path(embedded.uri).stat().st_size / 2**20,
        load_before=load_before,
        load_after=load_after,
        finished=f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
    )
    return BenchResult(config, systems, kinds, paging, loads, filter_parse_ms, environment)
