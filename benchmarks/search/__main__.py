"""Search benchmark: the embedded catalog (SQLite + R*Tree) side by side with PostgreSQL + pgstac.

    python -m benchmarks.search [--items 1000000] [--repeat 60] [--pg-dsn postgresql://…]

Both stores are loaded with the same synthetic items (``eoaccess.stores._synthetic``:
Sentinel-2/Landsat-like footprints, MODIS-like swaths, polar mosaics with time ranges, some cut
at the antimeridian) through the store writers. Then, for each kind of query, ``--repeat``
random instances (one seeded sequence, the same for both stores) run as first pages of 100
items with an exact ``numberMatched``; the two stores alternate query by query, so load on the
machine hits both alike. Reported: p50/p95 latency per kind, the pgstac/embedded ratio, and
paging throughput (items/s at the largest page size, 10,000) through a large result. Results go
to stdout and to the ``## Search`` section of benchmarks/RESULTS.md.

Without ``--pg-dsn`` a throwaway PostgreSQL cluster is started on loopback (the test harness's:
fsync off, default memory settings). Loaded catalogs are kept in ``--workdir`` (the embedded
file) and in the database (``--pg-dsn``), and reused by the next run with the same ``--items``.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import platform
import random
import re
import sqlite3
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from eoaccess.query import MAX_LIMIT, Query, make_query
from eoaccess.stores import CatalogStore, open_store
from eoaccess.stores._synthetic import synthetic_collections, synthetic_items

ROOT = Path(__file__).resolve().parents[2]
RESULTS = ROOT / "benchmarks" / "RESULTS.md"
PAGE = 100
SEED = 20240601


@dataclass
class Timings:
    """Latencies of one query kind in one store, in milliseconds."""

    samples: list[float] = field(default_factory=list)
    matched: list[int] = field(default_factory=list)

    def quantile(self, q: float) -> float:
        ordered = sorted(self.samples)
        return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def _bbox(rng: random.Random, size: float) -> list[float]:
    west, south = rng.uniform(-170, 170 - size), rng.uniform(-60, 70 - size)
    return [round(west, 3), round(south, 3), round(west + size, 3), round(south + size, 3)]


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
    "CQL2 S_INTERSECTS 5°×5° + cloud cover": lambda rng: make_query(
        filter=f"S_INTERSECTS(geometry, BBOX({', '.join(map(str, _bbox(rng, 5)))})) "
        f'AND "eo:cloud_cover" < {rng.uniform(5, 30):.1f}',
        limit=PAGE,
    ),
}


def _load(store: CatalogStore, count: int, label: str, dsn: str | None = None) -> float:
    """Load ``count`` synthetic items unless the store already holds them; seconds taken.

    Everything goes through the store writer, except that with ``dsn`` (pgstac) only the first
    chunk does (which registers the queryables and their indexes, as an eoaccess ingest would)
    and pypgstac's bulk loader (COPY) loads the rest: the writer's pgstac SQL functions
    dehydrate in PL/pgSQL at a few hundred items/s, too slow to set up a million items.
    """
    held = store.search(make_query(limit=1)).number_matched
    if held == count:
        print(f"{label}: reusing {count:,} items", flush=True)
        return float("nan")
    if held:
        raise SystemExit(f"{label} holds {held:,} items, not {count:,}: use a fresh place")
    started = time.perf_counter()
    chunk = 50_000
    items = synthetic_items(count, seed=SEED)
    with store.transaction() as writer:
        for collection in synthetic_collections():
            writer.upsert_collection(collection)
    done = 0
    while done < count:
        batch = [next(items) for _ in range(min(chunk, count - done))]
        if dsn is not None and done:
            _bulk_load(dsn, batch)
        else:
            with store.transaction() as writer:
                writer.upsert_items(batch)
        done += len(batch)
        rate = done / (time.perf_counter() - started)
        print(f"{label}: {done:,}/{count:,} items ({rate:,.0f}/s)", flush=True)
    return time.perf_counter() - started


def _bulk_load(dsn: str, items: list[dict[str, Any]]) -> None:
    from pypgstac.db import PgstacDB
    from pypgstac.load import Loader, Methods

    for item in items:
        item.pop("links", None)
    with PgstacDB(dsn=dsn) as db:
        Loader(db).load_items(iter(items), insert_mode=Methods.insert_ignore)


def _latencies(
    stores: dict[str, CatalogStore], repeat: int, warmup: int
) -> dict[str, dict[str, Timings]]:
    results: dict[str, dict[str, Timings]] = {}
    for kind, make in QUERY_KINDS.items():
        rng = random.Random(f"{SEED}-{kind}")
        queries = [make(rng) for _ in range(warmup + repeat)]
        timings = {name: Timings() for name in stores}
        for n, query in enumerate(queries):
            answers = {}
            for name, store in stores.items() if n % 2 == 0 else reversed(stores.items()):
                started = time.perf_counter()
                page = store.search(query)
                elapsed = (time.perf_counter() - started) * 1000
                answers[name] = ([i["id"] for i in page.items], page.number_matched)
                if n >= warmup:
                    timings[name].samples.append(elapsed)
                    timings[name].matched.append(page.number_matched or 0)
            if len({repr(a) for a in answers.values()}) != 1:
                raise SystemExit(f"stores disagree on {query}: {answers}")
        results[kind] = timings
        line = ", ".join(
            f"{name} p50 {t.quantile(0.5):.1f} ms p95 {t.quantile(0.95):.1f} ms"
            for name, t in timings.items()
        )
        print(
            f"{kind}: {line} (median matches {statistics.median(timings[next(iter(stores))].matched):.0f})",
            flush=True,
        )
    return results


def _paging(store: CatalogStore, query: Query, budget_s: float) -> tuple[int, float]:
    """Items read and seconds, following tokens until the end or the time budget."""
    started = time.perf_counter()
    token, count = None, 0
    while True:
        page = store.search(query, token)
        count += len(page.items)
        token = page.next_token
        if token is None or time.perf_counter() - started > budget_s:
            return count, time.perf_counter() - started


@contextlib.contextmanager
def _pg_cluster(args: argparse.Namespace) -> Iterator[str]:
    """The DSN of ``--pg-dsn``, or of a throwaway loopback cluster stopped afterwards."""
    if args.pg_dsn:
        yield args.pg_dsn
        return
    sys.path.insert(0, str(ROOT))
    from tests.harness.postgres import start_postgres

    cluster = start_postgres()
    try:
        yield cluster.dsn
    finally:
        cluster.stop()


def _versions(dsn: str) -> str:
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


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.search", description=__doc__)
    parser.add_argument("--items", type=int, default=1_000_000, help="catalog size")
    parser.add_argument("--repeat", type=int, default=60, help="queries per kind")
    parser.add_argument("--warmup", type=int, default=5, help="unmeasured queries per kind")
    parser.add_argument("--paging-seconds", type=float, default=60.0, help="budget per store")
    parser.add_argument("--pg-dsn", help="an existing PostgreSQL database (pgstac is installed)")
    parser.add_argument("--workdir", type=Path, default=ROOT / "benchmarks" / "work" / "search")
    parser.add_argument("--no-results", action="store_true", help="do not write RESULTS.md")
    args = parser.parse_args(argv)

    archive = args.workdir / f"archive-{args.items}"
    embedded = open_store(None, archive)
    load_avg = os.getloadavg()
    with _pg_cluster(args) as dsn:
        stores = {"embedded": embedded, "pgstac": open_store(dsn)}
        try:
            loads = {
                "embedded": _load(embedded, args.items, "embedded"),
                "pgstac": _load(stores["pgstac"], args.items, "pgstac", dsn),
            }
            latencies = _latencies(stores, args.repeat, args.warmup)
            paging_query = make_query(collections="sentinel-2-l2a", limit=MAX_LIMIT)
            paging: dict[str, tuple[int, float]] = {}
            for name, store in stores.items():
                paging[name] = _paging(store, paging_query, args.paging_seconds)
                count, seconds = paging[name]
                print(f"paging {name}: {count:,} items in {seconds:.1f} s", flush=True)
            pg_versions = _versions(dsn)
            embedded_size = Path(embedded.uri).stat().st_size / 2**20
        finally:
            for store in stores.values():
                store.close()
    load_after = os.getloadavg()

    rows = [
        "| query (first page of 100, exact numberMatched) | median matches | embedded p50 / p95 ms"
        " | pgstac p50 / p95 ms | pgstac p50 ÷ embedded p50 |",
        "|---|---:|---:|---:|---:|",
    ]
    met = True
    for kind, timings in latencies.items():
        ours, theirs = timings["embedded"], timings["pgstac"]
        ratio = theirs.quantile(0.5) / ours.quantile(0.5)
        met &= ratio >= 1.0
        rows.append(
            f"| {kind} | {statistics.median(ours.matched):,.0f} "
            f"| {ours.quantile(0.5):.1f} / {ours.quantile(0.95):.1f} "
            f"| {theirs.quantile(0.5):.1f} / {theirs.quantile(0.95):.1f} | **{ratio:.2f}×** |"
        )
    throughput = {name: count / seconds for name, (count, seconds) in paging.items()}
    command = " ".join(["python -m benchmarks.search", *_portable(argv or sys.argv[1:])])
    section = [
        "## Search",
        "",
        f"Reproduce: `{command.strip()}` (after `scripts/install-system-deps.sh`, which provides "
        "PostgreSQL + PostGIS). Both stores hold the same "
        f"{args.items:,} synthetic items (loaded through the store writers; for pgstac after the "
        "first 50,000 with pypgstac's COPY loader, see the module docstring); "
        f"{args.repeat} random "
        f"queries per kind (after {args.warmup} unmeasured), the stores alternating query by "
        "query; every answer (ids and numberMatched) was checked equal between the two.",
        "",
        f"Machine: {platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, "
        f"SQLite {sqlite3.sqlite_version}, {pg_versions}; embedded catalog "
        f"{embedded_size:,.0f} MiB. Load average {load_avg[0]:.1f} before, {load_after[0]:.1f} "
        "after (other work shared the machine: absolute numbers are noisy, the ratios less so).",
        "",
        *rows,
        "",
        f"- Embedded p50 ≤ pgstac p50 on every selective query: **{'met' if met else 'missed'}**.",
        "- Paging through `collections=sentinel-2-l2a` at limit 10,000: embedded "
        f"**{throughput['embedded']:,.0f} items/s** ({paging['embedded'][0]:,} items), pgstac "
        f"{throughput['pgstac']:,.0f} items/s ({paging['pgstac'][0]:,} items); target ≥ 3,000 "
        f"items/s: **{'met' if throughput['embedded'] >= 3000 else 'missed'}**.",
    ]
    if all(seconds == seconds for seconds in loads.values()):  # NaN when reused
        section.append(
            "- Load (embedded: store writer; pgstac: mostly pypgstac's loader): "
            + ", ".join(f"{n} {args.items / s:,.0f} items/s" for n, s in loads.items())
            + "."
        )
    else:
        section.append(
            "- The catalogs were loaded by an earlier run of the same command and reused "
            "(no load time measured in this run)."
        )
    section += [
        "- The peer named in the issue, stac-fastapi-pgstac, is not installed on this machine, so "
        "pgstac is measured through its `search()` SQL function directly (no HTTP layer on "
        "either side).",
        "",
    ]
    text = "\n".join(section)
    print(text)
    if not args.no_results:
        _write_results(text)
        print(f"written to {RESULTS}")


def _portable(args: list[str]) -> list[str]:
    """The arguments that matter to someone reproducing the run (not local places)."""
    kept, skip = [], False
    for arg in args:
        if skip:
            skip = False
        elif arg in ("--pg-dsn", "--workdir"):
            skip = True
        elif not arg.startswith(("--pg-dsn=", "--workdir=", "--no-results")):
            kept.append(arg)
    return kept


def _write_results(section: str) -> None:
    """Replace (or append) the ``## Search`` section; other sections stay as they are."""
    text = RESULTS.read_text() if RESULTS.exists() else "# Benchmark results\n"
    pattern = re.compile(r"^## Search\n.*?(?=^## |\Z)", re.MULTILINE | re.DOTALL)
    if pattern.search(text):
        text = pattern.sub(lambda _: section + "\n", text)
    else:
        text = text.rstrip("\n") + "\n\n" + section + "\n"
    RESULTS.write_text(text)


if __name__ == "__main__":
    main()
