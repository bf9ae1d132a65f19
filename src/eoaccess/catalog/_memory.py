"""Search over items held in memory, for the sources that are files (static catalogs,
stac-geoparquet, footprint catalogs).

The semantics are :mod:`eoaccess.matching`'s, so these sources answer exactly as the STAC API
and the catalog stores do. Only the work is organised for speed: collections and ids select
through dicts, spatial queries through a shapely STRtree over the item geometries (its
``intersects`` predicate is the matcher's own test), and the matcher checks the rest.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Sequence
from functools import cached_property
from typing import Any

from eoaccess.catalog._base import Page
from eoaccess.catalog._io import gc_paused
from eoaccess.matching import DEFAULT_SORTBY, ItemMatcher, apply_fields, bbox_geometry, sort_items
from eoaccess.query import Query


class ItemIndex:
    """Items in memory, searchable with a :class:`~eoaccess.query.Query`.

    Without ``sortby`` results come in the default order (newest first), as from every other
    source; ``keep_order`` keeps the items' own order instead, for lists whose order is the
    author's (an ItemCollection file is an answer already).
    """

    def __init__(self, items: Sequence[dict[str, Any]], keep_order: bool = False) -> None:
        self.items = list(items)
        self.keep_order = keep_order

    @cached_property
    def _by_collection(self) -> dict[Any, list[int]]:
        groups: dict[Any, list[int]] = {}
        for position, item in enumerate(self.items):
            groups.setdefault(item.get("collection"), []).append(position)
        return groups

    @cached_property
    def _by_id(self) -> dict[Any, list[int]]:
        groups: dict[Any, list[int]] = {}
        for position, item in enumerate(self.items):
            groups.setdefault(item.get("id"), []).append(position)
        return groups

    @cached_property
    def _tree(self) -> Any:
        import shapely

        with gc_paused():
            return shapely.STRtree(item_shapes(self.items))

    def _candidates(self, query: Query) -> list[int]:
        """Positions of items that may match: narrowed by collections, ids and space."""
        sets: list[set[int]] = []
        if query.collections is not None:
            sets.append({p for c in query.collections for p in self._by_collection.get(c, ())})
        if query.ids is not None:
            sets.append({p for i in query.ids for p in self._by_id.get(i, ())})
        area = _area(query)
        if area is not None:
            sets.append({int(p) for p in self._tree.query(area, predicate="intersects")})
        if not sets:
            return list(range(len(self.items)))
        chosen = set.intersection(*sets)
        return sorted(chosen)

    def matching(self, query: Query) -> list[dict[str, Any]]:
        """Every item matching ``query``, in its order, with its fields applied."""
        candidates = [self.items[p] for p in self._candidates(query)]
        # The tree already decided the spatial test exactly; the matcher checks the rest.
        rest = dataclasses.replace(query, bbox=None, intersects=None)
        matcher = ItemMatcher(rest)
        matched = [item for item in candidates if matcher.matches(item)]
        if query.sortby or not self.keep_order:
            matched = sort_items(matched, query.sortby or DEFAULT_SORTBY)
        ordered = matched
        if query.fields is None:
            return [dict(item) for item in ordered]
        return [apply_fields(item, query.fields) for item in ordered]

    def pages(self, query: Query, url: str | None = None) -> Iterator[Page]:
        """The matching items in pages of ``query.limit``, each with the exact count."""
        return paged(self.matching(query), query.limit, url)

    def count(self, query: Query) -> int:
        """How many items match."""
        return len(self.matching(dataclasses.replace(query, fields=None, sortby=())))


def item_shapes(items: Sequence[dict[str, Any]]) -> list[Any]:
    """Shapely geometries of the items (None where an item has none). Simple polygons — one
    ring, the footprint of most items — are built in one vectorised call."""
    import numpy as np
    import shapely
    import shapely.geometry

    shapes: list[Any] = [None] * len(items)
    simple: list[int] = []
    rings: list[Any] = []
    for position, item in enumerate(items):
        geometry = item.get("geometry")
        if not geometry:
            continue
        coordinates = geometry.get("coordinates")
        if (
            geometry.get("type") == "Polygon"
            and isinstance(coordinates, list)
            and len(coordinates) == 1
        ):
            ring = np.asarray(coordinates[0], dtype=float)
            if ring.ndim == 2 and ring.shape[0] >= 4 and ring.shape[1] == 2:
                simple.append(position)
                rings.append(ring)
                continue
        shapes[position] = shapely.geometry.shape(geometry)
    if simple:
        sizes = np.fromiter((len(r) for r in rings), int, len(rings))
        polygons = shapely.polygons(
            shapely.linearrings(
                np.concatenate(rings), indices=np.repeat(np.arange(len(rings)), sizes)
            )
        )
        for position, polygon in zip(simple, polygons, strict=True):
            shapes[position] = polygon
    return shapes


def _area(query: Query) -> Any:
    import shapely.geometry

    if query.bbox is not None:
        return bbox_geometry(query.bbox)
    if query.intersects is not None:
        return shapely.geometry.shape(query.intersects)
    return None


def paged(items: list[dict[str, Any]], limit: int, url: str | None = None) -> Iterator[Page]:
    """``items`` cut into pages of ``limit``, each carrying the total count (one empty page
    when there is nothing)."""
    total = len(items)
    if not items:
        yield Page([], 0, url)
        return
    for start in range(0, total, limit):
        yield Page(items[start : start + limit], total, url)
