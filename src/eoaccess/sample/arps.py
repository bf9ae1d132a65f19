"""Sample Planet ARPS (Analysis-Ready PlanetScope) collection, as Sentinel Hub BYOC serves it.

Seed 004 follows a month (November 2023) of daily ARPS tiles over San Francisco: NDWI statistics
with the cloud mask, the median of the ``scene_mask`` provenance band, and a header-only Range
read of each QA GeoTIFF to map scene indices to PlanetScope scene ids and acquisition times.

Layout (paths relative to the product directory, which plays the BYOC bucket)::

    collection.json                     BYOC collection (bands -> file and band index)
    tiles.json                          {"data": [BYOC tile, ...]}, path "<grid>/<day>/(BAND).tif"
    32610_536_4168/2023-11-02/
        analysis_ready_ps_sr.tif        COG, int16 blue green red nir, reflectance x 10000, nodata 0
        analysis_ready_ps_qa.tif        COG, uint16 cloud_mask (1 clear), scene_mask (0 none),
                                        GDAL tags SCENE_IDS[LAYER_2_VALUE], PERCENTAGE_CLEAR, ...

Tiles are 3 m pixels in UTM zone 10N (EPSG:32610) on the 24 km grid cell ``32610_536_4168``
(the ``large`` size is that whole cell; smaller sizes are windows of it around the seed's AOI).
Days without a tile have no folder. ``headerSize`` in ``tiles.json`` is :func:`header_size`.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import rasterio
from shapely import box
from shapely.geometry import MultiPolygon, mapping
from shapely.geometry.base import BaseGeometry
from shapely.geometry.polygon import orient

from eoaccess._progress import Progress
from eoaccess.sample._arps_days import NONE_VALUE, DayPlan, Rendered, plan_month, render_day
from eoaccess.sample._arps_tiff import header_size, s3_etag
from eoaccess.sample._arps_world import EPSG, RESOLUTION, Window, build_landscape, to_lonlat, to_utm
from eoaccess.sample._common import ProductSummary, Size, rng_for, tree_size

__all__ = ["BANDS", "QA_FILE", "SR_FILE", "generate", "header_size"]

PRODUCT = "arps"
SOURCE_ID = "PS_ARD_SR_DAILY"  # the Subscriptions API source of daily ARPS
SR_FILE = "analysis_ready_ps_sr"  # the (BAND) placeholder values of the BYOC tile path
QA_FILE = "analysis_ready_ps_qa"
SR_BANDS = ("blue", "green", "red", "nir")
QA_BANDS = ("cloud_mask", "scene_mask")
# Evalscript band name -> (file, 1-based band index, bit depth, sample format, nodata).
BANDS: dict[str, tuple[str, int, int, str, int | None]] = {
    **{name: (SR_FILE, i + 1, 16, "INT", 0) for i, name in enumerate(SR_BANDS)},
    "cloud_mask": (QA_FILE, 1, 16, "UINT", None),
    "scene_mask": (QA_FILE, 2, 16, "UINT", None),
}
PIPELINE_VERSION = "1.0.0"
RUN_TYPE = "backfill"
MONTH = date(2023, 11, 1)  # seed 004: start_date 2023-11-01, end_date 2023-12-01
AOI = (-122.44, 37.75, -122.39, 37.79)  # seed 004's sample_aoi (lon/lat)

# The 24 km ARPS grid cell holding the AOI (corner easting/northing in metres, EPSG:32610).
GRID_WEST, GRID_NORTH, GRID_SIZE = 536_000.0, 4_192_000.0, 24_000.0
GRID_ID = f"{EPSG}_{int(GRID_WEST) // 1000}_{int(GRID_NORTH - GRID_SIZE) // 1000}"


@dataclass(frozen=True)
class _SizeSpec:
    """Window and extent of the month for one archive size."""

    pixels: int
    """Tile width and height in 3 m pixels."""
    block: int
    """COG block size."""
    days: int
    """Days of the month covered, from the 1st."""
    centre: tuple[float, float] | None
    """Window centre (lon, lat); None for the whole grid cell."""


_SPECS: dict[Size, _SizeSpec] = {
    # Astride Mission Creek, inside the AOI: water and land in 192 m.
    "tiny": _SizeSpec(64, 32, 6, (-122.3925, 37.7749)),
    # The AOI's east edge: SoMa, Mission Creek, the Bay and the piers south of the Bay Bridge.
    "small": _SizeSpec(400, 256, 30, (-122.3895, 37.7770)),
    # The whole AOI and the Bay east of it, Mission Bay to the Ferry Building.
    "default": _SizeSpec(1800, 256, 30, (-122.4105, 37.7700)),
    # The whole 24 km grid cell: Pacific, Golden Gate, Marin, San Francisco, the Bay, Alameda.
    "large": _SizeSpec(8000, 512, 30, None),
}


def _window(spec: _SizeSpec) -> Window:
    """The size's pixel window, snapped to the grid cell's 3 m lattice."""
    if spec.centre is None:
        return Window(GRID_WEST, GRID_NORTH, spec.pixels, spec.pixels)
    x, y = to_utm(*spec.centre)
    half = spec.pixels * RESOLUTION / 2
    west = GRID_WEST + round((x - half - GRID_WEST) / RESOLUTION) * RESOLUTION
    north = GRID_NORTH - round((GRID_NORTH - y - half) / RESOLUTION) * RESOLUTION
    return Window(west, north, spec.pixels, spec.pixels)


def _iso(when: datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


def _listing(values: list[tuple[str, int]]) -> str:
    """ARPS's per-scene tag form: ``value[scene index]`` lines, then the no-scene index."""
    return "\n".join([f"{text}[{index}]" for text, index in values] + [f"None[{NONE_VALUE}]"])


def _qa_tags(plan: DayPlan, rendered: Rendered) -> dict[str, str]:
    """The GDAL metadata of the QA GeoTIFF, in the form seed 004 reads back from the header."""
    present = set(np.unique(rendered.qa[1]).tolist()) - {NONE_VALUE}
    scenes = sorted((s for s in plan.scenes if s.value in present), key=lambda s: s.value)
    ids = _listing([(f"PSScene/{s.scene_id}", s.value) for s in scenes])
    return {
        "CREATED": _iso(plan.created),
        "PERCENTAGE_CLEAR": f"{rendered.percentage_clear:.2f}",
        "PIPELINE_VERSION": PIPELINE_VERSION,
        "PS_SCENE_IDS[LAYER_2_VALUE]": ids,
        "RUN_TYPE": RUN_TYPE,
        "SCENE_IDS[LAYER_2_VALUE]": ids,
        "SCENE_SOLAR_AZIMUTH[LAYER_2_VALUE]": _listing(
            [(f"{s.sun_azimuth:.1f}", s.value) for s in scenes]
        ),
        "SCENE_SOLAR_ELEVATION[LAYER_2_VALUE]": _listing(
            [(f"{s.sun_elevation:.1f}", s.value) for s in scenes]
        ),
    }


def _write_cog(
    path: Path,
    data: np.ndarray,
    window: Window,
    block: int,
    descriptions: tuple[str, ...],
    nodata: int | None,
    resampling: str,
    tags: dict[str, str] | None = None,
) -> None:
    """Write a LZW cloud-optimized GeoTIFF: every IFD and tag precedes the image data."""
    profile: dict[str, Any] = {
        "driver": "COG",
        "width": window.width,
        "height": window.height,
        "count": data.shape[0],
        "dtype": data.dtype.name,
        "crs": f"EPSG:{EPSG}",
        "transform": window.transform,
        "nodata": nodata,
        "compress": "LZW",
        "predictor": "YES",
        "blocksize": block,
        "overview_resampling": resampling,
        "num_threads": "ALL_CPUS",  # GDAL writes the compressed blocks in order: same bytes
    }
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(data)
        for i, name in enumerate(descriptions, start=1):
            dst.set_band_description(i, name)
        if tags:
            dst.update_tags(**tags)


def _crs_member() -> dict[str, Any]:
    return {"type": "name", "properties": {"name": f"urn:ogc:def:crs:EPSG::{EPSG}"}}


def _geojson(geometry: BaseGeometry, multi: bool) -> dict[str, Any]:
    """GeoJSON in the tile's CRS (counter-clockwise shells, centimetre coordinates), as BYOC returns."""
    polygons = list(getattr(geometry, "geoms", [geometry]))
    shapes = [orient(p, 1.0) for p in polygons if not p.is_empty]
    shape = MultiPolygon(shapes) if multi else shapes[0]
    rounded = json.loads(json.dumps(mapping(shape)), parse_float=lambda s: round(float(s), 2))
    return {"type": rounded["type"], "crs": _crs_member(), "coordinates": rounded["coordinates"]}


def _coarsest_resolution(path: Path) -> float:
    """Metres per pixel of the file's lowest-resolution overview (BYOC's ``maxMetersPerPixel``)."""
    with rasterio.open(path) as src:
        return RESOLUTION * max(src.overviews(1), default=1)


def _tile_json(
    plan: DayPlan, window: Window, tile_id: str, folder: str, files: dict[str, Path]
) -> dict[str, Any]:
    """The BYOC tile object Sentinel Hub returns for an ingested ARPS tile."""
    return {
        "id": tile_id,
        "path": f"{folder}/(BAND).tif",
        "status": "INGESTED",
        # ARPS tiles are dated by day; the precise time is in the QA tags (seed 004's reason to read them).
        "sensingTime": f"{plan.day.isoformat()}T00:00:00Z",
        "created": _iso(plan.created + timedelta(minutes=7)),
        "tileGeometry": _geojson(box(*window.bounds), multi=False),
        "coverGeometry": _geojson(plan.coverage, multi=True),
        "additionalData": {
            "filesMetadata": {
                name: {"headerSize": header_size(path), "etag": s3_etag(path)}
                for name, path in sorted(files.items())
            },
            "hasAddedPoints": False,
            "minMetersPerPixel": RESOLUTION,
            "maxMetersPerPixel": _coarsest_resolution(files[SR_FILE]),
        },
    }


def _collection_json(
    collection_id: str, window: Window, plans: list[DayPlan], coarsest: float
) -> dict[str, Any]:
    """The BYOC collection: band names of the evalscripts mapped to files and band indices."""
    bands: dict[str, Any] = {}
    for name, (source, index, bits, sample_format, nodata) in BANDS.items():
        band: dict[str, Any] = {
            "source": source,
            "bandIndex": index,
            "bitDepth": bits,
            "sampleFormat": sample_format,
        }
        if nodata is not None:
            band["noData"] = nodata
        bands[name] = band
    west, south, east, north = window.bounds
    ring = [
        to_lonlat(x, y) for x, y in ((west, south), (east, south), (east, north), (west, north))
    ]
    ring = [(round(lon, 6), round(lat, 6)) for lon, lat in ring]
    return {
        "id": collection_id,
        "name": f"Analysis-Ready PlanetScope {SOURCE_ID} - San Francisco Bay (sample)",
        "s3Bucket": "eoaccess-sample-arps",
        "isConfigured": True,
        "created": _iso(plans[0].created - timedelta(hours=1)),
        "requiresMetadataUpdate": False,
        "additionalData": {
            "bands": bands,
            # Five times the coarsest overview, but never below 500 m (Sentinel Hub's rule).
            "maxMetersPerPixel": max(500.0, 5 * coarsest),
            "extent": {"type": "Polygon", "coordinates": [[*map(list, ring), list(ring[0])]]},
            "hasSensingTimes": "YES",
            "fromSensingTime": f"{plans[0].day.isoformat()}T00:00:00Z",
            "toSensingTime": f"{plans[-1].day.isoformat()}T00:00:00Z",
        },
    }


def _uuid(rng: np.random.Generator) -> str:
    return str(uuid.UUID(bytes=rng.bytes(16), version=4))


def _write_json(path: Path, obj: Any) -> None:
    path.write_text(json.dumps(obj, indent=2) + "\n", encoding="utf-8")


def generate(root: Path, size: Size, seed: int, progress: Progress) -> ProductSummary:
    """Write a month of daily ARPS tiles (SR COG + QA COG per day) and their BYOC JSON under root."""
    spec = _SPECS[size]
    window = _window(spec)
    # The month's history is drawn whole, so tiny's days are the first days of small's month.
    month = [MONTH + timedelta(days=i) for i in range(30)]
    days = month[: spec.days]
    plans = plan_month(seed, window, month)[: spec.days]
    present = [p for p in plans if p is not None]
    ids = rng_for(seed, PRODUCT, "ids")
    collection_id = _uuid(ids)

    with progress.task(f"{PRODUCT}: surface of the {spec.pixels} px window", total=1) as task:
        land = build_landscape(window, int(rng_for(seed, PRODUCT, "world").integers(1, 2**62)))
        task.advance()
    tiles: list[dict[str, Any]] = []
    headers: list[int] = []
    with progress.task(f"{PRODUCT}: daily tiles", total=len(present)) as task:
        for plan in present:
            rendered = render_day(plan, window, land, seed)
            folder = f"{GRID_ID}/{plan.day.isoformat()}"
            (root / folder).mkdir(parents=True)
            files = {
                SR_FILE: root / folder / f"{SR_FILE}.tif",
                QA_FILE: root / folder / f"{QA_FILE}.tif",
            }
            _write_cog(files[SR_FILE], rendered.sr, window, spec.block, SR_BANDS, 0, "average")
            _write_cog(
                files[QA_FILE],
                rendered.qa,
                window,
                spec.block,
                QA_BANDS,
                None,
                "nearest",
                _qa_tags(plan, rendered),
            )
            tile = _tile_json(plan, window, _uuid(ids), folder, files)
            headers.append(tile["additionalData"]["filesMetadata"][QA_FILE]["headerSize"])
            tiles.append(tile)
            task.advance()
    coarsest = max(t["additionalData"]["maxMetersPerPixel"] for t in tiles)
    _write_json(
        root / "collection.json", _collection_json(collection_id, window, present, coarsest)
    )
    _write_json(root / "tiles.json", {"data": tiles})

    files_count, total = tree_size(root)
    skies = [p.sky for p in present]
    km = spec.pixels * RESOLUTION / 1000
    return ProductSummary(
        product=PRODUCT,
        root=root,
        files=files_count,
        bytes=total,
        collections=(collection_id,),
        items=len(tiles),
        notes=(
            f"BYOC collection {collection_id} ({SOURCE_ID}), grid cell {GRID_ID}",
            f"{spec.pixels}x{spec.pixels} px of 3 m ({km:g} km) in EPSG:{EPSG}, COG blocks {spec.block}",
            f"{days[0]}..{days[-1]}: {len(tiles)} daily tiles, {len(days) - len(tiles)} days without; "
            f"{skies.count('clear')} clear, {skies.count('partial')} partly cloudy, "
            f"{skies.count('overcast')} overcast",
            f"QA header sizes {min(headers)}-{max(headers)} bytes (tiles.json headerSize)",
        ),
    )
