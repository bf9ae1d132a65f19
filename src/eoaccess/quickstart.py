"""``eoaccess quickstart``: the seed workflows end to end on a freshly generated sample archive.

Steps: write the ``small`` sample archive (skipped when an identical one is already there),
ingest it into the embedded catalog (incremental: a re-run only lists files), start the server
on a free loopback port, read the catalog back with pystac-client (a client users already have),
then run every seed workflow of ``SEED_WORKFLOWS`` through the server. It ends with a summary
table and ``outputs/index.html`` (see ``eoaccess.quickstart_report``).

Interrupting (Ctrl-C) or a failure never leaves a result that looks finished: each seed writes
into a hidden staging folder renamed to ``outputs/<key>/`` only when it succeeds, and the index
is rewritten (atomically) on the way out with the seeds that did finish and why the run stopped.
"""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from eoaccess import __version__
from eoaccess._atomic import atomic_directory, write_text_atomic
from eoaccess._progress import NullProgress, Progress
from eoaccess.errors import EOAccessError
from eoaccess.sample import PRODUCTS, Size, generate_sample
from eoaccess.summary import make_console, sample_table

QUICKSTART_SIZE: Size = "small"
QUICKSTART_SEED = 0
_STAMP = ".sample-stamp.json"


@dataclass(frozen=True)
class SeedOutcome:
    """What one seed workflow did: a line for the summary table, a paragraph for the report.

    The files it wrote are whatever is in its output folder; the report lists them all.
    """

    summary: str
    story: str


SeedRunner = Callable[[str, Path, Console], SeedOutcome]
"""A seed workflow: (server URL ending in ``/``, its output folder, console) → outcome."""


@dataclass(frozen=True)
class SeedWorkflow:
    """One seed workflow of the quickstart and where its results and example script live."""

    key: str
    """Folder under ``outputs/`` and the stem of its ``examples/`` script."""
    name: str
    """Step name in the summary table."""
    run: SeedRunner

    @property
    def example(self) -> str:
        """File name of the standalone script in ``examples/`` that does the same."""
        return f"{self.key}.py"


@dataclass(frozen=True)
class FinishedSeed:
    """A seed workflow that ran to the end, its outcome, time and final output folder."""

    workflow: SeedWorkflow
    outcome: SeedOutcome
    seconds: float
    folder: Path


@dataclass
class QuickstartReport:
    """What the quickstart did: one row per finished step, the finished seeds, and the state.

    ``stopped`` stays ``None`` for a complete run; otherwise it says which step was interrupted
    or failed, so the index never presents a partial run as complete.
    """

    root: Path
    steps: list[tuple[str, float, str]] = field(default_factory=list)
    server_url: str | None = None
    seeds: list[FinishedSeed] = field(default_factory=list)
    current: str | None = None
    stopped: str | None = None

    @property
    def outputs(self) -> Path:
        return self.root / "outputs"

    def where(self) -> str:
        """Where the run is, for a message saying where it stopped."""
        if self.current is not None:
            return f"during {self.current}"
        return f"after {self.steps[-1][0]}" if self.steps else "at start-up"

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
    """Time one step; the block appends its one-line result to the yielded list.

    A step that raises is not recorded: ``report.current`` still names it for the index.
    """
    report.current = name  # set first: a Ctrl-C while the rule prints belongs to this step
    console.rule(f"[bold]{name}")
    outcome: list[str] = []
    start = time.perf_counter()
    yield outcome
    report.steps.append((name, time.perf_counter() - start, outcome[0] if outcome else "done"))
    report.current = None


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


def run_quickstart(
    dest: str | Path,
    progress: Progress | None = None,
    console: Console | None = None,
    size: Size = QUICKSTART_SIZE,
) -> QuickstartReport:
    """Run every quickstart step under ``dest``, print what each did, write the index page.

    ``size`` exists for tests (``tiny``); users get the ``small`` archive. The index is written
    however the run ends (complete, failed, interrupted) and lists only what finished.
    """
    from eoaccess.quickstart_report import write_index

    console = console or make_console()
    report = QuickstartReport(Path(dest).resolve())
    try:
        _run_steps(report, progress or NullProgress(), console, size)
    except KeyboardInterrupt:
        report.stopped = f"interrupted {report.where()}"
        raise
    except Exception as exc:
        report.stopped = f"failed {report.where()}: {exc}"
        raise
    finally:
        index = write_index(report)
    console.rule("[bold]summary")
    console.print(report.table())
    console.print(f"open {index} in a browser: every map, plot, table and file of the run")
    return report


def _run_steps(report: QuickstartReport, progress: Progress, console: Console, size: Size) -> None:
    from eoaccess.harmony import HarmonySettings
    from eoaccess.ingest import ingest
    from eoaccess.server import ServerSettings, create_app, start_in_thread
    from eoaccess.stores import open_store

    archive = report.root / "archive"
    console.print(f"[bold]eoaccess quickstart[/bold] {__version__}: working in {report.root}")

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
        # The server thread stops on the way out of this block, also on Ctrl-C.
        # Harmony jobs run on a one-worker Dask cluster of threads: it starts in about a
        # second, where worker processes would take ~10 s on a 2-core machine.
        settings = ServerSettings(harmony=HarmonySettings(processes=False))
        with start_in_thread(create_app(store, archive, settings)) as server:
            report.server_url = server.url
            with _step(report, console, "STAC API") as outcome:
                outcome.append(_read_back_with_pystac_client(server.url, console))
            for seed in SEED_WORKFLOWS:
                report.seeds.append(_run_seed(report, seed, server.url, console))
    finally:
        store.close()


def _run_seed(
    report: QuickstartReport, seed: SeedWorkflow, url: str, console: Console
) -> FinishedSeed:
    """Run one seed into a staging folder that becomes ``outputs/<key>`` only on success."""
    final = report.outputs / seed.key
    start = time.perf_counter()
    with _step(report, console, seed.name) as line:
        with atomic_directory(final) as staging:
            outcome = seed.run(url, staging, console)
        line.append(f"{outcome.summary} → {final}")
    return FinishedSeed(seed, outcome, time.perf_counter() - start, final)


KAGUYA = "kaguya_terrain_camera_{}_uncontrolled_observations"
SEED_002_BBOX = (3.0, 4.0, 5.0, 6.0)
SEED_003_AOI = {
    "type": "Polygon",
    "coordinates": [[[0, 0], [2.5, 0], [2.5, 2.5], [0, 2.5], [0, 0]]],
}


def _seed_000_itslive(url: str, out: Path, console: Console) -> SeedOutcome:
    """Seed 000: point → cube URL from the footprint catalog → lazy open → footprint map →
    velocity time series at the point."""
    import eoaccess
    from eoaccess.footprints import write_map
    from eoaccess.sample.itslive import SEED_POINT
    from eoaccess.timeseries import plot_timeseries, write_timeseries

    catalog_url = f"{url}files/itslive/catalog_v02.json"
    catalog = eoaccess.open_catalog(catalog_url)
    found = list(catalog.search(point=SEED_POINT).items())
    if not found:
        raise EOAccessError(f"no ITS_LIVE cube contains the point {SEED_POINT}")
    cube_url = next(iter(found[0]["assets"].values()))["href"]
    console.print(f"point {SEED_POINT} → {cube_url}")
    ds = eoaccess.open_dataset(cube_url)
    sizes = ", ".join(f"{k}: {v}" for k, v in ds.sizes.items())
    console.print(f"opened lazily: {sizes}; {len(ds.data_vars)} variables")
    outline = eoaccess.footprint(ds)
    write_map(outline, out / "footprint.html", title="ITS_LIVE cube footprint")
    write_map(outline, out / "footprint.png", title="ITS_LIVE cube footprint")
    series = eoaccess.timeseries(
        cube_url, points=[SEED_POINT], variables=["v"], include_errors=True
    )
    write_timeseries(series, out / "velocity.csv")
    plot_timeseries(series, out / "velocity.png")
    valid = int(series["v"].notna().sum())
    name = cube_url.rsplit("/", 1)[-1]
    return SeedOutcome(
        f"cube {name}; {valid} velocities at the point",
        f"Searched the ITS_LIVE footprint catalog ({catalog_url}) for the cube containing the "
        f"point {SEED_POINT[0]}, {SEED_POINT[1]} (lon, lat) and found {name}. Opened it lazily "
        f"over HTTP as Zarr ({sizes}; {len(ds.data_vars)} variables), drew its footprint in "
        f"lon/lat, and read the velocity v with its error at the nearest cell: {valid} valid "
        f"velocities out of {len(series)} image pairs.",
    )


def _seed_001_atl03_harmony(url: str, out: Path, console: Console) -> SeedOutcome:
    """Seed 001: capabilities → an ATL03 bbox+time subset job on the Harmony-compatible service
    with a progress bar → the subsetted files downloaded → photons per beam (table and plot)."""
    import h5py

    from eoaccess.sample.atl03 import SEED_BBOX, SEED_TIME
    from eoaccess.services import HarmonyService, SubsetJobRequest

    with HarmonyService(url) as service:
        capabilities = service.capabilities(short_name="ATL03")
        concept_id = capabilities["conceptId"]
        write_text_atomic(out / "capabilities.json", json.dumps(capabilities, indent=2))
        offers = [k for k in ("bboxSubset", "shapeSubset", "temporalSubset") if capabilities[k]]
        console.print(f"ATL03 is {concept_id}; offers {', '.join(offers)}")
        request = SubsetJobRequest.of(concept_id, bbox=SEED_BBOX, datetime=SEED_TIME)
        console.print(f"as a URL: {service.request_as_url(request)}")
        job = service.submit(request)
        job = service.wait(job.id, progress=True)
        if job.status != "successful":
            raise EOAccessError(f"job {job.id} ended {job.status}: {job.message}")
        write_text_atomic(out / "job.json", json.dumps(dataclasses.asdict(job), indent=2))
        downloaded = service.download_results(job.id, out / "data")
        downloaded.raise_for_failures()
    rows = []
    for path in sorted((out / "data").glob("*.h5")):
        with h5py.File(path, "r") as h5:
            for beam in sorted(k for k in h5 if k.startswith("gt")):
                heights = h5[f"{beam}/heights"]
                rows.append((path.name, beam, heights["h_ph"].shape[0], _photon_track(heights)))
    _write_photon_table(rows, out / "photons_per_beam.csv")
    _plot_photon_tracks(rows, out / "photons.png")
    total = sum(r[2] for r in rows)
    table = Table(title="photons per beam", title_justify="left")
    for column in ("granule", "beam", "photons"):
        table.add_column(column, justify="right" if column == "photons" else "left")
    for name, beam, count, _ in rows:
        table.add_row(name, beam, f"{count:,}")
    console.print(table)
    client_side = _client_side_subset(url, out / "client-side", console)
    served = _photons_of(rows, client_side.path.name)
    if client_side.counts.get("photons") != served:
        raise EOAccessError(
            f"the client-side subset of {client_side.path.name} kept "
            f"{client_side.counts.get('photons')} photons, the service's {served}"
        )
    files = len(downloaded.files)
    return SeedOutcome(
        f"job {job.status}: {files} subsetted granule{'s' * (files != 1)}, {total:,} photons",
        f"Asked the Harmony-compatible service for the capabilities of ATL03 ({concept_id}), "
        f"then submitted a subset of the northern Colorado Front Range box "
        f"{', '.join(map(str, SEED_BBOX))} for {SEED_TIME[0]:%Y-%m-%d} to "
        f"{SEED_TIME[1]:%Y-%m-%d} as an asynchronous job, watched its progress, and downloaded "
        f"its {files} result files (each named *_subsetted.h5, the hierarchy kept). Counted "
        f"the photons of every beam (photons_per_beam.csv) and drew their ground tracks "
        f"coloured by height (photons.png): {total:,} photons, all inside the box. Then cut "
        f"the first granule client-side with eoaccess.subset straight from its URL: the same "
        f"{client_side.counts.get('photons', 0):,} photons, reading "
        f"{client_side.bytes_read or 0:,} bytes in {client_side.requests or 0} range requests "
        f"(client-side/).",
    )


def _client_side_subset(url: str, out: Path, console: Console) -> Any:
    """The same cut of the first matching granule, done here from its URL with range reads."""
    import eoaccess
    from eoaccess.sample.atl03 import SEED_BBOX, SEED_TIME

    found = eoaccess.open_catalog(url).search(
        collections=["ATL03"], bbox=SEED_BBOX, datetime=SEED_TIME, max_items=1
    )
    item = next(iter(found.items()))
    href = next(a["href"] for a in item["assets"].values() if a["href"].endswith(".h5"))
    result = eoaccess.subset(href, bbox=SEED_BBOX, datetime=SEED_TIME, output=out)
    console.print(
        f"client-side subset of {href.rsplit('/', 1)[-1]}: {result.counts.get('photons', 0):,} "
        f"photons, {result.requests} requests, {result.bytes_read or 0:,} bytes read"
    )
    return result


def _photons_of(rows: list[tuple[str, str, int, Any]], name: str) -> int:
    return sum(count for granule, _, count, _ in rows if granule == name)


def _photon_track(heights: Any) -> tuple[Any, Any, Any]:
    """A beam's photon longitudes, latitudes and heights (thinned for the plot)."""
    step = max(1, heights["h_ph"].shape[0] // 20_000)
    return heights["lon_ph"][::step], heights["lat_ph"][::step], heights["h_ph"][::step]


def _write_photon_table(rows: list[tuple[str, str, int, Any]], path: Path) -> None:
    lines = ["granule,beam,photons", *(f"{name},{beam},{count}" for name, beam, count, _ in rows)]
    write_text_atomic(path, "\n".join(lines) + "\n")


def _plot_photon_tracks(rows: list[tuple[str, str, int, Any]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from eoaccess._atomic import atomic_path

    fig, ax = plt.subplots(figsize=(7, 6), dpi=100)
    scatter = None
    for _, _, count, (lon, lat, height) in rows:
        if count:
            scatter = ax.scatter(lon, lat, c=height, s=1, cmap="terrain")
    if scatter is not None:
        fig.colorbar(scatter, ax=ax, label="photon height h_ph (m)")
    ax.set_xlabel("longitude (°)")
    ax.set_ylabel("latitude (°)")
    ax.set_title("ATL03 photons inside the Front Range box, all beams")
    with atomic_path(path) as staging:
        fig.savefig(staging, format="png")
    plt.close(fig)


def _seed_002_kaguya_enrich(url: str, out: Path, console: Console) -> SeedOutcome:
    """Seed 002: three Kaguya collections in a bbox, incidence angles from the PVL sidecars,
    an rclone list and the downloads."""
    import eoaccess
    from eoaccess.transfer import export_list

    catalog = eoaccess.open_catalog(url)
    collections = [KAGUYA.format(k) for k in ("monoscopic", "stereoscopic", "spsupport")]
    result = catalog.search(
        collections=collections,
        bbox=SEED_002_BBOX,
        enrich="caminfo_pvl:Caminfo.Geometry.IncidenceAngle=incidence_angle",
        where="incidence_angle < 70",
    )
    frame = result.to_geodataframe()
    # The list names the destination relative to this folder, so it stays valid when the
    # staging folder is renamed into place.
    write_text_atomic(
        out / "rclone-files.txt", export_list(result, "rclone", dest="data", assets=["image"])
    )
    columns = ["id", "collection", "start_datetime", "incidence_angle"]
    console.print(frame[columns].to_string(index=False))
    write_text_atomic(out / "scenes.csv", frame[columns].to_csv(index=False))
    downloaded = eoaccess.download(result, dest=out / "data", assets=["image"])
    downloaded.raise_for_failures()
    return SeedOutcome(
        f"{len(frame)} scenes with incidence < 70°, rclone list and {len(downloaded.files)} images",
        f"Searched the three Kaguya Terrain Camera collections in the bbox "
        f"{', '.join(map(str, SEED_002_BBOX))} through the STAC API, read each item's PVL "
        f"sidecar for Caminfo.Geometry.IncidenceAngle and kept the {len(frame)} scenes with an "
        f"incidence angle below 70° (scenes.csv). Wrote an rclone --files-from list for them "
        f"and downloaded their {len(downloaded.files)} images into data/.",
    )


def _seed_003_kaguya_download(url: str, out: Path, console: Console) -> SeedOutcome:
    """Seed 003: counts, the collections, an intersects search, every asset downloaded into
    collection/item folders."""
    import eoaccess

    catalog = eoaccess.open_catalog(url)
    collection = KAGUYA.format("monoscopic")
    total = catalog.search(collections=[collection]).matched()
    result = catalog.search(collections=[collection], intersects=SEED_003_AOI)
    matched = result.matched()
    console.print(f"{collection}: {total} items, {matched} intersect the polygon")
    downloaded = eoaccess.download(result, dest=out)
    downloaded.raise_for_failures()
    return SeedOutcome(
        f"{matched} of {total} items; {len(downloaded.files)} assets in collection/item folders",
        f"Counted the {total} items of {collection}, searched them with a polygon "
        f"(intersects, 0..2.5° lon/lat) and downloaded every asset of the {matched} matches, "
        f"{len(downloaded.files)} files verified against their size and checksum, laid out "
        f"as collection/item/file.",
    )


def _seed_004_arps_stats(url: str, out: Path, console: Console) -> SeedOutcome:
    """Seed 004: daily NDWI statistics over the Bay AOI with the cloud mask and scene
    provenance (scene id and acquisition time from the QA header), as CSV and a plot."""
    import eoaccess
    from eoaccess.sample.arps import AOI
    from eoaccess.stats import plot_series, write_table

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
    return SeedOutcome(
        f"{len(frame)} days of NDWI with scene provenance",
        f"Computed daily NDWI statistics, (green - nir) / (green + nir), over the San Francisco "
        f"Bay AOI {', '.join(map(str, AOI))} for November 2023 from the ARPS collection "
        f"{arps[0]}, counting only pixels the cloud mask marks clear. Each of the {len(frame)} "
        f"days with data names the scene covering most of the AOI and its acquisition time, "
        f"read from the QA file's header.",
    )


SEED_WORKFLOWS: tuple[SeedWorkflow, ...] = (
    SeedWorkflow("seed000_itslive", "seed 000 ITS_LIVE", _seed_000_itslive),
    SeedWorkflow("seed001_atl03", "seed 001 ATL03 Harmony job", _seed_001_atl03_harmony),
    SeedWorkflow("seed002_kaguya", "seed 002 Kaguya + sidecars", _seed_002_kaguya_enrich),
    SeedWorkflow("seed003_kaguya", "seed 003 Kaguya download", _seed_003_kaguya_download),
    SeedWorkflow("seed004_arps", "seed 004 ARPS NDWI statistics", _seed_004_arps_stats),
)
"""The seed workflows in the order they run; a new seed is one function and one entry here
(plus its script in ``examples/``)."""


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
