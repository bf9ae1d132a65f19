"""STAC building blocks shared by the recognisers: media types, extensions, CRS and raster fields.

Items are STAC 1.0.0. Extension versions are pinned here once so that every recogniser writes
the same schema URIs.
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterable, Mapping
from typing import Any

STAC_VERSION = "1.0.0"

PROJECTION = "https://stac-extensions.github.io/projection/v2.0.0/schema.json"
RASTER = "https://stac-extensions.github.io/raster/v1.1.0/schema.json"
FILE = "https://stac-extensions.github.io/file/v2.1.0/schema.json"
DATACUBE = "https://stac-extensions.github.io/datacube/v2.2.0/schema.json"
SSYS = "https://raw.githubusercontent.com/thareUSGS/ssys/main/json-schema/schema.json"

COG = "image/tiff; application=geotiff; profile=cloud-optimized"
GEOTIFF = "image/tiff; application=geotiff"
ZARR = "application/vnd+zarr"
HDF5 = "application/x-hdf5"
NETCDF = "application/netcdf"
JSON = "application/json"
GEOJSON = "application/geo+json"
TEXT = "text/plain"
JPEG = "image/jpeg"
PNG = "image/png"
XML = "application/xml"

# Registry: file suffix -> media type of an asset with that suffix (longest suffix wins).
_MEDIA_TYPES: dict[str, str] = {
    ".tif": GEOTIFF,
    ".tiff": GEOTIFF,
    ".zarr": ZARR,
    ".h5": HDF5,
    ".hdf5": HDF5,
    ".he5": HDF5,
    ".nc": NETCDF,
    ".nc4": NETCDF,
    ".json": JSON,
    ".geojson": GEOJSON,
    ".pvl": TEXT,
    ".lbl": TEXT,
    ".txt": TEXT,
    ".xml": XML,
    ".jpg": JPEG,
    ".jpeg": JPEG,
    ".png": PNG,
}


def media_type(path: str) -> str | None:
    """The media type an asset at ``path`` gets from its suffix, or None when unknown."""
    name = posixpath.basename(path.rstrip("/")).lower()
    for suffix in sorted(_MEDIA_TYPES, key=len, reverse=True):
        if name.endswith(suffix):
            return _MEDIA_TYPES[suffix]
    return None


def multihash_sha256(hex_digest: str) -> str:
    """A SHA2-256 digest as the file extension's multihash: ``1220`` + 64 hex digits."""
    return "1220" + hex_digest


def with_extensions(item: dict[str, Any], *uris: str) -> dict[str, Any]:
    """Add extension schema URIs to ``stac_extensions`` once each, keeping the order."""
    present = list(item.get("stac_extensions") or [])
    present.extend(u for u in uris if u not in present)
    item["stac_extensions"] = present
    return item


def new_item(
    item_id: str,
    geometry: Mapping[str, Any],
    bbox: Iterable[float],
    properties: Mapping[str, Any],
    assets: Mapping[str, Mapping[str, Any]],
    extensions: Iterable[str] = (),
) -> dict[str, Any]:
    """A STAC 1.0 item dict (collection and links are set by the engine)."""
    item: dict[str, Any] = {
        "type": "Feature",
        "stac_version": STAC_VERSION,
        "stac_extensions": [],
        "id": item_id,
        "geometry": dict(geometry),
        "bbox": [float(v) for v in bbox],
        "properties": dict(properties),
        "links": [],
        "assets": {k: dict(v) for k, v in assets.items()},
    }
    return with_extensions(item, *extensions)


def projection_fields(crs: Any) -> dict[str, Any]:
    """Projection extension fields naming ``crs`` (a pyproj CRS).

    EPSG CRSs get ``proj:code`` and, for clients of projection v1, ``proj:epsg``; others (IAU
    planetary CRSs, custom ones) get ``proj:code`` when an authority is known, and always
    ``proj:wkt2`` and ``proj:projjson`` with ``proj:epsg: null``.
    """
    epsg = crs.to_epsg(min_confidence=100)
    if epsg is not None:
        return {"proj:code": f"EPSG:{epsg}", "proj:epsg": epsg}
    fields: dict[str, Any] = {"proj:epsg": None}
    authority = crs.to_authority(min_confidence=100)
    if authority is not None:
        fields["proj:code"] = f"{authority[0]}:{authority[1]}"
    fields["proj:wkt2"] = crs.to_wkt("WKT2_2019")
    fields["proj:projjson"] = crs.to_json_dict()
    return fields


def role_for(path: str, media: str | None) -> list[str]:
    """Default asset roles: data for data formats, thumbnail for pictures, metadata otherwise."""
    if media in (COG, GEOTIFF, ZARR, HDF5, NETCDF):
        return ["data"]
    if media in (JPEG, PNG):
        return ["thumbnail"]
    return ["metadata"]


def title_case_key(key: str) -> str:
    """A human title from an asset key (``caminfo_pvl`` -> ``Caminfo pvl``)."""
    return key.replace("_", " ").strip().capitalize()
