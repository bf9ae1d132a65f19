"""Where statistics find their items: any catalog the search client opens, or a store.

A source searches one collection by AOI and time and returns STAC items whose asset hrefs are
readable locations (local paths or URLs), finds the collection's BYOC metadata next to its files,
and turns items into :class:`~eoaccess.stats._mosaic.Tile`\\ s. ``SOURCE`` is opened with the
search client (:func:`eoaccess.catalog.open_catalog`), so every catalog kind it recognises
works; the server searches its own store with :func:`search_store`.
"""

from __future__ import annotations

import json
import posixpath
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

from eoaccess.errors import InvalidInputError, NotFoundError
from eoaccess.query import format_datetime, make_query, parse_instant
from eoaccess.stats._aoi import Grid
from eoaccess.stats._byoc import ByocCollection, find_byoc
from eoaccess.stats._mosaic import Tile

MAX_ITEMS = 100_000


class ItemSource(Protocol):
    """A catalog statistics can read items from."""

    def collection(self, collection_id: str) -> dict[str, Any]:
        """The STAC collection; NotFoundError if unknown."""

    def search(
        self, collection_id: str, intersects: Mapping[str, Any], start: datetime, end: datetime
    ) -> list[dict[str, Any]]:
        """Items of the collection meeting the lon/lat geometry in ``[start, end)``, hrefs
        resolved to readable locations."""

    def any_item(self, collection_id: str) -> dict[str, Any] | None:
        """One item of the collection (its band metadata), hrefs resolved; None if empty."""

    def read_json(self, location: str) -> Any:
        """The JSON document at a location (None if absent): BYOC metadata."""

    def close(self) -> None: ...


def _read_local_json(location: str) -> Any:
    try:
        return json.loads(Path(location).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _read_http_json(location: str) -> Any:
    import httpx

    try:
        response = httpx.get(location, timeout=30.0)
    except httpx.HTTPError:
        return None
    if response.status_code != 200:
        return None
    try:
        return response.json()
    except ValueError:
        return None


def read_json(location: str) -> Any:
    """JSON from a local path or an http(s) URL; None when absent or not JSON."""
    if location.startswith(("http://", "https://")):
        return _read_http_json(location)
    return _read_local_json(location)


def _closed_end(end: datetime) -> str:
    # STAC intervals are closed; statistics intervals end just before ``end``.
    return format_datetime(end - timedelta(microseconds=1))


def search_store(
    store: Any, collection_id: str, intersects: Mapping[str, Any], start: datetime, end: datetime
) -> list[dict[str, Any]]:
    """Items of a catalog store's collection meeting ``intersects`` in ``[start, end)``, hrefs
    as stored."""
    query = make_query(
        collections=[collection_id],
        intersects=dict(intersects),
        datetime=f"{format_datetime(start)}/{_closed_end(end)}",
        limit=1000,
    )
    items: list[dict[str, Any]] = []
    token = None
    while True:
        page = store.search(query, token)
        items.extend(page.items)
        token = page.next_token
        if token is None or len(items) >= MAX_ITEMS:
            return items


class CatalogSource:
    """Items from any catalog :func:`eoaccess.catalog.open_catalog` opens: an archive folder, a
    STAC API (our server), a static catalog… (asset hrefs come back absolute)."""

    def __init__(self, source: str | Path) -> None:
        from eoaccess.catalog import open_catalog

        self.catalog = open_catalog(source)

    def collection(self, collection_id: str) -> dict[str, Any]:
        for collection in self.catalog.collections():
            if collection.get("id") == collection_id:
                return collection
        raise NotFoundError(f"no collection {collection_id!r} in {self.catalog.href}")

    def search(
        self, collection_id: str, intersects: Mapping[str, Any], start: datetime, end: datetime
    ) -> list[dict[str, Any]]:
        found = self.catalog.search(
            collections=[collection_id],
            intersects=dict(intersects),
            datetime=f"{format_datetime(start)}/{_closed_end(end)}",
            limit=1000,
            max_items=MAX_ITEMS,
        )
        return list(found.items())

    def any_item(self, collection_id: str) -> dict[str, Any] | None:
        found = self.catalog.search(collections=[collection_id], limit=1, max_items=1)
        return next(iter(found.items()), None)

    def read_json(self, location: str) -> Any:
        return read_json(location)

    def close(self) -> None:
        self.catalog.close()


def open_source(source: str | Path) -> ItemSource:
    """The item source for ``SOURCE``: anything the search client opens (an archive folder with
    an embedded catalog, a STAC API URL, a static catalog…)."""
    return CatalogSource(source)


# --- items to tiles ----------------------------------------------------------------------------


def _crs(fields: Mapping[str, Any]) -> str | None:
    code = fields.get("proj:code")
    if isinstance(code, str) and code:
        return code
    epsg = fields.get("proj:epsg")
    if isinstance(epsg, int):
        return f"EPSG:{epsg}"
    wkt = fields.get("proj:wkt2")
    return wkt if isinstance(wkt, str) and wkt else None


def item_grid(item: Mapping[str, Any], asset: Mapping[str, Any]) -> Grid | None:
    """The grid of an asset from projection fields (asset-level ones override the item's)."""
    fields = {**(item.get("properties") or {}), **asset}
    crs = _crs(fields)
    transform = fields.get("proj:transform")
    shape = fields.get("proj:shape")
    if (
        crs is None
        or not isinstance(transform, list)
        or len(transform) < 6
        or not isinstance(shape, list)
        or len(shape) != 2
    ):
        return None
    a, b, c, d, e, f = (float(v) for v in transform[:6])
    return Grid(crs, (a, b, c, d, e, f), int(shape[1]), int(shape[0]))


def item_datetime(item: Mapping[str, Any]) -> datetime:
    props = item.get("properties") or {}
    text = props.get("datetime") or props.get("start_datetime")
    if not isinstance(text, str):
        raise InvalidInputError(f"item {item.get('id')} has no datetime")
    return parse_instant(text)


def _stem(location: str) -> str:
    return posixpath.splitext(posixpath.basename(location.split("?", 1)[0]))[0]


def to_tile(
    item: Mapping[str, Any],
    byoc: ByocCollection | None,
    resolve: Callable[[str], str] | None = None,
) -> Tile:
    """A tile from an item (and its BYOC tile, when there is one).

    ``byoc`` was found from hrefs like the item's; ``resolve`` turns them into readable
    locations (the server's items keep archive-relative hrefs).
    """
    assets = {
        str(k): str(v["href"])
        for k, v in (item.get("assets") or {}).items()
        if isinstance(v, Mapping) and isinstance(v.get("href"), str)
    }
    grids = {}
    for key, asset in (item.get("assets") or {}).items():
        grid = item_grid(item, asset) if isinstance(asset, Mapping) else None
        if grid is not None:
            grids[str(key)] = grid
    tile_id, header_sizes = None, {}
    if byoc is not None:
        tile = next((t for t in map(byoc.tile_of, assets.values()) if t is not None), None)
        if tile is not None:
            tile_id = str(tile["id"])
            for key, location in assets.items():
                size = byoc.header_size(tile, _stem(location))
                if size is not None:
                    header_sizes[key] = size
    cloud = (item.get("properties") or {}).get("eo:cloud_cover")
    if resolve is not None:
        assets = {key: resolve(location) for key, location in assets.items()}
    return Tile(
        id=str(item["id"]),
        collection=str(item.get("collection", "")),
        datetime=item_datetime(item),
        cloud_cover=float(cloud) if isinstance(cloud, int | float) else None,
        assets=assets,
        grids=grids,
        tile_id=tile_id,
        header_sizes=header_sizes,
    )


def first_location(items: Sequence[Mapping[str, Any]]) -> str | None:
    for item in items:
        for asset in (item.get("assets") or {}).values():
            if isinstance(asset, Mapping) and isinstance(asset.get("href"), str):
                return str(asset["href"])
    return None


def byoc_for(
    source: ItemSource, collection_id: str, items: Sequence[Mapping[str, Any]]
) -> ByocCollection | None:
    """The BYOC metadata of a collection, found from its first item's files."""
    location = first_location(items)
    return find_byoc(collection_id, location, source.read_json) if location else None


def iter_tiles(
    items: Sequence[Mapping[str, Any]],
    byoc: ByocCollection | None,
    resolve: Callable[[str], str] | None = None,
) -> Iterator[Tile]:
    for item in items:
        yield to_tile(item, byoc, resolve)


def outside_extent(
    collection: Mapping[str, Any], bounds: tuple[float, float, float, float]
) -> bool:
    """True when lon/lat ``bounds`` miss every bbox of the collection's spatial extent."""
    boxes = ((collection.get("extent") or {}).get("spatial") or {}).get("bbox") or []
    usable = [b for b in boxes if isinstance(b, list) and len(b) >= 4]
    if not usable:
        return False
    west, south, east, north = bounds
    for box in usable:
        w, s, e, n = (box[0], box[1], box[3], box[4]) if len(box) == 6 else box[:4]
        lon = (
            (west <= e or east >= w) if w > e else (w <= east and west <= e)
        )  # w > e: antimeridian
        if lon and s <= north and south <= n:
            return False
    return True
