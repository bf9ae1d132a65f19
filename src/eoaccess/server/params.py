"""STAC API request parameters → the canonical :class:`~eoaccess.query.Query`.

GET gives strings, POST gives JSON values; both go through :func:`eoaccess.query.make_query`,
the converter the Python API and the CLI use, so every interface accepts and rejects the same
things. The HTTP boundary adds only what the STAC API specification asks of a server:

- datetimes must be RFC 3339 date-times with an offset (``2020-01-01`` alone is rejected,
  although the Python API takes it as a whole day);
- ``intersects`` must be a GeoJSON object (never a file name or WKT: the server must not read
  its own files on a client's behalf);
- a ``limit`` above the maximum is capped rather than refused (OGC API Features);
- a bbox is ``W,S,E,N`` in a URL and a JSON array in a body, nothing looser;
- the Query extension is refused with a pointer to ``filter``; ``filter-crs`` must be CRS84.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from eoaccess.errors import InvalidInputError
from eoaccess.query import (
    MAX_LIMIT,
    Query,
    make_query,
    parse_datetime,
    parse_filter,
    parse_limit,
)

_RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$")
_OPEN_END = ("", "..")
_CRS84 = frozenset(
    {
        "http://www.opengis.net/def/crs/OGC/1.3/CRS84",
        "https://www.opengis.net/def/crs/OGC/1.3/CRS84",
        "http://www.opengis.net/def/crs/EPSG/0/4326",
        "EPSG:4326",
        "OGC:CRS84",
    }
)


def check_rfc3339_interval(value: Any) -> str:
    """Return ``value`` if it is an RFC 3339 instant or ``start/end`` interval, else raise."""
    if not isinstance(value, str):
        raise InvalidInputError(f"datetime must be a string, not {value!r}")
    parts = value.split("/")
    if len(parts) > 2:
        raise InvalidInputError(f"invalid datetime interval {value!r}: more than one '/'")
    for part in parts:
        if len(parts) == 2 and part.strip() in _OPEN_END:
            continue
        if not _RFC3339.match(part.strip()):
            raise InvalidInputError(
                f"invalid datetime {part.strip()!r}: use RFC 3339 date-times with a time zone "
                "like 2020-01-31T12:00:00Z, or start/end intervals with '..' for an open end"
            )
    return value


def parse_intersects(value: Any) -> dict[str, Any]:
    """A GeoJSON object from a JSON string (GET) or a JSON object (POST)."""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError as exc:
            raise InvalidInputError(
                f"intersects is not valid GeoJSON: {exc.msg} at character {exc.pos}"
            ) from None
    if not isinstance(value, Mapping):
        raise InvalidInputError("intersects must be a GeoJSON geometry object")
    return dict(value)


def parse_server_limit(value: Any) -> int:
    """A page size: 1..MAX_LIMIT, larger integers capped to MAX_LIMIT."""
    if isinstance(value, int | str) and not isinstance(value, bool):
        text = str(value).strip()
        if text.isdigit() and int(text) > MAX_LIMIT:
            return MAX_LIMIT
    return parse_limit(value)


@functools.lru_cache(maxsize=512)
def _parse_filter_cached(source: str, lang: str | None) -> str:
    # Validating CQL2 costs ~15 ms (cql2 builds its JSON-schema validator per call); a client
    # paging through a filtered search sends the same filter with every page.
    return json.dumps(parse_filter(json.loads(source), lang))


def parse_filter_param(value: Any, lang: Any) -> dict[str, Any]:
    """:func:`eoaccess.query.parse_filter`, remembered for filters seen recently."""
    if lang is not None and not isinstance(lang, str):
        raise InvalidInputError(f"filter-lang must be a string, not {lang!r}")
    try:
        source = json.dumps(value, sort_keys=True)
    except (TypeError, ValueError):
        raise InvalidInputError("filter must be CQL2 text or a CQL2 JSON object") from None
    return json.loads(_parse_filter_cached(source, lang))  # type: ignore[no-any-return]


def _check_filter_crs(value: Any) -> None:
    if value is not None and value not in _CRS84:
        raise InvalidInputError(
            f"filter-crs {value!r} is not supported; give filter geometries in CRS84 (lon/lat)"
        )


# JSON types each member of a POST body may have (the parsers take it from there).
_BODY_TYPES: dict[str, tuple[type, ...]] = {
    "collections": (list, str),
    "ids": (list, str),
    "bbox": (list,),
    "intersects": (dict,),
    "datetime": (str,),
    "limit": (int, str),
    "token": (str,),
    "filter": (dict, str),
    "filter-lang": (str,),
    "filter-crs": (str,),
    "sortby": (list, str),
    "fields": (dict, str),
}
_JSON_NAMES = {list: "an array", str: "a string", dict: "an object", int: "an integer"}


def check_body_types(params: Mapping[str, Any]) -> None:
    """Reject members of a JSON body whose type no parser accepts, naming what was expected."""
    for name, kinds in _BODY_TYPES.items():
        value = params.get(name)
        if value is None:
            continue
        if not isinstance(value, kinds) or (isinstance(value, bool) and bool not in kinds):
            expected = " or ".join(_JSON_NAMES[k] for k in kinds)
            raise InvalidInputError(f"{name} must be {expected}, not {value!r}")
        strings = isinstance(value, list) and all(isinstance(v, str) for v in value)
        if name in ("collections", "ids") and isinstance(value, list) and not strings:
            raise InvalidInputError(f"{name} must be an array of strings, not {value!r}")


def check_bbox_shape(value: Any, *, body: bool) -> Any:
    """A URL bbox is ``W,S,E,N`` without brackets; a JSON body bbox is an array of numbers."""
    if body and not isinstance(value, list):
        raise InvalidInputError(f"bbox in a JSON body must be an array [W, S, E, N], not {value!r}")
    if not body and isinstance(value, str) and any(c in value for c in "[](){}"):
        raise InvalidInputError(f"bbox in a URL must be W,S,E,N without brackets, not {value!r}")
    return value


def query_from_params(
    params: Mapping[str, Any], *, collection: str | None = None, body: bool = False
) -> Query:
    """Build the :class:`Query` of a search request (``params`` keyed by STAC API names).

    ``collection`` fixes the collection (the ``/collections/{id}/items`` route); ``body`` says
    the values come from a JSON body (POST) rather than a query string. The filter language is
    recognised from the value when ``filter-lang`` is not given.
    """
    if body:
        check_body_types(params)
    if params.get("query") is not None:
        raise InvalidInputError(
            "the 'query' parameter (Query extension) is not supported; use 'filter' with CQL2"
        )
    _check_filter_crs(params.get("filter-crs"))
    intersects = params.get("intersects")
    datetime = params.get("datetime")
    limit = params.get("limit")
    query = make_query(
        collections=(collection,) if collection is not None else params.get("collections"),
        ids=params.get("ids"),
        bbox=check_bbox_shape(bbox, body=body)
        if (bbox := params.get("bbox")) is not None
        else None,
        intersects=parse_intersects(intersects) if intersects is not None else None,
        sortby=params.get("sortby"),
        fields=params.get("fields"),
    )
    if params.get("filter") is not None:
        query = replace(
            query, filter=parse_filter_param(params["filter"], params.get("filter-lang"))
        )
    elif params.get("filter-lang") is not None:
        parse_filter_param("true", params["filter-lang"])  # an unknown language is still an error
    if datetime is not None:
        query = replace(query, datetime=parse_datetime(check_rfc3339_interval(datetime)))
    if limit is not None:
        query = replace(query, limit=parse_server_limit(limit))
    return query


def parse_token(value: Any) -> str | None:
    """The paging token as given, or None."""
    if value is None:
        return None
    if not isinstance(value, str) or not value:
        raise InvalidInputError(f"token must be the string of a rel=next link, not {value!r}")
    return value
