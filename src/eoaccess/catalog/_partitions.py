"""Parallel paging of long STAC API searches: one query split into datetime partitions.

A STAC API pages by ``next`` links, one request after the other, and most of a page's time is
the server's (pgstac: PostgreSQL, one backend process per connection). A long answer in the
default order — newest first — is therefore fetched as K slices of its sort key, the start of
each item's time range, concurrently, and handed out slice after slice: exactly the order of
the sequential walk, which the slices reproduce because

* slice 0 *is* the sequential walk, continued from its first page until it passes the first
  boundary ``t1`` (ties at and above ``t1`` all come from it, in the server's own order);
* slice i > 0 asks the server for the query with ``datetime`` narrowed to the closed interval
  ``[t(i+1), t(i)]`` (the last one open below, down to the query's own start) and keeps the
  items whose key lies in ``[t(i+1), t(i))``; items whose range spans a boundary match two
  slices but are kept by one only, the one holding their start. Inside a slice the server's
  order is the order of the whole answer restricted to it (a total order: datetime, then ids).

The split is only made when it is safe and worth it: no client-side filter, sort or fields
(the key must be readable), the default order or ``datetime`` descending, a first page sorted
by that key with every item timed, and enough pages left (the server's count, else the first
page's density over the known time span). Each slice looks ahead a bounded number of pages, a
share of what ``max_items`` still needs; an error in a slice is raised where its failing page
would have been yielded.
"""

from __future__ import annotations

import dataclasses
import math
import queue
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol, runtime_checkable

from eoaccess.catalog._base import Page
from eoaccess.catalog._errors import CatalogResponseError
from eoaccess.errors import EOAccessError
from eoaccess.matching import item_interval
from eoaccess.query import Interval, Query, SortField

AUTO_CONCURRENCY = 4
"""Slices fetched at once when the caller does not say (``concurrency=None``) and the server
is slow enough for it to pay (:data:`AUTO_MIN_PAGE_SECONDS`)."""
AUTO_MIN_PAGE_SECONDS = 0.2
"""In automatic mode, slices are only fetched concurrently when the first page took at least
this long. A page that comes back fast means the client's own decoding is the bound (or a
one-process server whose pages do not overlap): measured against ``eoaccess serve`` on
loopback (~70 ms per 1,000-item page) slices made the walk slower; against
stac-fastapi-pgstac (~0.6 s per page, PostgreSQL doing most of it) 4 slices made it ~1.55x
faster. Over a real network every page also carries round trips, which slices overlap too."""
MIN_PAGES_PER_SLICE = 2
"""A slice is only worth its extra first request when it spans at least this many pages."""
MAX_LOOKAHEAD_PAGES = 8
"""Pages a slice may hold ready before the caller reaches it (bounds memory and waste)."""

_DEFAULT_ORDER = ((), (SortField("datetime", descending=True),))


@runtime_checkable
class ConcurrentSource(Protocol):
    """A source that can fetch one answer with several requests at once."""

    def concurrent_pages(self, query: Query, concurrency: int | None) -> Iterator[Page]: ...


def item_key(item: dict[str, Any]) -> datetime | None:
    """The item's key in the default order: the start of its time range (as pgstac sorts)."""
    span = item_interval(item)
    return span[0] if span is not None else None


@dataclass(frozen=True)
class Slice:
    """One datetime partition: keys in ``[lower, upper)``; None means unbounded."""

    index: int
    lower: datetime | None
    upper: datetime | None
    interval: Interval | None
    """What the server is asked (None for slice 0, the unchanged sequential walk)."""

    def keeps(self, key: datetime) -> bool:
        return (self.lower is None or key >= self.lower) and (
            self.upper is None or key < self.upper
        )


def splittable(query: Query) -> bool:
    """True when the order of ``query``'s answer is known to be its items' start, descending,
    and readable from every item (no fields selection)."""
    return query.sortby in _DEFAULT_ORDER and query.fields is None and query.ids is None


def plan_slices(
    query: Query,
    first: Page,
    concurrency: int | None,
    extent_start: Callable[[], datetime | None],
    first_seconds: float = 0.0,
) -> list[Slice] | None:
    """The slices of the rest of an answer whose first page is ``first`` (which took
    ``first_seconds``), or None to stay sequential (too short, unknown time span, the first
    page not in the expected order, or — when ``concurrency`` is None, automatic — a server
    fast enough that slices do not pay)."""
    items = first.items
    if concurrency is None:
        concurrency = AUTO_CONCURRENCY if first_seconds >= AUTO_MIN_PAGE_SECONDS else 1
    if concurrency < 2 or not items or not splittable(query):
        return None
    try:
        keys = ordered_keys(first, None)
    except CatalogResponseError:
        return None  # not newest-first by start: the server's default order is another one
    newest, last = keys[0], keys[-1]
    lower = query.datetime.start if query.datetime is not None else None
    if lower is None:
        lower = extent_start()
    if lower is None or lower >= last:
        return None
    span = last - lower
    left = None if first.number_matched is None else first.number_matched - len(items)
    if left is None and newest > last:  # no count: estimate from the first page's density
        left = math.ceil(len(items) * (span / (newest - last)))
    budget = None if query.max_items is None else query.max_items - len(items)
    if budget is not None and left is not None and left > 0:
        # Only the newest `budget` items are needed: slice the part of the span they fill.
        span = span * min(1.0, budget / left)
    needed = min(n for n in (left, budget, 1 << 62) if n is not None)
    count = min(concurrency, needed // (query.limit * MIN_PAGES_PER_SLICE))
    if count < 2:
        return None
    step = span / count
    bounds = [_whole_second(last - step * i) for i in range(1, count)]
    bounds = sorted(set(bounds) - {last}, reverse=True)  # whole seconds may coincide
    if not bounds:
        return None
    slices = [Slice(0, bounds[0], None, None)]
    query_start = query.datetime.start if query.datetime is not None else None
    query_end = query.datetime.end if query.datetime is not None else None
    for index, upper in enumerate(bounds, start=1):
        below = bounds[index] if index < len(bounds) else None
        # Never wider than the query: a bound rounded down to the second may fall before a
        # sub-second query start (what it would add matches the slice, not the query).
        start = query_start if below is None else max(below, query_start or below)
        end = upper if query_end is None else min(upper, query_end)
        slices.append(Slice(index, below, upper, Interval(start, end)))
    return slices


def _whole_second(moment: datetime) -> datetime:
    return moment.replace(microsecond=0)


def lookahead_pages(query: Query, first: Page, slices: int) -> int:
    """Pages each slice may fetch ahead: its share of what is still needed, at most
    :data:`MAX_LOOKAHEAD_PAGES`."""
    if query.max_items is None:
        return MAX_LOOKAHEAD_PAGES
    pages = math.ceil(max(1, query.max_items - len(first.items)) / query.limit / slices)
    return max(1, min(MAX_LOOKAHEAD_PAGES, pages))


def ordered_keys(page: Page, previous: datetime | None) -> list[datetime]:
    """The keys of ``page``'s items, checked newest first (after ``previous``): parallel paging
    is only exact for that order, so anything else is an error, not a silently wrong order."""
    keys: list[datetime] = []
    for item in page.items:
        key = item_key(item)
        if key is None or (previous is not None and key > previous):
            raise CatalogResponseError(
                f"{page.url}: item {item.get('id')!r} breaks the newest-first order parallel "
                "paging relies on; search with concurrency=1"
            )
        keys.append(key)
        previous = key
    return keys


class _Producer:
    """One slice fetched in a thread of its own into a bounded queue."""

    def __init__(
        self, piece: Slice, total: int, pages: Iterator[Page], depth: int, stop: threading.Event
    ) -> None:
        self.slice = piece
        self.total = total
        self.source = pages
        self.queue: queue.Queue[tuple[str, Any]] = queue.Queue(maxsize=depth)
        self.stop = stop
        self.thread = threading.Thread(
            target=self._run, name=f"eoaccess-slice-{piece.index}", daemon=True
        )
        self.thread.start()

    def _run(self) -> None:
        previous: datetime | None = None
        try:
            for page in self.source:
                if self.stop.is_set():
                    return
                keys = ordered_keys(page, previous)
                previous = keys[-1] if keys else previous
                kept = [
                    item
                    for item, key in zip(page.items, keys, strict=True)
                    if self.slice.keeps(key)
                ]
                if kept and not self._put(("page", Page(kept, None, page.url))):
                    return
                lower = self.slice.lower
                if lower is not None and keys and keys[-1] < lower:
                    break  # the rest starts before this slice: later slices hold it
            self._put(("end", None))
        except BaseException as exc:  # handed to the consumer, raised where the page would be
            if isinstance(exc, EOAccessError) and self.slice.interval is not None:
                where = self.slice.interval.to_text()
                exc.args = (f"slice {self.slice.index + 1} of {self.total} ({where}): {exc}",)
            self._put(("error", exc))
        finally:
            close = getattr(self.source, "close", None)
            if close is not None:
                close()

    def _put(self, entry: tuple[str, Any]) -> bool:
        while not self.stop.is_set():
            try:
                self.queue.put(entry, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def pages(self) -> Iterator[Page]:
        while True:
            kind, value = self.queue.get()
            if kind == "end":
                return
            if kind == "error":
                raise value
            yield value


def sliced_pages(
    query: Query,
    first: Page,
    walk: Iterator[Page],
    slices: Sequence[Slice],
    fetch: Callable[[Query], Iterator[Page]],
) -> Iterator[Page]:
    """``first``, the rest of slice 0 from ``walk``, then slices 1… fetched concurrently by
    ``fetch`` (a sequential walk of a query) — in the order of the sequential walk."""
    stop = threading.Event()
    depth = lookahead_pages(query, first, len(slices))
    matched = first.number_matched
    producers = [
        _Producer(
            piece,
            len(slices),
            fetch(dataclasses.replace(query, datetime=piece.interval)),
            depth,
            stop,
        )
        for piece in slices[1:]
    ]
    head = slices[0]
    try:
        yield first
        previous = item_key(first.items[-1])
        for page in walk:
            keys = ordered_keys(page, previous)
            previous = keys[-1] if keys else previous
            kept = [item for item, key in zip(page.items, keys, strict=True) if head.keeps(key)]
            if kept:
                yield Page(kept, matched, page.url)
            if len(kept) < len(page.items):
                break  # past the first boundary: the other slices hold the rest
        close = getattr(walk, "close", None)
        if close is not None:
            close()
        for producer in producers:
            for page in producer.pages():
                yield Page(page.items, matched, page.url)
    finally:
        stop.set()
        for producer in producers:
            producer.thread.join()
