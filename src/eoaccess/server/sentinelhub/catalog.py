"""The Sentinel Hub Catalog API (``/api/v1/catalog/1.0.0/``) over the catalog store.

A STAC API in Sentinel Hub's dialect, as sentinelhub-py's ``SentinelHubCatalog`` calls it:
collections are named ``byoc-<id>``, features of BYOC collections carry the BYOC tile id, and
``POST /search`` pages with an integer ``next`` in ``context`` instead of links. Features come
oldest first (then by id), so the first feature of a day-long search is that day's tile. The
query itself is the one canonical :class:`~eoaccess.query.Query` every other search uses.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson
from fastapi import APIRouter, Body
from starlette.requests import Request
from starlette.responses import Response

from eoaccess.errors import InvalidInputError
from eoaccess.matching import apply_fields
from eoaccess.query import make_query, parse_fields
from eoaccess.server.hrefs import Hrefs
from eoaccess.server.sentinelhub._services import INTERNAL_PROPERTIES, ShServices
from eoaccess.stats._byoc import ByocCollection

ROOT = "/api/v1/catalog/1.0.0"
MAX_LIMIT = 100
DEFAULT_LIMIT = 10
CONFORMANCE = [
    "https://api.stacspec.org/v1.0.0/core",
    "https://api.stacspec.org/v1.0.0/collections",
    "https://api.stacspec.org/v1.0.0/ogcapi-features",
    "https://api.stacspec.org/v1.0.0/item-search",
    "https://api.stacspec.org/v1.0.0/item-search#fields",
    "https://api.stacspec.org/v1.0.0/item-search#filter",
    "http://www.opengis.net/spec/cql2/1.0/conf/cql2-text",
    "http://www.opengis.net/spec/cql2/1.0/conf/cql2-json",
]
_SEARCH_KEYS = {
    "collections", "datetime", "bbox", "intersects", "ids", "filter", "filter-lang",
    "filter-crs", "fields", "limit", "next", "distinct",
}  # fmt: skip


def _json(content: Any, media_type: str = "application/json") -> Response:
    return Response(orjson.dumps(content), media_type=media_type)


class CatalogView:
    """Store items and collections in Sentinel Hub Catalog form."""

    def __init__(self, services: ShServices, hrefs: Hrefs) -> None:
        self.services = services
        self.hrefs = hrefs
        self.base = f"{hrefs.base.rstrip('/')}{ROOT}"

    def collection(self, collection: Mapping[str, Any]) -> dict[str, Any]:
        public = self.services.public_id(str(collection["id"]))
        out = {k: v for k, v in collection.items() if k != "links"}
        out["id"] = public
        out["links"] = [
            {
                "rel": "self",
                "href": f"{self.base}/collections/{public}",
                "type": "application/json",
            },
            {"rel": "root", "href": f"{self.base}/", "type": "application/json"},
        ]
        return out

    def feature(self, item: Mapping[str, Any], byoc: ByocCollection | None) -> dict[str, Any]:
        collection = str(item.get("collection", ""))
        public = f"byoc-{collection}" if byoc is not None else collection
        feature_id = self.services.tile_of_item(item, byoc) or str(item["id"])
        out = self.hrefs.with_assets(dict(item))
        out["id"] = feature_id
        out["collection"] = public
        out["properties"] = {
            k: v for k, v in (item.get("properties") or {}).items() if k not in INTERNAL_PROPERTIES
        }
        out["links"] = [
            {
                "rel": "self",
                "href": f"{self.base}/collections/{public}/items/{feature_id}",
                "type": "application/geo+json",
            },
            {"rel": "collection", "href": f"{self.base}/collections/{public}"},
        ]
        return out


def _offset(value: Any) -> int:
    if value is None:
        return 0
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise InvalidInputError(f"next must be a non-negative integer token, not {value!r}")
    return value


def _limit(value: Any) -> int:
    if value is None:
        return DEFAULT_LIMIT
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_LIMIT:
        raise InvalidInputError(f"limit must be an integer from 1 to {MAX_LIMIT}, not {value!r}")
    return value


def search(services: ShServices, view: CatalogView, body: Any) -> dict[str, Any]:
    """``POST /search``: one page of features from offset ``next``."""
    if not isinstance(body, Mapping):
        raise InvalidInputError("the search body must be a JSON object")
    unknown = sorted(set(body) - _SEARCH_KEYS)
    if unknown:
        raise InvalidInputError(f"unknown search parameter(s) {', '.join(unknown)}")
    if body.get("distinct") is not None:
        raise InvalidInputError("distinct is not supported")
    offset, limit = _offset(body.get("next")), _limit(body.get("limit"))
    publics = body.get("collections")
    if not isinstance(publics, list) or not publics or not all(isinstance(c, str) for c in publics):
        raise InvalidInputError("collections must list the collection to search")
    collections = [services.catalog_id(c) for c in publics]
    byocs = {c: services.byoc(c) for c in collections}
    ids = body.get("ids")
    if ids is not None:
        if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
            raise InvalidInputError("ids must be a list of feature ids")
        ids = [services.item_id(c, i, byocs[c]) for c in collections for i in ids]
    query = make_query(
        collections=collections,
        ids=ids,
        bbox=body.get("bbox"),
        intersects=body.get("intersects"),
        datetime=body.get("datetime"),
        filter=body.get("filter"),
        filter_lang=body.get("filter-lang") if body.get("filter") is not None else None,
        sortby="datetime,id",
        limit=min(1000, offset + limit + 1),
    )
    found: list[dict[str, Any]] = []
    token = None
    while len(found) <= offset + limit:  # one item past the page tells whether there is more
        page = services.store.search(query, token)
        found.extend(page.items)
        token = page.next_token
        if token is None:
            break
    fields = parse_fields(body["fields"]) if body.get("fields") is not None else None
    features = [
        apply_fields(view.feature(item, byocs.get(str(item.get("collection")))), fields)
        for item in found[offset : offset + limit]
    ]
    context: dict[str, Any] = {"limit": limit, "returned": len(features)}
    if len(found) > offset + limit:
        context["next"] = offset + limit
    return {
        "type": "FeatureCollection",
        "features": features,
        "links": [{"rel": "self", "href": f"{view.base}/search", "method": "POST"}],
        "context": context,
    }


def catalog_router(services: ShServices) -> APIRouter:
    router = APIRouter(prefix=ROOT, tags=["Sentinel Hub Catalog API"])

    def view(request: Request) -> CatalogView:
        services.authority.check(request)
        return CatalogView(services, Hrefs.from_request(request))

    @router.get("/", summary="Catalog landing page")
    def landing(request: Request) -> Response:
        catalog = view(request)
        return _json(
            {
                "type": "Catalog",
                "stac_version": "1.0.0",
                "id": "eoaccess-sentinel-hub-catalog",
                "description": "Sentinel Hub Catalog API over an eoaccess archive",
                "conformsTo": CONFORMANCE,
                "links": [
                    {"rel": "self", "href": f"{catalog.base}/", "type": "application/json"},
                    {"rel": "data", "href": f"{catalog.base}/collections"},
                    {"rel": "search", "href": f"{catalog.base}/search", "method": "POST"},
                    {"rel": "conformance", "href": f"{catalog.base}/conformance"},
                ],
            }
        )

    @router.get("/conformance", summary="Conformance classes")
    def conformance(request: Request) -> Response:
        view(request)
        return _json({"conformsTo": CONFORMANCE})

    @router.get("/collections", summary="Collections")
    def collections(request: Request) -> Response:
        catalog = view(request)
        listed = [catalog.collection(c) for c in services.store.collections()]
        return _json({"collections": listed, "links": []})

    @router.get("/collections/{collection_id}", summary="One collection")
    def collection(collection_id: str, request: Request) -> Response:
        catalog = view(request)
        cid = services.catalog_id(collection_id)
        return _json(catalog.collection(services.store.get_collection(cid)))

    @router.get("/collections/{collection_id}/items/{feature_id}", summary="One feature")
    def feature(collection_id: str, feature_id: str, request: Request) -> Response:
        catalog = view(request)
        cid = services.catalog_id(collection_id)
        byoc = services.byoc(cid)
        item = services.store.get_item(cid, services.item_id(cid, feature_id, byoc))
        return _json(catalog.feature(item, byoc), "application/geo+json")

    @router.post("/search", summary="Search features (context.next pages)")
    def search_route(request: Request, body: Any = Body(None)) -> Response:  # noqa: B008
        return _json(search(services, view(request), body), "application/geo+json")

    return router
