"""The search client: one query model over every kind of catalog, results as GeoDataFrames.

``open_catalog(source)`` recognises what ``source`` is from its content — a STAC API root
(:mod:`.stac_api`), a static catalog (:mod:`.static`), a stac-geoparquet file
(:mod:`.geoparquet`), a GeoJSON footprint catalog (:mod:`.footprints`) or an archive folder with
an embedded catalog (:mod:`.archive`) — and ``search()`` answers the same query with the same
items from each: what a source can do is pushed down to it, the rest is evaluated with
:mod:`eoaccess.matching`. Results (:class:`SearchResult`) stream page by page with the next page
prefetched, and become item dicts, a pystac ItemCollection, a GeoDataFrame, GeoJSON or
stac-geoparquet; :mod:`.enrich` adds sidecar values as columns.
"""

from eoaccess.catalog._base import KINDS, Page, Probe, Source, SourceKind, register_kind
from eoaccess.catalog._catalog import DEFAULT_PAGE_SIZE, Catalog, open_catalog, search_many
from eoaccess.catalog._errors import (
    CatalogResponseError,
    NotACatalogError,
    QueryRejectedError,
    SourceUnreachableError,
)
from eoaccess.catalog._results import SearchResult, items_geodataframe
from eoaccess.catalog.enrich import EnrichSpec, SidecarError, enrich, parse_enrich
from eoaccess.catalog.geoparquet import write_geoparquet

__all__ = [
    "DEFAULT_PAGE_SIZE",
    "KINDS",
    "Catalog",
    "CatalogResponseError",
    "EnrichSpec",
    "NotACatalogError",
    "Page",
    "Probe",
    "QueryRejectedError",
    "SearchResult",
    "SidecarError",
    "Source",
    "SourceKind",
    "SourceUnreachableError",
    "enrich",
    "items_geodataframe",
    "open_catalog",
    "parse_enrich",
    "register_kind",
    "search_many",
    "write_geoparquet",
]
