"""``open_catalog``: one object, one query model, for every kind of catalog (or several)."""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from types import TracebackType
from typing import TYPE_CHECKING, Any

from eoaccess.catalog._base import Source
from eoaccess.catalog._detect import open_source
from eoaccess.catalog._io import CATALOG_CONFIG
from eoaccess.catalog._results import SearchResult
from eoaccess.catalog.enrich import EnrichSpec, parse_enrich
from eoaccess.errors import InvalidInputError
from eoaccess.query import BBoxLike, DatetimeLike, GeometryLike, make_query
from eoaccess.transfer import TransferConfig

if TYPE_CHECKING:
    from eoaccess.expr import Expression

SourceLike = str | os.PathLike[str]

DEFAULT_PAGE_SIZE = 250
"""Items per request when the caller does not say: few round trips, pages still small."""


class Catalog:
    """One catalog of any kind — or several searched as one — behind one query model."""

    def __init__(self, sources: Sequence[Source], config: TransferConfig | None = None) -> None:
        if not sources:
            raise InvalidInputError("give at least one catalog source")
        self.sources = list(sources)
        self.config = config or CATALOG_CONFIG

    @property
    def kind(self) -> str:
        """The kind of its source (``stac_api``, ``static``, ``geoparquet``, ``footprints``,
        ``archive``), or ``multi`` for several."""
        kinds = {s.kind for s in self.sources}
        return kinds.pop() if len(self.sources) == 1 else "multi"

    @property
    def href(self) -> str:
        """Where it was opened from (several joined by ``, ``)."""
        return ", ".join(s.href for s in self.sources)

    def __repr__(self) -> str:
        return f"<Catalog {self.kind} {self.href}>"

    def collections(self) -> list[dict[str, Any]]:
        """STAC collections of every source, by id (the first source wins a shared id)."""
        found: dict[str, dict[str, Any]] = {}
        for source in self.sources:
            for collection in source.collections():
                found.setdefault(str(collection.get("id")), collection)
        return [found[k] for k in sorted(found)]

    def search(
        self,
        *,
        collections: str | Iterable[str] | None = None,
        ids: str | Iterable[str] | None = None,
        bbox: BBoxLike | None = None,
        point: Sequence[float] | str | None = None,
        intersects: GeometryLike | None = None,
        datetime: DatetimeLike | None = None,
        filter: str | Mapping[str, Any] | None = None,
        filter_lang: str | None = None,
        sortby: str | Iterable[Any] | None = None,
        fields: str | Mapping[str, Any] | Iterable[str] | None = None,
        limit: int | None = None,
        max_items: int | None = None,
        crs: Any = None,
        enrich: str | EnrichSpec | Iterable[str | EnrichSpec] | None = None,
        where: str | None = None,
        concurrency: int | None = None,
    ) -> SearchResult:
        """Search every source with one query (STAC API semantics; see :func:`make_query`).

        ``limit`` is the page size asked of the source; ``max_items`` caps the results;
        ``enrich`` adds sidecar values as properties (``ASSET:PATH=NAME``, see
        :mod:`eoaccess.catalog.enrich`); ``where`` filters on any result column, enriched or
        not, with the safe expression language (``incidence_angle < 70``). Nothing is fetched
        until the result is used. ``concurrency`` caps the requests a STAC API gets at once for
        one long answer (datetime slices, in the same order; None: automatic, 1: sequential).
        """
        query = make_query(
            collections=collections,
            ids=ids,
            bbox=bbox,
            point=point,
            intersects=intersects,
            datetime=datetime,
            filter=filter,
            filter_lang=filter_lang,
            sortby=sortby,
            fields=fields,
            limit=limit if limit is not None else DEFAULT_PAGE_SIZE,
            max_items=max_items,
            crs=crs,
        )
        specs = _specs(enrich)
        expression: Expression | None = None
        if where is not None:
            # Imported here: expr brings numpy, which other commands need not load.
            from eoaccess.expr import compile_expression

            expression = compile_expression(where)
        return SearchResult(
            self.sources,
            query,
            enrich=specs,
            where=expression,
            config=self.config,
            concurrency=concurrency,
        )

    def close(self) -> None:
        """Release every source's connections and files."""
        for source in self.sources:
            source.close()

    def __enter__(self) -> Catalog:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def _specs(enrich: str | EnrichSpec | Iterable[str | EnrichSpec] | None) -> list[EnrichSpec]:
    if enrich is None:
        return []
    if isinstance(enrich, str | EnrichSpec):
        enrich = [enrich]
    specs = [parse_enrich(s) for s in enrich]
    names = [s.name for s in specs]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise InvalidInputError(f"two enrich specs write the column {duplicates[0]!r}")
    return specs


def open_catalog(
    source: SourceLike | Sequence[SourceLike],
    kind: str | None = None,
    *,
    config: TransferConfig | None = None,
) -> Catalog:
    """Open a catalog, recognising its kind from its content (``kind=`` forces it).

    ``source`` is a STAC API root URL, a static ``catalog.json`` (path, http(s) or s3), a
    stac-geoparquet file, a GeoJSON footprint catalog (ITS_LIVE ``catalog_v02.json``), an archive
    folder with an embedded catalog, or a list of those to search as one.
    """
    many = [source] if isinstance(source, str | os.PathLike) else list(source)
    settings = config or CATALOG_CONFIG
    opened: list[Source] = []
    try:
        for one in many:
            opened.append(open_source(one, kind, settings))
    except BaseException:
        for done in opened:
            done.close()
        raise
    return Catalog(opened, settings)


def search_many(
    sources: Sequence[SourceLike],
    kind: str | None = None,
    *,
    config: TransferConfig | None = None,
    **search: Any,
) -> SearchResult:
    """Search several catalogs as one: results merged in the query's order and de-duplicated
    by (collection, id). Same arguments as :meth:`Catalog.search`."""
    return open_catalog(list(sources), kind, config=config).search(**search)
