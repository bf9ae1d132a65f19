"""``eoaccess quickstart``: the seed workflows end to end on a freshly generated sample archive.

Steps so far: write the ``small`` sample archive (skipped when an identical one is already
there), ingest it into the embedded catalog (incremental: a re-run only lists files), start the
server on a free loopback port, and read the catalog back through the STAC API with
pystac-client, a client users already have. Each seed workflow is added here as it lands.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from rich.console import Console
from rich.table import Table

from eoaccess import __version__
from eoaccess._atomic import write_text_atomic
from eoaccess._progress import NullProgress, Progress
from eoaccess.errors import EOAccessError
from eoaccess.sample import PRODUCTS, Size, generate_sample
from eoaccess.summary import make_console, sample_table

QUICKSTART_SIZE: Size = "small"
QUICKSTART_SEED = 0
_STAMP = ".sample-stamp.json"

T = TypeVar("T")


@dataclass
class QuickstartReport:
    """What the quickstart did: one row per step with its duration and outcome."""

    root: Path
    steps: list[tuple[str, float, str]] = field(default_factory=list)
    server_url: str | None = None

    def table(self) -> Table:
        table = Table(title="eoaccess quickstart", title_justify="left")
        table.add_column("step", style="bold")
        table.add_column("seconds", justify="right")
        table.add_column("result")
        for name, seconds, result in self.steps:
            table.add_row(name, f"{seconds:.1f}", result)
        return table


@contextmanager
def _step(report: QuickstartReport, console: Console, name: str) -> Iterator[list[str]]:
    """Time one step; the block appends its one-line result to the yielded list."""
    console.rule(f"[bold]{name}")
    outcome: list[str] = []
    start = time.perf_counter()
    yield outcome
    report.steps.append((name, time.perf_counter() - start, outcome[0] if outcome else "done"))


def _sample_is_current(root: Path, size: Size) -> bool:
    stamp = root / _STAMP
    if not stamp.is_file() or not all((root / p).is_dir() for p in PRODUCTS):
        return False
    try:
        recorded = json.loads(stamp.read_text())
    except (OSError, json.JSONDecodeError):
        return False
    return bool(recorded == _stamp_content(size))


def _stamp_content(size: Size) -> dict[str, Any]:
    return {"size": size, "seed": QUICKSTART_SEED, "eoaccess": __version__}


def _timed(function: Callable[[], T]) -> tuple[T, float]:
    start = time.perf_counter()
    result = function()
    return result, time.perf_counter() - start


def run_quickstart(
    dest: str | Path,
    progress: Progress | None = None,
    console: Console | None = None,
    size: Size = QUICKSTART_SIZE,
) -> QuickstartReport:
    """Run every quickstart step under ``dest`` and print what each one did.

    ``size`` exists for tests (``tiny``); users get the ``small`` archive.
    """
    from eoaccess.ingest import ingest
    from eoaccess.server import create_app, start_in_thread
    from eoaccess.stores import open_store

    console = console or make_console()
    progress = progress or NullProgress()
    root = Path(dest).resolve()
    archive = root / "archive"
    report = QuickstartReport(root)
    console.print(f"[bold]eoaccess quickstart[/bold] {__version__}: working in {root}")

    with _step(report, console, "sample archive") as outcome:
        if _sample_is_current(archive, size):
            console.print(f"the {size} sample archive in {archive} is up to date; not rewritten")
            outcome.append(f"reused {archive}")
        else:
            summary = generate_sample(archive, size=size, seed=QUICKSTART_SEED, progress=progress)
            write_text_atomic(archive / _STAMP, json.dumps(_stamp_content(size)))
            console.print(sample_table(summary))
            outcome.append(f"{summary.files:,} files, {summary.bytes / 1e6:,.0f} MB in {archive}")

    with _step(report, console, "ingest") as outcome:
        ingested = ingest(archive, progress=progress)
        console.print(ingested.table(), soft_wrap=True, highlight=False)
        total = sum(c.items for c in ingested.collections)
        outcome.append(
            f"{len(ingested.collections)} collections, {total} items "
            f"({ingested.added} added, {ingested.updated} updated, {ingested.removed} removed)"
        )

    store = open_store(None, archive)
    try:
        with start_in_thread(create_app(store, archive)) as server:
            report.server_url = server.url
            with _step(report, console, "STAC API") as outcome:
                outcome.append(_read_back_with_pystac_client(server.url, console))
            outputs = root / "outputs"
            for name, workflow in SEED_WORKFLOWS:
                with _step(report, console, name) as outcome:
                    outcome.append(workflow(server.url, outputs, console))
    finally:
        store.close()

    console.rule("[bold]summary")
    console.print(report.table())
    return report


KAGUYA = "kaguya_terrain_camera_{}_uncontrolled_observations"
SEED_002_BBOX = (3.0, 4.0, 5.0, 6.0)
SEED_003_AOI = {
    "type": "Polygon",
    "coordinates": [[[0, 0], [2.5, 0], [2.5, 2.5], [0, 2.5], [0, 0]]],
}


def _seed_000_itslive(url: str, outputs: Path, console: Console) -> str:
    """Seed 000: point → cube URL from the footprint catalog → lazy open → footprint map →
    velocity time series at the point."""
    import eoaccess
    from eoaccess.footprints import write_map
    from eoaccess.sample.itslive import SEED_POINT
    from eoaccess.timeseries import plot_timeseries, write_timeseries

    out = outputs / "seed000_itslive"
    catalog = eoaccess.open_catalog(f"{url}files/itslive/catalog_v02.json")
    found = list(catalog.search(point=SEED_POINT).items())
    if not found:
        raise EOAccessError(f"no ITS_LIVE cube contains the point {SEED_POINT}")
    cube_url = next(iter(found[0]["assets"].values()))["href"]
    console.print(f"point {SEED_POINT} → {cube_url}")
    ds = eoaccess.open_dataset(cube_url)
    console.print(f"opened lazily: {dict(ds.sizes)}, {len(ds.data_vars)} variables")
    outline = eoaccess.footprint(ds)
    write_map(outline, out / "footprint.html", title="ITS_LIVE cube footprint")
    write_map(outline, out / "footprint.png", title="ITS_LIVE cube footprint")
    series = eoaccess.timeseries(
        cube_url, points=[SEED_POINT], variables=["v"], include_errors=True
    )
    write_timeseries(series, out / "velocity.csv")
    plot_timeseries(series, out / "velocity.png")
    valid = series["v"].notna().sum()
    return f"cube {cube_url.rsplit('/', 1)[-1]}; {valid} velocities at the point → {out}"


def _seed_002_kaguya_enrich(url: str, outputs: Path, console: Console) -> str:
    """Seed 002: three Kaguya collections in a bbox, incidence angles from the PVL sidecars,
    an rclone list and the downloads."""
    import eoaccess
    from eoaccess.transfer import export_list

    out = outputs / "seed002_kaguya"
    catalog = eoaccess.open_catalog(url)
    result = catalog.search(
        collections=[KAGUYA.format(k) for k in ("monoscopic", "stereoscopic", "spsupport")],
        bbox=SEED_002_BBOX,
        enrich="caminfo_pvl:Caminfo.Geometry.IncidenceAngle=incidence_angle",
        where="incidence_angle < 70",
    )
    frame = result.to_geodataframe()
    console.print(frame[["id", "collection", "incidence_angle"]].to_string(index=False))
    write_text_atomic(
        out / "rclone-files.txt", export_list(result, "rclone", dest=out / "data", assets=["image"])
    )
    downloaded = eoaccess.download(result, dest=out / "data", assets=["image"])
    downloaded.raise_for_failures()
    return f"{len(frame)} scenes with incidence < 70°, rclone list and {len(downloaded.files)} images → {out}"


def _seed_003_kaguya_download(url: str, outputs: Path, console: Console) -> str:
    """Seed 003: counts, the collections, an intersects search, every asset downloaded into
    collection/item folders."""
    import eoaccess

    out = outputs / "seed003_kaguya"
    catalog = eoaccess.open_catalog(url)
    collection = KAGUYA.format("monoscopic")
    total = catalog.search(collections=[collection]).matched()
    result = catalog.search(collections=[collection], intersects=SEED_003_AOI)
    console.print(f"{collection}: {total} items, {result.matched()} intersect the polygon")
    downloaded = eoaccess.download(result, dest=out)
    downloaded.raise_for_failures()
    return f"{result.matched()} of {total} items; {len(downloaded.files)} assets in collection/item folders → {out}"


def _seed_004_arps_stats(url: str, outputs: Path, console: Console) -> str:
    """Seed 004: daily NDWI statistics over the Bay AOI with the cloud mask and scene
    provenance (scene id and acquisition time from the QA header), as CSV and a plot."""
    import eoaccess
    from eoaccess.sample.arps import AOI
    from eoaccess.stats import plot_series, write_table

    out = outputs / "seed004_arps"
    catalog = eoaccess.open_catalog(url)
    arps = [c["id"] for c in catalog.collections() if "PlanetScope" in (c.get("title") or "")]
    if not arps:
        raise EOAccessError("the server has no ARPS collection")
    frame = eoaccess.stats(
        url,
        arps[0],
        AOI,
        "2023-11-01/2023-11-30",
        "P1D",
        expression="(green - nir) / (green + nir)",
        mask="cloud_mask == 1",
        percentiles=[50],
        provenance="scene_mask",
    )
    console.print(
        frame[["interval_from", "mean", "p50", "sampleCount", "scene_id", "acquired"]].to_string(
            index=False
        )
    )
    write_table(frame, out / "ndwi_daily.csv")
    plot_series(frame, out / "ndwi_daily.png", title="NDWI over the San Francisco Bay AOI")
    return f"{len(frame)} days of NDWI with scene provenance → {out}"


SEED_WORKFLOWS: tuple[tuple[str, Callable[[str, Path, Console], str]], ...] = (
    ("seed 000 ITS_LIVE", _seed_000_itslive),
    ("seed 002 Kaguya + sidecars", _seed_002_kaguya_enrich),
    ("seed 003 Kaguya download", _seed_003_kaguya_download),
    ("seed 004 ARPS NDWI statistics", _seed_004_arps_stats),
)


def _read_back_with_pystac_client(url: str, console: Console) -> str:
    """List the served collections and count their items with pystac-client, as a user would."""
    from pystac_client import Client

    client = Client.open(url)
    table = Table(title=f"collections served at {url}", title_justify="left")
    table.add_column("collection")
    table.add_column("items", justify="right")
    table.add_column("title")
    collections = sorted(client.get_collections(), key=lambda c: c.id)
    total = 0
    for collection in collections:
        matched = client.search(collections=[collection.id], limit=1).matched() or 0
        total += matched
        table.add_row(collection.id, str(matched), collection.title or "")
    console.print(table)
    return f"{len(collections)} collections, {total} items via pystac-client at {url}"
