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


# Caches are keyed by the CRS's defining text (``crs.srs``, what it was made from), which is
# free to read; ``to_wkt()`` costs ~30 µs, a Transformer ~150 µs: too much per footprint when a
# catalog of thousands of features is converted at once.
@lru_cache(maxsize=64)
def _transformer(source: str) -> Transformer:
    crs = CRS.from_user_input(source)
    return Transformer.from_crs(crs, lonlat_crs(crs), always_xy=True)


@lru_cache(maxsize=64)
def _poles(source: str) -> tuple[tuple[int, float, float], ...]:
    """``(sign, x, y)`` of the north (+1) and south (-1) pole in a projected CRS, where finite."""
    crs = CRS.from_user_input(source)
    back = Transformer.from_crs(lonlat_crs(crs), crs, always_xy=True)
    poles = []
    for sign in (1, -1):
        x, y = back.transform(0.0, 90.0 * sign)
        if math.isfinite(x) and math.isfinite(y):
            poles.append((sign, float(x), float(y)))
    return tuple(poles)


def _key(crs: CRS) -> str:
    return crs.srs or crs.to_wkt()


def to_lonlat(crs: CRS, x: Any, y: Any) -> tuple[np.ndarray, np.ndarray]:
    """Transform coordinates of ``crs`` to (lon, lat) degrees on the same body."""
    lon, lat = _transformer(_key(crs)).transform(np.asarray(x, float), np.asarray(y, float))
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


def densify_rings(
    rings: Sequence[Sequence[Sequence[float]]], points_per_edge: int = _DENSIFY
) -> list[np.ndarray]:
    """:func:`densify_ring` of many rings; closed rings of one length in one array operation
    (the same arithmetic, so the same points)."""
    out: list[np.ndarray | None] = [None] * len(rings)
    by_length: dict[int, list[int]] = {}
    arrays = [np.asarray(ring, float) for ring in rings]
    for index, pts in enumerate(arrays):
        if pts.ndim == 2 and len(pts) >= 2 and np.array_equal(pts[0], pts[-1]):
            by_length.setdefault(len(pts), []).append(index)
        else:
            out[index] = densify_ring(rings[index], points_per_edge)
    steps = np.linspace(0.0, 1.0, points_per_edge, endpoint=False)
    for members in by_length.values():
        pts = np.stack([arrays[i] for i in members])
        a, b = pts[:, :-1, None, :], pts[:, 1:, None, :]
        edges = (a + (b - a) * steps[None, None, :, None]).reshape(len(members), -1, 2)
        dense = np.concatenate([edges, pts[:, :1]], axis=1)
        for index, ring in zip(members, dense, strict=True):
            out[index] = ring
    return out  # type: ignore[return-value]


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
    return footprints_from_rings([ring], crs, points_per_edge)[0]


def footprints_from_rings(
    rings: Sequence[Sequence[Sequence[float]]], crs: CRS, points_per_edge: int = _DENSIFY
) -> list[Footprint]:
    """:func:`footprint_from_ring` of many rings in one CRS, computed together: one coordinate
    transformation and vectorised geometry for all (a footprint catalog of thousands of tiles
    converts in a fraction of the time). Raises ValueError for the first ring that fails."""
    if not rings:
        return []
    dense = densify_rings(rings, points_per_edge)
    sizes = np.fromiter((len(d) for d in dense), int, len(dense))
    stacked = np.concatenate(dense)
    lon, lat = to_lonlat(crs, stacked[:, 0], stacked[:, 1])
    cuts = np.cumsum(sizes)[:-1]
    finite = np.logical_and.reduceat(np.isfinite(lon) & np.isfinite(lat), np.r_[0, cuts])
    if not finite.all():
        raise ValueError("footprint does not transform to longitude/latitude")
    caps: list[int | None] = [None] * len(rings)
    if crs.is_projected:
        shapes = shapely.polygons(
            shapely.linearrings(stacked, indices=np.repeat(np.arange(len(sizes)), sizes))
        )
        for sign, x, y in _poles(_key(crs)):
            for index in np.flatnonzero(shapely.contains_xy(shapes, x, y)):
                caps[index] = caps[index] or sign
    lons, lats = np.split(lon, cuts), np.split(lat, cuts)
    plain = [i for i, cap in enumerate(caps) if cap is None]
    footprints: list[Footprint | None] = [None] * len(rings)
    for index, footprint in zip(
        plain,
        footprints_from_lonlat_rings([lons[i] for i in plain], [lats[i] for i in plain]),
        strict=True,
    ):
        footprints[index] = footprint
    for index, cap in enumerate(caps):
        if cap is not None:
            footprints[index] = _polar_cap(lats[index], cap)
    return footprints  # type: ignore[return-value]


def _enclosed_pole(polygon: shapely.Polygon, crs: CRS) -> int | None:
    """+1/-1 when the projected polygon contains the north/south pole of its body, else None."""
    for sign, x, y in _poles(_key(crs)):
        if shapely.contains_xy(polygon, x, y):
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


def _unwrap_many(lons: list[np.ndarray]) -> list[np.ndarray]:
    """:func:`unwrap_longitudes` of many rings; rings of one length in one array operation."""
    if len(lons) > 1 and len({lon.shape for lon in lons}) == 1 and lons[0].ndim == 1:
        lon = np.stack(lons)
        if lon.shape[1] >= 2:
            steps = np.diff(lon, axis=1)
            jumps = -360.0 * np.round(steps / 360.0)
            rest = lon[:, :1] + np.cumsum(steps + jumps, axis=1)
            return list(np.concatenate([lon[:, :1], rest], axis=1))
    return [unwrap_longitudes(lon) for lon in lons]


def footprint_from_lonlat_ring(lon: Sequence[float], lat: Sequence[float]) -> Footprint:
    """A lon/lat polygon from a ring of points, cut into pieces at the antimeridian."""
    return footprints_from_lonlat_rings([lon], [lat])[0]


def footprints_from_lonlat_rings(
    lons: Sequence[Sequence[float]], lats: Sequence[Sequence[float]]
) -> list[Footprint]:
    """:func:`footprint_from_lonlat_ring` of many rings. Rings that are valid polygons within
    ±180° after unwrapping (nearly all) are built, checked and oriented in vectorised calls;
    the others take the general path (repair, cut at the antimeridian)."""
    unwrapped = _unwrap_many([np.asarray(lon, float) for lon in lons])
    latitudes = [np.asarray(lat, float) for lat in lats]
    inside = [
        i
        for i, ulon in enumerate(unwrapped)
        if ulon.size >= 4 and ulon.min() >= -180 and ulon.max() <= 180
    ]
    results: list[Footprint | None] = [None] * len(unwrapped)
    if inside:
        coords = np.concatenate([np.column_stack([unwrapped[i], latitudes[i]]) for i in inside])
        sizes = np.fromiter((unwrapped[i].size for i in inside), int, len(inside))
        polygons = shapely.polygons(
            shapely.linearrings(coords, indices=np.repeat(np.arange(len(inside)), sizes))
        )
        good = shapely.is_valid(polygons) & (shapely.area(polygons) > 0)
        oriented = shapely.orient_polygons(polygons, exterior_cw=False)
        bounds = shapely.bounds(oriented)
        for position, index in enumerate(inside):
            if not good[position]:
                continue
            polygon = oriented[position]
            ring = np.asarray(polygon.exterior.coords).tolist()
            minx, miny, maxx, maxy = (float(v) for v in bounds[position])
            results[index] = Footprint(
                {"type": "Polygon", "coordinates": [ring]}, (minx, miny, maxx, maxy)
            )
    for index, done in enumerate(results):
        if done is None:
            polygon = shapely.Polygon(np.column_stack([unwrapped[index], latitudes[index]]))
            if not polygon.is_valid:
                polygon = shapely.make_valid(polygon)
            results[index] = _wrap(polygon)
    return results  # type: ignore[return-value]


def footprint_from_shape(shape: Any) -> Footprint:
    """A lon/lat footprint from a shapely geometry whose longitudes may exceed ±180°."""
    return _wrap(shape)


def _wrap(shape: Any) -> Footprint:
    """Cut a geometry in unwrapped longitudes into its pieces within -180..180."""
    minx, miny, maxx, maxy = shape.bounds
    if minx >= -180 and maxx <= 180:  # nothing to cut (most footprints): skip the overlays
        polygons = _polygons(shape)
        if not polygons:
            raise ValueError("empty footprint")
        single = polygons[0] if len(polygons) == 1 else shapely.MultiPolygon(polygons)
        return Footprint(_geojson(single), (minx, miny, maxx, maxy))
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
    """GeoJSON of a (Multi)Polygon with counter-clockwise outer rings; coordinates are read as
    arrays (``mapping`` iterates every point in Python, the cost of thousands of footprints)."""
    if isinstance(shape, shapely.Polygon):
        return {"type": "Polygon", "coordinates": _rings(shapely.geometry.polygon.orient(shape))}
    if isinstance(shape, shapely.MultiPolygon):
        parts = [_rings(shapely.geometry.polygon.orient(p)) for p in shape.geoms]
        return {"type": "MultiPolygon", "coordinates": parts}
    return shapely.geometry.mapping(shape)  # type: ignore[no-any-return]


def _rings(polygon: shapely.Polygon) -> list[Any]:
    rings = [polygon.exterior, *polygon.interiors]
    return [np.asarray(ring.coords).tolist() for ring in rings]


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
