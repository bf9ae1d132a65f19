"""Catalog stores: where the server's collections and items live.

One interface (:class:`CatalogStore`), two backends: an embedded single-file catalog under
``ARCHIVE/.eoaccess/`` (the default: no server process) and PostgreSQL with pgstac
(``postgresql://…``). :func:`open_store` picks the backend from the URI.
"""

from eoaccess.stores._base import CatalogStore, ItemPage, StoreWriter, open_store

__all__ = ["CatalogStore", "ItemPage", "StoreWriter", "open_store"]
