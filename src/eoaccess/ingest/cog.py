"""GeoTIFF / Cloud-Optimized GeoTIFF items: footprint from bounds and CRS, raster bands, projection.

Each GeoTIFF not claimed by a catalog becomes one item, unless a product layout groups several
files into one item: a Planet ARPS day is its surface reflectance COG with the QA GeoTIFF as a
second asset. Layouts are a registry (:data:`LAYOUTS`); a GeoTIFF matching none becomes an item
of the collection named after its top-level folder, with same-named pictures and metadata files
next to it as sidecar assets.
"""

from __future__ import annotations

import contextlib
import posixpath
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from eoaccess.ingest import _stac
from eoaccess.ingest._collections import CollectionInfo, collection_info, slug
from eoaccess.ingest._geometry import footprint_from_ring, is_earth, parse_crs
from eoaccess.ingest._registry import ArchiveView, BuildContext, Candidate, Claim
from eoaccess.query import format_datetime

_TIFF = re.compile(r"\.tiff?$", re.IGNORECASE)
_DAY = re.compile(r"(?<!\d)(\d{4})-?(\d{2})-?(\d{2})(?!\d)")
# Common names of the eo extension, recognised in GeoTIFF band descriptions.
_COMMON_NAMES = {
    "coastal", "blue", "green", "red", "yellow", "pan", "rededge", "nir", "nir08", "nir09",
    "cirrus", "swir16", "swir22", "lwir", "lwir11", "lwir12",
}  # fmt: skip
EO = "https://stac-extensions.github.io/eo/v1.1.0/schema.json"


@dataclass(frozen=True)
class Layout:
    """How one product's GeoTIFFs form items."""

    pattern: re.Pattern[str]
    """Matches the archive path of the item's main GeoTIFF."""
    collection: Callable[[ArchiveView, str], CollectionInfo]
    """The collection of its items, given the view and the product folder (``root`` group)."""
    item_id: Callable[[re.Match[str]], str]
    """Item id from the match."""
    data_key: str
    """Asset key of the main GeoTIFF."""
    sidecars: Mapping[str, str] = field(default_factory=dict)
    """Asset key -> file name of further files in the same folder."""
    day: Callable[[re.Match[str]], str] | None = None
    """The acquisition day (``YYYY-MM-DD``) from the match, when the path carries it."""
    properties: Callable[[Mapping[str, Mapping[str, str]]], dict[str, Any]] | None = None
    """Extra item properties from the GDAL tags of each asset (by asset key)."""


def _arps_properties(tags: Mapping[str, Mapping[str, str]]) -> dict[str, Any]:
    """ARPS QA tags: the clear percentage gives ``eo:cloud_cover``."""
    clear = tags.get("analysis_ready_ps_qa", {}).get("PERCENTAGE_CLEAR")
    if clear is None:
        return {}
    return {"eo:cloud_cover": round(100.0 - float(clear), 2)}


def _arps_collection(view: ArchiveView, root: str) -> CollectionInfo:
    """ARPS tiles belong to the Sentinel Hub BYOC collection described by ``collection.json`` in
    the product folder, so ``byoc-<id>`` requests and the STAC catalog name one collection;
    without that file, to ``planet-arps``."""
    known = collection_info("planet-arps")
    path = posixpath.join(root, "collection.json") if root else "collection.json"
    if not view.exists(path):
        return known
    try:
        byoc = view.read_json(path)
    except (OSError, ValueError):
        return known
    if not (
        isinstance(byoc, dict) and isinstance(byoc.get("id"), str) and "additionalData" in byoc
    ):
        return known
    return CollectionInfo(
        byoc["id"],
        str(byoc.get("name") or known.title),
        known.description,
        known.license,
        known.keywords,
        known.template,
    )


# Registry of product layouts; first match wins.
LAYOUTS: tuple[Layout, ...] = (
    Layout(
        pattern=re.compile(
            r"^(?P<root>(?:.*/)?)(?P<grid>\d+_\d+_\d+)/(?P<day>\d{4}-\d{2}-\d{2})/"
            r"analysis_ready_ps_sr\.tif$"
        ),
        collection=_arps_collection,
        item_id=lambda m: f"{m['grid']}_{m['day']}",
        data_key="analysis_ready_ps_sr",
        sidecars={"analysis_ready_ps_qa": "analysis_ready_ps_qa.tif"},
        day=lambda m: m["day"],
        properties=_arps_properties,
    ),
)
# Sidecar suffixes of a generic GeoTIFF ``X.tif``: ``X<suffix>`` becomes asset ``key``.
_GENERIC_SIDECARS: dict[str, str] = {
    ".jpg": "thumbnail",
    ".jpeg": "thumbnail",
    ".png": "thumbnail",
    ".tif.aux.xml": "aux_xml",
    ".xml": "metadata_xml",
    ".json": "metadata_json",
    ".txt": "metadata_text",
}


class CogRecogniser:
    """Items from GeoTIFFs (see the module docstring)."""

    name = "cog"
    version = 1

    def recognise(self, view: ArchiveView) -> Iterator[Claim]:
        # Product layouts first, so their sidecar GeoTIFFs (ARPS QA) are taken before the
        # remaining GeoTIFFs become generic items.
        infos: dict[tuple[str, str], CollectionInfo] = {}
        taken: set[str] = set()
        generic: list[str] = []
        for entry in view.unclaimed:
            if not _TIFF.search(entry.path):
                continue
            claim = _layout_claim(view, entry.path, infos)
            if claim is None:
                generic.append(entry.path)
            else:
                taken |= claim.paths
                yield claim
        for path in generic:
            if path not in taken:
                claim = _generic_claim(view, path, taken)
                taken |= claim.paths
                yield claim


def _layout_claim(
    view: ArchiveView, path: str, infos: dict[tuple[str, str], CollectionInfo]
) -> Claim | None:
    """The claim of a product layout's main GeoTIFF, or None if no layout matches ``path``."""
    for layout in LAYOUTS:
        match = layout.pattern.search(path)
        if match is None:
            continue
        assets = {layout.data_key: path}
        for key, name in layout.sidecars.items():
            sidecar = posixpath.join(posixpath.dirname(path), name)
            if view.exists(sidecar) and not view.is_claimed(sidecar):
                assets[key] = sidecar
        root = (match.groupdict().get("root") or "").rstrip("/")
        if (layout.data_key, root) not in infos:
            infos[(layout.data_key, root)] = layout.collection(view, root)
        day = layout.day(match) if layout.day else None
        info = infos[(layout.data_key, root)]
        return _claim(info, layout.item_id(match), assets, day, layout.properties)
    return None


def _generic_claim(view: ArchiveView, path: str, taken: set[str]) -> Claim:
    """A GeoTIFF of no known layout: one item, named after the file, with same-named sidecars."""
    folder = posixpath.dirname(path)
    stem = _TIFF.sub("", posixpath.basename(path))
    assets = {"data": path}
    for suffix, key in _GENERIC_SIDECARS.items():
        sidecar = posixpath.join(folder, stem + suffix)
        free = view.exists(sidecar) and not view.is_claimed(sidecar) and sidecar not in taken
        if free and key not in assets:
            assets[key] = sidecar
    top = path.split("/", 1)[0] if "/" in path else "geotiff"
    return _claim(collection_info(slug(top)), stem, assets, _day_in(path), None)


def _claim(
    info: CollectionInfo,
    item_id: str,
    assets: dict[str, str],
    day: str | None,
    properties: Callable[[Mapping[str, Mapping[str, str]]], dict[str, Any]] | None,
) -> Claim:
    def build(ctx: BuildContext) -> dict[str, Any]:
        return build_item(ctx, item_id, assets, day, properties)

    candidate = Candidate(info, item_id, tuple(assets.values()), build)  # main file first
    return Claim(frozenset(assets.values()), (candidate,))


def _day_in(path: str) -> str | None:
    """A ``YYYY-MM-DD`` (or ``YYYYMMDD``) date found in the path, last one wins."""
    found = None
    for match in _DAY.finditer(path):
        year, month, day = (int(g) for g in match.groups())
        if 1900 < year < 2200 and 1 <= month <= 12 and 1 <= day <= 31:
            found = f"{year:04d}-{month:02d}-{day:02d}"
    return found


def _tiff_datetime(tags: Mapping[str, str]) -> str | None:
    text = tags.get("TIFFTAG_DATETIME")
    if not text:
        return None
    try:
        moment = datetime.strptime(text.strip(), "%Y:%m:%d %H:%M:%S").replace(tzinfo=UTC)
    except ValueError:
        return None
    return format_datetime(moment)


@dataclass(frozen=True)
class RasterInfo:
    """What a GeoTIFF says about itself."""

    crs: Any
    """pyproj CRS."""
    shape: tuple[int, int]
    """Rows, columns."""
    transform: tuple[float, ...]
    """Affine coefficients a, b, c, d, e, f (rasterio order)."""
    cog: bool
    """Laid out as a Cloud-Optimized GeoTIFF."""
    bands: tuple[dict[str, Any], ...]
    """``raster:bands`` objects."""
    eo_bands: tuple[dict[str, Any], ...]
    """``eo:bands`` objects (empty when bands have no descriptions)."""
    tags: Mapping[str, str]
    """GDAL dataset metadata (default domain)."""


@contextlib.contextmanager
def _open_raster(ctx: BuildContext, path: str) -> Iterator[Any]:
    """Open a GeoTIFF of the archive with rasterio; a file GDAL cannot read is a ValueError."""
    import rasterio
    from rasterio.errors import RasterioIOError

    with ctx.local_file(path) as local:
        try:
            dataset = rasterio.open(local)
        except RasterioIOError as exc:
            raise ValueError(f"not a readable GeoTIFF: {exc}") from None
        with dataset:
            yield dataset


def read_raster(ctx: BuildContext, path: str) -> RasterInfo:
    """Open a GeoTIFF and read its georeferencing and band metadata (no pixels)."""
    with _open_raster(ctx, path) as src:
        if src.crs is None:
            raise ValueError("GeoTIFF has no CRS")
        crs = parse_crs(src.crs.to_wkt())
        transform = tuple(float(v) for v in tuple(src.transform)[:6])
        resolution = abs(transform[0]) if transform[1] == 0 else None
        structure = src.tags(ns="IMAGE_STRUCTURE")
        tiled = bool(src.profile.get("tiled", False))
        has_overviews = bool(src.overviews(1)) if src.count else False
        small = max(src.width, src.height) <= 512
        cog = structure.get("LAYOUT") == "COG" or (tiled and (has_overviews or small))
        bands = []
        eo_bands = []
        for index in range(src.count):
            band: dict[str, Any] = {"data_type": src.dtypes[index]}
            nodata = src.nodatavals[index]
            if nodata is not None:
                band["nodata"] = _number(nodata)
            if src.scales[index] not in (None, 1.0) or src.offsets[index] not in (None, 0.0):
                band["scale"] = float(src.scales[index])
                band["offset"] = float(src.offsets[index])
            if src.units[index]:
                band["unit"] = src.units[index]
            if resolution:
                band["spatial_resolution"] = resolution
            bands.append(band)
            description = src.descriptions[index]
            if description:
                eo = {"name": description}
                if description.lower() in _COMMON_NAMES:
                    eo["common_name"] = description.lower()
                eo_bands.append(eo)
        if eo_bands and len(eo_bands) != src.count:
            eo_bands = []
        return RasterInfo(
            crs,
            (src.height, src.width),
            transform,
            cog,
            tuple(bands),
            tuple(eo_bands),
            dict(src.tags()),
        )


def _number(value: float) -> float | int | str:
    """Nodata as JSON: integers stay integers, NaN and infinities as the raster extension spells them."""
    if value != value:
        return "nan"
    if value in (float("inf"), float("-inf")):
        return "inf" if value > 0 else "-inf"
    return int(value) if float(value).is_integer() else float(value)


def raster_asset(
    ctx: BuildContext, path: str, info: RasterInfo, title: str | None = None
) -> dict[str, Any]:
    """The asset of a GeoTIFF: media type, data role, raster and eo bands, file size/checksum."""
    asset: dict[str, Any] = {
        "href": path,
        "type": _stac.COG if info.cog else _stac.GEOTIFF,
        "roles": ["data"],
    }
    if title:
        asset["title"] = title
    asset["raster:bands"] = [dict(b) for b in info.bands]
    if info.eo_bands:
        asset["eo:bands"] = [dict(b) for b in info.eo_bands]
    asset.update(ctx.file_fields(path))
    return asset


def footprint_ring(info: RasterInfo) -> list[tuple[float, float]]:
    """The raster's outline in its CRS, from the affine transform (rotation allowed)."""
    a, b, c, d, e, f = info.transform
    rows, cols = info.shape
    corners = [(0, 0), (cols, 0), (cols, rows), (0, rows), (0, 0)]
    return [(a * x + b * y + c, d * x + e * y + f) for x, y in corners]


def build_item(
    ctx: BuildContext,
    item_id: str,
    assets: Mapping[str, str],
    day: str | None,
    extra: Callable[[Mapping[str, Mapping[str, str]]], dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """The STAC item of a GeoTIFF and its sidecars (first asset is the main GeoTIFF)."""
    keys = list(assets)
    main = read_raster(ctx, assets[keys[0]])
    footprint = footprint_from_ring(footprint_ring(main), main.crs)
    rows, cols = main.shape
    ring = footprint_ring(main)
    xs, ys = [p[0] for p in ring], [p[1] for p in ring]
    properties: dict[str, Any] = {
        "datetime": f"{day}T00:00:00Z" if day else _tiff_datetime(main.tags),
        **_stac.projection_fields(main.crs),
        "proj:shape": [rows, cols],
        "proj:transform": list(main.transform),
        "proj:bbox": [min(xs), min(ys), max(xs), max(ys)],
    }
    if main.transform[1] == 0 and main.crs.is_projected:
        properties["gsd"] = abs(main.transform[0])
    if not is_earth(main.crs):
        properties["ssys:targets"] = [main.crs.ellipsoid.name.split(" ")[0]]
    tags: dict[str, Mapping[str, str]] = {keys[0]: main.tags}
    stac_assets: dict[str, dict[str, Any]] = {keys[0]: raster_asset(ctx, assets[keys[0]], main)}
    for key in keys[1:]:
        path = assets[key]
        if _TIFF.search(path):
            info = read_raster(ctx, path)
            tags[key] = info.tags
            asset = raster_asset(ctx, path, info)
            asset["roles"] = ["data", "qa"] if key.endswith("qa") else ["data"]
        else:
            media = _stac.media_type(path)
            asset = {"href": path, "roles": _stac.role_for(path, media)}
            if media:
                asset["type"] = media
            asset.update(ctx.file_fields(path))
        stac_assets[key] = asset
    if extra is not None:
        properties.update(extra(tags))
    extensions = [_stac.PROJECTION, _stac.RASTER, _stac.FILE]
    if any("eo:bands" in a for a in stac_assets.values()) or "eo:cloud_cover" in properties:
        extensions.append(EO)
    if "ssys:targets" in properties:
        extensions.append(_stac.SSYS)
    return _stac.new_item(
        item_id, footprint.geometry, footprint.bbox, properties, stac_assets, extensions
    )


RECOGNISER = CogRecogniser()
