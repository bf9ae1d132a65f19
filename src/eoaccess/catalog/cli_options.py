"""The search options of the CLI, as one reusable click decorator.

``eoaccess search`` and ``eoaccess download`` (and any later command that starts from a search)
take the same options: ``@search_options`` adds them and hands the command one
:class:`SearchOptions` value, which :meth:`SearchOptions.search` turns into a search over any
SOURCE through :func:`~eoaccess.catalog.open_catalog`.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import click

from eoaccess.catalog._base import KINDS

F = TypeVar("F", bound=Callable[..., Any])


@dataclass(frozen=True)
class SearchOptions:
    """The search options of one command line, as given (parsed by the query model)."""

    kind: str | None = None
    collections: str | None = None
    ids: str | None = None
    bbox: str | None = None
    point: str | None = None
    intersects: str | None = None
    datetime: str | None = None
    filter: str | None = None
    filter_lang: str | None = None
    sortby: str | None = None
    limit: int | None = None
    max_items: int | None = None
    crs: str | None = None
    enrich: tuple[str, ...] = ()
    where: str | None = None

    def search(
        self, sources: Sequence[str], fields: str | None = None, concurrency: int | None = None
    ) -> Any:
        """Open ``sources`` and search them; returns ``(catalog, result)`` (close the catalog).
        ``concurrency``: requests at once for one long STAC API answer (None: automatic)."""
        from eoaccess.catalog import open_catalog

        catalog = open_catalog(list(sources), self.kind)
        try:
            result = catalog.search(
                collections=self.collections,
                ids=self.ids,
                bbox=self.bbox,
                point=self.point,
                intersects=self.intersects,
                datetime=self.datetime,
                filter=self.filter,
                filter_lang=self.filter_lang,
                sortby=self.sortby,
                fields=fields,
                limit=self.limit,
                max_items=self.max_items,
                crs=self.crs,
                enrich=list(self.enrich) or None,
                where=self.where,
                concurrency=concurrency,
            )
        except BaseException:
            catalog.close()
            raise
        return catalog, result


_OPTIONS = (
    click.option(
        "--kind",
        type=click.Choice(list(KINDS)),
        help="Kind of SOURCE, when recognising it from its content is not wanted.",
    ),
    click.option("--collections", metavar="A,B", help="Collection ids to search."),
    click.option("--ids", metavar="ID,…", help="Item ids to select."),
    click.option("--bbox", metavar="W,S,E,N", help="Lon/lat box the footprints must intersect."),
    click.option("--point", metavar="LON,LAT", help="Point the footprints must contain."),
    click.option(
        "--intersects",
        metavar="GEOJSON|FILE|WKT",
        help="Geometry the footprints must intersect (GeoJSON text, a file, or WKT).",
    ),
    click.option(
        "--datetime", metavar="START/END", help="Instant or interval (RFC 3339, dates, ..)."
    ),
    click.option("--filter", "filter", metavar="CQL2", help="CQL2 filter (text or JSON)."),
    click.option(
        "--filter-lang",
        type=click.Choice(["cql2-text", "cql2-json"]),
        help="Language of --filter [default: recognised].",
    ),
    click.option("--sortby", metavar="[-]FIELD,…", help="Sort keys; '-' for descending."),
    click.option(
        "--limit", type=click.IntRange(1, 10_000), metavar="PAGE", help="Items per request."
    ),
    click.option("--max-items", type=click.IntRange(0), metavar="N", help="Stop after N items."),
    click.option("--crs", metavar="CRS", help="CRS of --bbox/--point/--intersects [lon/lat]."),
    click.option(
        "--enrich",
        multiple=True,
        metavar="ASSET:PATH=NAME",
        help="Add a value read from a sidecar asset of every item as column NAME "
        "(PVL, JSON, XML or GeoTIFF tags); repeatable.",
    ),
    click.option(
        "--where", metavar="EXPR", help="Keep rows where EXPR holds, e.g. 'incidence_angle < 70'."
    ),
)
_NAMES = tuple(SearchOptions.__dataclass_fields__)


def search_options(command: F) -> F:
    """Add the search options to a click command; it receives them as ``search=SearchOptions``."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        picked = {name: kwargs.pop(name) for name in _NAMES if name in kwargs}
        picked["enrich"] = tuple(picked.get("enrich") or ())
        return command(*args, search=SearchOptions(**picked), **kwargs)

    decorated: Any = wrapper
    for option in reversed(_OPTIONS):
        decorated = option(decorated)
    return decorated  # type: ignore[no-any-return]
