"""The statistics engine: one request, its intervals computed in parallel with Dask.

:func:`compute` takes the tiles a source found and a canonical :class:`StatsSpec`. It resolves
the output grid and the AOI's pixels once, maps every distinct tile grid to those pixels once,
then runs one task per interval that has tiles (intervals without any tile are left out, as the
Statistical API does): mosaic, evaluate the program, compute the statistics and the provenance.
Tasks run on Dask's local threads by default, or on an existing distributed cluster. A task that
fails reports its error in its own :class:`IntervalResult`; the others are unaffected.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

import numpy as np

from eoaccess.errors import EOAccessError, InvalidInputError
from eoaccess.stats._aoi import (
    Coverage,
    Grid,
    PixelMap,
    coverage,
    grid_from_bounds,
    pixel_map,
    reproject_geometry,
    same_crs,
    snapped_grid,
)
from eoaccess.stats._bands import BandSource
from eoaccess.stats._compute import BandStats, Calculations, statistics_of
from eoaccess.stats._intervals import Duration, LastInterval, TimeInterval, split_intervals
from eoaccess.stats._mosaic import Mosaic, RasterioReader, RasterReader, Tile, mosaic
from eoaccess.stats._program import DATA_MASK, OutputSpec, Program
from eoaccess.stats.provenance import (
    SceneProvenance,
    dominant,
    no_provenance,
    read_tags,
    resolve_scene,
)

logger = logging.getLogger("eoaccess.stats")

# Local Dask schedulers by name (anything else is a distributed scheduler address).
LOCAL_SCHEDULERS = {"threads": "threads", "synchronous": "synchronous", "sync": "synchronous"}


@dataclass(frozen=True)
class GridRequest:
    """The output grid asked for; unset parts come from the data."""

    crs: str | None = None
    """CRS of the grid; None: the data's own CRS and pixel lattice."""
    size: tuple[int, int] | None = None
    """Width and height in pixels."""
    resolution: tuple[float, float] | None = None
    """Pixel size (x, y) in CRS units."""
    bounds: tuple[float, float, float, float] | None = None
    """Extent in ``crs`` (default: the AOI's bounds)."""


@dataclass(frozen=True)
class StatsSpec:
    """A statistics request in canonical form (from :func:`eoaccess.stats.stats` or the API)."""

    aoi: Any
    """Shapely geometry of the area of interest."""
    aoi_crs: str
    """Its CRS."""
    start: datetime
    end: datetime
    """Time range ``[start, end)`` (UTC)."""
    interval: Duration
    last_interval: LastInterval
    program: Program
    calculations: Calculations
    grid: GridRequest = GridRequest()
    provenance: str | None = None
    """Band whose dominant value is traced to its source scene."""
    mosaicking_order: str = "mostRecent"
    max_cloud_cover: float | None = None
    """Leave out tiles with more ``eo:cloud_cover`` (percent)."""

    def intervals(self) -> tuple[TimeInterval, ...]:
        return split_intervals(self.start, self.end, self.interval, self.last_interval)


@dataclass(frozen=True)
class IntervalError:
    """Why one interval has no statistics."""

    type: str
    """``EXECUTION_ERROR``, ``TIMEOUT`` or ``BAD_REQUEST`` (the Statistical API's types)."""
    message: str


@dataclass(frozen=True)
class IntervalResult:
    """The statistics of one interval."""

    interval: TimeInterval
    tiles: tuple[str, ...]
    """Ids of the items mosaicked, in mosaicking order."""
    outputs: Mapping[str, Mapping[str, BandStats]]
    """Output id -> band name -> statistics (empty when the interval failed)."""
    provenance: SceneProvenance | None = None
    error: IntervalError | None = None


@dataclass(frozen=True)
class StatsResult:
    """Every interval with data, in time order."""

    intervals: tuple[IntervalResult, ...]
    grid: Grid | None
    """The output grid (None when no tile was found to take it from)."""
    pixel_count: int
    """AOI pixels (each interval's ``sampleCount``)."""
    outputs: tuple[OutputSpec, ...]
    engine: str
    """How pixels were computed: ``expression``, ``numpy`` (translated evalscript) or ``v8``."""

    @property
    def status(self) -> str:
        """``OK``, ``PARTIAL`` (some intervals failed) or ``FAILED`` (all did)."""
        failed = sum(r.error is not None for r in self.intervals)
        if not failed:
            return "OK"
        return "FAILED" if failed == len(self.intervals) else "PARTIAL"


@dataclass(frozen=True, eq=False)
class _Shared:
    """Everything the interval tasks share, computed once per request."""

    cover: Coverage
    maps: Mapping[Grid, PixelMap]
    bands: Mapping[str, BandSource]
    program: Program
    calculations: Calculations
    provenance: BandSource | None
    order: str
    reader: RasterReader


def _data_lattice(tiles: Sequence[Tile], assets: Sequence[str], reader: RasterReader) -> Grid:
    tile = tiles[0]
    asset = next((a for a in assets if a in tile.assets), next(iter(tile.assets)))
    return tile.grids.get(asset) or reader.grid(tile.assets[asset])


def resolve_grid(
    spec: StatsSpec, tiles: Sequence[Tile], assets: Sequence[str], reader: RasterReader
) -> tuple[Grid, Any]:
    """The output grid and the AOI geometry in its CRS."""
    request = spec.grid
    if request.crs is None or (
        request.size is None and request.resolution is None and request.bounds is None
    ):
        if not tiles:
            raise InvalidInputError("no data to take the grid from: give crs and resolution")
        lattice = _data_lattice(tiles, assets, reader)
        if request.crs is None or same_crs(request.crs, lattice.crs):
            geometry = reproject_geometry(spec.aoi, spec.aoi_crs, lattice.crs)
            resolution = request.resolution[0] if request.resolution else None
            return snapped_grid(geometry.bounds, lattice, resolution), geometry
        raise InvalidInputError(
            f"give a resolution in {request.crs} units: the data is in {lattice.crs}"
        )
    geometry = reproject_geometry(spec.aoi, spec.aoi_crs, request.crs)
    bounds = request.bounds or geometry.bounds
    grid = grid_from_bounds(bounds, request.crs, size=request.size, resolution=request.resolution)
    return grid, geometry


def _with_grids(tiles: Sequence[Tile], assets: Sequence[str], reader: RasterReader) -> list[Tile]:
    """Tiles whose needed assets all have a grid (read from the file when the item had none)."""
    completed = []
    for tile in tiles:
        missing = {
            a: reader.grid(tile.assets[a])
            for a in assets
            if a in tile.assets and a not in tile.grids
        }
        completed.append(replace(tile, grids={**tile.grids, **missing}) if missing else tile)
    return completed


def _interval_task(
    shared: _Shared, interval: TimeInterval, tiles: Sequence[Tile], engines: Any
) -> IntervalResult:
    """Statistics of one interval; failures become the interval's error."""
    try:
        return _interval(shared, interval, tiles, engines)
    except EOAccessError as exc:
        kind = getattr(exc, "error_type", "EXECUTION_ERROR")
        return IntervalResult(
            interval, tuple(t.id for t in tiles), {}, None, IntervalError(kind, str(exc))
        )
    except Exception as exc:  # a broken file, a GDAL error: this interval only
        logger.warning("interval %s failed", interval.to_json(), exc_info=True)
        message = f"{type(exc).__name__}: {exc}"
        return IntervalResult(
            interval,
            tuple(t.id for t in tiles),
            {},
            None,
            IntervalError("EXECUTION_ERROR", message),
        )


def _interval(
    shared: _Shared, interval: TimeInterval, tiles: Sequence[Tile], engines: Any
) -> IntervalResult:
    mosaicked = mosaic(
        tiles, shared.bands, shared.cover, shared.maps.__getitem__, shared.reader, shared.order
    )
    n = shared.cover.count
    counted = _counted_values(shared.program, mosaicked, n, engines)
    outputs = {
        spec.id: {
            band: statistics_of(
                counted.values[spec.id][k], n, shared.calculations.for_band(spec.id, band)
            )
            for k, band in enumerate(spec.bands)
        }
        for spec in shared.program.outputs
    }
    provenance = None
    if shared.provenance is not None:
        provenance = _provenance(shared.provenance, mosaicked, counted.mask)
    return IntervalResult(interval, tuple(t.id for t in mosaicked.tiles), outputs, provenance)


@dataclass(frozen=True, eq=False)
class _Counted:
    """A program's counted values of one interval, ready for statistics."""

    values: dict[str, list[np.ndarray]]
    """Output id -> per band, the 1-D values the statistics count (mask, finite)."""
    mask: np.ndarray
    """``(k,)`` booleans over the mosaic's data pixels: counted or not (for provenance)."""


def _counted_values(program: Program, mosaicked: Mosaic, n: int, engines: Any) -> _Counted:
    """The program over the mosaic's entries, plus one pixel standing for those left out.

    Pixels without data all have the same inputs (every band 0, ``dataMask`` 0), so a per-pixel
    program gives them all the same outputs: in the compact layout one of them is evaluated and
    stands for all the others (AOIs reaching beyond the data, the seed's, cost only their data
    pixels). In the full layout they are evaluated in place with the bands as read, which is
    right as long as the program does not count them (its ``dataMask`` output follows the
    input's, as in every script we know): if it does, they are evaluated again zeroed.
    """
    k = mosaicked.size
    inputs: dict[str, np.ndarray] = dict(mosaicked.values)
    # Booleans, or a read-only view of ones: no k-sized float64 dataMask array.
    data = mosaicked.data
    inputs[DATA_MASK] = np.broadcast_to(True, (k,)) if data is None else data
    values: dict[str, list[np.ndarray]] = {}
    mask = np.zeros(0, dtype=bool)
    if k:
        evaluated = program.evaluate(inputs, k, engines)
        if data is not None and bool(np.any(evaluated.mask & ~data)):  # rare, see above
            evaluated = program.evaluate({**mosaicked.zeroed(), DATA_MASK: data}, k, engines)
        mask = evaluated.mask
        for spec in program.outputs:
            rows = evaluated.values[spec.id]
            if evaluated.at is None:  # one gather for all the output's bands (index take)
                rows = np.take(rows, np.flatnonzero(mask), axis=1)
            values[spec.id] = [
                row[np.isfinite(row)] if spec.is_float and not _all_finite(row) else row
                for row in rows
            ]
    else:
        values = {spec.id: [np.zeros(0)] * len(spec.bands) for spec in program.outputs}
    if k < n:
        stand_in = {name: np.zeros(1, dtype=v.dtype) for name, v in mosaicked.values.items()}
        stand_in[DATA_MASK] = np.zeros(1, dtype=bool)
        empty = program.evaluate(stand_in, 1, engines)
        if bool(empty.mask[0]):  # rare: the program counts pixels without data
            for spec in program.outputs:
                rows = empty.values[spec.id]
                values[spec.id] = [
                    np.concatenate([values[spec.id][b], np.repeat(rows[b, -1:], n - k)])
                    for b in range(len(spec.bands))
                ]
                if spec.is_float:
                    values[spec.id] = [v[np.isfinite(v)] for v in values[spec.id]]
    return _Counted(values, mask)


def _all_finite(values: np.ndarray) -> bool:
    """Whether no value is NaN or infinite: their sum is finite (one reduction, no temporary).

    A sum overflowing to infinity only sends the values through the exact filter."""
    return bool(np.isfinite(np.add.reduce(values, dtype=np.float64)))


def _provenance(band: BandSource, mosaicked: Any, counted: np.ndarray) -> SceneProvenance:
    found = dominant(mosaicked.values[band.name], mosaicked.tile_of, counted)
    if found is None:
        return no_provenance("no pixel of the AOI is counted in this interval")
    tile: Tile = mosaicked.tiles[found.tile]
    location = tile.assets[band.asset]
    header = (tile.header_sizes or {}).get(band.asset)
    try:
        tags = read_tags(location, header)
    except Exception as exc:  # reported with the interval's provenance, never fatal
        return replace(
            no_provenance(f"cannot read the header of {location}: {exc}"),
            value=found.value,
            share=found.share,
            item=tile.id,
            tile_id=tile.tile_id,
        )
    return resolve_scene(tags, band.index, found, tile.id, tile.tile_id)


def _engine_name(program: Program) -> str:
    return str(getattr(program, "engine", "expression"))


def _run_tasks(
    shared: _Shared, plans: list[tuple[TimeInterval, list[Tile]]], scheduler: Any
) -> list[IntervalResult]:
    import dask

    if not plans:
        return []
    if scheduler is None or scheduler in LOCAL_SCHEDULERS:
        from eoaccess.stats.evalscript import V8Pool

        pool = V8Pool()  # V8 contexts stay warm per thread for the whole run
        try:
            shared_node = dask.delayed(shared, traverse=False)
            tasks = [
                dask.delayed(_interval_task, pure=False)(shared_node, interval, tiles, pool)
                for interval, tiles in plans
            ]
            local = LOCAL_SCHEDULERS.get(scheduler or "threads", "threads")
            return list(dask.compute(*tasks, scheduler=local))
        finally:
            pool.close()
    return _run_distributed(shared, plans, scheduler)


def _run_distributed(
    shared: _Shared, plans: list[tuple[TimeInterval, list[Tile]]], scheduler: Any
) -> list[IntervalResult]:
    """Run the tasks on an existing Dask distributed cluster (address or Client)."""
    from distributed import Client

    client = scheduler if isinstance(scheduler, Client) else None
    if client is None:
        try:
            client = Client(str(scheduler), set_as_default=False, timeout="10s")
        except OSError as exc:
            raise EOAccessError(f"cannot reach the Dask scheduler at {scheduler}: {exc}") from None
    try:
        [shared_future] = client.scatter([shared], broadcast=True)
        futures = [
            client.submit(_interval_task, shared_future, interval, tiles, None, pure=False)
            for interval, tiles in plans
        ]
        return list(client.gather(futures))
    finally:
        if client is not scheduler:
            client.close()


def compute(
    tiles: Sequence[Tile],
    spec: StatsSpec,
    bands: Mapping[str, BandSource],
    *,
    reader: RasterReader | None = None,
    scheduler: Any = None,
) -> StatsResult:
    """Run ``spec`` over ``tiles`` (already selected by collection, time and AOI).

    ``bands`` maps the collection's band names to their files; ``scheduler`` is None for local
    threads, or a Dask distributed scheduler address or ``Client``.
    """
    reader = reader or RasterioReader()
    needed = list(
        dict.fromkeys([*spec.program.bands, *([spec.provenance] if spec.provenance else [])])
    )
    unknown = [b for b in needed if b not in bands]
    if unknown:
        raise InvalidInputError(
            f"unknown band(s) {', '.join(unknown)}; the collection has "
            f"{', '.join(sorted(bands)) or 'no bands'}"
        )
    chosen = {b: bands[b] for b in needed}
    assets = list(dict.fromkeys(s.asset for s in chosen.values()))
    intervals = spec.intervals()
    kept = [
        t
        for t in tiles
        if spec.max_cloud_cover is None
        or t.cloud_cover is None
        or t.cloud_cover <= spec.max_cloud_cover
    ]
    kept = [t for t in kept if intervals and intervals[0].start <= t.datetime < intervals[-1].end]
    kept = _with_grids(kept, assets, reader)
    engine = _engine_name(spec.program)
    if not kept and spec.grid.crs is None:
        return StatsResult((), None, 0, tuple(spec.program.outputs), engine)
    grid, geometry = resolve_grid(spec, kept, assets, reader)
    cover = coverage(grid, geometry)
    maps: dict[Grid, PixelMap] = {}
    for tile in kept:
        for asset in assets:
            if tile.grids[asset] not in maps:
                maps[tile.grids[asset]] = pixel_map(cover, tile.grids[asset])
    if maps and all(m.empty for m in maps.values()):
        raise InvalidInputError(
            f"the AOI lies outside the data: none of the {len(kept)} tiles found covers a pixel "
            "of it"
        )
    shared = _Shared(
        cover,
        maps,
        chosen,
        spec.program,
        spec.calculations,
        chosen.get(spec.provenance) if spec.provenance else None,
        spec.mosaicking_order,
        reader,
    )
    plans = []
    for interval in intervals:
        inside = [t for t in kept if interval.contains(t.datetime)]
        if inside:
            plans.append((interval, inside))
    results = _run_tasks(shared, plans, scheduler)
    return StatsResult(tuple(results), grid, cover.count, tuple(spec.program.outputs), engine)
