"""Statistics benchmark: 30 daily intervals over a 2,000 x 2,000 pixel AOI (120 Mpx).

    python -m benchmarks.stats [--days 30] [--size 2000] [--repeat 3]

An ARPS-like archive (daily SR + QA COGs of ``--size``² pixels at 3 m, the sample's BYOC
``collection.json``, ingested into its embedded catalog) is written once under
benchmarks/work/stats and reused. The AOI is the tile itself on its own lattice, so every system
sees the same pixels. The task is seed 004's: NDWI of the clear pixels (``cloud_mask == 1``, SR
no-data excluded), per day min/max/mean/stDev and the 50th and 95th percentiles.

Systems, each timed as the median of ``--repeat`` runs after one warm-up:

- a plain numpy loop over the days' arrays already in memory (the floor to compare with);
- eoaccess over the same in-memory arrays (a ``RasterReader`` over them): expression, the seed
  evalscript (numpy translation) and an evalscript that must run in V8;
- eoaccess end to end from the COG files (decoding included): expression and seed evalscript.

rasterstats and exactextract, the usual zonal-statistics peers, are not installed here, so they
are not measured (reported as such rather than estimated). Results go to stdout and to the
``## Statistics`` section of benchmarks/RESULTS.md.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import re
import statistics
import sys
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
RESULTS = ROOT / "benchmarks" / "RESULTS.md"
WORK = ROOT / "benchmarks" / "work" / "stats"
EPSG = 32610
WEST, NORTH = 536_000.0, 4_192_000.0
COLLECTION = "5d0b1a6e-3f4c-4c39-9d1e-6b0a5e2f7c11"
NDWI, CLEAR = "(green - nir) / (green + nir)", "cloud_mask == 1"
TARGET_EVALSCRIPT_MPXS = 15.0


def seed_evalscript() -> str:
    text = (ROOT.parent / "shared" / "seeds" / "004_035c6198680205f4.txt").read_text()
    match = re.search(r'ndwi_time_eval = """\n(.*?)"""', text, re.DOTALL)
    if match is None:
        raise SystemExit("seed 004's evalscript not found in ../shared/seeds")
    return match.group(1)


def v8_evalscript() -> str:
    """The seed script with its NDWI in a helper function: outside the numpy subset, so V8."""
    script = seed_evalscript().replace(
        "function evaluatePixel(sample) {",
        "function ndwiOf(s) { return (s.green - s.nir) / (s.green + s.nir); }\n\n"
        "function evaluatePixel(sample) {",
    )
    return script.replace(
        "var ndwi = (sample.green - sample.nir ) / (sample.green  + sample.nir );",
        "var ndwi = ndwiOf(sample);",
    )


# --- the archive --------------------------------------------------------------------------------


def _field(rng: np.random.Generator, size: int, coarse: int = 25) -> np.ndarray:
    """A smooth random field in [0, 1] (bilinear upsampling of coarse noise)."""
    low = rng.random((coarse + 1, coarse + 1))
    axis = np.linspace(0, coarse, size)
    i0 = np.minimum(axis.astype(int), coarse - 1)
    f = axis - i0
    rows = low[i0] * (1 - f)[:, None] + low[i0 + 1] * f[:, None]
    return rows[:, i0] * (1 - f)[None, :] + rows[:, i0 + 1] * f[None, :]


def _write(path: Path, data: np.ndarray, nodata: int | None, tags: dict[str, str] | None) -> None:
    import rasterio
    from rasterio.transform import from_origin

    profile = {
        "driver": "COG", "width": data.shape[2], "height": data.shape[1], "count": data.shape[0],
        "dtype": data.dtype.name, "crs": f"EPSG:{EPSG}", "nodata": nodata, "compress": "LZW",
        "predictor": "YES", "blocksize": 512, "num_threads": "ALL_CPUS",
        "transform": from_origin(WEST, NORTH, 3.0, 3.0),
    }  # fmt: skip
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(data)
        if tags:
            dst.update_tags(**tags)


def build_archive(days: int, size: int) -> Path:
    """Daily ARPS-like tiles (written once per size and day count), ingested."""
    from eoaccess.ingest import ingest
    from eoaccess.sample._arps_tiff import header_size

    root = WORK / f"archive-{size}px-{days}d"
    if (root / ".ready").exists():
        return root
    product = root / "arps"
    rng = np.random.default_rng(2023)
    water = _field(rng, size) < 0.45
    tiles = []
    for d in range(days):
        day = date(2023, 11, 1) + timedelta(days=d)
        folder = product / "32610_536_4168" / day.isoformat()
        folder.mkdir(parents=True, exist_ok=True)
        green = np.where(water, 600, 900) + 400 * _field(rng, size)
        nir = np.where(water, 150, 2600) + 600 * _field(rng, size)
        sr = np.stack([green * 0.8, green, green * 0.9, nir]).astype(np.int16)
        sr[:, :, : size // 20] = 0  # a strip without data
        cloud = (_field(rng, size, 12) > 0.3).astype(np.uint16)  # 1 = clear
        scene = (
            1 + (np.arange(size)[None, :] * 4 // size) + 4 * (np.arange(size)[:, None] * 2 // size)
        )
        qa = np.stack([cloud, scene.astype(np.uint16)])
        ids = "\n".join(f"PSScene/{day:%Y%m%d}_18{v:02d}00_{v:02d}_2495[{v}]" for v in range(1, 9))
        _write(folder / "analysis_ready_ps_sr.tif", sr, 0, None)
        _write(folder / "analysis_ready_ps_qa.tif", qa, None,
               {"SCENE_IDS[LAYER_2_VALUE]": ids + "\nNone[0]", "PERCENTAGE_CLEAR": f"{cloud.mean() * 100:.2f}"})  # fmt: skip
        tiles.append({
            "id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"bench/{day}")),
            "path": f"32610_536_4168/{day}/(BAND).tif", "status": "INGESTED",
            "sensingTime": f"{day}T00:00:00Z",
            "additionalData": {"filesMetadata": {
                name: {"headerSize": header_size(folder / f"{name}.tif")}
                for name in ("analysis_ready_ps_qa", "analysis_ready_ps_sr")}},
        })  # fmt: skip
    bands = {name: {"source": "analysis_ready_ps_sr", "bandIndex": i + 1, "noData": 0}
             for i, name in enumerate(("blue", "green", "red", "nir"))}  # fmt: skip
    bands["cloud_mask"] = {"source": "analysis_ready_ps_qa", "bandIndex": 1}
    bands["scene_mask"] = {"source": "analysis_ready_ps_qa", "bandIndex": 2}
    (product / "collection.json").write_text(json.dumps(
        {"id": COLLECTION, "name": "ARPS-like benchmark tiles", "additionalData": {"bands": bands}}))  # fmt: skip
    (product / "tiles.json").write_text(json.dumps({"data": tiles}))
    ingest(root)
    (root / ".ready").write_text("ok")
    return root


# --- systems ----------------------------------------------------------------------------------


@dataclass
class InMemory:
    """Every file of the archive decoded into memory, and a RasterReader over it."""

    arrays: dict[str, np.ndarray]

    @classmethod
    def load(cls, root: Path) -> InMemory:
        import rasterio

        arrays = {}
        for path in sorted(root.glob("arps/*/*/*.tif")):
            with rasterio.open(path) as src:
                arrays[str(path)] = src.read()
        return cls(arrays)

    def grid(self, location: str) -> Any:
        raise AssertionError("the items carry their grids")

    def read(
        self, location: str, indexes: Sequence[int], window: tuple[int, int, int, int]
    ) -> np.ndarray:
        row, col, height, width = window
        data = self.arrays[location]
        return data[[i - 1 for i in indexes], row : row + height, col : col + width]


def numpy_loop(memory: InMemory) -> list[dict[str, float]]:
    """The floor: the same statistics per day with numpy over arrays already in memory."""
    rows = []
    for path in sorted(p for p in memory.arrays if p.endswith("_sr.tif")):
        sr = memory.arrays[path]
        qa = memory.arrays[path.replace("_sr.tif", "_qa.tif")]
        green, nir = sr[1].astype(np.float64), sr[3].astype(np.float64)
        clear = (sr[1] != 0) & (qa[0] == 1)
        g, n = green[clear], nir[clear]
        ndwi = (g - n) / (g + n)
        p50, p95 = np.percentile(ndwi, [50, 95], method="higher")
        rows.append({"mean": ndwi.mean(), "stDev": ndwi.std(ddof=1), "min": ndwi.min(),
                     "max": ndwi.max(), "p50": p50, "p95": p95})  # fmt: skip
    return rows


def run_eoaccess(root: Path, days: int, size: int, reader: Any, **kwargs: Any) -> Any:
    """eoaccess over the whole tile (its own lattice) for ``days`` days: (engine, table)."""
    from eoaccess.stats import compute_stats, to_frame

    bbox = (WEST, NORTH - 3.0 * size, WEST + 3.0 * size, NORTH)
    end = date(2023, 11, 1) + timedelta(days=days - 1)
    result = compute_stats(root, COLLECTION, bbox, f"2023-11-01/{end}", "P1D", crs=f"EPSG:{EPSG}",
                           percentiles=[50, 95], reader=reader, **kwargs)  # fmt: skip
    return result.engine, to_frame(result)


def timed(function: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    function()  # warm-up: imports, caches, JIT
    times, value = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        value = function()
        times.append(time.perf_counter() - start)
    return statistics.median(times), value


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.stats", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--size", type=int, default=2000, help="AOI/tile side in pixels")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--no-results", action="store_true", help="do not touch RESULTS.md")
    args = parser.parse_args(argv)
    root = build_archive(args.days, args.size)
    memory = InMemory.load(root)
    pixels = args.days * args.size * args.size

    runs: list[tuple[str, str, Callable[[], Any]]] = [
        ("numpy loop over in-memory arrays", "in memory", lambda: ("numpy", numpy_loop(memory))),
        ("eoaccess `--expression` (+ `--mask`)", "in memory",
         lambda: run_eoaccess(root, args.days, args.size, memory, expression=NDWI, mask=CLEAR)),
        ("eoaccess seed evalscript (numpy translation)", "in memory",
         lambda: run_eoaccess(root, args.days, args.size, memory, evalscript=seed_evalscript())),
        ("eoaccess evalscript outside the subset (V8)", "in memory",
         lambda: run_eoaccess(root, args.days, args.size, memory, evalscript=v8_evalscript())),
        ("eoaccess `--expression` (+ `--mask`)", "COG files",
         lambda: run_eoaccess(root, args.days, args.size, None, expression=NDWI, mask=CLEAR)),
        ("eoaccess seed evalscript (numpy translation)", "COG files",
         lambda: run_eoaccess(root, args.days, args.size, None, evalscript=seed_evalscript())),
        ("eoaccess evalscript outside the subset (V8)", "COG files",
         lambda: run_eoaccess(root, args.days, args.size, None, evalscript=v8_evalscript())),
    ]  # fmt: skip
    rows = []
    reference = None
    for name, data, function in runs:
        seconds, (engine, value) = timed(function, args.repeat)
        if reference is None:
            reference = value
        else:  # every system must give the floor's numbers
            means = list(value["mean"])
            expected = [r["mean"] for r in reference]
            if not np.allclose(means, expected, rtol=1e-6):
                raise SystemExit(f"{name} ({data}) disagrees with the numpy loop")
        rows.append((name, data, engine, seconds, pixels / seconds / 1e6))
        print(
            f"{name:48s} {data:10s} {engine:10s} {seconds:7.2f} s {pixels / seconds / 1e6:8.1f} Mpx/s",
            flush=True,
        )

    section = render(args, rows, pixels)
    print(section)
    if not args.no_results:
        write_section(section)
    return 0


def render(
    args: argparse.Namespace, rows: list[tuple[str, str, str, float, float]], pixels: int
) -> str:
    missing = [p for p in ("rasterstats", "exactextract") if importlib.util.find_spec(p) is None]
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    lines = [
        "## Statistics",
        "",
        f"Reproduce: `python -m benchmarks.stats --days {args.days} --size {args.size} --repeat {args.repeat}`. "
        f"{args.days} daily intervals over a {args.size:,} x {args.size:,} pixel AOI "
        f"({pixels / 1e6:.0f} Mpx): NDWI of the clear pixels, per day min/max/mean/stDev and the 50th/95th "
        "percentiles (seed 004's task). ARPS-like daily SR + QA COGs (LZW, 512 blocks) written and "
        "ingested once; the AOI is the tile on its own lattice. Median of "
        f"{args.repeat} runs after a warm-up, in-process. The numpy loop runs on one thread; eoaccess "
        "runs its intervals on Dask's local threads, and its times include opening the catalog, "
        "the search and, for evalscripts, setup() in V8 and the translation's probe check. Every "
        "system's means were checked equal to the numpy loop's.",
        "",
        f"Machine: {cpus} CPUs, {platform.platform()}, Python {platform.python_version()}; "
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC.",
        "",
        "| system | pixels from | per-pixel engine | wall s | Mpx/s |",
        "|---|---|---|---:|---:|",
    ]
    for name, data, engine, seconds, rate in rows:
        lines.append(f"| {name} | {data} | {engine} | {seconds:.2f} | {rate:,.1f} |")
    evalscript = [r for r in rows if "evalscript" in r[0] and r[1] == "COG files"]
    slowest = min(evalscript, key=lambda r: r[4]) if evalscript else None
    lines.append("")
    if slowest:
        verdict = "met" if slowest[4] >= TARGET_EVALSCRIPT_MPXS else "missed"
        lines.append(
            f"- Evalscript path, end to end from files, slowest engine ({slowest[2]}): "
            f"**{slowest[4]:.1f} Mpx/s** (target >= {TARGET_EVALSCRIPT_MPXS:g} Mpx/s: {verdict})."
        )
    lines.append(
        "- Not measured: "
        + (", ".join(missing) + " (not installed in this environment)" if missing else "none")
        + "."
    )
    return "\n".join(lines)


def write_section(section: str) -> None:
    """Replace (or append) the ``## Statistics`` section of RESULTS.md; other sections stay."""
    from eoaccess._atomic import write_text_atomic

    text = RESULTS.read_text() if RESULTS.exists() else "# Benchmark results\n"
    pattern = re.compile(r"^## Statistics\n.*?(?=^## |\Z)", re.MULTILINE | re.DOTALL)
    if pattern.search(text):
        text = pattern.sub(lambda _: section + "\n\n", text).rstrip("\n") + "\n"
    else:
        text = text.rstrip("\n") + "\n\n" + section + "\n"
    write_text_atomic(RESULTS, text)


if __name__ == "__main__":
    sys.exit(main())
