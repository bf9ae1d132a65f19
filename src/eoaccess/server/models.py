"""Request models of the STAC routes: raw values only, parsed later by :mod:`eoaccess.query`.

stac-fastapi's own models validate bbox, datetime and limit with their own rules and answer
422 or 400 in their own words. Ours accept every parameter as given (strings for GET, any JSON
for POST) so that one set of parsers — the same the Python API uses — decides what is valid and
says why. The models exist for routing and for the OpenAPI description at ``/api``.

No ``from __future__ import annotations`` here: FastAPI reads these annotations at runtime.
"""

from typing import Annotated, Any

import attr
from fastapi import Path, Query
from pydantic import BaseModel, ConfigDict, Field
from stac_fastapi.types.search import APIRequest

_OptionalText = str | None


def _param(description: str, alias: str | None = None) -> Any:
    return Query(alias=alias, description=description)


@attr.s
class FilterSortFieldsParams(APIRequest):
    """Query parameters shared by ``GET /search`` and ``GET /collections/{id}/items``."""

    bbox: Annotated[
        _OptionalText, _param("W,S,E,N (or 6 numbers) in WGS 84; west > east crosses 180°.")
    ] = attr.ib(default=None)
    datetime: Annotated[
        _OptionalText,
        _param("RFC 3339 instant or interval start/end; '..' or empty for an open end."),
    ] = attr.ib(default=None)
    limit: Annotated[_OptionalText, _param("Page size, 1..10000 (larger is capped).")] = attr.ib(
        default=None
    )
    token: Annotated[_OptionalText, _param("Paging token from a rel=next link.")] = attr.ib(
        default=None
    )
    filter_expr: Annotated[
        _OptionalText, _param("CQL2 filter (text, or JSON with filter-lang=cql2-json).", "filter")
    ] = attr.ib(default=None)
    filter_lang: Annotated[
        _OptionalText, _param("cql2-text (default for GET) or cql2-json.", "filter-lang")
    ] = attr.ib(default=None)
    filter_crs: Annotated[
        _OptionalText, _param("CRS of filter geometries; only CRS84 is supported.", "filter-crs")
    ] = attr.ib(default=None)
    sortby: Annotated[
        _OptionalText, _param("Sort keys, e.g. -datetime,+id (descending, ascending).")
    ] = attr.ib(default=None)
    fields: Annotated[
        _OptionalText, _param("Members to include/exclude, e.g. id,-properties.gsd.")
    ] = attr.ib(default=None)
    query: Annotated[
        _OptionalText, _param("Not supported (the Query extension): use filter instead.")
    ] = attr.ib(default=None)


@attr.s
class SearchGetParams(FilterSortFieldsParams):
    """``GET /search`` query parameters."""

    collections: Annotated[_OptionalText, _param("Comma-separated collection ids.")] = attr.ib(
        default=None
    )
    ids: Annotated[_OptionalText, _param("Comma-separated item ids.")] = attr.ib(default=None)
    intersects: Annotated[
        _OptionalText, _param("GeoJSON geometry (URL-encoded); not together with bbox.")
    ] = attr.ib(default=None)


@attr.s
class ItemsGetParams(FilterSortFieldsParams):
    """``GET /collections/{collection_id}/items`` parameters."""

    collection_id: Annotated[str, Path(description="Collection id.")] = attr.ib(kw_only=True)


class SearchBody(BaseModel):
    """``POST /search`` body: STAC API item search with the filter, sort and fields extensions."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)

    collections: Any = Field(None, description="Collection ids.")
    ids: Any = Field(None, description="Item ids.")
    bbox: Any = Field(None, description="[W, S, E, N] (or 6 numbers) in WGS 84.")
    intersects: Any = Field(None, description="GeoJSON geometry; not together with bbox.")
    datetime: Any = Field(None, description="RFC 3339 instant or interval start/end.")
    limit: Any = Field(None, description="Page size, 1..10000 (larger is capped).")
    token: Any = Field(None, description="Paging token from a rel=next link.")
    filter: Any = Field(None, description="CQL2 filter, JSON (default) or text.")
    filter_lang: Any = Field(None, alias="filter-lang", description="cql2-json or cql2-text.")
    filter_crs: Any = Field(None, alias="filter-crs", description="Only CRS84 is supported.")
    sortby: Any = Field(None, description='[{"field": "datetime", "direction": "desc"}]')
    fields: Any = Field(None, description='{"include": [...], "exclude": [...]}')

    def raw(self) -> dict[str, Any]:
        """The parameters as sent (aliases as keys, unknown members included)."""
        return self.model_dump(by_alias=True, exclude_unset=True)
