"""ITS_LIVE tile geometry, names, CRS metadata and the GDAL-style footprint catalog writer.

ITS_LIVE cuts every projection (polar stereographic EPSG:3413/3031, UTM zones) into 100 km
tiles whose centres sit on multiples of 50 km; a datacube is named after its projection and
tile centre and stored under a 10°x10° directory derived from the centre's lon/lat. The
catalog ``catalog_v02.json`` is written by GDAL's GeoJSON driver, so this module reproduces its
formatting (one feature per line, ``{ "k": v }`` spacing, 17 significant digits, 6-decimal
coordinates) rather than ``json.dumps``.
"""

from __future__ import annotations

import functools
import itertools
import json
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from pyproj import CRS, Transformer

TILE_M = 100_000
"""Side of a datacube tile in metres."""
CELL_M = 120
"""Grid spacing of the v2 datacubes (the ``G0120`` in the names)."""
FULL_GRID = 833
"""Cells per side of a full 100 km cube (FORMATS.md §1)."""
DATACUBE_PREFIX = "datacubes/v2"
"""Directory of the cubes, relative to ``catalog_v02.json`` (as in the real bucket)."""
BUCKET_HTTP = "https://its-live-data.s3.amazonaws.com"
BUCKET_S3 = "s3://its-live-data"


def cube_dir(lon: float, lat: float) -> str:
    """The 10°x10° directory of a cube centre, e.g. ``N60W130`` (truncation toward zero)."""
    ns = "N" if lat >= 0 else "S"
    ew = "E" if lon >= 0 else "W"
    return f"{ns}{10 * math.trunc(abs(lat) / 10):02d}{ew}{10 * math.trunc(abs(lon) / 10):03d}"


def cube_name(epsg: int, mid_x: int, mid_y: int) -> str:
    """File name of the cube of one tile: ``ITS_LIVE_vel_EPSG3413_G0120_X-3250000_Y250000.zarr``."""
    return f"ITS_LIVE_vel_EPSG{epsg}_G{CELL_M:04d}_X{mid_x}_Y{mid_y}.zarr"


@functools.cache
def to_lonlat(epsg: int) -> Transformer:
    """Projected -> lon/lat transformer (always x/y order, cached per EPSG)."""
    return Transformer.from_crs(epsg, 4326, always_xy=True)


@functools.cache
def from_lonlat(epsg: int) -> Transformer:
    """Lon/lat -> projected transformer (always x/y order, cached per EPSG)."""
    return Transformer.from_crs(4326, epsg, always_xy=True)


def tile_ring(mid_x: int, mid_y: int) -> list[list[int]]:
    """The tile's closed 5-vertex ring in projected metres, in the catalog's vertex order."""
    h = TILE_M // 2
    x0, x1, y0, y1 = mid_x - h, mid_x + h, mid_y - h, mid_y + h
    return [[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]


def densified_ring(mid_x: int, mid_y: int) -> list[list[float]]:
    """The tile ring with five points per side (17 vertices), as the cube's ``proj_polygon``.

    The producer densifies the definition polygon before projecting it to lon/lat so that the
    ``geo_polygon`` follows the curved edges of the projected square.
    """
    ring = tile_ring(mid_x, mid_y)
    out: list[list[float]] = []
    for (ax, ay), (bx, by) in itertools.pairwise(ring):
        for frac in (0.0, 0.25, 0.5, 0.75):
            out.append([float(ax + frac * (bx - ax)), float(ay + frac * (by - ay))])
    out.append(list(out[0]))
    return out


def lonlat_ring(epsg: int, ring: Sequence[Sequence[float]]) -> list[list[float]]:
    """Transform a projected ring to lon/lat, rounded to the catalog's 6 decimals."""
    xs = np.array([p[0] for p in ring], dtype=np.float64)
    ys = np.array([p[1] for p in ring], dtype=np.float64)
    lon, lat = to_lonlat(epsg).transform(xs, ys)
    return [[round(float(a), 6), round(float(b), 6)] for a, b in zip(lon, lat, strict=True)]


def tile_center_lonlat(epsg: int, mid_x: int, mid_y: int) -> tuple[float, float]:
    """Lon/lat of a tile centre."""
    lon, lat = to_lonlat(epsg).transform(float(mid_x), float(mid_y))
    return float(lon), float(lat)


def proj4text(epsg: int) -> str:
    """The PROJ.4 string the producer stores (composed here: pyproj warns when exporting it)."""
    if epsg == 3413:
        return "+proj=stere +lat_0=90 +lat_ts=70 +lon_0=-45 +k=1 +x_0=0 +y_0=0 +datum=WGS84 +units=m +no_defs"
    if epsg == 3031:
        return "+proj=stere +lat_0=-90 +lat_ts=-71 +lon_0=0 +k=1 +x_0=0 +y_0=0 +datum=WGS84 +units=m +no_defs"
    zone, south = utm_zone(epsg)
    return f"+proj=utm +zone={zone}{' +south' if south else ''} +datum=WGS84 +units=m +no_defs"


def utm_zone(epsg: int) -> tuple[int, bool]:
    """(zone number, southern hemisphere) of a WGS84 UTM EPSG code (326zz / 327zz)."""
    if 32601 <= epsg <= 32660:
        return epsg - 32600, False
    if 32701 <= epsg <= 32760:
        return epsg - 32700, True
    raise ValueError(f"EPSG:{epsg} is not a WGS84 UTM zone")


def mapping_attrs(epsg: int, geo_transform: str) -> dict[str, Any]:
    """CF grid-mapping attributes of the ``mapping`` variable, as the autoRIFT granules carry them."""
    wkt = CRS.from_epsg(epsg).to_wkt("WKT1_GDAL")
    attrs: dict[str, Any]
    if epsg in (3413, 3031):
        north = epsg == 3413
        attrs = {
            "grid_mapping_name": "polar_stereographic",
            "straight_vertical_longitude_from_pole": -45.0 if north else 0.0,
            "false_easting": 0.0,
            "false_northing": 0.0,
            "latitude_of_projection_origin": 90.0 if north else -90.0,
            "standard_parallel": 70.0 if north else -71.0,
            "semi_major_axis": 6378137.0,
            "scale_factor_at_projection_origin": 1,
            "inverse_flattening": 298.257223563,
        }
    else:
        zone, _ = utm_zone(epsg)
        attrs = {
            "grid_mapping_name": "universal_transverse_mercator",
            "utm_zone_number": float(zone),
            "CoordinateTransformType": "Projection",
            "CoordinateAxisTypes": "GeoX GeoY",
            "semi_major_axis": 6378137.0,
            "inverse_flattening": 298.257223563,
        }
    attrs.update(
        {
            "spatial_ref": wkt,
            "crs_wkt": wkt,
            "proj4text": proj4text(epsg),
            "spatial_epsg": epsg,
            "GeoTransform": geo_transform,
        }
    )
    return attrs


# --------------------------------------------------------------------------------------------
# Catalog


@dataclass(frozen=True)
class CatalogTile:
    """One catalog feature: a 100 km tile, with or without a cube on disk."""

    epsg: int
    mid_x: int
    mid_y: int
    roi_percent: float
    exists: bool
    style: str
    """``"new"`` (``epsg`` int, ``granule_count``, ``composite_zarr_url``) or ``"old"`` (``data_epsg``)."""
    region: str | None = None
    granule_count: int = 0


def zarr_url(epsg: int, mid_x: int, mid_y: int, lon: float, lat: float) -> str:
    """Cube location relative to ``catalog_v02.json``, given the tile centre's lon/lat."""
    return f"{DATACUBE_PREFIX}/{cube_dir(lon, lat)}/{cube_name(epsg, mid_x, mid_y)}"


def _properties(tile: CatalogTile, url: str) -> dict[str, Any]:
    """Feature properties in the real catalog's key order for the tile's style."""
    props: dict[str, Any] = {
        "fill-opacity": 1.0 - tile.roi_percent / 100.0,
        "fill": "red",
        "roi_percent_coverage": float(tile.roi_percent),
    }
    if tile.style == "old":
        props["data_epsg"] = f"EPSG:{tile.epsg}"
    else:
        props["epsg"] = tile.epsg
    props["geometry_epsg"] = {"type": "Polygon", "coordinates": [tile_ring(tile.mid_x, tile.mid_y)]}
    props["datacube_exist"] = 1 if tile.exists else 0
    props["zarr_url"] = url
    if tile.style != "old":
        props["granule_count"] = tile.granule_count
        # No annual composites are generated in the sample; the real catalog uses "" then too.
        props["composite_zarr_url"] = ""
    if tile.region is not None:
        props["region"] = tile.region
    return props


def _fmt_number(value: float | int) -> str:
    """A number as GDAL's GeoJSON writer prints a property: ints bare, doubles with %.17g."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | np.integer):
        return str(int(value))
    text = f"{float(value):.17g}"
    if all(c not in text for c in ".eEn"):
        text += ".0"
    return text


def _fmt_coord(value: float) -> str:
    """A lon/lat coordinate at the catalog's 6-decimal precision without trailing zeros."""
    text = f"{value:.6f}".rstrip("0")
    return text + "0" if text.endswith(".") else text


def _fmt_value(value: Any) -> str:
    """Serialise a JSON value with GDAL's spacing (``{ "a": 1 }``, ``[ 1, 2 ]``)."""
    if isinstance(value, dict):
        if not value:
            return "{ }"
        items = ", ".join(f"{json.dumps(k)}: {_fmt_value(v)}" for k, v in value.items())
        return "{ " + items + " }"
    if isinstance(value, list | tuple):
        return "[ " + ", ".join(_fmt_value(v) for v in value) + " ]"
    if isinstance(value, str):
        return json.dumps(value)
    if value is None:
        return "null"
    return _fmt_number(value)


def _fmt_ring(ring: Sequence[Sequence[float]]) -> str:
    return "[ " + ", ".join(f"[ {_fmt_coord(x)}, {_fmt_coord(y)} ]" for x, y in ring) + " ]"


def _feature_lines(tiles: Sequence[CatalogTile]) -> Iterable[str]:
    """One GDAL-formatted feature per tile; corners and centres transformed once per EPSG."""
    rings: dict[int, list[list[float]]] = {}
    urls: dict[int, str] = {}
    by_epsg: dict[int, list[int]] = {}
    for i, t in enumerate(tiles):
        by_epsg.setdefault(t.epsg, []).append(i)
    for epsg, idx in by_epsg.items():
        points = np.array(
            [
                [*tile_ring(tiles[i].mid_x, tiles[i].mid_y), [tiles[i].mid_x, tiles[i].mid_y]]
                for i in idx
            ],
            dtype=np.float64,
        )
        lon, lat = to_lonlat(epsg).transform(points[..., 0], points[..., 1])
        for k, i in enumerate(idx):
            t = tiles[i]
            rings[i] = [
                [round(float(a), 6), round(float(b), 6)]
                for a, b in zip(lon[k, :5], lat[k, :5], strict=True)
            ]
            urls[i] = zarr_url(epsg, t.mid_x, t.mid_y, float(lon[k, 5]), float(lat[k, 5]))
    for i, t in enumerate(tiles):
        geometry = '{ "type": "Polygon", "coordinates": [ ' + _fmt_ring(rings[i]) + " ] }"
        yield (
            '{ "type": "Feature", "properties": '
            + _fmt_value(_properties(t, urls[i]))
            + ', "geometry": '
            + geometry
            + " }"
        )


def catalog_text(tiles: Sequence[CatalogTile]) -> str:
    """The whole ``catalog_v02.json`` text, formatted like the real GDAL-written file."""
    lines = ",\n".join(_feature_lines(tiles))
    return (
        '{\n"type": "FeatureCollection",\n"name": "catalog_v02",\n"features": [\n'
        + lines
        + "\n]\n}\n"
    )
