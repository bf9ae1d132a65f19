"""Zarr v2 and v3 stores (consolidated or not) over local paths, http(s) and s3.

The store is :class:`~eoaccess.readers._zarrstore.ResourceStore`: bytes through the transfer
engine (S3 region redirects followed), metadata fetched once. Whether the store is consolidated
is known from detection, so xarray never falls back with a warning after a failed attempt.
"""

from __future__ import annotations

import json
from typing import Any

import xarray as xr

from eoaccess.errors import InvalidInputError, NotFoundError
from eoaccess.readers._io import Resource
from eoaccess.readers._lazy import open_lazily
from eoaccess.readers._zarrstore import ResourceStore


def _layout(resource: Resource) -> tuple[int, bool]:
    """(zarr_format, consolidated) of the store at ``resource``."""
    if resource.document(".zmetadata") is not None:
        return 2, True
    root = resource.document("zarr.json")
    if root is not None:
        try:
            metadata = json.loads(root)
        except ValueError:
            raise InvalidInputError(f"{resource.href}: corrupt zarr.json") from None
        return 3, bool(metadata.get("consolidated_metadata"))
    if resource.document(".zgroup") is not None or resource.document(".zarray") is not None:
        return 2, False
    raise NotFoundError(f"{resource.href}: no Zarr metadata found")


def open_resource(resource: Resource, group: str | None, options: dict[str, Any]) -> xr.Dataset:
    """Open the Zarr store at ``resource`` (``group`` a path inside it) as a lazy Dataset."""
    zarr_format, consolidated = _layout(resource)
    store = ResourceStore(resource)
    kwargs: dict[str, Any] = {"zarr_format": zarr_format, "consolidated": consolidated}
    kwargs.update(options)
    try:
        return open_lazily(store, kwargs, engine="zarr", group=group)
    except (FileNotFoundError, KeyError) as exc:
        where = f"group {group!r} of " if group else ""
        raise NotFoundError(f"{where}{resource.href} not found: {exc}") from None
