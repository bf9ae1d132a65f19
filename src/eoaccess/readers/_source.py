"""What ``open_dataset`` accepts, converted once into a :class:`Target`.

An href (path, ``file://``, http(s), s3), an asset (a dict with ``href`` or a ``pystac.Asset``)
or an item (a dict or ``pystac.Item``: its first data asset — role ``data``, else key ``image``
or ``data``, else the first asset with a data media type). Relative hrefs are resolved against
the item's ``self`` link (or the JSON file it was read from). The STAC projection fields of item
and asset travel along, for files that do not carry their CRS.
"""

from __future__ import annotations

import json
import os
import posixpath
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urljoin, urlsplit

import pyproj

from eoaccess.errors import InvalidInputError, NotFoundError
from eoaccess.readers._crs import crs_from_stac

_DATA_KEYS = ("data", "image")
_DATA_MEDIA = ("zarr", "netcdf", "hdf5", "x-hdf", "tiff", "geotiff")
_NOT_DATA_ROLES = frozenset(("thumbnail", "overview", "metadata", "visual"))


@dataclass(frozen=True)
class Target:
    """One thing to open, with what the catalog said about it."""

    href: str
    """Where the bytes are: a path or an http(s)/s3/file URL."""
    media_type: str | None = None
    """The asset's ``type``, a hint only: the content decides the format."""
    crs: pyproj.CRS | None = field(default=None, compare=False)
    """The CRS from STAC ``proj:*`` fields, used when the file has none."""
    item: Mapping[str, Any] | None = field(default=None, compare=False, repr=False)
    """The STAC item the asset belongs to, if any."""
    asset_key: str | None = None
    """The asset's key in the item."""


def _href_text(value: str | os.PathLike[str]) -> str:
    return os.fspath(value) if isinstance(value, os.PathLike) else str(value)


def resolve_href(href: str, base: str | None) -> str:
    """``href`` made absolute against ``base`` (a URL or a path of the item JSON)."""
    if not base or urlsplit(href).scheme or os.path.isabs(href):
        return href  # already absolute (a URL, a path, a Windows drive letter)
    if urlsplit(base).scheme in ("http", "https", "s3", "file"):
        return urljoin(base, href)
    return os.path.normpath(os.path.join(os.path.dirname(base), href))


def _self_href(item: Mapping[str, Any]) -> str | None:
    for link in item.get("links") or []:
        if isinstance(link, Mapping) and link.get("rel") == "self" and link.get("href"):
            return str(link["href"])
    return None


def choose_asset(item: Mapping[str, Any]) -> tuple[str, Mapping[str, Any]]:
    """The item's data asset: role ``data``, else key ``data``/``image``, else by media type."""
    assets = item.get("assets") or {}
    if not isinstance(assets, Mapping) or not assets:
        raise NotFoundError(f"STAC item {item.get('id', '?')!r} has no assets to open")
    for key, asset in assets.items():
        if "data" in (asset.get("roles") or []):
            return key, asset
    for key in _DATA_KEYS:
        if key in assets:
            return key, assets[key]
    for key, asset in assets.items():
        media = str(asset.get("type") or "").lower()
        roles = set(asset.get("roles") or [])
        if any(m in media for m in _DATA_MEDIA) and not roles & _NOT_DATA_ROLES:
            return key, asset
    raise NotFoundError(
        f"STAC item {item.get('id', '?')!r} has no data asset (role 'data' or key 'data'/'image'); "
        f"assets: {', '.join(assets)}"
    )


def from_item(
    item: Mapping[str, Any], base: str | None = None, asset_key: str | None = None
) -> Target:
    """The target of an item dict (``base``: where its JSON came from, for relative hrefs)."""
    if asset_key is not None:
        assets = item.get("assets") or {}
        if asset_key not in assets:
            raise NotFoundError(
                f"STAC item {item.get('id', '?')!r} has no asset {asset_key!r}; "
                f"assets: {', '.join(assets) or 'none'}"
            )
        key, asset = asset_key, assets[asset_key]
    else:
        key, asset = choose_asset(item)
    return from_asset(asset, item=item, base=_self_href(item) or base, key=key)


def from_asset(
    asset: Mapping[str, Any],
    *,
    item: Mapping[str, Any] | None = None,
    base: str | None = None,
    key: str | None = None,
) -> Target:
    """The target of an asset dict, with the projection fields of its item."""
    href = asset.get("href")
    if not href:
        raise InvalidInputError("the STAC asset has no href")
    properties = item.get("properties") if item else None
    return Target(
        href=resolve_href(str(href), base),
        media_type=asset.get("type"),
        crs=crs_from_stac(properties, asset),
        item=item,
        asset_key=key,
    )


def to_target(source: Any, asset_key: str | None = None) -> Target:
    """Convert any accepted input shape (see the module doc) into a :class:`Target`."""
    if isinstance(source, Target):
        return source
    if isinstance(source, str | os.PathLike):
        text = _href_text(source)
        if not text.strip():
            raise InvalidInputError("empty href: give a path or an http(s)/s3 URL")
        return Target(text)
    try:  # pystac is optional for callers: accept its objects when it is installed
        import pystac
    except ImportError:  # pragma: no cover - pystac is a dependency
        pystac = None  # type: ignore[assignment]
    if pystac is not None and isinstance(source, pystac.Item):
        return from_item(source.to_dict(), base=source.get_self_href(), asset_key=asset_key)
    if pystac is not None and isinstance(source, pystac.Asset):
        owner = source.owner
        item = owner.to_dict() if isinstance(owner, pystac.Item) else None
        return from_asset(
            {**source.to_dict(), "href": source.get_absolute_href() or source.href},
            item=item,
            key=None,
        )
    if isinstance(source, Mapping):
        if "assets" in source:
            return from_item(source, asset_key=asset_key)
        if "href" in source:
            return from_asset(source)
    raise InvalidInputError(
        f"cannot open a {type(source).__name__}: give an href, a STAC asset or a STAC item"
    )


def item_from_json(data: bytes, href: str, asset_key: str | None = None) -> Target:
    """The target of a STAC item JSON document read from ``href``."""
    try:
        item = json.loads(data)
    except ValueError:
        raise InvalidInputError(f"{href}: not valid JSON") from None
    return from_item(item, base=href, asset_key=asset_key)


def display_name(href: str) -> str:
    """The last path component of an href (for summaries)."""
    return posixpath.basename(urlsplit(href).path.rstrip("/")) or href
