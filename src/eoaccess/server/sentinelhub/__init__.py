"""The Sentinel Hub dialect of ``eoaccess serve``: Statistical, Catalog and BYOC APIs, OAuth2.

One module per API (``statistics``, ``catalog``, ``byoc``, ``oauth``), each a thin router over
shared services (:mod:`._services`) and the core functions the CLI uses (``eoaccess.stats``).
sentinelhub-py works against it unchanged with ``SHConfig(sh_base_url=<server>,
sh_token_url=<server>/oauth/token, …)`` (COMPAT.md).
"""

from __future__ import annotations

from collections.abc import Mapping

from fastapi import APIRouter

from eoaccess.server.files import ArchiveFiles
from eoaccess.server.sentinelhub._services import ShServices
from eoaccess.server.sentinelhub.byoc import byoc_router
from eoaccess.server.sentinelhub.catalog import catalog_router
from eoaccess.server.sentinelhub.oauth import TokenAuthority, oauth_router
from eoaccess.server.sentinelhub.statistics import statistics_router
from eoaccess.stores import CatalogStore

__all__ = ["TokenAuthority", "sentinelhub_router"]


def sentinelhub_router(
    store: CatalogStore,
    archive: ArchiveFiles | None,
    oauth_clients: Mapping[str, str] | None = None,
) -> APIRouter:
    """Every Sentinel Hub route over ``store`` and ``archive``.

    ``oauth_clients`` (client id -> secret) makes Bearer tokens mandatory; None is open.
    """
    services = ShServices(store, archive, TokenAuthority(oauth_clients))
    router = APIRouter()
    router.include_router(oauth_router(services.authority))
    for build in (statistics_router, catalog_router, byoc_router):
        router.include_router(build(services))
    return router
