"""Client search benchmark: eoaccess's search client against pystac-client, and against the
seed's geopandas ``read_file`` + ``sjoin`` for a point query over the real ITS_LIVE catalog.

    python -m benchmarks.client_search [--items 50000] [--limit 1000] [--repeat 3]

(a) Items per second fetching ``--items`` items from our STAC API (``eoaccess serve`` over an
embedded catalog of synthetic items, started as its own process): eoaccess
(``open_catalog(url).search(...).items()``, dicts) against pystac-client's
``item_collection()`` and ``items_as_dicts()`` — the same queries, page size and item count.
Every measured search runs in a fresh process after a one-page warm-up; the clients alternate
in rotating order for ``--repeat`` rounds and the median round is reported, with the client
process's CPU time; the ids are checked equal. stac-fastapi-pgstac is not installed on this
machine, so the server side is ours for every client.

(b) A point query over the real ITS_LIVE footprint catalog (``catalog_v02_regions.json``, 2,471
cubes): ``open_catalog(path).search(point=…)`` against seed 000's ``gpd.read_file(path)`` then
``sjoin`` with the point, each in a fresh process, one run, the file read included; and the
same point query again on the open catalog / loaded frame. The answers are checked equal.

Results go to stdout and to the ``## Client search`` section of benchmarks/RESULTS.md.
"""

from __future__ import annotations

import argparse
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
if kind == "eoaccess":
    from eoaccess.catalog import open_catalog
    def run(query):
        with open_catalog(url) as catalog:
            return [i["id"] for i in catalog.search(**query).items()]
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
print(json.dumps({"seconds": seconds, "cpu": cpu, "count": len(ids), "digest": digest}))
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
    tool: str
    query: str
    seconds: float
    cpu: float
    count: int
    digest: str

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


def run_client(tool: str, url: str, query: dict[str, Any]) -> ClientRun:
    kind = tool if tool != "eoaccess" else "eoaccess"
    out = subprocess.run(
        [sys.executable, "-c", _CLIENT, kind, url, json.dumps(query)],
        check=True,
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    data = json.loads(out.stdout.strip().splitlines()[-1])
    label = json.dumps({k: v for k, v in query.items() if k not in ("limit", "max_items")})
    return ClientRun(tool, label, data["seconds"], data["cpu"], data["count"], data["digest"])


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
) -> str:
    lines = [
        "## Client search",
        "",
        f"Reproduce: `python -m benchmarks.client_search --items {args.items} --limit {args.limit} "
        f"--repeat {args.repeat}`. Every measured search runs in a fresh process after an "
        "unmeasured one-page warm-up (imports, connection); clients alternate in rotating order, "
        f"{args.repeat} rounds, the median round is shown; the ids every client returned were "
        "checked equal.",
        "",
        f"Machine: {platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}; "
        f"load average {load[0]:.1f} before, {load[1]:.1f} after; "
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC.",
        "",
        f"### (a) Fetching {args.items:,} items from our STAC API (`eoaccess serve`, own process), "
        f"pages of {args.limit}",
        "",
        "| query | client | items | wall s | items/s | eoaccess ÷ this | client CPU s "
        "| CPU: this ÷ eoaccess |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    by_query: dict[str, dict[str, ClientRun]] = {}
    for run in runs:
        by_query.setdefault(run.query, {})[run.tool] = run
    verdicts: list[float] = []
    cpu_verdicts: list[float] = []
    for query, tools in by_query.items():
        ours = tools["eoaccess"]
        for tool in TOOLS:
            run = tools[tool]
            ratio = ours.rate / run.rate
            cpu_ratio = run.cpu / ours.cpu
            lines.append(
                f"| `{query}` | {tool} | {run.count:,} | {run.seconds:.2f} | {run.rate:,.0f} | "
                f"{'' if tool == 'eoaccess' else f'**{ratio:.2f}×**'} | {run.cpu:.2f} | "
                f"{'' if tool == 'eoaccess' else f'{cpu_ratio:.2f}×'} |"
            )
            if tool != "eoaccess":
                verdicts.append(ratio)
                cpu_verdicts.append(cpu_ratio)
    met = "met" if min(verdicts) >= 2 else "missed"
    lines += [
        "",
        f"- Target ≥ 2× pystac-client (items/s, wall): **{met}** (lowest ratio "
        f"{min(verdicts):.2f}×, against `items_as_dicts()`); the client's own CPU per item is "
        f"{min(cpu_verdicts):.1f}× to {max(cpu_verdicts):.1f}× lower than pystac-client's.",
        "- Where the time goes: the server. One page of 1,000 items costs `eoaccess serve` "
        "~50 ms (SQLite, item links, JSON; one process on this 2-CPU machine shared with other "
        "work). The clients' own work per page is small beside it: eoaccess decodes with orjson "
        "and keeps dicts, and prefetches page n + 1 while the caller uses page n, so its wall "
        "time is the server's plus its decoding; pystac-client's `items_as_dicts()` adds a "
        "slower decoding, `item_collection()` builds pystac objects on top. 2× over "
        "`items_as_dicts()` needs a server that answers pages at least twice as fast as this "
        "one (or several server processes and parallel partitioned paging).",
        "- The peer server named in the issue, stac-fastapi-pgstac, is not installed on this "
        "machine, so every client talks to `eoaccess serve` over its embedded catalog; the "
        "client-side work measured (requests, JSON decoding, paging) is the same.",
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
    args = parser.parse_args(argv)
    load_before = os.getloadavg()[0]
    folder = catalog_dir(args.items)
    server = Server(folder)
    runs = []
    try:
        for query in queries(args.items, args.limit):
            measured: dict[str, list[ClientRun]] = {tool: [] for tool in TOOLS}
            for round_number in range(args.repeat):
                order = TOOLS[round_number % len(TOOLS) :] + TOOLS[: round_number % len(TOOLS)]
                for tool in order:
                    measured[tool].append(run_client(tool, server.url, query))
            for tool in TOOLS:
                run = median_run(measured[tool])
                print(
                    f"{tool:34} {run.query[:60]:60} {run.count:7,} items {run.seconds:6.2f} s "
                    f"{run.rate:9,.0f} items/s",
                    flush=True,
                )
                runs.append(run)
            digests = {r.digest for r in runs if r.query == runs[-1].query}
            counts = {r.count for r in runs if r.query == runs[-1].query}
            if len(digests) != 1 or len(counts) != 1:
                raise SystemExit(f"clients disagree on {runs[-1].query}: {counts}")
    finally:
        server.stop()
    path = ITSLIVE / "catalog_v02_regions.json"
    point = {tool: run_point(tool, path) for tool in ("eoaccess", "geopandas")}
    for tool, result in point.items():
        print(f"point query {tool:10} first {result['first']:.3f} s, next {result['second']:.4f} s")
    text = render(runs, point, args, (load_before, os.getloadavg()[0]))
    print(text)
    if not args.no_results:
        write_section(text)


if __name__ == "__main__":
    main()
