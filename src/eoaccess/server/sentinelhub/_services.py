"""What the Sentinel Hub routers share: the store, the archive, BYOC metadata and ids.

Sentinel Hub names a BYOC collection ``byoc-<id>`` in its Catalog and Statistical APIs, and its
catalog features are the BYOC tiles (feature id = tile id, which the seed passes to the BYOC
API). Our catalog keeps the collection as ``<id>`` and items under ingest's ids, so this module
translates: collection ids both ways, feature id <-> item id through the tile's folder. BYOC
metadata is read from ``collection.json``/``tiles.json`` in the archive, found from the
collection's files and cached.
"""

from __future__ import annotations

import json
import posixpath
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from eoaccess.errors import EOAccessError, NotFoundError
from eoaccess.query import format_datetime, make_query, parse_instant
from eoaccess.server.files import ArchiveFiles, clean_archive_path
from eoaccess.server.sentinelhub.oauth import TokenAuthority
from eoaccess.stats._byoc import ByocCollection, ByocIndex
from eoaccess.stores import CatalogStore

BYOC_PREFIX = "byoc-"
INTERNAL_PROPERTIES = ("eoaccess:fingerprint",)


class ShServices:
    """The store, archive and BYOC index behind the Sentinel Hub dialect."""

    def __init__(
        self, store: CatalogStore, archive: ArchiveFiles | None, authority: TokenAuthority
    ) -> None:
        self.store = store
        self.archive = archive
        self.authority = authority
        self.index = ByocIndex(self.read_json)

    # --- files ------------------------------------------------------------------------------

    def read_json(self, path: str) -> Any:
        """A JSON file of the archive (None when absent or not JSON)."""
        if self.archive is None:
            return None
        try:
            clean = clean_archive_path(path)
            info = self.archive.stat(clean)
            if info.is_dir:
                return None
            return json.loads(b"".join(self.archive.read(clean, 0, info.size)))
        except (EOAccessError, ValueError):  # missing, unreadable or not JSON
            return None

    def location(self, path: str) -> str:
        """A readable location (local path or s3:// URL) of an archive-relative path."""
        if self.archive is None:
            raise NotFoundError("this server publishes no archive: no pixels to compute on")
        if "://" in path or path.startswith("/"):
            return path
        return f"{self.archive.location.rstrip('/')}/{clean_archive_path(path)}"

    # --- collections --------------------------------------------------------------------------

    def first_item(self, collection_id: str) -> dict[str, Any] | None:
        page = self.store.search(make_query(collections=[collection_id], limit=1))
        return page.items[0] if page.items else None

    def byoc(self, collection_id: str) -> ByocCollection | None:
        """The BYOC metadata of a catalog collection, if its files have any."""
        item = self.first_item(collection_id)
        href = _first_href(item) if item else None
        return self.index.lookup(collection_id, href)

    def public_id(self, collection_id: str) -> str:
        """The Sentinel Hub id of a catalog collection (``byoc-<id>`` for BYOC ones)."""
        return BYOC_PREFIX + collection_id if self.byoc(collection_id) else collection_id

    def catalog_id(self, public_id: str) -> str:
        """The catalog collection of a Sentinel Hub id; NotFoundError if there is none."""
        for candidate in (public_id.removeprefix(BYOC_PREFIX), public_id):
            try:
                self.store.get_collection(candidate)
            except NotFoundError:
                continue
            return candidate
        raise NotFoundError(f"no collection {public_id!r}")

    def byoc_collection(self, collection_id: str) -> ByocCollection:
        """The BYOC collection ``collection_id`` (with or without ``byoc-``); 404 otherwise."""
        found = self.byoc(self.catalog_id(collection_id))
        if found is None:
            raise NotFoundError(f"collection {collection_id!r} is not a BYOC collection")
        return found

    # --- features <-> items -------------------------------------------------------------------

    def tile_of_item(self, item: Mapping[str, Any], byoc: ByocCollection | None) -> str | None:
        if byoc is None:
            return None
        for asset in (item.get("assets") or {}).values():
            href = asset.get("href") if isinstance(asset, Mapping) else None
            tile = byoc.tile_of(href) if isinstance(href, str) else None
            if tile is not None:
                return str(tile["id"])
        return None

    def item_id(self, collection_id: str, feature_id: str, byoc: ByocCollection | None) -> str:
        """The catalog item of a feature id (a BYOC tile id, or already an item id)."""
        if byoc is None:
            return feature_id
        try:
            tile = byoc.tile(feature_id)
        except NotFoundError:
            return feature_id
        folder = posixpath.dirname(str(tile.get("path", "")))
        when = parse_instant(str(tile.get("sensingTime")))
        around = f"{format_datetime(when - timedelta(days=1))}/{format_datetime(when + timedelta(days=1))}"
        query = make_query(collections=[collection_id], datetime=around, limit=1000)
        for item in self.store.search(query).items:
            for asset in (item.get("assets") or {}).values():
                href = asset.get("href") if isinstance(asset, Mapping) else None
                if isinstance(href, str) and byoc.folder_of(href) == folder:
                    return str(item["id"])
        raise NotFoundError(f"tile {feature_id!r} has no item in collection {collection_id!r}")


def _first_href(item: Mapping[str, Any]) -> str | None:
    for asset in (item.get("assets") or {}).values():
        if isinstance(asset, Mapping) and isinstance(asset.get("href"), str):
            return str(asset["href"])
    return None
