"""Sentinel Hub BYOC metadata kept in an archive: ``collection.json`` and ``tiles.json``.

A BYOC product folder (the sample's ``arps/``) holds the collection (band names → file and band
index, no-data values) and its tiles (id, ``path`` with a ``(BAND)`` placeholder, sensing time,
``filesMetadata.headerSize/etag``). Statistics use it for the band mapping and the header size of
a header-only read; the server's BYOC and Catalog APIs publish it. The folder is found from any
asset of the collection by walking up its location (an archive path, a local path or a URL).
"""

from __future__ import annotations

import posixpath
import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from eoaccess.errors import NotFoundError

JsonReader = Callable[[str], Any]
"""Reads the JSON document at a location; returns None when there is none."""

MAX_LEVELS = 6  # how far above an asset the product folder may be
BAND_PLACEHOLDER = "(BAND)"


def parent_locations(location: str) -> Iterator[str]:
    """Folders above a file location, nearest first (URLs keep their scheme and host)."""
    parts = urlsplit(location)
    url = bool(parts.scheme and parts.netloc)
    path = parts.path if url else location
    for _ in range(MAX_LEVELS):
        parent = posixpath.dirname(path.rstrip("/"))
        if parent == path.rstrip("/"):
            return
        path = parent
        yield urlunsplit(parts._replace(path=path, query="", fragment="")) if url else path
        if path in ("", "/"):
            return


def join(folder: str, name: str) -> str:
    """``folder/name`` for archive paths, local paths and URLs alike."""
    if not folder:
        return name
    parts = urlsplit(folder)
    if parts.scheme and parts.netloc:
        return urlunsplit(parts._replace(path=posixpath.join(parts.path or "/", name)))
    return posixpath.join(folder, name)


@dataclass(frozen=True)
class ByocCollection:
    """A BYOC collection and its tiles, as stored next to its data."""

    root: str
    """The product folder (same kind of location as the assets it was found from)."""
    collection: Mapping[str, Any]
    """``collection.json``."""
    tiles: tuple[Mapping[str, Any], ...]
    """``tiles.json``'s ``data``."""
    _by_id: dict[str, Mapping[str, Any]] = field(default_factory=dict, repr=False)
    _by_folder: dict[str, Mapping[str, Any]] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        for tile in self.tiles:
            self._by_id[str(tile.get("id"))] = tile
            self._by_folder[posixpath.dirname(str(tile.get("path", "")))] = tile

    @property
    def id(self) -> str:
        return str(self.collection["id"])

    @property
    def bands(self) -> Mapping[str, Mapping[str, Any]]:
        """Band name -> ``{source, bandIndex, noData?, …}``."""
        bands = (self.collection.get("additionalData") or {}).get("bands") or {}
        return bands if isinstance(bands, Mapping) else {}

    def tile(self, tile_id: str) -> Mapping[str, Any]:
        try:
            return self._by_id[tile_id]
        except KeyError:
            raise NotFoundError(f"no tile {tile_id!r} in BYOC collection {self.id}") from None

    def folder_of(self, location: str) -> str | None:
        """The tile folder (relative to the root) of a file location under the root, or None."""
        prefix = self.root.rstrip("/") + "/" if self.root else ""
        if not location.startswith(prefix):
            return None
        return posixpath.dirname(location[len(prefix) :])

    def tile_of(self, location: str) -> Mapping[str, Any] | None:
        """The tile whose folder holds the file at ``location``."""
        folder = self.folder_of(location)
        return None if folder is None else self._by_folder.get(folder)

    def file_name(self, tile: Mapping[str, Any], source: str) -> str:
        """The file name of band file ``source`` of a tile (``(BAND)`` replaced)."""
        return posixpath.basename(str(tile["path"])).replace(BAND_PLACEHOLDER, source)

    def file_location(self, tile: Mapping[str, Any], name: str) -> str:
        """Where file ``name`` of a tile lies (a location like the root's)."""
        folder = posixpath.dirname(str(tile["path"]))
        return join(join(self.root, folder) if folder else self.root, name)

    def header_size(self, tile: Mapping[str, Any], source: str) -> int | None:
        """``filesMetadata.<source>.headerSize`` of a tile, if recorded."""
        meta = ((tile.get("additionalData") or {}).get("filesMetadata") or {}).get(source) or {}
        size = meta.get("headerSize")
        return int(size) if isinstance(size, int) and size > 0 else None


def find_byoc(
    collection_id: str, asset_location: str, read_json: JsonReader
) -> ByocCollection | None:
    """The BYOC collection ``collection_id`` in a folder above ``asset_location``, if any."""
    for folder in parent_locations(asset_location):
        described = read_json(join(folder, "collection.json"))
        if not (isinstance(described, Mapping) and described.get("id") == collection_id):
            continue
        listed = read_json(join(folder, "tiles.json"))
        data = listed.get("data") if isinstance(listed, Mapping) else None
        tiles = tuple(t for t in data if isinstance(t, Mapping)) if isinstance(data, list) else ()
        return ByocCollection(folder, described, tiles)
    return None


class ByocIndex:
    """Finds and caches the BYOC collection of each catalog collection (None when it has none)."""

    def __init__(self, read_json: JsonReader) -> None:
        self._read_json = read_json
        self._lock = threading.Lock()
        self._found: dict[str, ByocCollection | None] = {}

    def lookup(self, collection_id: str, asset_location: str | None) -> ByocCollection | None:
        with self._lock:
            if collection_id in self._found:
                return self._found[collection_id]
        found = (
            find_byoc(collection_id, asset_location, self._read_json) if asset_location else None
        )
        with self._lock:
            self._found[collection_id] = found
        return found
