"""Footprints of datasets and maps of footprints.

``footprint(ds)`` is the outline of a gridded dataset in its own CRS, from the outer *edges* of
its cells (seed 000's tutorial used the cell centres, which loses half a cell on every side).
``footprint(ds, crs=4326)`` (or ``crs="lonlat"``: the geographic CRS of the dataset's own body,
the Moon for Kaguya) reprojects it properly: every edge is densified before the transform, since
straight edges in polar stereographic or UTM are curves in lon/lat; a ring that crosses the
antimeridian is cut into a MultiPolygon and one that encircles a pole is closed over it.
Datasets without a grid (ICESat-2 photons with ``lat_ph``/``lon_ph``) get the convex hull of
their points.

Maps (:func:`write_map`, :func:`map_items`): ``.png``/``.svg``/``.pdf`` are drawn with matplotlib
over a lon/lat graticule; ``.html`` is a self-contained page — footprints as inline SVG over a
graticule, zoom and pan with the mouse wheel and drag, the GeoJSON embedded — that needs no
network: folium only writes HTML that loads Leaflet and its tiles from CDNs, which offline
machines (and these tests) cannot reach. ``basemap="osm"`` writes that folium/Leaflet map with
OpenStreetMap tiles instead, for users with internet access.
"""

from __future__ import annotations

import html
import json
import math
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pyproj
import shapely
import xarray as xr
from shapely.geometry import MultiPoint, Polygon, box
from shapely.geometry.base import BaseGeometry
from shapely.geometry.polygon import orient

from eoaccess._atomic import atomic_path, write_text_atomic
from eoaccess.errors import InvalidInputError

__all__ = ["LONLAT", "footprint", "lonlat_crs", "map_items", "register_map_writer", "write_map"]

LONLAT = "lonlat"
"""``crs`` value meaning "longitude/latitude on the dataset's own body" (EPSG:4326 on Earth)."""

MAX_EDGE_POINTS = 256
"""Vertices per footprint edge at most before reprojection (one per cell for smaller grids)."""

_LON_NAMES = ("lon", "longitude", "lon_ph", "reference_photon_lon", "x")
_LAT_NAMES = ("lat", "latitude", "lat_ph", "reference_photon_lat", "y")
_EARTH_RADIUS = (6_300_000.0, 6_400_000.0)


# --- CRS helpers -------------------------------------------------------------------------------


def lonlat_crs(crs: pyproj.CRS) -> pyproj.CRS:
    """The lon/lat CRS for ``crs``'s body: EPSG:4326 on Earth, the body's geographic CRS else."""
    radius = crs.ellipsoid.semi_major_metre if crs.ellipsoid else None
    if radius is None or _EARTH_RADIUS[0] <= radius <= _EARTH_RADIUS[1]:
        return pyproj.CRS.from_epsg(4326)
    geodetic = crs.geodetic_crs
    if geodetic is None:
        raise InvalidInputError(f"{crs.name}: no geographic CRS to express lon/lat in")
    return geodetic


def _target_crs(crs: Any, native: pyproj.CRS) -> pyproj.CRS:
    if isinstance(crs, str) and crs.lower() == LONLAT:
        return lonlat_crs(native)
    try:
        return pyproj.CRS.from_user_input(crs)
    except pyproj.exceptions.CRSError as exc:
        raise InvalidInputError(f"invalid CRS {crs!r}: {exc}") from None


def _dataset_crs(ds: xr.Dataset) -> pyproj.CRS | None:
    from eoaccess.readers._crs import dataset_crs

    crs = dataset_crs(ds)
    if crs is not None:
        return crs
    rio_crs = ds.rio.crs if hasattr(ds, "rio") else None
    return pyproj.CRS.from_user_input(rio_crs.to_wkt()) if rio_crs is not None else None


# --- geometry ----------------------------------------------------------------------------------


def _edges(centres: np.ndarray, name: str, step: float | None) -> tuple[float, float]:
    """Outer edges of a 1-D axis of cell centres: half a cell beyond the first and last."""
    values = np.sort(np.asarray(centres, dtype="float64"))
    if values.size == 0:
        raise InvalidInputError(f"dimension {name!r} is empty: no footprint")
    if values.size == 1:
        if step is None:
            raise InvalidInputError(f"one cell along {name!r} and no resolution: no footprint")
        return float(values[0] - abs(step) / 2), float(values[0] + abs(step) / 2)
    first = values[0] - (values[1] - values[0]) / 2
    last = values[-1] + (values[-1] - values[-2]) / 2
    return float(first), float(last)


def _grid_dims(ds: xr.Dataset) -> tuple[str, str] | None:
    from eoaccess.readers._crs import spatial_dims

    return spatial_dims(ds)


def _resolution(ds: xr.Dataset) -> tuple[float | None, float | None]:
    try:
        x, y = ds.rio.resolution()
        return float(x), float(y)
    except Exception:  # no transform to derive one from: single cells then have no size
        return None, None


def native_outline(ds: xr.Dataset) -> tuple[Polygon, tuple[int, int]]:
    """The grid's outline from cell edges, in the dataset's coordinates, and its (nx, ny)."""
    dims = _grid_dims(ds)
    if dims is None:
        raise InvalidInputError("the dataset has no x/y (or lon/lat) grid")
    xdim, ydim = dims
    xres, yres = _resolution(ds) if ds.sizes[xdim] == 1 or ds.sizes[ydim] == 1 else (None, None)
    x = ds[xdim].values if xdim in ds.coords else np.arange(ds.sizes[xdim])
    y = ds[ydim].values if ydim in ds.coords else np.arange(ds.sizes[ydim])
    x0, x1 = _edges(x, xdim, xres)
    y0, y1 = _edges(y, ydim, yres)
    return orient(box(x0, y0, x1, y1)), (ds.sizes[xdim], ds.sizes[ydim])


def densify_ring(polygon: Polygon, cells: tuple[int, int]) -> np.ndarray:
    """Vertices of ``polygon``'s exterior with each edge cut into ``nx`` pieces (edges along x)
    or ``ny`` pieces (edges along y), ``cells = (nx, ny)``."""
    coords = np.asarray(polygon.exterior.coords)[:, :2]
    out = []
    for i in range(len(coords) - 1):
        dx, dy = np.abs(coords[i + 1] - coords[i])
        n = max(1, int(cells[0] if dx >= dy else cells[1]))
        t = np.arange(n)[:, None] / n
        out.append(coords[i] + t * (coords[i + 1] - coords[i]))
    out.append(coords[-1:])
    return np.vstack(out)


def _split_at_antimeridian(lon: np.ndarray, lat: np.ndarray, pole: float | None) -> BaseGeometry:
    """A lon/lat ring as a polygon within [-180, 180]: unwrapped, closed over ``pole`` when it
    encircles one, then cut at the antimeridian into pieces shifted back into range."""
    lon = np.degrees(np.unwrap(np.radians(lon)))
    points = list(zip(lon, lat, strict=True))
    turn = lon[-1] - lon[0]
    if abs(turn) > 180:  # the ring goes once around a pole: close it over the pole
        if pole is None:
            pole = 90.0 if float(np.mean(lat)) > 0 else -90.0
        points += [(lon[-1], pole), (lon[0], pole)]
    shape = shapely.make_valid(Polygon(points))
    pieces = []
    for shift in (-720, -360, 0, 360, 720):
        window = box(-180 - shift, -90, 180 - shift, 90)
        part = shape.intersection(window)
        if not part.is_empty:
            pieces.append(shapely.affinity.translate(part, xoff=shift))
    merged = shapely.unary_union([p for p in pieces if p.area > 0] or pieces)
    merged = shapely.make_valid(merged)
    polygons = [
        g for g in getattr(merged, "geoms", [merged]) if isinstance(g, Polygon) and g.area > 0
    ]
    if not polygons:
        return merged
    return (
        orient(polygons[0])
        if len(polygons) == 1
        else shapely.MultiPolygon([orient(p) for p in polygons])
    )


def _pole_inside(native: Polygon, transformer: pyproj.Transformer) -> float | None:
    """+90 or -90 when the native outline contains that pole, else None."""
    back = pyproj.Transformer.from_crs(
        transformer.target_crs, transformer.source_crs, always_xy=True
    )
    for pole in (90.0, -90.0):
        try:
            x, y = back.transform(0.0, pole, errcheck=True)
        except pyproj.exceptions.ProjError:
            continue
        if np.isfinite([x, y]).all() and native.contains(shapely.Point(x, y)):
            return pole
    return None


def reproject_outline(
    native: Polygon,
    src: pyproj.CRS,
    dst: pyproj.CRS,
    cells: tuple[int, int] = (MAX_EDGE_POINTS, MAX_EDGE_POINTS),
) -> BaseGeometry:
    """``native`` (a rectangle in ``src``) in ``dst``: densified edges, antimeridian and poles
    handled when ``dst`` is geographic."""
    nx, ny = (min(max(c, 1), MAX_EDGE_POINTS) for c in cells)
    ring = densify_ring(native, (nx, ny))
    try:
        transformer = pyproj.Transformer.from_crs(src, dst, always_xy=True)
    except pyproj.exceptions.ProjError as exc:
        raise InvalidInputError(
            f"cannot transform from {src.name} to {dst.name}: {' '.join(str(exc).split())}"
        ) from None
    xs, ys = transformer.transform(ring[:, 0], ring[:, 1])
    xs, ys = np.asarray(xs), np.asarray(ys)
    if not (np.isfinite(xs).all() and np.isfinite(ys).all()):
        raise InvalidInputError(
            f"the footprint does not fit in {dst.name} (points out of its domain)"
        )
    if dst.is_geographic:
        return _split_at_antimeridian(xs, ys, _pole_inside(native, transformer))
    return orient(Polygon(zip(xs, ys, strict=True)))


def _points(ds: xr.Dataset) -> tuple[np.ndarray, np.ndarray] | None:
    """Longitudes and latitudes of a dataset of points (no grid), e.g. ATL03 photons."""
    for lon_name, lat_name in zip(_LON_NAMES, _LAT_NAMES, strict=True):
        if lon_name in ds.variables and lat_name in ds.variables and lon_name != "x":
            lon = np.asarray(ds[lon_name].values, dtype="float64").ravel()
            lat = np.asarray(ds[lat_name].values, dtype="float64").ravel()
            keep = np.isfinite(lon) & np.isfinite(lat)
            return lon[keep], lat[keep]
    return None


def _name(ds: xr.Dataset) -> str:
    from eoaccess.readers import open_info
    from eoaccess.readers._source import display_name

    info = open_info(ds)
    if info is None:
        return str(ds.attrs.get("title", ""))
    name = display_name(info.href)
    return f"{name}:{info.group}" if info.group else name


def footprint(ds: xr.Dataset, crs: Any = None) -> gpd.GeoDataFrame:
    """A one-row GeoDataFrame with the outline of ``ds``.

    ``crs=None``: in the dataset's own CRS, from the cell edges. Any other CRS (``4326``,
    ``"EPSG:3413"``, a ``pyproj.CRS``, or ``"lonlat"`` for the lon/lat of the dataset's body) is
    reached by densifying the edges before transforming, so the outline keeps its true shape.
    """
    native_crs = _dataset_crs(ds)
    dims = _grid_dims(ds)
    if dims is None:
        points = _points(ds)
        if points is None or points[0].size == 0:
            raise InvalidInputError("the dataset has neither an x/y grid nor lon/lat points")
        source = (
            native_crs
            if native_crs is not None and native_crs.is_geographic
            else pyproj.CRS.from_epsg(4326)
        )
        hull = MultiPoint(np.column_stack(points)).convex_hull
        geometry: BaseGeometry = hull
        out_crs = source
        if crs is not None:
            out_crs = _target_crs(crs, source)
            if not out_crs.equals(source):
                transformer = pyproj.Transformer.from_crs(source, out_crs, always_xy=True)
                geometry = shapely.ops.transform(transformer.transform, hull)
        return gpd.GeoDataFrame({"name": [_name(ds)]}, geometry=[geometry], crs=out_crs)
    outline, cells = native_outline(ds)
    if native_crs is None:
        if dims[0] in ("lon", "longitude"):
            native_crs = pyproj.CRS.from_epsg(4326)
        else:
            raise InvalidInputError(
                "the dataset has no CRS (no grid mapping, GeoTIFF keys or STAC proj fields): "
                "open it from its STAC item or write one with ds.rio.write_crs()"
            )
    geometry = outline
    out_crs = native_crs
    if crs is not None:
        out_crs = _target_crs(crs, native_crs)
        if not out_crs.equals(native_crs) or out_crs.is_geographic:
            geometry = reproject_outline(outline, native_crs, out_crs, cells)
    return gpd.GeoDataFrame({"name": [_name(ds)]}, geometry=[geometry], crs=out_crs)


# --- maps --------------------------------------------------------------------------------------

MapWriter = Callable[[gpd.GeoDataFrame, Path, str], None]
_MAP_WRITERS: dict[str, MapWriter] = {}

COLOURS = ("#d62728", "#1f77b4", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2")
"""Fill colours, one per group of footprints (collection); the first is the default."""


def register_map_writer(suffix: str, writer: MapWriter) -> None:
    """Write maps to files ending in ``suffix`` (``.html``) with ``writer(gdf, path, title)``."""
    _MAP_WRITERS[suffix.lower()] = writer


def _label_column(gdf: gpd.GeoDataFrame) -> str | None:
    for column in ("id", "name", "title"):
        if column in gdf.columns:
            return column
    return None


def _group_column(gdf: gpd.GeoDataFrame) -> str | None:
    for column in ("collection", "group"):
        if column in gdf.columns:
            return column
    return None


def _colour_index(gdf: gpd.GeoDataFrame) -> list[int]:
    column = _group_column(gdf)
    if column is None:
        return [0] * len(gdf)
    order = {value: i for i, value in enumerate(dict.fromkeys(gdf[column].astype(str)))}
    return [order[str(v)] % len(COLOURS) for v in gdf[column]]


def reproject_geometry(geometry: BaseGeometry, src: pyproj.CRS, dst: pyproj.CRS) -> BaseGeometry:
    """Any polygonal geometry in ``dst``: edges densified (400 pieces per ring), and in a
    geographic ``dst`` cut at the antimeridian."""
    polygons = list(_polygons(geometry))
    if not polygons:
        transformer = pyproj.Transformer.from_crs(src, dst, always_xy=True)
        return shapely.ops.transform(transformer.transform, geometry)
    parts = []
    for polygon in polygons:
        step = max(polygon.exterior.length / 400, 1e-12)
        dense = Polygon(shapely.segmentize(polygon.exterior, step))
        parts.append(reproject_outline(dense, src, dst, (1, 1)))
    return parts[0] if len(parts) == 1 else shapely.unary_union(parts)


def _as_lonlat(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    if gdf.crs is None:
        return gdf  # taken as lon/lat already (GeoJSON)
    crs = pyproj.CRS.from_user_input(gdf.crs)
    if crs.is_geographic:
        return gdf
    target = lonlat_crs(crs)
    geoms = [reproject_geometry(g, crs, target) for g in gdf.geometry]
    return gpd.GeoDataFrame(gdf.drop(columns="geometry"), geometry=geoms, crs=target)


def _extent(gdf: gpd.GeoDataFrame) -> tuple[float, float, float, float]:
    """Bounds with a margin, at least a few hundredths of a degree wide, within the globe."""
    west, south, east, north = (float(v) for v in gdf.total_bounds)
    width, height = max(east - west, 0.02), max(north - south, 0.02)
    pad = 0.15 * max(width, height)
    cx, cy = (west + east) / 2, (south + north) / 2
    half_w, half_h = width / 2 + pad, height / 2 + pad
    return (
        max(cx - half_w, -180.0),
        max(cy - half_h, -90.0),
        min(cx + half_w, 180.0),
        min(cy + half_h, 90.0),
    )


def _nice_step(span: float, lines: int = 6) -> float:
    raw = span / lines
    magnitude = 10 ** math.floor(math.log10(raw))
    for factor in (1, 2, 2.5, 5, 10):
        if raw <= factor * magnitude:
            return factor * magnitude
    return 10 * magnitude


def _ticks(lo: float, hi: float) -> np.ndarray:
    step = _nice_step(hi - lo)
    return np.arange(math.ceil(lo / step) * step, hi + step / 2, step)


def _format_degrees(value: float, axis: str) -> str:
    hemisphere = ("E", "W") if axis == "lon" else ("N", "S")
    letter = hemisphere[0] if value >= 0 else hemisphere[1]
    if value == 0:
        letter = ""
    text = f"{abs(value):.6f}".rstrip("0").rstrip(".")
    return f"{text}°{letter}"


def _polygons(geometry: BaseGeometry) -> Iterable[Polygon]:
    if isinstance(geometry, Polygon):
        yield geometry
    else:
        for part in getattr(geometry, "geoms", []):
            yield from _polygons(part)


def _write_image(gdf: gpd.GeoDataFrame, path: Path, title: str) -> None:
    """A static map with matplotlib: footprints over a lon/lat graticule."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    from matplotlib.figure import Figure
    from matplotlib.patches import PathPatch
    from matplotlib.path import Path as MplPath

    west, south, east, north = _extent(gdf)
    mid_lat = math.radians((south + north) / 2)
    figure = Figure(figsize=(8, 6), dpi=100)
    axes = figure.add_subplot()
    colours = _colour_index(gdf)
    for geometry, colour in zip(gdf.geometry, colours, strict=True):
        for polygon in _polygons(geometry):
            rings = [polygon.exterior, *polygon.interiors]
            vertices = np.concatenate([np.asarray(r.coords)[:, :2] for r in rings])
            codes = np.concatenate(
                [
                    [MplPath.MOVETO] + [MplPath.LINETO] * (len(r.coords) - 2) + [MplPath.CLOSEPOLY]
                    for r in rings
                ]
            )
            patch = PathPatch(
                MplPath(vertices, codes),
                facecolor=COLOURS[colour],
                edgecolor=COLOURS[colour],
                alpha=0.45,
                linewidth=1.5,
            )
            axes.add_patch(patch)
    axes.set_xlim(west, east)
    axes.set_ylim(south, north)
    axes.set_aspect(1 / max(math.cos(mid_lat), 0.05))
    axes.set_xticks(_ticks(west, east))
    axes.set_yticks(_ticks(south, north))
    axes.set_xticklabels([_format_degrees(v, "lon") for v in axes.get_xticks()], fontsize=8)
    axes.set_yticklabels([_format_degrees(v, "lat") for v in axes.get_yticks()], fontsize=8)
    axes.grid(True, color="#999999", linewidth=0.5, linestyle="--")
    axes.set_title(title, fontsize=10)
    suffix = path.suffix.lower().lstrip(".")
    with atomic_path(path) as tmp:
        figure.savefig(tmp, format=suffix, bbox_inches="tight")


def _svg_path(
    geometry: BaseGeometry, project: Callable[[float, float], tuple[float, float]]
) -> str:
    parts = []
    for polygon in _polygons(geometry):
        for ring in (polygon.exterior, *polygon.interiors):
            xy = [project(x, y) for x, y in np.asarray(ring.coords)[:, :2]]
            parts.append("M" + " L".join(f"{x:.2f},{y:.2f}" for x, y in xy) + " Z")
    return " ".join(parts)


def _json_safe(value: Any) -> Any:
    if isinstance(value, float | int | str | bool) or value is None:
        return value
    if isinstance(value, np.generic):
        return value.item()
    return str(value)


_HTML = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<style>
body{{margin:0;font:13px system-ui,sans-serif;background:#fff;color:#222}}
header{{padding:6px 10px;border-bottom:1px solid #ddd}}
#map{{width:100vw;height:calc(100vh - 64px);display:block;cursor:grab;background:#eef3f7}}
.grid{{stroke:#9aa5b1;stroke-width:1;vector-effect:non-scaling-stroke;stroke-dasharray:4 3}}
.label{{fill:#52606d;font-size:{font:.1f}px}}
.fp{{fill-opacity:.35;stroke-width:2;vector-effect:non-scaling-stroke}}
.fp:hover{{fill-opacity:.6}}
#info{{padding:4px 10px;height:18px;border-top:1px solid #ddd;white-space:nowrap;overflow:hidden}}
</style></head><body>
<header><b>{title}</b> · {count} footprint(s) · wheel to zoom, drag to pan, click for details</header>
<svg id="map" xmlns="http://www.w3.org/2000/svg" viewBox="{viewbox}" preserveAspectRatio="xMidYMid meet">
<g id="graticule">{graticule}</g>
<g id="footprints">{footprints}</g>
</svg>
<div id="info">&nbsp;</div>
<script type="application/geo+json" id="geojson">{geojson}</script>
<script>
(function(){{
var svg=document.getElementById('map'),vb=svg.viewBox.baseVal,drag=null;
function pt(e){{var r=svg.getBoundingClientRect(),s=Math.max(vb.width/r.width,vb.height/r.height);
return [vb.x+(e.clientX-r.left-(r.width-vb.width/s)/2)*s,vb.y+(e.clientY-r.top-(r.height-vb.height/s)/2)*s];}}
svg.addEventListener('wheel',function(e){{e.preventDefault();var p=pt(e),k=e.deltaY<0?0.8:1.25;
vb.x=p[0]-(p[0]-vb.x)*k;vb.y=p[1]-(p[1]-vb.y)*k;vb.width*=k;vb.height*=k;}},{{passive:false}});
svg.addEventListener('mousedown',function(e){{drag=pt(e);svg.style.cursor='grabbing';}});
window.addEventListener('mouseup',function(){{drag=null;svg.style.cursor='grab';}});
svg.addEventListener('mousemove',function(e){{if(!drag)return;var p=pt(e);vb.x-=p[0]-drag[0];vb.y-=p[1]-drag[1];}});
svg.querySelectorAll('.fp').forEach(function(el){{el.addEventListener('click',function(){{
document.getElementById('info').textContent=el.getAttribute('data-info');}});}});
}})();
</script></body></html>
"""


def _write_html(gdf: gpd.GeoDataFrame, path: Path, title: str) -> None:
    """A self-contained HTML map (inline SVG, no external resource; see the module doc)."""
    west, south, east, north = _extent(gdf)
    scale_x = math.cos(math.radians((south + north) / 2)) or 1e-6
    width = 1000.0
    height = width * (north - south) / ((east - west) * scale_x)
    k = width / (east - west)

    def project(lon: float, lat: float) -> tuple[float, float]:
        return (lon - west) * k, (north - lat) * k / scale_x

    graticule = []
    for lon in _ticks(west, east):
        x, _ = project(lon, north)
        graticule.append(f'<line class="grid" x1="{x:.2f}" y1="0" x2="{x:.2f}" y2="{height:.2f}"/>')
        graticule.append(
            f'<text class="label" x="{x + 3:.2f}" y="{height - 4:.2f}">{html.escape(_format_degrees(lon, "lon"))}</text>'
        )
    for lat in _ticks(south, north):
        _, y = project(west, lat)
        graticule.append(f'<line class="grid" x1="0" y1="{y:.2f}" x2="{width:.2f}" y2="{y:.2f}"/>')
        graticule.append(
            f'<text class="label" x="3" y="{y - 3:.2f}">{html.escape(_format_degrees(lat, "lat"))}</text>'
        )
    label = _label_column(gdf)
    columns = [c for c in gdf.columns if c != "geometry"]
    shapes = []
    for (_, row), colour in zip(gdf.iterrows(), _colour_index(gdf), strict=True):
        info = "; ".join(
            f"{c}: {row[c]}" for c in columns if str(row[c]) not in ("", "nan", "None")
        )
        name = str(row[label]) if label else ""
        shapes.append(
            f'<path class="fp" fill="{COLOURS[colour]}" stroke="{COLOURS[colour]}" '
            f'data-info="{html.escape(info, quote=True)}" d="{_svg_path(row.geometry, project)}">'
            f"<title>{html.escape(name or info)}</title></path>"
        )
    features = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "properties": {c: _json_safe(row[c]) for c in columns},
                "geometry": shapely.geometry.mapping(row.geometry),
            }
            for _, row in gdf.iterrows()
        ],
    }
    page = _HTML.format(
        title=html.escape(title),
        count=len(gdf),
        font=max(width, height) / 55,
        viewbox=f"0 0 {width:.2f} {height:.2f}",
        graticule="".join(graticule),
        footprints="".join(shapes),
        geojson=json.dumps(features).replace("</", "<\\/"),
    )
    write_text_atomic(path, page)


def _write_folium(gdf: gpd.GeoDataFrame, path: Path, title: str) -> None:
    """An interactive Leaflet map with OpenStreetMap tiles (loads Leaflet and tiles online)."""
    import folium

    west, south, east, north = _extent(gdf)
    fmap = folium.Map(tiles="OpenStreetMap")
    colours = _colour_index(gdf)
    label = _label_column(gdf)
    for (_, row), colour in zip(gdf.iterrows(), colours, strict=True):
        folium.GeoJson(
            shapely.geometry.mapping(row.geometry),
            style_function=lambda _, c=COLOURS[colour]: {
                "color": c,
                "fillColor": c,
                "fillOpacity": 0.35,
            },
            tooltip=str(row[label]) if label else None,
        ).add_to(fmap)
    fmap.fit_bounds([[south, west], [north, east]])
    fmap.get_root().html.add_child(folium.Element(f"<title>{html.escape(title)}</title>"))
    write_text_atomic(path, fmap.get_root().render())


for _suffix in (".png", ".svg", ".pdf"):
    register_map_writer(_suffix, _write_image)
register_map_writer(".html", _write_html)
register_map_writer(".htm", _write_html)


def write_map(
    gdf: gpd.GeoDataFrame, path: str | Path, *, title: str | None = None, basemap: str | None = None
) -> Path:
    """Draw the footprints of ``gdf`` to ``path``; the suffix picks the format (``.html``,
    ``.png``, ``.svg``, ``.pdf``). Geometries in a projected CRS are shown in lon/lat.
    ``basemap="osm"`` (HTML only) writes a folium/Leaflet map with OpenStreetMap tiles, which
    needs internet access to display."""
    path = Path(path)
    if len(gdf) == 0:
        raise InvalidInputError("nothing to map: no footprints")
    suffix = path.suffix.lower()
    if basemap is not None:
        if basemap.lower() != "osm" or suffix not in (".html", ".htm"):
            raise InvalidInputError("basemap='osm' is available for .html maps only")
        writer: MapWriter = _write_folium
    elif suffix in _MAP_WRITERS:
        writer = _MAP_WRITERS[suffix]
    else:
        raise InvalidInputError(
            f"cannot write a map to {path.name}: use one of {', '.join(sorted(_MAP_WRITERS))}"
        )
    lonlat = _as_lonlat(gdf[~gdf.geometry.is_empty & gdf.geometry.notna()])
    if len(lonlat) == 0:
        raise InvalidInputError("nothing to map: every geometry is empty")
    writer(lonlat, path, title or f"{len(lonlat)} footprint(s)")
    return path


def map_items(
    gdf: gpd.GeoDataFrame, path: str | Path, *, title: str | None = None, basemap: str | None = None
) -> Path:
    """Map every footprint of a search result (one row per item, ``id``/``collection`` columns
    label and colour them) to ``path`` (``.html``, ``.png`` …)."""
    return write_map(gdf, path, title=title or f"{len(gdf)} item(s)", basemap=basemap)
