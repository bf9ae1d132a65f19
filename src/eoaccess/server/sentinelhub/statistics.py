"""``POST /api/v1/statistics``: the Sentinel Hub Statistical API over the archive.

The request JSON (COMPAT.md) is translated into the same :class:`~eoaccess.stats.StatsSpec` that
``eoaccess stats`` builds, run by the same engine over the items of the store, and the result is
written in the Statistical API's shape: ``{status, data: [{interval, outputs: {id: {bands: {B0:
{stats, histogram}}}}} | {interval, error}]}`` with NaN as ``"NaN"``. Problems with the request —
a bad evalscript, interval, bounds or calculation, too many pixels, an AOI outside the data — are
400s with a ``description``; an interval whose computation fails is reported in place and makes
the status ``PARTIAL``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
import shapely
import shapely.geometry
from fastapi import APIRouter, Body
from starlette.requests import Request
from starlette.responses import Response

from eoaccess.errors import InvalidInputError
from eoaccess.query import parse_geometry, parse_instant
from eoaccess.server.sentinelhub._services import ShServices
from eoaccess.stats import GridRequest, StatsResult, StatsSpec, band_sources, compute
from eoaccess.stats._aoi import crs_of, reproject_geometry
from eoaccess.stats._compute import (
    BandCalculation,
    BandStats,
    Calculations,
    HistogramSpec,
    check_interpolation,
    parse_percentiles,
    percentile_key,
)
from eoaccess.stats._intervals import parse_duration, parse_last_interval
from eoaccess.stats._mosaic import parse_mosaicking_order
from eoaccess.stats._sources import iter_tiles, outside_extent, search_store
from eoaccess.stats.evalscript import compile_evalscript

DEFAULT_CRS = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
LONLAT = "EPSG:4326"


def _object(value: Any, where: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise InvalidInputError(f"{where} must be an object")
    return value


def _number(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise InvalidInputError(f"{where} must be a number, not {value!r}")
    return float(value)


def _time(value: Any, where: str) -> datetime:
    if not isinstance(value, str):
        raise InvalidInputError(f"{where} must be an RFC 3339 time, not {value!r}")
    return parse_instant(value)


@dataclass(frozen=True)
class Bounds:
    """``input.bounds``: the AOI and the box the output grid covers, in ``crs``."""

    crs: str
    geometry: Any
    """Shapely geometry of the AOI (the bbox when no geometry is given)."""
    bbox: tuple[float, float, float, float] | None


def parse_bounds(raw: Any) -> Bounds:
    bounds = _object(raw, "input.bounds")
    crs = (bounds.get("properties") or {}).get("crs", DEFAULT_CRS)
    if not isinstance(crs, str):
        raise InvalidInputError("input.bounds.properties.crs must be a CRS URI")
    crs = LONLAT if crs_of(crs).to_epsg() == 4326 or crs.endswith("CRS84") else crs
    bbox = bounds.get("bbox")
    geometry = bounds.get("geometry")
    box = None
    if bbox is not None:
        if not isinstance(bbox, list) or len(bbox) != 4:
            raise InvalidInputError("input.bounds.bbox must be [minX, minY, maxX, maxY]")
        west, south, east, north = (_number(v, "input.bounds.bbox value") for v in bbox)
        if not (east > west and north > south):
            raise InvalidInputError(f"input.bounds.bbox {bbox} is empty or reversed")
        box = (west, south, east, north)
    if geometry is not None:
        from eoaccess.query import _to_shapely

        shape = _to_shapely(_object(geometry, "input.bounds.geometry"))
        if shape.is_empty or shape.area == 0:
            raise InvalidInputError("input.bounds.geometry must be a polygon with an area")
        if box is not None:
            shape = shape.intersection(shapely.box(*box))
    elif box is not None:
        shape = shapely.box(*box)
    else:
        raise InvalidInputError("input.bounds needs a bbox or a geometry")
    return Bounds(crs, shape, box)


def _grid(aggregation: Mapping[str, Any], bounds: Bounds) -> GridRequest:
    sized = aggregation.get("width") is not None or aggregation.get("height") is not None
    resolved = aggregation.get("resx") is not None or aggregation.get("resy") is not None
    if sized == resolved:
        raise InvalidInputError("aggregation needs either width and height, or resx and resy")
    if sized:
        width, height = aggregation.get("width"), aggregation.get("height")
        if not all(
            isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in (width, height)
        ):
            raise InvalidInputError("aggregation width and height must be positive integers")
        return GridRequest(bounds.crs, size=(width, height), bounds=bounds.bbox)  # type: ignore[arg-type]
    resx = _number(aggregation.get("resx"), "aggregation.resx")
    resy = _number(aggregation.get("resy"), "aggregation.resy")
    if resx <= 0 or resy <= 0:
        raise InvalidInputError("aggregation resx and resy must be positive")
    return GridRequest(bounds.crs, resolution=(resx, resy), bounds=bounds.bbox)


def _band_calculations(output: Mapping[str, Any], where: str) -> dict[str, BandCalculation]:
    statistics = _object(output.get("statistics") or {}, f"{where}.statistics")
    histograms = _object(output.get("histograms") or {}, f"{where}.histograms")
    bands: dict[str, BandCalculation] = {}
    for band in {*statistics, *histograms}:
        percentiles: tuple[float, ...] = ()
        interpolation = "higher"
        if band in statistics:
            spec = _object(statistics[band], f"{where}.statistics.{band}")
            if spec.get("percentiles") is not None:
                wanted = _object(spec["percentiles"], f"{where}.statistics.{band}.percentiles")
                percentiles = parse_percentiles(wanted.get("k") or [])
                interpolation = check_interpolation(wanted.get("interpolation"))
        histogram = HistogramSpec.from_json(histograms[band]) if band in histograms else None
        bands[str(band)] = BandCalculation(percentiles, histogram, interpolation)
    return bands


def parse_calculations(raw: Any, outputs: Mapping[str, tuple[str, ...]]) -> Calculations:
    """``calculations`` per output (or ``default``) and band (or ``default``)."""
    if raw is None:
        return Calculations()
    by_output = {}
    for output_id, spec in _object(raw, "calculations").items():
        if output_id != "default" and output_id not in outputs:
            raise InvalidInputError(
                f"calculations name output {output_id!r}, which the evalscript does not declare "
                f"({', '.join(outputs)})"
            )
        bands = _band_calculations(
            _object(spec, f"calculations.{output_id}"), f"calculations.{output_id}"
        )
        known = {
            b for o in ([output_id] if output_id != "default" else outputs) for b in outputs[o]
        }
        unknown = [b for b in bands if b != "default" and b not in known]
        if unknown:
            raise InvalidInputError(
                f"calculations.{output_id} names band(s) {', '.join(unknown)} that the output lacks"
            )
        by_output[str(output_id)] = bands
    return Calculations(by_output)


@dataclass(frozen=True)
class DataInput:
    """``input.data[0]``."""

    collection: str
    """As the request names it (``byoc-<id>``)."""
    start: datetime | None
    end: datetime | None
    max_cloud_cover: float | None
    mosaicking_order: str


def parse_data(raw: Any) -> DataInput:
    if not isinstance(raw, list) or len(raw) != 1:
        raise InvalidInputError("input.data must list exactly one data collection (no data fusion)")
    data = _object(raw[0], "input.data[0]")
    kind = data.get("type")
    if not isinstance(kind, str) or not kind:
        raise InvalidInputError("input.data[0].type must name the collection (byoc-<id>)")
    filters = _object(data.get("dataFilter") or {}, "input.data[0].dataFilter")
    start = end = None
    if filters.get("timeRange") is not None:
        time_range = _object(filters["timeRange"], "dataFilter.timeRange")
        start = _time(time_range.get("from"), "dataFilter.timeRange.from")
        end = _time(time_range.get("to"), "dataFilter.timeRange.to")
    cover = filters.get("maxCloudCoverage")
    if cover is not None:
        cover = _number(cover, "dataFilter.maxCloudCoverage")
        if not 0 <= cover <= 100:
            raise InvalidInputError("dataFilter.maxCloudCoverage must be 0 to 100")
    order = parse_mosaicking_order(filters.get("mosaickingOrder"))
    return DataInput(kind, start, end, cover, order)


def _json_number(value: float) -> float | str:
    """The Statistical API writes non-finite statistics as strings."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    return value


def band_json(stats: BandStats) -> dict[str, Any]:
    values: dict[str, Any] = {
        "min": _json_number(stats.min),
        "max": _json_number(stats.max),
        "mean": _json_number(stats.mean),
        "stDev": _json_number(stats.st_dev),
        "sampleCount": stats.sample_count,
        "noDataCount": stats.no_data_count,
    }
    if stats.percentiles:
        values["percentiles"] = {
            percentile_key(k): _json_number(v) for k, v in stats.percentiles.items()
        }
    body: dict[str, Any] = {"stats": values}
    if stats.histogram is not None:
        body["histogram"] = {
            "bins": [
                {"lowEdge": low, "highEdge": high, "count": count}
                for low, high, count in stats.histogram.bins
            ],
            "overflow": stats.histogram.overflow,
            "underflow": stats.histogram.underflow,
        }
    return body


def response_json(result: StatsResult) -> dict[str, Any]:
    """The Statistical API's reply for a result."""
    data = []
    for interval in result.intervals:
        entry: dict[str, Any] = {"interval": interval.interval.to_json()}
        if interval.error is not None:
            entry["error"] = {"type": interval.error.type, "message": interval.error.message}
        else:
            entry["outputs"] = {
                output_id: {"bands": {band: band_json(s) for band, s in bands.items()}}
                for output_id, bands in interval.outputs.items()
            }
        data.append(entry)
    return {"status": result.status, "geometryPixelCount": result.pixel_count, "data": data}


def run_statistics(services: ShServices, body: Any) -> dict[str, Any]:
    """Answer one Statistical API request (the route is a thin wrapper around this)."""
    request = _object(body, "the request body")
    inputs = _object(request.get("input"), "input")
    bounds = parse_bounds(inputs.get("bounds"))
    data = parse_data(inputs.get("data"))
    aggregation = _object(request.get("aggregation"), "aggregation")
    time_range = _object(aggregation.get("timeRange"), "aggregation.timeRange")
    start = _time(time_range.get("from"), "aggregation.timeRange.from")
    end = _time(time_range.get("to"), "aggregation.timeRange.to")
    if end <= start:
        raise InvalidInputError("aggregation.timeRange must end after it starts")
    interval = _object(aggregation.get("aggregationInterval"), "aggregation.aggregationInterval")
    duration = parse_duration(str(interval.get("of", "")))
    last = parse_last_interval(interval.get("lastIntervalBehavior"))
    grid = _grid(aggregation, bounds)
    evalscript = aggregation.get("evalscript")
    if not isinstance(evalscript, str):
        raise InvalidInputError("aggregation.evalscript must be the evalscript text")

    collection = services.catalog_id(data.collection)
    lonlat = parse_geometry(reproject_geometry(bounds.geometry, bounds.crs, LONLAT))
    extent = services.store.get_collection(collection)
    if outside_extent(extent, shapely.geometry.shape(lonlat).bounds):
        raise InvalidInputError(
            f"the requested area lies outside the data of collection {data.collection}"
        )
    search_start = max(start, data.start) if data.start else start
    search_end = min(end, data.end) if data.end else end
    items = (
        search_store(services.store, collection, lonlat, search_start, search_end)
        if search_end > search_start
        else []
    )
    byoc = services.byoc(collection)
    # Band names come from the items (any item of the collection when none matched).
    first = None if items else services.first_item(collection)
    bands = band_sources(items or ([first] if first else []), byoc)
    program = compile_evalscript(evalscript, set(bands))
    calculations = parse_calculations(
        request.get("calculations"), {o.id: o.bands for o in program.outputs}
    )
    spec = StatsSpec(
        aoi=bounds.geometry,
        aoi_crs=bounds.crs,
        start=start,
        end=end,
        interval=duration,
        last_interval=last,
        program=program,
        calculations=calculations,
        grid=grid,
        mosaicking_order=data.mosaicking_order,
        max_cloud_cover=data.max_cloud_cover,
    )
    tiles = list(iter_tiles(items, byoc, services.location))
    return response_json(compute(tiles, spec, bands))


def statistics_router(services: ShServices) -> APIRouter:
    router = APIRouter(tags=["Sentinel Hub Statistical API"])

    @router.post("/api/v1/statistics", summary="Statistics of an evalscript over an AOI and time")
    def statistics(request: Request, body: Any = Body(None)) -> Response:  # noqa: B008
        services.authority.check(request)
        return Response(orjson.dumps(run_statistics(services, body)), media_type="application/json")

    return router
