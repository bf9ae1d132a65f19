"""GeoJSON footprint catalogs (ITS_LIVE's ``catalog_v02.json``): one item per listed datacube.

A footprint catalog is a FeatureCollection whose features point at a datacube through a
``zarr_url`` property. Every feature with ``datacube_exist`` 1 (or without that flag) whose cube
is in the archive becomes an item: the asset is ``zarr_url`` resolved relative to the catalog,
the CRS is ``epsg`` (newer catalogs) or ``data_epsg`` (older ones), the footprint is the
feature's ``geometry_epsg`` tile in that CRS (densified into lon/lat, where the catalog's own
lon/lat ring has only the corners), the time range and grid come from the cube, and the feature's
own properties (``roi_percent_coverage``, ``granule_count``, ``region``…) are kept. Features
whose cube is not in the archive cannot be dated and are reported as skipped.
"""

from __future__ import annotations

import hashlib
import posixpath
import re
from collections.abc import Iterator, Mapping, Sequence
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit

import orjson

from eoaccess.ingest import _stac
from eoaccess.ingest._collections import CollectionInfo, collection_info, slug
from eoaccess.ingest._geometry import (
    Footprint,
    footprint_from_lonlat_ring,
    footprint_from_ring,
    footprints_from_rings,
    parse_crs,
)
from eoaccess.ingest._registry import ArchiveView, BuildContext, Candidate, Claim
from eoaccess.ingest._report import SkippedFile
from eoaccess.ingest.zarr import CUBE_EXTENSIONS, cube_asset, cube_properties, read_cube

_JSON = re.compile(r"\.(geo)?json$", re.IGNORECASE)
# Feature properties that describe the cube's location or map styling, not the data.
_CONSUMED = {
    "zarr_url",
    "composite_zarr_url",
    "epsg",
    "data_epsg",
    "geometry_epsg",
    "datacube_exist",
    "fill",
    "fill-opacity",
    "stroke",
    "stroke-width",
}
# Registry: pattern of a cube's file name -> collection id of its catalog.
_PRODUCTS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"ITS_LIVE_vel_EPSG\d+_G\d+_X-?\d+_Y-?\d+\.zarr$"), "itslive_datacubes"),
)


def _looks_like_catalog(data: bytes) -> bool:
    return b'"FeatureCollection"' in data[:4096] and b'"zarr_url"' in data


def resolve(catalog: str, url: str) -> tuple[str | None, str]:
    """``(archive path or None, href)`` of a ``zarr_url`` relative to the catalog file.

    Relative URLs resolve against the catalog's folder; absolute URLs stay as they are (remote).
    """
    parts = urlsplit(url)
    if parts.scheme or url.startswith("/"):
        return None, url
    path = posixpath.normpath(posixpath.join(posixpath.dirname(catalog), parts.path))
    if path.startswith("../") or path == "..":
        return None, url
    return path.rstrip("/"), path.rstrip("/")


def catalog_collection(catalog: Mapping[str, Any], path: str, urls: list[str]) -> CollectionInfo:
    """The collection of a footprint catalog's items: a known product when every cube URL
    matches its pattern (ITS_LIVE), else named after the catalog's ``name`` or file name."""
    for pattern, cid in _PRODUCTS:
        if urls and all(pattern.search(u.rstrip("/")) for u in urls):
            return collection_info(cid)
    name = catalog.get("name")
    stem = posixpath.splitext(posixpath.basename(path))[0]
    return collection_info(slug(name if isinstance(name, str) and name else stem))


def listed(feature: Mapping[str, Any]) -> bool:
    """True unless the feature says its datacube does not exist (``datacube_exist`` 0)."""
    flag = (feature.get("properties") or {}).get("datacube_exist", 1)
    return flag in (1, True, "1", "true")


class FootprintRecogniser:
    """Items from GeoJSON footprint catalogs (see the module docstring)."""

    name = "footprints"
    version = 1

    def recognise(self, view: ArchiveView) -> Iterator[Claim]:
        for entry in view.unclaimed:
            if not _JSON.search(entry.path):
                continue
            try:
                data = view.read_bytes(entry.path)
            except OSError:
                continue  # reported by nobody else either: leave it to the ignored count
            if not _looks_like_catalog(data):
                continue
            yield self._catalog(view, entry.path, data)

    def _catalog(self, view: ArchiveView, path: str, data: bytes) -> Claim:
        try:
            catalog = orjson.loads(data)
            features = [f for f in catalog["features"] if isinstance(f, dict)]
        except (orjson.JSONDecodeError, KeyError, TypeError) as exc:
            return Claim(
                frozenset({path}), skipped=(SkippedFile(path, f"invalid footprint catalog: {exc}"),)
            )
        present = [f for f in features if listed(f)]
        urls = [str((f.get("properties") or {}).get("zarr_url") or "") for f in present]
        info = catalog_collection(catalog, path, [u for u in urls if u])
        claimed = {path}
        candidates = []
        remote = 0
        problems: list[str] = []
        for feature in present:
            props = feature.get("properties") or {}
            url = props.get("zarr_url")
            if not isinstance(url, str) or not url:
                problems.append("a feature without zarr_url")
                continue
            local, href = resolve(path, url)
            item_id = cube_id(href)
            if local is None or not view.under(local):
                remote += 1
                continue
            inputs = [local + "/"]
            claimed.update(e.path for e in view.under(local))
            composite = props.get("composite_zarr_url")
            comp_local = (
                resolve(path, composite)[0] if isinstance(composite, str) and composite else None
            )
            if comp_local is not None and view.under(comp_local):
                inputs.append(comp_local + "/")
                claimed.update(e.path for e in view.under(comp_local))
            content = hashlib.sha256(orjson.dumps(feature, option=orjson.OPT_SORT_KEYS)).hexdigest()
            candidates.append(
                Candidate(
                    info,
                    item_id,
                    tuple(inputs),
                    _builder(item_id, local, feature, path),
                    (content[:12],),
                )
            )
        skipped = []
        if remote:
            skipped.append(
                SkippedFile(
                    path,
                    f"{remote} of {len(present)} listed datacubes are not in the archive, "
                    "so they cannot be dated (no time range without the cube)",
                )
            )
        if problems:
            skipped.append(SkippedFile(path, f"{len(problems)} features: {problems[0]}"))
        return Claim(frozenset(claimed), tuple(candidates), tuple(skipped))


def _builder(item_id: str, local: str, feature: Mapping[str, Any], catalog: str) -> Any:
    def build(ctx: BuildContext) -> dict[str, Any]:
        return build_item(ctx, item_id, local, feature, catalog)

    return build


def feature_crs(properties: Mapping[str, Any]) -> Any:
    """The cube's CRS from ``epsg`` (int) or ``data_epsg`` (``"EPSG:32718"``)."""
    value = properties.get("epsg")
    if value in (None, ""):
        value = properties.get("data_epsg")
    if value in (None, ""):
        return None
    return _parse_crs_cached(value if isinstance(value, int | str) else str(value))


@lru_cache(maxsize=256)
def _parse_crs_cached(value: int | str) -> Any:
    # A catalog names a few CRSs thousands of times: parse each once.
    return parse_crs(value)


def _footprint(feature: Mapping[str, Any], crs: Any) -> Footprint:
    """The catalog's footprint: ``geometry_epsg`` in the cube's CRS, densified into lon/lat,
    else the feature's own lon/lat geometry (its outer ring)."""
    props = feature.get("properties") or {}
    native = props.get("geometry_epsg")
    if crs is not None and isinstance(native, Mapping) and native.get("type") == "Polygon":
        return footprint_from_ring(native["coordinates"][0], crs)
    geometry = feature.get("geometry") or {}
    if geometry.get("type") != "Polygon":
        raise ValueError("feature has neither geometry_epsg nor a Polygon geometry")
    ring = geometry["coordinates"][0]
    return footprint_from_lonlat_ring([p[0] for p in ring], [p[1] for p in ring])


def cube_id(href: str) -> str:
    """The item id of a cube: its folder name without ``.zarr``."""
    return re.sub(r"\.zarr$", "", posixpath.basename(href.rstrip("/")))


def feature_item(
    feature: Mapping[str, Any],
    zarr_href: str,
    composite_href: str | None = None,
    crs: Any = None,
    footprint: Footprint | None = None,
    projection: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The STAC item a footprint-catalog feature describes, from the feature alone.

    ``zarr_href`` (and ``composite_href``) are the feature's URLs already resolved against the
    catalog. The CRS is ``crs`` or the feature's ``epsg``/``data_epsg``; the footprint is its
    ``geometry_epsg`` tile densified into lon/lat; the feature's own properties are kept. Without
    the cube there is no time range (``datetime`` null). Ingest adds what the cube says; the
    search client (:mod:`eoaccess.catalog.footprints`) uses the item as it is. ``footprint`` and
    ``projection`` (the CRS's projection fields) may be given when already computed.
    """
    props = feature.get("properties") or {}
    crs = crs if crs is not None else feature_crs(props)
    if footprint is None:
        footprint = _footprint(feature, crs)
    properties: dict[str, Any] = {"datetime": None}
    extensions = []
    if crs is not None:
        properties.update(projection if projection is not None else _stac.projection_fields(crs))
        extensions.append(_stac.PROJECTION)
    for key, value in props.items():
        if key not in _CONSUMED and key not in properties:
            properties[key] = value
    assets = {"data": {"href": zarr_href, "type": _stac.ZARR, "roles": ["data"]}}
    if composite_href:
        assets["composite"] = {"href": composite_href, "type": _stac.ZARR, "roles": ["data"]}
    return _stac.new_item(
        cube_id(zarr_href), footprint.geometry, footprint.bbox, properties, assets, extensions
    )


def feature_items(
    features: Sequence[Mapping[str, Any]], hrefs: Sequence[tuple[str, str | None]]
) -> list[dict[str, Any]]:
    """:func:`feature_item` of many features (``hrefs``: their resolved zarr and composite
    URLs). Footprints are computed per CRS in one batch, so a catalog of thousands of cubes
    converts in a fraction of a second. Raises ValueError naming the first bad feature."""
    crss = [feature_crs(f.get("properties") or {}) for f in features]
    groups: dict[str, list[int]] = {}
    for index, (feature, crs) in enumerate(zip(features, crss, strict=True)):
        native = (feature.get("properties") or {}).get("geometry_epsg")
        if crs is not None and isinstance(native, Mapping) and native.get("type") == "Polygon":
            groups.setdefault(crs.srs or crs.to_wkt(), []).append(index)
    footprints: dict[int, Footprint] = {}
    projections: dict[str, dict[str, Any]] = {}
    for key, members in groups.items():
        crs = crss[members[0]]
        projections[key] = _stac.projection_fields(crs)
        rings = [features[i]["properties"]["geometry_epsg"]["coordinates"][0] for i in members]
        try:
            batch = footprints_from_rings(rings, crs)
        except (ValueError, TypeError, IndexError):
            batch = []  # find the culprit one by one below
        footprints.update(zip(members, batch, strict=False))
    items = []
    for index, (feature, (zarr_href, composite_href)) in enumerate(
        zip(features, hrefs, strict=True)
    ):
        crs = crss[index]
        key = crs.srs or crs.to_wkt() if crs is not None else ""
        try:
            items.append(
                feature_item(
                    feature,
                    zarr_href,
                    composite_href,
                    crs,
                    footprints.get(index),
                    projections.get(key),
                )
            )
        except (ValueError, TypeError, IndexError, KeyError) as exc:
            raise ValueError(f"feature {index} ({zarr_href}): {exc}") from None
    return items


def build_item(
    ctx: BuildContext, item_id: str, local: str, feature: Mapping[str, Any], catalog: str
) -> dict[str, Any]:
    """The item of one catalog feature whose cube is in the archive: :func:`feature_item`
    completed with the cube's time range, grid and variables."""
    props = feature.get("properties") or {}
    cube = read_cube(ctx.zarr_store(local))
    crs = feature_crs(props)
    if crs is not None and crs != cube.crs and crs.to_epsg() != cube.crs.to_epsg():
        raise ValueError(
            f"catalog says {crs.to_string()} but the cube is in {cube.crs.to_string()}"
        )
    composite = props.get("composite_zarr_url")
    comp_local, comp_href = (
        resolve(catalog, composite) if isinstance(composite, str) and composite else (None, None)
    )
    base = feature_item(feature, local, comp_href, crs or cube.crs)
    properties = cube_properties(cube)
    for key, value in base["properties"].items():
        if key not in properties:
            properties[key] = value
    assets = {"data": cube_asset(ctx, local, cube)}
    if "composite" in base["assets"]:
        assets["composite"] = base["assets"]["composite"]
        if comp_local is not None and ctx.dir_size(comp_local):
            assets["composite"]["file:size"] = ctx.dir_size(comp_local)
    return _stac.new_item(
        item_id, base["geometry"], base["bbox"], properties, assets, CUBE_EXTENSIONS
    )


RECOGNISER = FootprintRecogniser()
