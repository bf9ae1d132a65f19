"""Footprints in lon/lat: densified, split at the antimeridian, on the data's own body.

STAC wants geometries in longitude/latitude. For Earth that is WGS 84; for the Moon and other
bodies it is the body's own geographic CRS (the one under the data's projection), so a lunar
footprint stays in lunar degrees. Projected edges are densified before reprojection so straight
lines in the map keep their shape, rings are unwrapped and cut at ±180° so a footprint crossing
the antimeridian becomes a MultiPolygon, and a footprint around a pole becomes a polar cap.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np
import shapely
import shapely.affinity
import shapely.geometry
from pyproj import CRS, Transformer

EARTH_SEMI_MAJOR_M = 6378137.0
_DENSIFY = 16  # points per edge: sub-metre error for 100 km tiles, small JSON


@dataclass(frozen=True)
class Footprint:
    """A lon/lat geometry with its bbox (``west > east`` when it crosses the antimeridian)."""

    geometry: dict[str, Any]
    """GeoJSON Polygon or MultiPolygon in degrees."""
    bbox: tuple[float, float, float, float]
    """West, south, east, north in degrees."""


def parse_crs(value: Any) -> CRS:
    """A pyproj CRS from EPSG codes, ``EPSG:…`` text, WKT or PROJJSON (raises ValueError)."""
    try:
        return CRS.from_user_input(value)
    except Exception as exc:  # pyproj raises CRSError, TypeError for odd inputs
        raise ValueError(f"unknown CRS {str(value)[:80]!r}") from exc


def is_earth(crs: CRS) -> bool:
    """True when ``crs`` is on the Earth (so footprints are in WGS 84)."""
    ellipsoid = crs.ellipsoid
    return ellipsoid is None or abs(ellipsoid.semi_major_metre - EARTH_SEMI_MAJOR_M) < 50_000


def lonlat_crs(crs: CRS) -> CRS:
    """The geographic CRS footprints of ``crs`` are written in: WGS 84 on Earth, else the body's."""
    if is_earth(crs):
        return CRS.from_epsg(4326)
    geodetic = crs.geodetic_crs
    if geodetic is None:
        raise ValueError(f"CRS {crs.name!r} has no geographic base CRS")
    return geodetic


@lru_cache(maxsize=64)
def _transformer(source_wkt: str) -> Transformer:
    source = CRS.from_wkt(source_wkt)
    return Transformer.from_crs(source, lonlat_crs(source), always_xy=True)


def to_lonlat(crs: CRS, x: Any, y: Any) -> tuple[np.ndarray, np.ndarray]:
    """Transform coordinates of ``crs`` to (lon, lat) degrees on the same body."""
    lon, lat = _transformer(crs.to_wkt()).transform(np.asarray(x, float), np.asarray(y, float))
    return np.asarray(lon, float), np.asarray(lat, float)


def densify_ring(ring: Sequence[Sequence[float]], points_per_edge: int = _DENSIFY) -> np.ndarray:
    """Insert evenly spaced points on every edge of a closed ring (first == last)."""
    pts = np.asarray(ring, float)
    if len(pts) < 2 or not np.array_equal(pts[0], pts[-1]):
        pts = np.vstack([pts, pts[:1]])
    steps = np.linspace(0.0, 1.0, points_per_edge, endpoint=False)
    edges = [a + (b - a) * steps[:, None] for a, b in itertools.pairwise(pts)]
    dense = np.vstack([*edges, pts[:1]])
    return dense


def footprint_from_bounds(
    bounds: tuple[float, float, float, float], crs: CRS, points_per_edge: int = _DENSIFY
) -> Footprint:
    """The lon/lat footprint of a projected rectangle ``(minx, miny, maxx, maxy)`` of ``crs``."""
    minx, miny, maxx, maxy = bounds
    ring = [(minx, miny), (maxx, miny), (maxx, maxy), (minx, maxy), (minx, miny)]
    return footprint_from_ring(ring, crs, points_per_edge)


def footprint_from_ring(
    ring: Sequence[Sequence[float]], crs: CRS, points_per_edge: int = _DENSIFY
) -> Footprint:
    """The lon/lat footprint of a polygon ring given in ``crs``, densified first."""
    dense = densify_ring(ring, points_per_edge)
    lon, lat = to_lonlat(crs, dense[:, 0], dense[:, 1])
    if not (np.all(np.isfinite(lon)) and np.all(np.isfinite(lat))):
        raise ValueError("footprint does not transform to longitude/latitude")
    if crs.is_projected:
        pole = _enclosed_pole(shapely.Polygon(dense), crs)
        if pole is not None:
            return _polar_cap(lat, pole)
    return footprint_from_lonlat_ring(lon, lat)


def _enclosed_pole(polygon: shapely.Polygon, crs: CRS) -> int | None:
    """+1/-1 when the projected polygon contains the north/south pole of its body, else None."""
    back = Transformer.from_crs(lonlat_crs(crs), crs, always_xy=True)
    for sign in (1, -1):
        x, y = back.transform(0.0, 90.0 * sign)
        if math.isfinite(x) and math.isfinite(y) and polygon.contains(shapely.Point(x, y)):
            return sign
    return None


def _polar_cap(lat: np.ndarray, pole: int) -> Footprint:
    edge = float(lat.min()) if pole > 0 else float(lat.max())
    south, north = (edge, 90.0) if pole > 0 else (-90.0, edge)
    box = shapely.box(-180.0, south, 180.0, north)
    return Footprint(_geojson(box), (-180.0, south, 180.0, north))


def unwrap_longitudes(lon: np.ndarray) -> np.ndarray:
    """Longitudes made continuous (steps under 180°) by adding multiples of 360°."""
    lon = np.asarray(lon, float)
    if lon.size < 2:
        return lon.copy()
    steps = np.diff(lon)
    jumps = -360.0 * np.round(steps / 360.0)
    return np.concatenate([[lon[0]], lon[0] + np.cumsum(steps + jumps)])


def footprint_from_lonlat_ring(lon: Sequence[float], lat: Sequence[float]) -> Footprint:
    """A lon/lat polygon from a ring of points, cut into pieces at the antimeridian."""
    ulon = unwrap_longitudes(np.asarray(lon, float))
    polygon = shapely.Polygon(np.column_stack([ulon, np.asarray(lat, float)]))
    if not polygon.is_valid:
        polygon = shapely.make_valid(polygon)
    return _wrap(polygon)


def footprint_from_shape(shape: Any) -> Footprint:
    """A lon/lat footprint from a shapely geometry whose longitudes may exceed ±180°."""
    return _wrap(shape)


def _wrap(shape: Any) -> Footprint:
    """Cut a geometry in unwrapped longitudes into its pieces within -180..180."""
    minx, miny, maxx, maxy = shape.bounds
    pieces = []
    for shift in range(math.floor((minx + 180) / 360), math.floor((maxx + 180) / 360) + 1):
        window = shapely.box(-180 + 360 * shift, -90, 180 + 360 * shift, 90)
        part = shapely.intersection(shape, window)
        if not part.is_empty:
            pieces.append(shapely.affinity.translate(part, xoff=-360 * shift))
    polygons = [g for piece in pieces for g in _polygons(piece)]
    if not polygons:
        raise ValueError("empty footprint")
    geometry = polygons[0] if len(polygons) == 1 else shapely.MultiPolygon(polygons)
    if maxx - minx >= 360:
        west, east = -180.0, 180.0
    else:
        west = (minx + 180) % 360 - 180
        east = (maxx + 180) % 360 - 180
        if east == -180 and maxx > minx:
            east = 180.0
        if west == 180:
            west = -180.0
    return Footprint(_geojson(geometry), (west, miny, east, maxy))


def _polygons(shape: Any) -> list[shapely.Polygon]:
    if isinstance(shape, shapely.Polygon):
        return [shape] if shape.area > 0 else []
    if hasattr(shape, "geoms"):
        return [p for g in shape.geoms for p in _polygons(g)]
    return []


def _geojson(shape: Any) -> dict[str, Any]:
    shape = shapely.geometry.polygon.orient(shape) if isinstance(shape, shapely.Polygon) else shape
    if isinstance(shape, shapely.MultiPolygon):
        shape = shapely.MultiPolygon([shapely.geometry.polygon.orient(p) for p in shape.geoms])
    return shapely.geometry.mapping(shape)  # type: ignore[no-any-return]


def footprint_from_tracks(
    tracks: Sequence[tuple[np.ndarray, np.ndarray]], pieces: int = 12, margin: float = 5e-4
) -> Footprint:
    """The swath of parallel along-track point sets (lon, lat), e.g. the beams of one granule.

    Every track is cut into ``pieces`` consecutive runs; the k-th runs of all tracks are hulled
    together, so the footprint spans the beams and follows a curved track instead of being its
    convex hull. Longitudes are unwrapped (all tracks in one frame) so a swath over the
    antimeridian is cut there. The swath is widened by ``margin`` degrees (~50 m) so it also
    holds the points between the ones sampled and the width of the laser footprints.
    """
    runs: dict[int, list[np.ndarray]] = {}
    reference: float | None = None
    for lon, lat in tracks:
        lon = np.asarray(lon, float)
        lat = np.asarray(lat, float)
        good = np.isfinite(lon) & np.isfinite(lat)
        lon, lat = lon[good], lat[good]
        if lon.size == 0:
            continue
        ulon = unwrap_longitudes(lon)
        if reference is None:
            reference = float(ulon[0])
        ulon = ulon + 360.0 * round((reference - ulon[0]) / 360.0)
        # Runs share their end points, so the hulls of neighbouring runs touch and merge.
        bounds = np.linspace(0, lon.size - 1, pieces + 1).round().astype(int)
        for k, (start, stop) in enumerate(itertools.pairwise(bounds)):
            runs.setdefault(k, []).append(
                np.column_stack([ulon[start : stop + 1], lat[start : stop + 1]])
            )
    if not runs:
        raise ValueError("no valid track coordinates")
    hulls = [shapely.MultiPoint(np.vstack(parts)).convex_hull for parts in runs.values()]
    swath = shapely.union_all(hulls).buffer(margin, quad_segs=2)
    return _wrap(swath.simplify(margin / 10))
