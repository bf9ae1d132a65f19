"""Deterministic synthetic STAC items with realistic footprints, for store tests and benchmarks.

Four collections shaped like real ones: Sentinel-2-like 110 km tiles and Landsat-like 185 km
scenes (rotated quadrilaterals along the orbit, some split at the antimeridian into a
MultiPolygon with a bbox whose west > east), wide MODIS-like swaths, and ITS_LIVE-like polar
mosaics with ``start_datetime``/``end_datetime`` ranges, some of them caps around a pole.
Properties carry common STAC fields (``gsd``, ``eo:cloud_cover`` — sometimes missing —,
``platform``, ``instruments``, ``view:off_nadir``); asset hrefs are archive-relative.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

_START = datetime(2015, 1, 1, tzinfo=UTC)
_SPAN_SECONDS = 10 * 365 * 86_400


@dataclass(frozen=True)
class _Kind:
    """How one synthetic collection's items look."""

    collection: str
    """Collection id."""
    width_km: float
    """Footprint size across track."""
    height_km: float
    """Footprint size along track."""
    gsd: float
    """Ground sample distance in metres."""
    platforms: tuple[str, ...]
    """Platform names to pick from."""
    instrument: str
    """The one instrument."""
    weight: int
    """Relative share of the items."""
    polar: bool = False
    """Mosaics at high latitude with a time range instead of an instant."""


KINDS: tuple[_Kind, ...] = (
    _Kind("sentinel-2-l2a", 110, 110, 10, ("sentinel-2a", "sentinel-2b"), "msi", 5),
    _Kind("landsat-c2-l2", 185, 180, 30, ("landsat-8", "landsat-9"), "oli", 3),
    _Kind("modis-swath", 2330, 2030, 500, ("terra", "aqua"), "modis", 1),
    _Kind("its-live-mosaic", 400, 400, 120, ("multi",), "mixed", 1, polar=True),
)


def synthetic_collections() -> list[dict[str, Any]]:
    """The STAC Collections of :func:`synthetic_items`."""
    return [
        {
            "type": "Collection",
            "stac_version": "1.0.0",
            "id": kind.collection,
            "title": kind.collection.replace("-", " ").title(),
            "description": f"Synthetic {kind.collection} items for tests and benchmarks.",
            "license": "CC-BY-4.0",
            "extent": {
                "spatial": {"bbox": [[-180.0, -90.0, 180.0, 90.0]]},
                "temporal": {"interval": [["2015-01-01T00:00:00Z", "2024-12-31T23:59:59Z"]]},
            },
            "summaries": {"platform": list(kind.platforms), "gsd": [kind.gsd]},
            "links": [],
        }
        for kind in KINDS
    ]


def synthetic_items(count: int, seed: int = 0) -> Iterator[dict[str, Any]]:
    """``count`` STAC items over the collections of :func:`synthetic_collections`."""
    rng = random.Random(seed)
    weights = [k.weight for k in KINDS]
    for number in range(count):
        kind = rng.choices(KINDS, weights)[0]
        yield _item(kind, number, rng)


def _item(kind: _Kind, number: int, rng: random.Random) -> dict[str, Any]:
    # Polar mosaics at high latitude; the rest at land-ish latitudes, every tenth near ±180°.
    lat = rng.uniform(60, 89.5) * rng.choice((1, -1)) if kind.polar else rng.uniform(-70, 75)
    lon = (
        rng.uniform(177, 180) * rng.choice((1, -1)) if number % 10 == 3 else rng.uniform(-180, 180)
    )
    moment = _START + timedelta(seconds=rng.randrange(_SPAN_SECONDS))
    if number % 7 == 0:
        moment += timedelta(microseconds=rng.randrange(1, 1_000_000))
    geometry, bbox = _footprint(lon, lat, kind.width_km, kind.height_km, rng)
    properties: dict[str, Any] = {}
    if kind.polar:
        year_start = datetime(moment.year, 1, 1, tzinfo=UTC)
        properties["datetime"] = None
        properties["start_datetime"] = _text(year_start)
        properties["end_datetime"] = _text(
            year_start.replace(year=year_start.year + 1) - timedelta(seconds=1)
        )
    else:
        properties["datetime"] = _text(moment)
    properties["platform"] = rng.choice(kind.platforms)
    properties["instruments"] = [kind.instrument]
    properties["gsd"] = kind.gsd if kind.gsd != int(kind.gsd) else int(kind.gsd)
    if rng.random() > 0.07:
        properties["eo:cloud_cover"] = round(rng.uniform(0, 100), 2)
    if not kind.polar:
        properties["view:off_nadir"] = round(rng.uniform(0, 15), 3)
    stamp = moment.strftime("%Y%m%dT%H%M%S")
    item_id = f"{kind.collection[:2].upper()}_{stamp}_{number:07d}"
    prefix = f"{kind.collection}/{moment:%Y/%m}/{item_id}"
    return {
        "type": "Feature",
        "stac_version": "1.0.0",
        "stac_extensions": [],
        "id": item_id,
        "collection": kind.collection,
        "geometry": geometry,
        "bbox": bbox,
        "properties": properties,
        "assets": {
            "data": {
                "href": f"{prefix}/data.tif",
                "type": "image/tiff; application=geotiff; profile=cloud-optimized",
                "roles": ["data"],
            },
            "metadata": {"href": f"{prefix}/metadata.xml", "type": "application/xml"},
        },
        "links": [{"rel": "self", "href": f"{prefix}.json"}],
    }


def _text(moment: datetime) -> str:
    text = moment.strftime("%Y-%m-%dT%H:%M:%S")
    return text + (f".{moment.microsecond:06d}Z" if moment.microsecond else "Z")


def _footprint(
    lon: float, lat: float, width_km: float, height_km: float, rng: random.Random
) -> tuple[dict[str, Any], list[float]]:
    """A rotated quadrilateral around (lon, lat), split at the antimeridian, or a polar cap."""
    dlat = height_km / 2 / 110.57
    if abs(lat) + dlat >= 89.9:
        south, north = (lat - dlat, 90.0) if lat > 0 else (-90.0, lat + dlat)
        ring = [[-180.0, south], [180.0, south], [180.0, north], [-180.0, north], [-180.0, south]]
        cap = [[[round(x, 6), round(y, 6)] for x, y in ring]]
        return {"type": "Polygon", "coordinates": cap}, [-180.0, south, 180.0, north]
    angle = math.radians(rng.uniform(-14, 14))
    corners = []
    for u, v in ((-1, -1), (1, -1), (1, 1), (-1, 1)):
        east_km = u * width_km / 2 * math.cos(angle) - v * height_km / 2 * math.sin(angle)
        north_km = u * width_km / 2 * math.sin(angle) + v * height_km / 2 * math.cos(angle)
        y = max(-89.9, min(89.9, lat + north_km / 110.57))
        x = lon + east_km / (111.32 * max(0.05, math.cos(math.radians(y))))
        corners.append((round(x, 6), round(y, 6)))
    corners.append(corners[0])
    xs = [x for x, _ in corners]
    ys = [y for _, y in corners]
    if max(xs) > 180 or min(xs) < -180:
        return _split_at_antimeridian(corners)
    ring = [[x, y] for x, y in corners]
    return {"type": "Polygon", "coordinates": [ring]}, [min(xs), min(ys), max(xs), max(ys)]


def _split_at_antimeridian(
    corners: list[tuple[float, float]],
) -> tuple[dict[str, Any], list[float]]:
    """Cut a footprint that runs past ±180° into its two sides (RFC 7946 section 3.1.9)."""
    import shapely
    import shapely.affinity

    beyond_east = max(x for x, _ in corners) > 180
    polygon = shapely.Polygon(corners)
    inside = polygon.intersection(shapely.box(-180, -90, 180, 90))
    beyond = shapely.box(180, -90, 540, 90) if beyond_east else shapely.box(-540, -90, -180, 90)
    wrapped = shapely.affinity.translate(
        polygon.intersection(beyond), xoff=-360.0 if beyond_east else 360.0
    )
    parts = [p for p in (inside, wrapped) if isinstance(p, shapely.Polygon) and p.area > 1e-6]
    rings = [
        [[[round(float(x), 6), round(float(y), 6)] for x, y in shapely.get_coordinates(p.exterior)]]
        for p in parts
    ]
    if len(parts) == 1:
        west, south, east, north = parts[0].bounds
        return {"type": "Polygon", "coordinates": rings[0]}, [
            round(float(v), 6) for v in (west, south, east, north)
        ]
    near_plus, near_minus = (inside, wrapped) if beyond_east else (wrapped, inside)
    bbox = [
        near_plus.bounds[0],
        min(p.bounds[1] for p in parts),
        near_minus.bounds[2],
        max(p.bounds[3] for p in parts),
    ]
    return {"type": "MultiPolygon", "coordinates": rings}, [round(float(v), 6) for v in bbox]
