"""Assembles the FastAPI application of ``eoaccess serve``.

:func:`create_app` wires a catalog store and an archive root into one ASGI app: the STAC API
(stac-fastapi with our core client and the filter/sort/fields extensions), the file routes, the
forwarded-header handling and the JSON error mapping. It owns neither the store nor a server
process: the CLI, the quickstart and the tests open the store, call this and run the app (see
:mod:`eoaccess.server.run`).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from fastapi import FastAPI
from stac_fastapi.api.app import StacApi
from stac_fastapi.extensions import FieldsExtension, FilterExtension, SortExtension
from stac_fastapi.types.config import ApiSettings
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware

from eoaccess import __version__
from eoaccess.harmony._model import HarmonySettings, HarmonyUnavailable
from eoaccess.server.errors import CatchAllMiddleware, install_error_handlers
from eoaccess.server.files import ArchiveFiles, files_router, open_archive
from eoaccess.server.models import ItemsGetParams, SearchBody, SearchGetParams
from eoaccess.server.proxy import ForwardedHeadersMiddleware
from eoaccess.server.sentinelhub import sentinelhub_router
from eoaccess.server.stac import (
    CORE_CONFORMANCE,
    FIELDS_CONFORMANCE,
    FILTER_CONFORMANCE,
    SORT_CONFORMANCE,
    JSONResponse,
    StoreCoreClient,
    StoreQueryablesClient,
)
from eoaccess.stores import CatalogStore

if TYPE_CHECKING:
    from eoaccess.harmony import JobService


@dataclass(frozen=True)
class ServerSettings:
    """How the server presents itself; every field has a sensible default."""

    title: str = "eoaccess"
    """Landing page title."""
    description: str = "Earth and planetary observation archive served by eoaccess"
    """Landing page description."""
    catalog_id: str = "eoaccess"
    """Landing page (root catalog) id."""
    s3_endpoint: str | None = None
    """Endpoint of an S3-compatible store holding the archive (default: AWS_* variables)."""
    oauth_clients: Mapping[str, str] | None = None
    """OAuth2 clients (id -> secret) of the Sentinel Hub APIs; None: any client gets a token
    and no token is required (local use)."""
    harmony: HarmonySettings = field(default_factory=HarmonySettings)
    """The Harmony-compatible transformation service (results store, Dask, users, preview)."""


def create_app(
    store: CatalogStore,
    archive_root: str | Path | ArchiveFiles | None = None,
    settings: ServerSettings | None = None,
) -> FastAPI:
    """The STAC API and file server over ``store`` and the files under ``archive_root``.

    ``archive_root`` is a folder, an ``s3://bucket/prefix`` URL or an opened
    :class:`~eoaccess.server.files.ArchiveFiles`; None serves the catalog without files.
    """
    settings = settings or ServerSettings()
    archive = _archive(archive_root, settings)
    api_settings = ApiSettings(
        _env_file=None,  # type: ignore[call-arg]  # never read a .env of the working folder
        stac_fastapi_title=settings.title,
        stac_fastapi_description=settings.description,
        stac_fastapi_landing_id=settings.catalog_id,
        stac_fastapi_version=__version__,
        openapi_url="/api",
        docs_url="/api.html",
        # Explicit, so that environment variables of the same names cannot change them.
        root_path="",
        enable_response_models=False,
        enable_direct_response=False,
    )
    client = StoreCoreClient(
        store=store,
        landing_page_id=settings.catalog_id,
        base_conformance_classes=list(CORE_CONFORMANCE),
    )
    extensions = [
        FilterExtension(
            client=StoreQueryablesClient(store=store),
            conformance_classes=list(FILTER_CONFORMANCE),
        ),
        SortExtension(conformance_classes=list(SORT_CONFORMANCE)),
        FieldsExtension(conformance_classes=list(FIELDS_CONFORMANCE)),
    ]
    api = StacApi(
        settings=api_settings,
        client=client,
        extensions=extensions,
        exceptions={},
        search_get_request_model=SearchGetParams,
        search_post_request_model=SearchBody,
        items_get_request_model=ItemsGetParams,
        response_class=JSONResponse,
        # StacApi inserts these in reverse, so the last one is the outermost.
        middlewares=[
            Middleware(ForwardedHeadersMiddleware),
            Middleware(
                CORSMiddleware,
                allow_origins=["*"],
                allow_methods=["GET", "HEAD", "POST", "OPTIONS"],
                allow_headers=[
                    "Content-Type",
                    "Range",
                    "If-None-Match",
                    "If-Range",
                    "Authorization",
                ],
                expose_headers=["Content-Range", "Content-Length", "ETag", "Accept-Ranges"],
                max_age=600,
            ),
            Middleware(CatchAllMiddleware),
        ],
    )
    app = api.app
    app.include_router(files_router(archive))
    app.include_router(sentinelhub_router(store, archive, settings.oauth_clients))
    app.state.harmony = _include_harmony(app, store, archive, settings)
    install_error_handlers(app)
    app.state.store = store
    app.state.archive = archive
    return app


def _include_harmony(
    app: FastAPI, store: CatalogStore, archive: ArchiveFiles | None, settings: ServerSettings
) -> JobService | None:
    """Add the Harmony routes; None (logged) when the service cannot run beside this catalog.

    The caller owns the returned service: ``app.state.harmony.close()`` stops its runner."""
    if not settings.harmony.enabled:
        return None
    from eoaccess.harmony import JobService
    from eoaccess.server.harmony import harmony_router

    try:
        service = JobService(store, archive.location if archive else None, settings.harmony)
    except HarmonyUnavailable as exc:
        logging.getLogger("eoaccess.server").info("Harmony service not offered: %s", exc)
        return None
    app.include_router(harmony_router(service))
    return service


def _archive(
    root: str | Path | ArchiveFiles | None, settings: ServerSettings
) -> ArchiveFiles | None:
    if root is None:
        return None
    if isinstance(root, str | Path):
        return open_archive(root, endpoint=settings.s3_endpoint)
    return root
