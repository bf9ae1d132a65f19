"""Static STAC catalogs (``catalog.json`` and its children), STAC ItemCollections and single
items, local or over http(s) and s3.

The catalog is walked once, level by level: every child catalog, collection and item link of a
level is fetched at the same time through one transfer engine (which pools connections and
limits requests per host), so a catalog of thousands of item files costs a few round trips of
wall time, not one per file. A link that cannot be read fails the open, naming its URL: a
partial catalog is never searched silently. Items get absolute asset hrefs, a ``self`` link and
the id of the collection above them; searches then run in memory.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eoaccess.catalog._base import Page, Probe
from eoaccess.catalog._errors import NotACatalogError
from eoaccess.catalog._io import join_href, parse_json, read_bytes_async
from eoaccess.catalog._items import absolute_item, check_item, self_href
from eoaccess.catalog._memory import ItemIndex
from eoaccess.query import Query
from eoaccess.transfer import TransferConfig, TransferEngine

_CONTAINERS = ("Catalog", "Collection")
_FOLLOWED = {"child": "container", "item": "item", "items": "item-collection"}


def is_stac_item(data: Any) -> bool:
    """A GeoJSON Feature that is a STAC item."""
    return (
        isinstance(data, Mapping)
        and data.get("type") == "Feature"
        and ("stac_version" in data or "assets" in data)
    )


def is_item_collection(data: Any) -> bool:
    """A FeatureCollection of STAC items (a saved search, an ItemCollection)."""
    if not isinstance(data, Mapping) or data.get("type") != "FeatureCollection":
        return False
    features = data.get("features")
    return isinstance(features, list) and (
        not features or all(is_stac_item(f) for f in features[:100])
    )


def is_static(data: Any) -> bool:
    """A static STAC document: catalog, collection, item or ItemCollection (not an API)."""
    if isinstance(data, Mapping) and data.get("type") in _CONTAINERS:
        return "conformsTo" not in data and "stac_version" in data
    return is_stac_item(data) or is_item_collection(data)


@dataclass
class _Walk:
    """The state of one catalog walk."""

    engine: TransferEngine
    items: list[dict[str, Any]]
    collections: dict[str, dict[str, Any]]
    seen: set[str]

    async def visit(self, href: str, data: Any, role: str, collection: str | None) -> None:
        """Take in one document and walk its links (all of them at once)."""
        if role == "item":
            item = check_item(data, href)
            self.items.append(absolute_item(item, self_href_or(item, href), collection))
            return
        if role == "item-collection":
            if not is_item_collection(data):
                raise NotACatalogError(f"{href} is not a FeatureCollection of STAC items")
            for position, feature in enumerate(data["features"]):
                item = check_item(feature, f"{href} feature {position}")
                self.items.append(absolute_item(item, self_href_or(item, href), collection))
            return
        if not isinstance(data, Mapping) or data.get("type") not in _CONTAINERS:
            raise NotACatalogError(f"{href} is not a STAC catalog or collection")
        if data.get("type") == "Collection" and isinstance(data.get("id"), str):
            collection = data["id"]
            self.collections.setdefault(collection, _collection_summary(data, href))
        tasks = []
        for link in data.get("links") or ():
            if not isinstance(link, Mapping) or not isinstance(link.get("href"), str):
                continue
            target_role = _FOLLOWED.get(str(link.get("rel")))
            if target_role is None:
                continue
            target = join_href(href, link["href"])
            if target in self.seen:
                continue
            self.seen.add(target)
            tasks.append(self.follow(target, target_role, collection))
        await asyncio.gather(*tasks)

    async def follow(self, href: str, role: str, collection: str | None) -> None:
        data = parse_json(await read_bytes_async(self.engine, href), href)
        await self.visit(href, data, role, collection)


def self_href_or(item: Mapping[str, Any], href: str) -> str:
    """Where an item's relative hrefs are relative to: its absolute self link, else its file."""
    own = self_href(item)
    if own and ("://" in own or own.startswith("/")):
        return own
    return href


def _collection_summary(data: Mapping[str, Any], href: str) -> dict[str, Any]:
    collection = {k: v for k, v in data.items() if k != "links"}
    collection["links"] = [{"rel": "self", "href": href, "type": "application/json"}]
    return collection


async def walk_async(
    href: str, data: Any, config: TransferConfig
) -> tuple[list[dict[str, Any]], dict[str, dict[str, Any]]]:
    """Every item reachable from the document ``data`` read at ``href``, and its collections."""
    async with TransferEngine(config) as engine:
        state = _Walk(engine, [], {}, {href})
        if is_stac_item(data):
            await state.visit(href, data, "item", None)
        elif is_item_collection(data):
            await state.visit(href, data, "item-collection", None)
        else:
            await state.visit(href, data, "container", None)
    return state.items, state.collections


def walk(
    href: str, data: Any, config: TransferConfig
) -> tuple[list[dict[str, Any]], dict[str, dict[str, Any]]]:
    """Sync twin of :func:`walk_async`."""
    from eoaccess.transfer._sync import run_sync

    return run_sync(walk_async, href, data, config)


@dataclass
class StaticCatalog:
    """An opened static catalog: its items in memory."""

    href: str
    index: ItemIndex
    known_collections: dict[str, dict[str, Any]]
    kind: str = "static"

    def collections(self) -> list[dict[str, Any]]:
        from eoaccess.ingest._collections import CollectionInfo, Extent, build_collection

        found = dict(self.known_collections)
        extents: dict[str, Extent] = {}
        for item in self.index.items:
            cid = item.get("collection")
            if isinstance(cid, str) and cid not in found:
                extents.setdefault(cid, Extent()).add_item(item)
        for cid, extent in extents.items():  # items of no collection document (ItemCollections)
            found[cid] = build_collection(CollectionInfo(cid, cid, ""), extent)
        return [found[k] for k in sorted(found)]

    def pages(self, query: Query) -> Iterator[Page]:
        return self.index.pages(query, self.href)

    def count(self, query: Query) -> int:
        return self.index.count(query)

    def close(self) -> None:
        pass


class StaticKind:
    """The ``static`` kind."""

    name = "static"
    description = "static STAC catalog.json / collection / ItemCollection (path, http(s), s3)"

    def recognise(self, probe: Probe) -> bool:
        if probe.is_dir:
            return (Path(probe.href) / "catalog.json").is_file()
        return is_static(probe.json)

    def open(self, probe: Probe) -> StaticCatalog:
        href, data = probe.href, probe.json
        if probe.is_dir:
            href = str(Path(probe.href) / "catalog.json")
            if not Path(href).is_file():
                raise NotACatalogError(f"{probe.href} is a folder without a catalog.json")
            data = parse_json(Path(href).read_bytes(), href)
        if not is_static(data):
            raise NotACatalogError(
                f"{href} is not a static STAC catalog, collection, item or ItemCollection"
            )
        items, collections = walk(href, data, probe.config)
        return StaticCatalog(
            href, ItemIndex(items, keep_order=is_item_collection(data)), collections
        )


KIND = StaticKind()
