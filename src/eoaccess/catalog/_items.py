"""Checks and normal forms of the STAC items every source hands out."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from eoaccess.catalog._errors import CatalogResponseError
from eoaccess.catalog._io import join_href


def check_item(item: Any, where: str) -> dict[str, Any]:
    """``item`` if it is a usable STAC item dict, else CatalogResponseError naming ``where``."""
    if not isinstance(item, dict):
        raise CatalogResponseError(f"{where}: an item is {type(item).__name__}, not a JSON object")
    item_id = item.get("id")
    if not isinstance(item_id, str) or not item_id:
        raise CatalogResponseError(f"{where}: an item has no string id")
    problem = None
    if item.get("type") not in ("Feature", None):
        problem = f"type is {item.get('type')!r}, not 'Feature'"
    elif not isinstance(item.get("properties"), dict):
        problem = "it has no properties object"
    elif item.get("geometry") is not None and not isinstance(item.get("geometry"), dict):
        problem = "its geometry is not a GeoJSON object"
    elif not isinstance(item.get("assets", {}), dict):
        problem = "its assets are not an object"
    if problem:
        raise CatalogResponseError(f"{where}: item {item_id!r} is malformed: {problem}")
    return item


def absolute_item(
    item: dict[str, Any], href: str, collection: str | None = None, *, in_place: bool = False
) -> dict[str, Any]:
    """The item with asset and link hrefs resolved against ``href`` (where it was read), a
    ``self`` link, and ``collection`` filled in from its parent collection when missing.

    ``in_place`` updates ``item``'s own dicts instead of copying them: for items freshly decoded
    from a page and owned by nobody else, where a copy of every asset and link costs more than
    the decoding (thousands per page)."""
    out = item if in_place else dict(item)
    if collection is not None and not out.get("collection"):
        out["collection"] = collection
    resolve = _set_href if in_place else _with_href
    if isinstance(out.get("assets"), Mapping):
        out["assets"] = {
            key: resolve(asset, href) if isinstance(asset, Mapping) else asset
            for key, asset in out["assets"].items()
        }
    links = [
        resolve(link, href)
        for link in out.get("links") or ()
        if isinstance(link, Mapping) and link.get("rel") != "self"
    ]
    out["links"] = [{"rel": "self", "href": href, "type": "application/geo+json"}, *links]
    return out


def _set_href(entry: Any, base: str) -> Any:
    value = entry.get("href")
    if isinstance(value, str) and value:
        entry["href"] = join_href(base, value)
    return entry


def _with_href(entry: Mapping[str, Any], base: str) -> dict[str, Any]:
    resolved = dict(entry)
    value = entry.get("href")
    if isinstance(value, str) and value:
        resolved["href"] = join_href(base, value)
    return resolved


def self_href(item: Mapping[str, Any]) -> str | None:
    """The item's ``self`` link, if it has one."""
    for link in item.get("links") or ():
        if isinstance(link, Mapping) and link.get("rel") == "self" and link.get("href"):
            return str(link["href"])
    return None
