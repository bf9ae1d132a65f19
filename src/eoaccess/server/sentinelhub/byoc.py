"""The Sentinel Hub BYOC API (read-only): collections, tiles and tile files with Range.

``/api/v1/byoc/collections[/{id}]`` and ``/collections/{id}/tiles[/{tile}]`` answer
``{"data": …}`` from the archive's ``collection.json`` and ``tiles.json`` (lists page with
``count`` and an integer ``viewtoken``; ``links.nextToken`` says where the next page starts).
``/collections/{id}/tiles/{tile}/files/{name}`` serves a file of the tile's folder through the
server's file code, so Range requests, ETags and conditional requests behave exactly as under
``/files`` (seed 004 range-reads ``headerSize`` bytes of the QA GeoTIFF this way).
"""

from __future__ import annotations

import posixpath
from typing import Any

import orjson
from fastapi import APIRouter, Query
from starlette.requests import Request
from starlette.responses import Response

from eoaccess.errors import InvalidInputError, NotFoundError
from eoaccess.server.files import serve_path
from eoaccess.server.sentinelhub._services import ShServices

ROOT = "/api/v1/byoc"
MAX_COUNT = 100


def _json(content: Any) -> Response:
    return Response(orjson.dumps(content), media_type="application/json")


def _page(items: list[Any], count: int | None, viewtoken: str | None) -> dict[str, Any]:
    size = MAX_COUNT if count is None else count
    if not 1 <= size <= MAX_COUNT:
        raise InvalidInputError(f"count must be 1 to {MAX_COUNT}")
    try:
        start = int(viewtoken) if viewtoken else 0
    except ValueError:
        raise InvalidInputError(f"invalid viewtoken {viewtoken!r}") from None
    if start < 0:
        raise InvalidInputError(f"invalid viewtoken {viewtoken!r}")
    links: dict[str, Any] = {"currentToken": str(start)}
    if start + size < len(items):
        links["nextToken"] = str(start + size)
    return {"data": items[start : start + size], "links": links}


def byoc_router(services: ShServices) -> APIRouter:
    router = APIRouter(prefix=ROOT, tags=["Sentinel Hub BYOC API"])

    @router.get("/collections", summary="BYOC collections")
    def collections(
        request: Request,
        count: int | None = Query(None),
        viewtoken: str | None = Query(None),
        search: str | None = Query(None),
    ) -> Response:
        services.authority.check(request)
        found = []
        for collection in services.store.collections():
            byoc = services.byoc(str(collection["id"]))
            if byoc is None:
                continue
            name = str(byoc.collection.get("name", ""))
            if search and search.lower() not in f"{byoc.id} {name}".lower():
                continue
            found.append(dict(byoc.collection))
        return _json(_page(found, count, viewtoken))

    @router.get("/collections/{collection_id}", summary="One BYOC collection")
    def collection(collection_id: str, request: Request) -> Response:
        services.authority.check(request)
        return _json({"data": dict(services.byoc_collection(collection_id).collection)})

    @router.get("/collections/{collection_id}/tiles", summary="Tiles of a BYOC collection")
    def tiles(
        collection_id: str,
        request: Request,
        count: int | None = Query(None),
        viewtoken: str | None = Query(None),
        path: str | None = Query(None),
        sort: str | None = Query(None),
    ) -> Response:
        services.authority.check(request)
        listed = [dict(t) for t in services.byoc_collection(collection_id).tiles]
        if path is not None:
            listed = [t for t in listed if t.get("path") == path]
        if sort:
            field, _, direction = sort.partition(":")
            listed.sort(key=lambda t: str(t.get(field, "")), reverse=direction.lower() == "desc")
        return _json(_page(listed, count, viewtoken))

    @router.get("/collections/{collection_id}/tiles/{tile_id}", summary="One tile")
    def tile(collection_id: str, tile_id: str, request: Request) -> Response:
        services.authority.check(request)
        return _json({"data": dict(services.byoc_collection(collection_id).tile(tile_id))})

    def tile_file(collection_id: str, tile_id: str, name: str, request: Request) -> Response:
        services.authority.check(request)
        if services.archive is None:
            raise NotFoundError("this server publishes no archive files")
        byoc = services.byoc_collection(collection_id)
        found = byoc.tile(tile_id)
        if not name or name != posixpath.basename(name) or name in (".", ".."):
            raise NotFoundError(f"no file {name!r} in tile {tile_id}")
        return serve_path(request, services.archive, byoc.file_location(found, name))

    for method in ("GET", "HEAD"):  # one route per method: OpenAPI wants one operation id each
        router.add_api_route(
            "/collections/{collection_id}/tiles/{tile_id}/files/{name}",
            tile_file,
            methods=[method],
            name=f"byoc_tile_file_{method.lower()}",
            operation_id=f"byoc_tile_file_{method.lower()}",
            summary="A file of a tile (Range requests supported)",
        )
    return router
