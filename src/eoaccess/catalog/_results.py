"""Search results: a lazy stream of STAC items, and the shapes users want them in.

A :class:`SearchResult` holds a query, not items: every iteration runs the search again, page
by page. While page *n* is being consumed, a background thread already fetches page *n + 1*
(and enriches it), so the wait for the network overlaps the caller's work. Results of several
sources are merged in the query's order (each source returns its items in that order, so a
k-way merge keeps it) and de-duplicated by ``(collection, id)``, the first source winning.
``max_items`` caps what is yielded; ``where`` filters after enrichment, on the same flat
columns the GeoDataFrame has.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import dataclasses
import functools
import heapq
import os
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import orjson

from eoaccess.catalog._base import Page, Source
from eoaccess.catalog._partitions import ConcurrentSource
from eoaccess.catalog.enrich import EnrichSpec, enrich
from eoaccess.errors import InvalidInputError
from eoaccess.matching import DEFAULT_SORTBY, compare_items
from eoaccess.query import Query
from eoaccess.transfer import TransferConfig

if TYPE_CHECKING:  # numpy (behind expr) stays unimported until a `where` is evaluated
    from eoaccess.expr import Expression

TIMESTAMP_COLUMNS = (
    "datetime",
    "start_datetime",
    "end_datetime",
    "created",
    "updated",
    "published",
    "expires",
    "unpublished",
)
"""Properties that become ``datetime64[ns, UTC]`` columns."""
ENRICH_BATCH = 256
"""Items whose sidecars are fetched together (the concurrency of enrichment)."""
_TOP_LEVEL = ("id", "collection", "geometry")

T = TypeVar("T")
_END = object()


def prefetched(pages: Iterator[T]) -> Iterator[T]:
    """``pages``, with the next one always being produced in a background thread while the
    caller handles the current one. Errors surface where the failing page would have."""
    pool = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="eoaccess-prefetch")
    try:
        future = pool.submit(next, pages, _END)
        while True:
            page = future.result()
            if page is _END:
                return
            future = pool.submit(next, pages, _END)
            yield page  # type: ignore[misc]
    finally:
        pool.shutdown(wait=True)  # a page in flight finishes before its generator is closed
        close = getattr(pages, "close", None)
        if close is not None:
            close()


def flat_row(item: Mapping[str, Any]) -> dict[str, Any]:
    """One row of the tabular views: id, collection, every property (by its own name) and
    ``assets.<key>.href`` for every asset."""
    row: dict[str, Any] = {"id": item.get("id"), "collection": item.get("collection")}
    for key, value in (item.get("properties") or {}).items():
        row[f"properties.{key}" if key in _TOP_LEVEL else key] = value
    for key, asset in (item.get("assets") or {}).items():
        if isinstance(asset, Mapping) and "href" in asset:
            row[f"assets.{key}.href"] = asset["href"]
    return row


def _as_datetimes(frame: Any) -> Any:
    import pandas as pd

    for name in TIMESTAMP_COLUMNS:
        if name in frame.columns:
            frame[name] = pd.to_datetime(
                frame[name], utc=True, format="ISO8601", errors="coerce"
            ).astype("datetime64[ns, UTC]")
    return frame


def items_frame(items: Sequence[Mapping[str, Any]]) -> Any:
    """A pandas DataFrame of :func:`flat_row` rows, timestamps as ``datetime64[ns, UTC]``."""
    import pandas as pd

    frame = pd.DataFrame.from_records([flat_row(item) for item in items])
    if frame.empty:
        frame = pd.DataFrame({"id": pd.Series(dtype=object), "collection": pd.Series(dtype=object)})
    return _as_datetimes(frame)


def items_geodataframe(items: Sequence[Mapping[str, Any]]) -> Any:
    """A GeoDataFrame (EPSG:4326) of the items: :func:`items_frame` plus their geometries."""
    import geopandas
    import shapely

    frame = items_frame(items)
    texts = [orjson.dumps(i["geometry"]).decode() if i.get("geometry") else None for i in items]
    geometry = shapely.from_geojson(texts) if texts else []
    return geopandas.GeoDataFrame(frame, geometry=geopandas.GeoSeries(geometry), crs="EPSG:4326")


class WhereFilter:
    """A ``where`` expression applied to batches of items through their flat rows."""

    def __init__(self, expression: Expression) -> None:
        self.expression = expression
        self.seen: set[str] = set()
        self.items = 0

    def __call__(self, items: list[dict[str, Any]]) -> list[dict[str, Any]]:
        import numpy as np
        import pandas as pd

        if not items:
            return items
        self.items += len(items)
        frame = items_frame(items)
        variables: dict[str, Any] = {}
        for name in self.expression.names:
            if name in frame.columns:
                self.seen.add(name)
                column = frame[name]
                if column.dtype == object:
                    with contextlib.suppress(ValueError, TypeError):  # text stays text
                        column = pd.to_numeric(column)
                variables[name] = column
            else:  # absent from these items: missing values, never a match
                variables[name] = pd.Series([np.nan] * len(frame), index=frame.index)
        try:
            mask = self.expression(variables)
        except TypeError as exc:
            raise InvalidInputError(
                f"where {self.expression.source!r} cannot be evaluated: {exc}"
            ) from None
        keep = np.broadcast_to(np.asarray(mask, dtype=bool), (len(items),))
        return [item for item, chosen in zip(items, keep, strict=True) if chosen]

    def check_names(self) -> None:
        """After the last batch: a name no item had is a typo, not an empty result."""
        unknown = sorted(self.expression.names - self.seen)
        if unknown and self.items:
            raise InvalidInputError(
                f"where {self.expression.source!r} uses {', '.join(unknown)}, which no result "
                "has: use a property name, id, collection or assets.<key>.href"
            )


def _chunks(items: Iterable[T], size: int) -> Iterator[list[T]]:
    chunk: list[T] = []
    for item in items:
        chunk.append(item)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


class SearchResult:
    """The answer of one search over one or more catalogs: lazy, re-iterable, streamed."""

    def __init__(
        self,
        sources: Sequence[Source],
        query: Query,
        *,
        enrich: Sequence[EnrichSpec] = (),
        where: Expression | None = None,
        config: TransferConfig | None = None,
        concurrency: int | None = None,
    ) -> None:
        if concurrency is not None and (
            isinstance(concurrency, bool) or not isinstance(concurrency, int) or concurrency < 1
        ):
            raise InvalidInputError(f"concurrency must be a whole number >= 1, not {concurrency!r}")
        self.sources = list(sources)
        self.concurrency = concurrency
        self.query = query
        self.enrich_specs = tuple(enrich)
        self.where = where
        self.config = config
        self._matched: int | None = None

    def __repr__(self) -> str:
        hrefs = ", ".join(s.href for s in self.sources)
        return f"<SearchResult of {hrefs}>"

    # --- streaming ------------------------------------------------------------------------------

    def _source_query(self) -> Query:
        """What sources are asked: the query, with ``max_items`` only as a hint that holds when
        nothing is filtered after them."""
        if self.where is not None:
            return dataclasses.replace(self.query, max_items=None)
        return self.query

    def _pages_of(self, source: Source, query: Query) -> Iterator[Page]:
        """A source's pages, several requests at once where the source can (STAC APIs)."""
        if isinstance(source, ConcurrentSource):
            return source.concurrent_pages(query, self.concurrency)
        return source.pages(query)

    def _merged(self, query: Query) -> Iterator[list[dict[str, Any]]]:
        """Pages of the sources, merged in the query's order and de-duplicated."""
        if len(self.sources) == 1:
            for page in self._pages_of(self.sources[0], query):
                yield page.items
            return
        order = query.sortby or DEFAULT_SORTBY
        key = functools.cmp_to_key(lambda a, b: compare_items(a, b, order))
        streams = [
            (item for page in self._pages_of(source, query) for item in page.items)
            for source in self.sources
        ]
        seen: set[tuple[Any, Any]] = set()

        def unique() -> Iterator[dict[str, Any]]:
            for item in heapq.merge(*streams, key=key):
                identity = (item.get("collection"), item.get("id"))
                if identity not in seen:
                    seen.add(identity)
                    yield item

        yield from _chunks(unique(), query.limit)

    def _processed(self, cap: bool = True) -> Iterator[list[dict[str, Any]]]:
        """Pages after enrichment, ``where`` and ``max_items`` (unless ``cap`` is False)."""
        query = self._source_query()
        limit = self.query.max_items if cap else None
        where = WhereFilter(self.where) if self.where is not None else None
        pages: Iterable[list[dict[str, Any]]] = self._merged(query)
        if self.enrich_specs:
            batch = max(ENRICH_BATCH, query.limit)
            flat = (item for page in pages for item in page)
            pages = (
                enrich(chunk, self.enrich_specs, self.config) for chunk in _chunks(flat, batch)
            )
        given = 0
        for page in pages:
            if limit is not None and given >= limit:
                return
            if where is not None:
                page = where(page)
            if limit is not None and given + len(page) > limit:
                page = page[: limit - given]
            given += len(page)
            if page:
                yield page
        if where is not None:
            where.check_names()

    def pages(self) -> Iterator[list[dict[str, Any]]]:
        """Pages of item dicts, the next one fetched while the current one is used."""
        return prefetched(self._processed())

    def items(self) -> Iterator[dict[str, Any]]:
        """The items as STAC item dicts, streamed."""
        for page in self.pages():
            yield from page

    __iter__ = items

    def matched(self) -> int:
        """How many items match (``max_items`` aside): the catalog's own count when it offers
        one and nothing is filtered here, else counted exactly."""
        if self._matched is None:
            if self.where is None and len(self.sources) == 1:
                query = dataclasses.replace(self.query, max_items=None)
                self._matched = self.sources[0].count(query)
            else:
                self._matched = sum(len(page) for page in self._processed(cap=False))
        return self._matched

    # --- shapes ---------------------------------------------------------------------------------

    def item_collection(self) -> Any:
        """A pystac ItemCollection of the items."""
        import pystac

        return pystac.ItemCollection(
            [pystac.Item.from_dict(item, preserve_dict=False) for item in self.items()]
        )

    def to_geodataframe(self) -> Any:
        """A GeoDataFrame: one row per item, properties as columns, ``assets.<key>.href``
        columns, geometry in EPSG:4326, timestamps as ``datetime64[ns, UTC]``."""
        return items_geodataframe(list(self.items()))

    def to_geojson(self, path: str | os.PathLike[str] | None = None) -> dict[str, Any]:
        """The items as a GeoJSON FeatureCollection of STAC items; also written (atomically)
        to ``path`` when given."""
        collection = {"type": "FeatureCollection", "features": list(self.items())}
        if path is not None:
            from eoaccess._atomic import write_bytes_atomic

            write_bytes_atomic(Path(path), orjson.dumps(collection, option=orjson.OPT_INDENT_2))
        return collection

    def to_geoparquet(self, path: str | os.PathLike[str]) -> Path:
        """Write the items as a stac-geoparquet file (atomically), with their collections."""
        from eoaccess.catalog.geoparquet import write_geoparquet

        items = list(self.items())
        return write_geoparquet(items, path, self.collections_of(items))

    def collections_of(self, items: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
        """The collections (STAC dicts) of ``items``, from the first source that has each."""
        wanted = {item.get("collection") for item in items}
        found: list[dict[str, Any]] = []
        for source in self.sources:
            if not wanted:
                break
            found.extend(c for c in source.collections() if c.get("id") in wanted)
            wanted -= {c.get("id") for c in found}
        return found

    def urls(self, assets: Iterable[str] | None = None) -> Iterator[str]:
        """Asset hrefs of the items (of the given asset keys only, when given)."""
        keys = set(assets) if assets is not None else None
        for item in self.items():
            for key, asset in (item.get("assets") or {}).items():
                if (keys is None or key in keys) and isinstance(asset, Mapping):
                    href = asset.get("href")
                    if isinstance(href, str) and href:
                        yield href
