"""Client search benchmark: eoaccess's search client against pystac-client, and against the
seed's geopandas ``read_file`` + ``sjoin`` for a point query over the real ITS_LIVE catalog.

    python -m benchmarks.client_search [--items 50000] [--limit 1000] [--repeat 3]

(a) Items per second fetching ``--items`` items from two STAC API servers holding the same
synthetic items, each started as its own process: ours (``eoaccess serve`` over an embedded
catalog) and the peer, stac-fastapi-pgstac as shipped, over a throwaway PostgreSQL + pgstac
cluster on loopback (the test harness's). eoaccess (``open_catalog(url).search(...).items()``,
dicts) against pystac-client's ``item_collection()`` and ``items_as_dicts()`` — the same queries,
page size and item count. Every measured search runs in a fresh process after a one-page
warm-up; the clients alternate in rotating order for ``--repeat`` rounds and the median round
is reported, with the client process's CPU time. Per server, every client's ids are checked
equal in order; across servers, as sets (each server has its own default order for ties).

(b) A point query over the real ITS_LIVE footprint catalog (``catalog_v02_regions.json``, 2,471
cubes): ``open_catalog(path).search(point=…)`` against seed 000's ``gpd.read_file(path)`` then
``sjoin`` with the point, each in a fresh process, one run, the file read included; and the
same point query again on the open catalog / loaded frame. The answers are checked equal.

Results go to stdout and to the ``## Client search`` section of benchmarks/RESULTS.md.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import platform
import re
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
RESULTS = ROOT / "benchmarks" / "RESULTS.md"
WORK = ROOT / "benchmarks" / "work" / "client_search"
ITSLIVE = Path(os.environ.get("EOACCESS_REALDATA", "/work/shared/realdata")) / "itslive"
POINT = (-138.958776, 60.748561)  # seed 000's point in Alaska

# One measured client run, executed in a fresh interpreter: prints one JSON line.
_CLIENT = r"""
import hashlib, json, sys, time
kind, url, query = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
concurrency = json.loads(sys.argv[4]) if len(sys.argv) > 4 else None
if kind == "eoaccess":
    from eoaccess.catalog import open_catalog
    def run(query):
        with open_catalog(url) as catalog:
            return [i["id"] for i in catalog.search(**query, concurrency=concurrency).items()]
else:
    from pystac_client import Client
    def run(query):
        search = Client.open(url).search(**query)
        if kind == "pystac-client item_collection()":
            return [i.id for i in search.item_collection()]
        return [i["id"] for i in search.items_as_dicts()]
run({**query, "max_items": query["limit"]})  # warm-up: imports, connections, the first page
start, cpu = time.perf_counter(), time.process_time()
ids = run(query)
seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
digest = hashlib.sha256("\n".join(ids).encode()).hexdigest()
members = hashlib.sha256("\n".join(sorted(ids)).encode()).hexdigest()
print(json.dumps({"seconds": seconds, "cpu": cpu, "count": len(ids), "digest": digest,
                  "members": members}))
"""

_POINT = r"""
import json, sys, time
kind, path, lon, lat = sys.argv[1], sys.argv[2], float(sys.argv[3]), float(sys.argv[4])
if kind == "eoaccess":
    from eoaccess.catalog import open_catalog
    # imports are not timed on either side: every kind module recognition may load
    import eoaccess.catalog.archive, eoaccess.catalog.footprints, eoaccess.catalog.geoparquet
    import eoaccess.catalog.stac_api, eoaccess.catalog.static, eoaccess.ingest.footprints
    start = time.perf_counter()
    catalog = open_catalog(path)
    urls = [i["assets"]["data"]["href"] for i in catalog.search(point=(lon, lat)).items()]
    first = time.perf_counter() - start
    start = time.perf_counter()
    again = [i["assets"]["data"]["href"] for i in catalog.search(point=(lon + 0.5, lat)).items()]
    second = time.perf_counter() - start
else:
    import geopandas as gpd
    import pyogrio  # imports are not timed on either side
    from shapely.geometry import Point
    def query(catalog, lon, lat):
        point = gpd.GeoDataFrame(
            {"label": "point", "geometry": gpd.GeoSeries([Point(lon, lat)], crs="EPSG:4326")}
        )
        return list(catalog.sjoin(point, how="inner")["zarr_url"].values)
    start = time.perf_counter()
    catalog = gpd.read_file(path)
    urls = query(catalog, lon, lat)
    first = time.perf_counter() - start
    start = time.perf_counter()
    again = query(catalog, lon + 0.5, lat)
    second = time.perf_counter() - start
print(json.dumps({"first": first, "second": second, "urls": urls, "again": again}))
"""


@dataclass(frozen=True)
class ClientRun:
    server: str
    tool: str
    query: str
    seconds: float
    cpu: float
    count: int
    digest: str
    members: str

    @property
    def rate(self) -> float:
        return self.count / self.seconds


def median_run(runs: list[ClientRun]) -> ClientRun:
    """The run with the median wall time (its own CPU time and count kept)."""
    ordered = sorted(runs, key=lambda r: r.seconds)
    if len({r.digest for r in runs}) != 1:
        raise SystemExit(f"{runs[0].tool} answered differently between rounds")
    return ordered[len(ordered) // 2]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def catalog_dir(items: int) -> Path:
    """An embedded catalog of ``items`` synthetic items, built once and reused."""
    from eoaccess.stores import open_store
    from eoaccess.stores._synthetic import synthetic_collections, synthetic_items

    folder = WORK / f"catalog-{items}"
    marker = folder / "complete"
    if marker.exists():
        return folder
    folder.mkdir(parents=True, exist_ok=True)
    store = open_store(folder)
    try:
        with store.transaction() as writer:
            for collection in synthetic_collections():
                writer.upsert_collection(collection)
            batch: list[dict[str, Any]] = []
            for item in synthetic_items(items, seed=7):
                batch.append(item)
                if len(batch) == 5_000:
                    writer.upsert_items(batch)
                    batch = []
            writer.upsert_items(batch)
    finally:
        store.close()
    marker.write_text("ok\n")
    return folder


class Server:
    """``eoaccess serve --catalog DIR`` in its own process."""

    name = "eoaccess serve"

    def __init__(self, catalog: Path) -> None:
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}/"
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "eoaccess",
                "serve",
                "--catalog",
                str(catalog),
                "--port",
                str(self.port),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        import httpx

        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(self.url, timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.2)
        self.stop()
        raise RuntimeError("eoaccess serve did not start")

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=30)


class PeerServer:
    """stac-fastapi-pgstac (uvicorn, as its documentation runs it) over ``dsn`` in its own process."""

    name = "stac-fastapi-pgstac"

    def __init__(self, dsn: str) -> None:
        from benchmarks.search.systems import peer_command, peer_environment, start_process

        port = _free_port()
        self.url = f"http://127.0.0.1:{port}/"
        self.process = start_process(
            peer_command(port), port, WORK / "peer" / "server.log", peer_environment(dsn)
        )
        self.process.wait_ready()

    def stop(self) -> None:
        self.process.stop()


def load_pgstac(dsn: str, items: int) -> float:
    """The same synthetic items as :func:`catalog_dir` into pgstac at ``dsn``; seconds taken.

    The first 5,000 go through our pgstac store writer (collections, queryables and their
    indexes, as an eoaccess ingest would), the rest through pypgstac's COPY loader (as in
    ``benchmarks.search``); then VACUUM ANALYZE.
    """
    from benchmarks.search.harness import _bulk_load, _vacuum_analyze
    from eoaccess.stores import open_store
    from eoaccess.stores._synthetic import synthetic_collections, synthetic_items

    started = time.perf_counter()
    store = open_store(dsn)
    try:
        generated = synthetic_items(items, seed=7)
        with store.transaction() as writer:
            for collection in synthetic_collections():
                writer.upsert_collection(collection)
            writer.upsert_items([next(generated) for _ in range(min(5_000, items))])
    finally:
        store.close()
    while batch := list(itertools.islice(generated, 10_000)):
        _bulk_load(dsn, batch)
    _vacuum_analyze(dsn)
    return time.perf_counter() - started


def run_client(
    server: str, tool: str, url: str, query: dict[str, Any], concurrency: int | None = None
) -> ClientRun:
    """One measured search in a fresh process; ``concurrency`` is eoaccess's (None: its
    automatic choice), the other clients have no such option."""
    out = subprocess.run(
        [sys.executable, "-c", _CLIENT, tool, url, json.dumps(query), json.dumps(concurrency)],
        check=True,
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    data = json.loads(out.stdout.strip().splitlines()[-1])
    label = json.dumps({k: v for k, v in query.items() if k not in ("limit", "max_items")})
    return ClientRun(
        server,
        tool,
        label,
        data["seconds"],
        data["cpu"],
        data["count"],
        data["digest"],
        data["members"],
    )


def run_point(tool: str, path: Path) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, "-c", _POINT, tool, str(path), str(POINT[0]), str(POINT[1])],
        check=True,
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


TOOLS = ("eoaccess", "pystac-client items_as_dicts()", "pystac-client item_collection()")


def queries(items: int, limit: int) -> list[dict[str, Any]]:
    """The searches every client makes: all four collections, and a bbox + datetime."""
    return [
        {
            "collections": ["sentinel-2-l2a", "landsat-c2-l2", "modis-swath", "its-live-mosaic"],
            "limit": limit,
            "max_items": items,
        },
        {
            "bbox": [-180, -60, 180, 60],
            "datetime": "2015-01-01T00:00:00Z/2024-12-31T23:59:59Z",
            "limit": limit,
            "max_items": items,
        },
    ]


def render(
    runs: list[ClientRun],
    point: dict[str, dict[str, Any]],
    args: argparse.Namespace,
    load: tuple[float, float],
    pg_load: float,
    page_ms: float,
) -> str:
    lines = [
        "## Client search",
        "",
        f"Reproduce: `python -m benchmarks.client_search --items {args.items} --limit {args.limit} "
        f"--repeat {args.repeat}"
        + (f" --concurrency {args.concurrency}" if args.concurrency is not None else "")
        + "`. eoaccess searches with "
        + (
            f"`concurrency={args.concurrency}`"
            if args.concurrency is not None
            else "its automatic concurrency (datetime slices fetched at once when the first "
            "page is slow)"
        )
        + ". Every measured search runs in a fresh process after an "
        "unmeasured one-page warm-up (imports, connection); clients alternate in rotating order, "
        f"{args.repeat} rounds, the median round is shown; the ids every client returned were "
        "checked equal.",
        "",
        f"Machine: {platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}; "
        f"load average {load[0]:.1f} before, {load[1]:.1f} after; "
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC.",
        "",
        f"### (a) Fetching {args.items:,} items, pages of {args.limit}",
        "",
        "| server | query | client | items | wall s | items/s | eoaccess ÷ this | client CPU s "
        "| CPU: this ÷ eoaccess |",
        "|---|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    by_query: dict[tuple[str, str], dict[str, ClientRun]] = {}
    for run in runs:
        by_query.setdefault((run.server, run.query), {})[run.tool] = run
    verdicts: dict[str, list[float]] = {}
    cpu_verdicts: list[float] = []
    for (server, query), tools in by_query.items():
        ours = tools["eoaccess"]
        for tool in TOOLS:
            run = tools[tool]
            ratio = ours.rate / run.rate
            cpu_ratio = run.cpu / ours.cpu
            lines.append(
                f"| {server} | `{query}` | {tool} | {run.count:,} | {run.seconds:.2f} | "
                f"{run.rate:,.0f} | {'' if tool == 'eoaccess' else f'**{ratio:.2f}×**'} | "
                f"{run.cpu:.2f} | {'' if tool == 'eoaccess' else f'{cpu_ratio:.2f}×'} |"
            )
            if tool != "eoaccess":
                verdicts.setdefault(server, []).append(ratio)
                cpu_verdicts.append(cpu_ratio)
    lines.append("")
    for server, ratios in verdicts.items():
        met = "met" if min(ratios) >= 2 else "missed"
        lines.append(
            f"- {server}: target ≥ 2× pystac-client (items/s, wall): **{met}** (lowest ratio "
            f"{min(ratios):.2f}×)."
        )
    lines += [
        f"- The client's own CPU per item is {min(cpu_verdicts):.1f}× to "
        f"{max(cpu_verdicts):.1f}× lower than pystac-client's.",
        f"- `eoaccess serve`'s own work per {args.limit}-item page, in-process (store search, "
        f"links and hrefs, orjson; median of 20 pages): {page_ms:.1f} ms.",
        f"- pgstac loaded in {pg_load:.0f} s (5,000 items through our store writer, the rest with "
        "pypgstac's COPY loader; VACUUM ANALYZE): the same items in both servers.",
        "",
        f"### (b) Point query over the real ITS_LIVE catalog ({POINT[0]}, {POINT[1]}; 2,471 cubes)",
        "",
        "| tool | first query, file read included (s) | next query on the loaded catalog (s) |",
        "|---|---:|---:|",
    ]
    for tool, label in (
        ("eoaccess", "eoaccess `open_catalog(path).search(point=…)`"),
        ("geopandas", "seed 000: `gpd.read_file(path)` + `sjoin`"),
    ):
        result = point[tool]
        lines.append(f"| {label} | {result['first']:.3f} | {result['second']:.4f} |")
    ours, seed = point["eoaccess"], point["geopandas"]
    lines += [
        "",
        f"- Same answer: {ours['urls'] == seed['urls'] and ours['again'] == seed['again']} "
        f"(`{ours['urls'][0].rsplit('/', 1)[-1]}`).",
        f"- First query (imports not timed on either side): eoaccess at "
        f"{seed['first'] / ours['first']:.2f}× the seed's speed; it builds full STAC items "
        "(footprints densified in each cube's own CRS, as ingest does) where the seed keeps the "
        "catalog's 4-corner lon/lat rings. Later queries on the open catalog use an STRtree: "
        f"{seed['second'] / ours['second']:.1f}× the seed's `sjoin`.",
        "",
    ]
    return "\n".join(lines)


def write_section(text: str) -> None:
    """Replace (or append) the ``## Client search`` section of RESULTS.md."""
    current = RESULTS.read_text() if RESULTS.exists() else "# Benchmark results\n"
    pattern = re.compile(r"^## Client search\n.*?(?=^## |\Z)", re.S | re.M)
    if pattern.search(current):
        updated = pattern.sub(lambda _: text + "\n", current)
    else:
        updated = current.rstrip("\n") + "\n\n" + text + "\n"
    RESULTS.write_text(updated)


def measure_server(name: str, url: str, args: argparse.Namespace) -> list[ClientRun]:
    """Every client, every query, ``args.repeat`` rounds in rotating order: the median runs."""
    runs = []
    for query in queries(args.items, args.limit):
        measured: dict[str, list[ClientRun]] = {tool: [] for tool in TOOLS}
        for round_number in range(args.repeat):
            order = TOOLS[round_number % len(TOOLS) :] + TOOLS[: round_number % len(TOOLS)]
            for tool in order:
                measured[tool].append(run_client(name, tool, url, query, args.concurrency))
        chosen = [median_run(measured[tool]) for tool in TOOLS]
        for run in chosen:
            print(
                f"{name:20} {run.tool:34} {run.query[:50]:50} {run.count:7,} items "
                f"{run.seconds:6.2f} s {run.rate:9,.0f} items/s",
                flush=True,
            )
        if len({r.digest for r in chosen}) != 1 or len({r.count for r in chosen}) != 1:
            raise SystemExit(f"clients of {name} disagree on {chosen[0].query}")
        runs += chosen
    return runs


def server_page_ms(folder: Path, limit: int) -> float:
    """``eoaccess serve``'s own work for one page, in-process: the store's search, the items'
    links and absolute hrefs, orjson (what the search handler does); median of 20 pages."""
    import statistics

    from eoaccess.matching import apply_fields
    from eoaccess.query import make_query
    from eoaccess.server.hrefs import Hrefs
    from eoaccess.server.stac import GeoJSONResponse
    from eoaccess.stores import open_store

    store = open_store(folder)
    hrefs = Hrefs("http://127.0.0.1:8000/")
    query = make_query(**{k: v for k, v in queries(limit, limit)[0].items() if k != "max_items"})
    times, token = [], None
    try:
        for _ in range(22):
            start = time.perf_counter()
            page = store.search(query, token)
            features = [apply_fields(hrefs.item(item), None) for item in page.items]
            GeoJSONResponse({"type": "FeatureCollection", "features": features})
            times.append(time.perf_counter() - start)
            token = page.next_token
    finally:
        store.close()
    return statistics.median(times[2:]) * 1000


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.client_search",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--items", type=int, default=50_000, help="items fetched per search")
    parser.add_argument("--limit", type=int, default=1000, help="page size")
    parser.add_argument(
        "--repeat", type=int, default=3, help="rounds per client (median; order rotates)"
    )
    parser.add_argument("--no-results", action="store_true", help="do not update RESULTS.md")
    parser.add_argument(
        "--concurrency",
        type=int,
        default=None,
        help="eoaccess's search concurrency (datetime slices at once) [default: automatic]",
    )
    args = parser.parse_args(argv)
    load_before = os.getloadavg()[0]
    folder = catalog_dir(args.items)
    page_ms = server_page_ms(folder, args.limit)
    print(f"eoaccess serve, in-process: {page_ms:.1f} ms per {args.limit}-item page", flush=True)
    from tests.harness.postgres import start_postgres

    cluster = start_postgres()
    runs: list[ClientRun] = []
    try:
        pg_load = load_pgstac(cluster.dsn, args.items)
        print(f"pgstac loaded in {pg_load:.0f} s", flush=True)
        for start_server in (lambda: Server(folder), lambda: PeerServer(cluster.dsn)):
            server = start_server()
            try:
                runs += measure_server(server.name, server.url, args)
            finally:
                server.stop()
    finally:
        cluster.stop()
    for query in {r.query for r in runs}:
        members = {r.members for r in runs if r.query == query}
        if len(members) != 1:
            raise SystemExit(f"the servers answered {query} with different items")
    path = ITSLIVE / "catalog_v02_regions.json"
    point = {tool: run_point(tool, path) for tool in ("eoaccess", "geopandas")}
    for tool, result in point.items():
        print(f"point query {tool:10} first {result['first']:.3f} s, next {result['second']:.4f} s")
    text = render(runs, point, args, (load_before, os.getloadavg()[0]), pg_load, page_ms)
    print(text)
    if not args.no_results:
        write_section(text)


if __name__ == "__main__":
    main()
