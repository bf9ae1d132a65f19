"""Errors of the search client; each names the URL, path or value at fault."""

from __future__ import annotations

from eoaccess.errors import EOAccessError, InvalidInputError


class SourceUnreachableError(EOAccessError):
    """A catalog source cannot be reached or read: check the URL or path, the network and
    credentials."""

    http_status = 502


class NotACatalogError(InvalidInputError):
    """The source holds no catalog eoaccess knows: give a STAC API root URL, a catalog.json, a
    stac-geoparquet file, a GeoJSON footprint catalog or an archive folder, or force --kind."""


class CatalogResponseError(EOAccessError):
    """A catalog answered with an HTTP error or a malformed page or item: the message names the
    URL; retry later or report it to the catalog's maintainers."""

    http_status = 502


class QueryRejectedError(InvalidInputError):
    """A STAC API refused the query (HTTP 400/422): the message has its reason; fix the value."""
