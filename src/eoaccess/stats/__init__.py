"""Time-series zonal statistics: per-interval band math, masks, percentiles, histograms, provenance.

``stats(source, collections, aoi, datetime, interval="P1D", expression=…)`` (and ``eoaccess
stats``) computes, for every interval of the time range that has tiles, the statistics of a
band-math expression (or a Sentinel Hub evalscript) over the AOI's pixels, after mosaicking the
interval's tiles and applying the data mask and an optional ``mask`` expression. The server's
Statistical API runs the same engine (:func:`compute`) over its own catalog.

Modules: ``_intervals`` (ISO 8601 durations), ``_aoi`` (grid, AOI pixels, tile pixel maps),
``_mosaic`` (tiles per interval), ``_compute`` (statistics), ``_program`` (expressions),
``evalscript`` (V8 and its numpy fast path), ``provenance`` (scene ids from QA headers),
``_engine`` (Dask tasks), ``_sources`` (archive or STAC API), ``_output`` (tables and plots).
See docs/design/statistics.md.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from eoaccess.errors import InvalidInputError
from eoaccess.stats._aoi import Grid
from eoaccess.stats._bands import BandSource, band_sources
from eoaccess.stats._compute import (
    BandCalculation,
    BandStats,
    Calculations,
    HistogramSpec,
    parse_percentiles,
)
from eoaccess.stats._engine import (
    GridRequest,
    IntervalError,
    IntervalResult,
    StatsResult,
    StatsSpec,
    compute,
)
from eoaccess.stats._intervals import parse_duration, parse_last_interval, time_range
from eoaccess.stats._mosaic import RasterReader, parse_mosaicking_order
from eoaccess.stats._output import plot_series, to_frame, write_table
from eoaccess.stats._program import ExpressionProgram, Program
from eoaccess.stats._sources import (
    ItemSource,
    byoc_for,
    iter_tiles,
    open_source,
    outside_extent,
)
from eoaccess.stats.provenance import SceneProvenance

__all__ = [
    "BandSource",
    "BandStats",
    "Grid",
    "GridRequest",
    "IntervalError",
    "IntervalResult",
    "RasterReader",
    "SceneProvenance",
    "StatsResult",
    "StatsSpec",
    "band_sources",
    "compute",
    "compute_stats",
    "plot_series",
    "stats",
    "to_frame",
    "write_table",
]

LONLAT = "EPSG:4326"
_NUMBER = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"
_NUMBERS_TEXT = re.compile(rf"^\s*{_NUMBER}(?:\s*[,\s]\s*{_NUMBER})*\s*$")


def parse_aoi(aoi: Any, crs: str | None = None) -> tuple[Any, str]:
    """The AOI as a shapely geometry and its CRS: a bbox (``"W,S,E,N"`` or 4 numbers), GeoJSON
    (dict, text or file), WKT or a shapely geometry; lon/lat unless ``crs`` says otherwise."""
    import shapely

    from eoaccess.query import _to_shapely, parse_bbox, parse_bbox_numbers

    is_bbox = (isinstance(aoi, str) and _NUMBERS_TEXT.match(aoi)) or (
        isinstance(aoi, Sequence)
        and not isinstance(aoi, str)
        and len(aoi) == 4
        and all(isinstance(v, int | float) for v in aoi)
    )
    if is_bbox:
        if crs is None:
            west, south, east, north = parse_bbox(aoi)
            if west > east:
                raise InvalidInputError("an AOI crossing the antimeridian is not supported")
        else:
            west, south, east, north = parse_bbox_numbers(aoi)
        return shapely.box(west, south, east, north), crs or LONLAT
    geometry = _to_shapely(aoi)
    if geometry.is_empty or geometry.area == 0:
        raise InvalidInputError("the AOI must be a polygon (or a bbox) with an area")
    if not geometry.is_valid:
        geometry = shapely.make_valid(geometry)
    return geometry, crs or LONLAT


def _calculation(percentiles: Any, histogram: Any) -> Calculations:
    spec = None
    if histogram is not None:
        spec = HistogramSpec.from_json(histogram)
    return Calculations.everywhere(BandCalculation(parse_percentiles(percentiles), spec))


def _resolution(value: Any) -> tuple[float, float] | None:
    if value is None:
        return None
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value), float(value)
    try:
        x, y = (float(v) for v in value)
    except (TypeError, ValueError):
        raise InvalidInputError(f"resolution must be a number or (x, y), not {value!r}") from None
    return x, y


def _one_collection(collections: str | Sequence[str]) -> str:
    names = (
        [c.strip() for c in collections.split(",")]
        if isinstance(collections, str)
        else list(collections)
    )
    names = [n for n in names if n]
    if len(names) != 1:
        raise InvalidInputError(f"give exactly one collection, not {len(names)}")
    # Sentinel Hub names a BYOC collection byoc-<id>; the catalog knows it as <id>.
    return names[0].removeprefix("byoc-")


def _program(
    expression: str | None,
    mask: str | None,
    evalscript: str | Path | None,
    available: Mapping[str, BandSource],
) -> Program:
    if (expression is None) == (evalscript is None):
        raise InvalidInputError("give either an expression or an evalscript")
    if evalscript is not None:
        from eoaccess.stats.evalscript import compile_evalscript

        if mask is not None:
            raise InvalidInputError("--mask applies to expressions; an evalscript returns dataMask")
        source = evalscript
        if isinstance(evalscript, Path) or (
            isinstance(evalscript, str) and "\n" not in evalscript and Path(evalscript).is_file()
        ):
            try:
                source = Path(evalscript).read_text(encoding="utf-8")
            except OSError as exc:
                raise InvalidInputError(f"cannot read evalscript {evalscript}: {exc}") from None
        return compile_evalscript(str(source), set(available))
    assert expression is not None
    return ExpressionProgram.build(expression, mask, available)


def compute_stats(
    source: str | Path | ItemSource,
    collections: str | Sequence[str],
    aoi: Any,
    datetime: Any,
    interval: str = "P1D",
    expression: str | None = None,
    mask: str | None = None,
    percentiles: Any = (),
    histogram: Any = None,
    provenance: str | None = None,
    resolution: Any = None,
    crs: str | None = None,
    dask_scheduler: Any = None,
    *,
    evalscript: str | Path | None = None,
    last_interval: str | None = None,
    mosaicking_order: str | None = None,
    reader: RasterReader | None = None,
) -> StatsResult:
    """Like :func:`stats`, but the structured :class:`StatsResult` instead of a table.

    ``reader`` replaces rasterio for pixel reads (in-memory rasters in tests and benchmarks).
    """
    import shapely.geometry

    from eoaccess.query import parse_geometry

    collection = _one_collection(collections)
    geometry, aoi_crs = parse_aoi(aoi, crs)
    start, end = time_range(datetime)
    duration = parse_duration(interval)
    behaviour = parse_last_interval(last_interval)
    order = parse_mosaicking_order(mosaicking_order)
    calculations = _calculation(percentiles, histogram)
    opened = open_source(source) if isinstance(source, str | Path) else source
    try:
        described = opened.collection(collection)  # NotFoundError for a wrong name first
        lonlat = parse_geometry(geometry, crs=None if aoi_crs == LONLAT else aoi_crs)
        if outside_extent(described, shapely.geometry.shape(lonlat).bounds):
            raise InvalidInputError(f"the AOI lies outside the data of collection {collection}")
        items = opened.search(collection, lonlat, start, end)
        # Band names come from the items (from any item of the collection when none matched).
        first = None if items else opened.any_item(collection)
        described_items = items or ([first] if first else [])
        byoc = byoc_for(opened, collection, described_items)
        available = band_sources(described_items, byoc)
        if provenance is not None and provenance not in available:
            raise InvalidInputError(
                f"unknown provenance band {provenance!r}; the collection has "
                f"{', '.join(sorted(available))}"
            )
        program = _program(expression, mask, evalscript, available)
        spec = StatsSpec(
            aoi=geometry,
            aoi_crs=aoi_crs,
            start=start,
            end=end,
            interval=duration,
            last_interval=behaviour,
            program=program,
            calculations=calculations,
            grid=GridRequest(crs=crs, resolution=_resolution(resolution)),
            provenance=provenance,
            mosaicking_order=order,
        )
        tiles = list(iter_tiles(items, byoc))
        return compute(tiles, spec, available, reader=reader, scheduler=dask_scheduler)
    finally:
        if opened is not source:
            opened.close()


def stats(
    source: str | Path | ItemSource,
    collections: str | Sequence[str],
    aoi: Any,
    datetime: Any,
    interval: str = "P1D",
    expression: str | None = None,
    mask: str | None = None,
    percentiles: Any = (),
    histogram: Any = None,
    provenance: str | None = None,
    resolution: Any = None,
    crs: str | None = None,
    dask_scheduler: Any = None,
    *,
    evalscript: str | Path | None = None,
    last_interval: str | None = None,
    mosaicking_order: str | None = None,
) -> Any:
    """Per-interval statistics of band math over an AOI, as a pandas DataFrame.

    ``source``: an archive folder (its embedded catalog) or a STAC API URL of an eoaccess
    server. ``collections``: one collection id (``byoc-<id>`` accepted). ``aoi``: a lon/lat bbox
    or GeoJSON (in ``crs`` when given). ``datetime``: ``A/B``; intervals are ``[from, to)`` of
    the ISO 8601 duration ``interval`` (``last_interval``: SKIP, SHORTEN or EXTEND).
    ``expression`` over band names (``(green - nir) / (green + nir)``) or ``evalscript`` (a V3
    script or its file); ``mask`` selects the pixels counted (``cloud_mask == 1``); pixels
    without data never count. ``percentiles`` (0–100) and ``histogram`` (a bin count or
    ``{nBins|binWidth|bins, lowEdge, highEdge}``) are added per band. ``provenance`` names a
    band (ARPS ``scene_mask``) whose dominant value is mapped to its scene id and acquisition
    time. The grid is the data's own pixels unless ``crs``/``resolution`` say otherwise.
    Intervals run in parallel on Dask's local threads, or on the distributed cluster at
    ``dask_scheduler`` (an address or a ``Client``; ``"sync"`` runs them one by one).
    Intervals without any tile are left out; a failed interval has an ``error``.
    """
    return to_frame(
        compute_stats(
            source,
            collections,
            aoi,
            datetime,
            interval,
            expression,
            mask,
            percentiles,
            histogram,
            provenance,
            resolution,
            crs,
            dask_scheduler,
            evalscript=evalscript,
            last_interval=last_interval,
            mosaicking_order=mosaicking_order,
        )
    )


from eoaccess._callable import make_module_callable  # noqa: E402 - needs stats defined

make_module_callable(__name__, stats)
