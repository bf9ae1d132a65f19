"""Which reader opens an href: decided from its content, not its name.

A file's first bytes name its format (HDF5's signature, NetCDF classic's ``CDF``, TIFF's byte
order mark); a Zarr store is a directory (or URL prefix) holding ``.zmetadata``, ``zarr.json``,
``.zgroup`` or ``.zarray``. Seed 000 shows why names are not enough: xarray guessed NetCDF for a
``.zarr`` URL and failed with a DAP parser error. A STAC item JSON is recognised too, so
``open_dataset("item.json")`` opens the item's data asset.

Names only order the probes: a ``.zarr`` href is probed for Zarr metadata first, so opening a
consolidated cube costs one request, and anything else reads its first block first, which the
HDF5 and TIFF readers then reuse.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from eoaccess.errors import InvalidInputError, NotFoundError
from eoaccess.readers._io import Resource
from eoaccess.transfer import RemoteNotFoundError


@dataclass(frozen=True)
class Signature:
    """Leading bytes that identify a file format."""

    format: str
    """The reader's registry name."""
    magic: bytes
    """The bytes the file starts with."""
    offsets: tuple[int, ...] = (0,)
    """Where the bytes may start (HDF5 allows a user block of 512, 1024, 2048 … bytes)."""


# Registry of file signatures, checked in order; add one to teach detection a new file format.
SIGNATURES: list[Signature] = [
    Signature("hdf5", b"\x89HDF\r\n\x1a\n", (0, 512, 1024, 2048, 4096, 8192, 16384, 32768)),
    Signature("netcdf3", b"CDF\x01"),  # classic
    Signature("netcdf3", b"CDF\x02"),  # 64-bit offset
    Signature("netcdf3", b"CDF\x05"),  # CDF-5
    Signature("geotiff", b"II*\x00"),  # little-endian TIFF
    Signature("geotiff", b"MM\x00*"),  # big-endian TIFF
    Signature("geotiff", b"II+\x00"),  # little-endian BigTIFF
    Signature("geotiff", b"MM\x00+"),  # big-endian BigTIFF
]

ZARR_MARKERS = (".zmetadata", "zarr.json", ".zgroup", ".zarray")
"""Objects whose presence makes a directory a Zarr store (consolidated v2 first: it is all the
metadata in one object)."""

STAC_ITEM = "stac-item"
"""Detection result for a STAC item document: open its data asset instead."""

_ZARR_HINTS = ("application/x-zarr", "application/vnd+zarr", "application/vnd.zarr")


def register_signature(signature: Signature) -> None:
    """Recognise files starting with ``signature.magic`` as ``signature.format``."""
    SIGNATURES.append(signature)


def match_signature(head: bytes) -> str | None:
    """The format whose signature ``head`` carries, or None."""
    for signature in SIGNATURES:
        for offset in signature.offsets:
            if head[offset : offset + len(signature.magic)] == signature.magic:
                return signature.format
    return None


def _looks_like_zarr(href: str, media_type: str | None) -> bool:
    name = href.split("?", 1)[0].rstrip("/").lower()
    return name.endswith(".zarr") or bool(media_type and media_type.lower() in _ZARR_HINTS)


def _zarr_markers(resource: Resource) -> bool:
    if resource.remote:
        found = resource.documents_many(ZARR_MARKERS)
        return any(v is not None for v in found.values())
    return any(resource.document(marker) is not None for marker in ZARR_MARKERS)


def _probe_zarr(resource: Resource) -> bool:
    # One request when the store is consolidated; the others only when it is not.
    if resource.document(".zmetadata") is not None:
        return True
    return _zarr_markers(resource)


def _is_stac_item(head: bytes) -> bool:
    text = head.lstrip()
    if not text.startswith(b"{"):
        return False
    try:
        data = json.loads(text)
    except ValueError:
        # Longer than the first block: decide on its keys; the whole document is parsed later.
        return b'"Feature"' in text and b'"assets"' in text
    return isinstance(data, dict) and data.get("type") == "Feature" and "assets" in data


def detect(resource: Resource, media_type: str | None = None) -> str:
    """The registry name of the reader for ``resource`` (or :data:`STAC_ITEM`).

    Raises NotFoundError when nothing is there and InvalidInputError for an unknown format.
    """
    href = resource.href
    if resource.is_local_dir() or (resource.remote and _looks_like_zarr(href, media_type)):
        if _probe_zarr(resource):
            return "zarr"
        if resource.is_local_dir():
            raise InvalidInputError(
                f"{href} is a directory without Zarr metadata "
                f"({', '.join(ZARR_MARKERS)}): give the path of a file or a Zarr store"
            )
    try:
        head = resource.head()
    except (RemoteNotFoundError, NotFoundError):
        head = None
    if head is not None:
        found = match_signature(head)
        if found:
            return found
        if _is_stac_item(head):
            return STAC_ITEM
        if head.lstrip().startswith(b"{") and b'"FeatureCollection"' in head:
            raise InvalidInputError(
                f"{href} is a GeoJSON FeatureCollection (a catalog, not a dataset): search it "
                "with `eoaccess search` and open the data assets it lists"
            )
    if resource.remote and not _looks_like_zarr(href, media_type) and _probe_zarr(resource):
        return "zarr"  # a Zarr store whose name does not say so
    if head is None:
        raise NotFoundError(f"{href} does not exist (no file and no Zarr store there)")
    raise InvalidInputError(
        f"{href}: unknown data format (not Zarr, NetCDF/HDF5 or GeoTIFF; "
        f"starts with {head[:8]!r}); pass engine= to force a reader"
    )
