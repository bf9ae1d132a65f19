"""The catalog store interface shared by the embedded and the PostgreSQL backends."""

from __future__ import annotations

import contextlib
import importlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from eoaccess.errors import InvalidInputError
from eoaccess.query import Query

EMBEDDED_DIRNAME = ".eoaccess"


@dataclass(frozen=True)
class ItemPage:
    """One page of search results."""

    items: list[dict[str, Any]]
    """STAC item dicts, asset hrefs as stored (archive-relative paths or absolute URLs), no links."""
    number_matched: int | None
    """Total number of items matching the query (None when the backend cannot count cheaply)."""
    next_token: str | None
    """Opaque token for the next page, or None on the last page."""


class StoreWriter(Protocol):
    """Changes made inside one transaction: all of them land, or none."""

    def upsert_collection(self, collection: dict[str, Any]) -> None:
        """Insert or replace a collection (a STAC Collection dict)."""

    def upsert_items(self, items: Iterable[dict[str, Any]]) -> int:
        """Insert or replace items (each with ``collection`` set); return how many.

        Items are stored as given minus ``links``. An item needs a ``datetime`` or both
        ``start_datetime`` and ``end_datetime`` (InvalidInputError) and an existing collection
        (NotFoundError), in every backend.
        """

    def delete_items(self, collection: str, ids: Iterable[str]) -> int:
        """Delete items by id; return how many existed."""

    def delete_collection(self, collection: str) -> None:
        """Delete a collection and all its items; raises NotFoundError if unknown."""


class CatalogStore(Protocol):
    """Collections and items of an archive, searchable with the one :class:`Query` model.

    Items are stored with asset hrefs relative to the archive root (or as absolute URLs for
    remote data); the server turns them into absolute URLs of the request's host.
    """

    uri: str
    """Where the store lives (a file path or a database URI, credentials removed)."""

    def collections(self) -> list[dict[str, Any]]:
        """All collections, sorted by id."""

    def get_collection(self, collection_id: str) -> dict[str, Any]:
        """One collection; raises NotFoundError if unknown."""

    def get_item(self, collection_id: str, item_id: str) -> dict[str, Any]:
        """One item; raises NotFoundError if the collection or item is unknown."""

    def search(self, query: Query, token: str | None = None) -> ItemPage:
        """One page of items matching ``query`` (``query.limit`` items at most), from ``token``.

        Order (pgstac's, the same in every backend and in :func:`eoaccess.matching.sort_items`):
        ``query.sortby`` (without it :data:`eoaccess.matching.DEFAULT_SORTBY`, datetime
        descending), then collection and id in the direction of the first key. ``datetime`` and
        ``start_datetime`` mean the start of an item's time range, ``end_datetime`` its end; a
        missing value sorts above every value (last ascending, first descending).
        ``number_matched`` is exact. The token is opaque and belongs to this query: a token from
        another query raises InvalidInputError.
        """

    def item_fingerprints(self, collection_id: str | None = None) -> dict[tuple[str, str], str]:
        """``(collection, id) -> fingerprint`` of stored items, for incremental ingest.

        Ingest (``eoaccess.ingest``) produces the fingerprint: an opaque ASCII string (under
        ~300 characters) written into each item as ``properties["eoaccess:fingerprint"]``. A
        backend returns that value here (it may keep it in a column of its own); items without
        it are absent from the map.
        """

    def transaction(self) -> contextlib.AbstractContextManager[StoreWriter]:
        """A write transaction: committed when the block ends normally, rolled back otherwise."""

    def close(self) -> None:
        """Release connections and file handles."""


# Registry: URI scheme -> module with ``open(uri, archive) -> CatalogStore``.
_BACKENDS: dict[str, str] = {
    "embedded": "eoaccess.stores.embedded",
    "postgresql": "eoaccess.stores.pgstac",
    "postgres": "eoaccess.stores.pgstac",
}


def open_store(uri: str | Path | None = None, archive: str | Path | None = None) -> CatalogStore:
    """Open the catalog store at ``uri``, or the embedded one inside ``archive`` when uri is None."""
    if uri is None or str(uri) == "":
        if archive is None:
            raise InvalidInputError("give an archive directory or a --catalog URI")
        scheme, target = "embedded", str(Path(archive) / EMBEDDED_DIRNAME)
    else:
        text = str(uri)
        scheme = text.split("://", 1)[0].lower() if "://" in text else "embedded"
        target = text
    if scheme not in _BACKENDS:
        raise InvalidInputError(
            f"unsupported catalog URI {uri!r}; use postgresql://… or a directory"
        )
    module = importlib.import_module(_BACKENDS[scheme])
    store: CatalogStore = module.open(target, archive)
    return store


@contextlib.contextmanager
def opened(
    uri: str | Path | None = None, archive: str | Path | None = None
) -> Iterator[CatalogStore]:
    """Open a store for the duration of a block."""
    store = open_store(uri, archive)
    try:
        yield store
    finally:
        store.close()
