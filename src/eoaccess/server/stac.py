"""The STAC API over a :class:`~eoaccess.stores.CatalogStore`: a stac-fastapi core client.

stac-fastapi gives the routes, the OpenAPI document and the extension plumbing; this client
answers them from the store. Every search — ``GET``/``POST /search`` and
``/collections/{id}/items`` — becomes one canonical :class:`~eoaccess.query.Query` (through
:mod:`eoaccess.server.params`) and one ``store.search`` call, so the server, the CLI and the
Python API give the same answers. The fields extension is applied here, after links and
absolute asset hrefs are in place, with the same :func:`~eoaccess.matching.apply_fields` that
client-side sources use.

Handlers return ready responses (serialised with orjson) rather than dicts: FastAPI's generic
encoder costs more than the search itself on large pages.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import Any

import attr
import orjson
from stac_fastapi.extensions.filter.client import BaseFiltersClient
from stac_fastapi.types.core import BaseCoreClient
from starlette.requests import Request
from starlette.responses import Response

from eoaccess.matching import apply_fields
from eoaccess.query import Query
from eoaccess.server.hrefs import GEOJSON, JSON, Hrefs
from eoaccess.server.models import SearchBody
from eoaccess.server.params import parse_token, query_from_params
from eoaccess.stores import CatalogStore

OPENAPI_MEDIA_TYPE = "application/vnd.oai.openapi+json;version=3.0"
SCHEMA_JSON = "application/schema+json"
QUERYABLES_REL = "http://www.opengis.net/def/rel/ogc/1.0/queryables"

# Conformance classes, in the v1.0.0 forms pystac-client recognises (it ignores v1.1 URIs).
CORE_CONFORMANCE = [
    "https://api.stacspec.org/v1.0.0/core",
    "https://api.stacspec.org/v1.0.0/collections",
    "https://api.stacspec.org/v1.0.0/ogcapi-features",
    "https://api.stacspec.org/v1.0.0/item-search",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
]
FILTER_CONFORMANCE = [
    "https://api.stacspec.org/v1.0.0/item-search#filter",
    "https://api.stacspec.org/v1.0.0/ogcapi-features#filter",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/filter",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/features-filter",
    "http://www.opengis.net/spec/cql2/1.0/conf/cql2-text",
    "http://www.opengis.net/spec/cql2/1.0/conf/cql2-json",
    "http://www.opengis.net/spec/cql2/1.0/conf/basic-cql2",
    "http://www.opengis.net/spec/cql2/1.0/conf/advanced-comparison-operators",
    "http://www.opengis.net/spec/cql2/1.0/conf/basic-spatial-functions",
]
SORT_CONFORMANCE = [
    "https://api.stacspec.org/v1.0.0/item-search#sort",
    "https://api.stacspec.org/v1.0.0/ogcapi-features#sort",
]
FIELDS_CONFORMANCE = [
    "https://api.stacspec.org/v1.0.0/item-search#fields",
    "https://api.stacspec.org/v1.0.0/ogcapi-features#fields",
]

# stac-fastapi hands GET parameters over under their Python names.
_GET_PARAM_NAMES = {
    "filter_expr": "filter",
    "filter_lang": "filter-lang",
    "filter_crs": "filter-crs",
}


class JSONResponse(Response):
    """``application/json`` rendered with orjson."""

    media_type = JSON

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content)


class GeoJSONResponse(JSONResponse):
    """``application/geo+json`` (items and item collections)."""

    media_type = GEOJSON


class SchemaJSONResponse(JSONResponse):
    """``application/schema+json`` (queryables)."""

    media_type = SCHEMA_JSON


def _get_params(kwargs: Mapping[str, Any]) -> dict[str, Any]:
    """STAC API parameter names → values of a GET request; empty values count as absent."""
    return {
        _GET_PARAM_NAMES.get(name, name): value
        for name, value in kwargs.items()
        if name not in ("request", "collection_id") and value is not None and value != ""
    }


NextLink = Callable[[str], dict[str, Any]]


@attr.s
class StoreCoreClient(BaseCoreClient):
    """STAC API core, collections, features and item search answered from a catalog store."""

    store: CatalogStore = attr.ib(kw_only=True)

    # --- discovery ----------------------------------------------------------------------------

    def landing_page(self, **kwargs: Any) -> Response:  # type: ignore[override]
        """``GET /``: conformance classes and links to everything else (pystac-client reads
        ``conformsTo`` here, never ``/conformance``)."""
        hrefs = Hrefs.from_request(kwargs["request"])
        links = [
            {"rel": "self", "type": JSON, "href": hrefs.base},
            {"rel": "root", "type": JSON, "href": hrefs.base},
            {"rel": "data", "type": JSON, "href": hrefs.url("collections")},
            {"rel": "conformance", "type": JSON, "href": hrefs.url("conformance")},
            {"rel": "search", "type": GEOJSON, "href": hrefs.url("search"), "method": "GET"},
            {"rel": "search", "type": GEOJSON, "href": hrefs.url("search"), "method": "POST"},
            {"rel": QUERYABLES_REL, "type": SCHEMA_JSON, "href": hrefs.url("queryables")},
            {"rel": "service-desc", "type": OPENAPI_MEDIA_TYPE, "href": hrefs.url("api")},
            {"rel": "service-doc", "type": "text/html", "href": hrefs.url("api.html")},
        ]
        for collection in self.store.collections():
            links.append(
                {
                    "rel": "child",
                    "type": JSON,
                    "title": collection.get("title") or collection["id"],
                    "href": hrefs.url("collections", str(collection["id"])),
                }
            )
        return JSONResponse(
            {
                "type": "Catalog",
                "id": self.landing_page_id,
                "title": self.title,
                "description": self.description,
                "stac_version": self.stac_version,
                "conformsTo": self.conformance_classes(),
                "links": links,
            }
        )

    def conformance(self, **kwargs: Any) -> Response:  # type: ignore[override]
        """``GET /conformance``: the same classes as the landing page."""
        return JSONResponse({"conformsTo": self.conformance_classes()})

    def all_collections(self, **kwargs: Any) -> Response:  # type: ignore[override]
        """``GET /collections``: every collection with its links."""
        hrefs = Hrefs.from_request(kwargs["request"])
        collections = [hrefs.collection(c) for c in self.store.collections()]
        return JSONResponse(
            {
                "collections": collections,
                "links": [
                    {"rel": "self", "type": JSON, "href": hrefs.url("collections")},
                    {"rel": "root", "type": JSON, "href": hrefs.base},
                    {"rel": "parent", "type": JSON, "href": hrefs.base},
                ],
                "numberMatched": len(collections),
                "numberReturned": len(collections),
            }
        )

    def get_collection(self, collection_id: str, **kwargs: Any) -> Response:  # type: ignore[override]
        """``GET /collections/{id}``; unknown ids give 404 (the store raises NotFoundError)."""
        hrefs = Hrefs.from_request(kwargs["request"])
        return JSONResponse(hrefs.collection(self.store.get_collection(collection_id)))

    def get_item(self, item_id: str, collection_id: str, **kwargs: Any) -> Response:  # type: ignore[override]
        """``GET /collections/{id}/items/{item}``."""
        hrefs = Hrefs.from_request(kwargs["request"])
        return GeoJSONResponse(hrefs.item(self.store.get_item(collection_id, item_id)))

    # --- search -------------------------------------------------------------------------------

    def item_collection(self, collection_id: str, **kwargs: Any) -> Response:  # type: ignore[override]
        """``GET /collections/{id}/items``: a search fixed to one (existing) collection."""
        request: Request = kwargs["request"]
        self.store.get_collection(collection_id)  # 404 before any parameter error
        params = _get_params(kwargs)
        query = query_from_params(params, collection=collection_id)
        return self._search(
            request,
            query,
            parse_token(params.get("token")),
            self_href=str(request.url),
            next_link=_get_next_link(request),
        )

    def get_search(self, **kwargs: Any) -> Response:  # type: ignore[override]
        """``GET /search``."""
        request: Request = kwargs["request"]
        params = _get_params(kwargs)
        return self._search(
            request,
            query_from_params(params),
            parse_token(params.get("token")),
            self_href=str(request.url),
            next_link=_get_next_link(request),
        )

    def post_search(self, search_request: SearchBody, **kwargs: Any) -> Response:  # type: ignore[override]
        """``POST /search``; the next link repeats the body with the new token."""
        request: Request = kwargs["request"]
        params = search_request.raw()
        search_url = Hrefs.from_request(request).url("search")

        def next_link(token: str) -> dict[str, Any]:
            return {
                "rel": "next",
                "type": GEOJSON,
                "href": search_url,
                "method": "POST",
                "body": {**params, "token": token},
                "merge": True,
            }

        return self._search(
            request,
            query_from_params(params, body=True),
            parse_token(params.get("token")),
            self_href=search_url,
            next_link=next_link,
        )

    def _search(
        self,
        request: Request,
        query: Query,
        token: str | None,
        *,
        self_href: str,
        next_link: NextLink,
    ) -> Response:
        hrefs = Hrefs.from_request(request)
        # Fields are applied here, after links and absolute hrefs exist, so both can be chosen.
        page = self.store.search(replace(query, fields=None), token)
        features = [apply_fields(hrefs.item(item), query.fields) for item in page.items]
        links = [
            {"rel": "self", "type": GEOJSON, "href": self_href},
            {"rel": "root", "type": JSON, "href": hrefs.base},
        ]
        if page.next_token:
            links.append(next_link(page.next_token))
        body: dict[str, Any] = {"type": "FeatureCollection", "features": features, "links": links}
        if page.number_matched is not None:
            body["numberMatched"] = page.number_matched
        body["numberReturned"] = len(features)
        return GeoJSONResponse(body)


def _get_next_link(request: Request) -> NextLink:
    def next_link(token: str) -> dict[str, Any]:
        return {
            "rel": "next",
            "type": GEOJSON,
            "href": str(request.url.include_query_params(token=token)),
            "method": "GET",
        }

    return next_link


# --- queryables (filter extension) ------------------------------------------------------------

CORE_QUERYABLES: dict[str, dict[str, Any]] = {
    "id": {"title": "Item id", "type": "string"},
    "collection": {"title": "Collection id", "type": "string"},
    "geometry": {"title": "Footprint", "$ref": "https://geojson.org/schema/Geometry.json"},
    "datetime": {"title": "Acquisition time", "type": "string", "format": "date-time"},
    "start_datetime": {"title": "Start of acquisition", "type": "string", "format": "date-time"},
    "end_datetime": {"title": "End of acquisition", "type": "string", "format": "date-time"},
}
_MAX_ENUM = 50


def _json_type(value: Any) -> str | None:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    return None


def summary_schema(summary: Any) -> dict[str, Any]:
    """A JSON schema for a property from its collection summary (a list of values or a range)."""
    if isinstance(summary, Mapping) and ("minimum" in summary or "maximum" in summary):
        bounds = [summary.get("minimum"), summary.get("maximum")]
        kinds = {_json_type(b) for b in bounds if b is not None}
        if kinds == {"string"}:
            return {"type": "string"}
        return {"type": "integer" if kinds == {"integer"} else "number"}
    if isinstance(summary, list) and summary:
        kinds = {_json_type(v) for v in summary}
        if len(kinds) == 1 and None not in kinds:
            (kind,) = kinds
            schema: dict[str, Any] = {"type": kind}
            if kind == "string" and len(summary) <= _MAX_ENUM:
                schema["enum"] = sorted(set(summary))
            return schema
    return {}


@attr.s
class StoreQueryablesClient(BaseFiltersClient):
    """``/queryables`` and ``/collections/{id}/queryables`` from the collections' summaries."""

    store: CatalogStore = attr.ib(kw_only=True)

    def get_queryables(  # type: ignore[override]
        self, collection_id: str | None = None, **kwargs: Any
    ) -> Response:
        """A JSON schema of the properties filters can use (more are allowed)."""
        hrefs = Hrefs.from_request(kwargs["request"])
        if collection_id is None:
            collections = self.store.collections()
            url = hrefs.url("queryables")
        else:
            collections = [self.store.get_collection(collection_id)]
            url = hrefs.url("collections", collection_id, "queryables")
        properties = dict(CORE_QUERYABLES)
        for collection in collections:
            for name, summary in (collection.get("summaries") or {}).items():
                if name not in properties:
                    properties[name] = summary_schema(summary)
        return SchemaJSONResponse(
            {
                "$schema": "https://json-schema.org/draft/2019-09/schema",
                "$id": url,
                "type": "object",
                "title": "Queryables" + (f" of {collection_id}" if collection_id else ""),
                "properties": properties,
                "additionalProperties": True,
            }
        )
