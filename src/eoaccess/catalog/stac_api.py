"""STAC APIs (any server with a landing page that has ``conformsTo``): item search over HTTP.

What the API declares it can do is pushed down: ``POST /search`` with
:meth:`~eoaccess.query.Query.to_stac_json` (``GET /search`` with the same parameters when the
landing page offers no POST), CQL2 filters with the filter extension, ``sortby`` with the sort
extension, ``fields`` with the fields extension. What it cannot do is evaluated here with
:mod:`eoaccess.matching` over the pages it returns, so the answer is the same as from every other
source kind; an API without item search is read collection by collection through its OGC API
Features ``/collections/{id}/items`` endpoints. Paging follows ``next`` links (merging POST
bodies when the link says ``merge``).

These are JSON requests, not object reads, so they use httpx (one pooled client per catalog);
files and sidecars go through the transfer engine. httpx's default ``Accept-Encoding`` (gzip,
deflate, br) is kept: a 1,000-item page is ~1.2 MB as JSON and ~0.11 MB as brotli; measured
against stac-fastapi-pgstac on loopback, decoding costs the client ~2 ms a page and the
server's CPU per page was the same for br, gzip and identity (its time is the database and the
JSON), so compression costs nothing measurable there and saves 90 % of the bytes on a real
network. A long answer in the default order is fetched as concurrent datetime slices
(:mod:`eoaccess.catalog._partitions`).
"""

from __future__ import annotations

import dataclasses
import re
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import quote, urlencode, urljoin, urlsplit

import httpx
import orjson

from eoaccess.catalog._base import Page, Probe
from eoaccess.catalog._errors import (
    CatalogResponseError,
    NotACatalogError,
    QueryRejectedError,
    SourceUnreachableError,
)
from eoaccess.catalog._io import gc_paused
from eoaccess.catalog._items import absolute_item, check_item, self_href
from eoaccess.catalog._memory import paged
from eoaccess.catalog._partitions import plan_slices, sliced_pages
from eoaccess.errors import EOAccessError, NotFoundError
from eoaccess.matching import DEFAULT_SORTBY, ItemMatcher, apply_fields, sort_items
from eoaccess.query import MAX_LIMIT, Query, parse_instant
from eoaccess.transfer import TransferConfig

_RETRY_STATUS = frozenset({429, 502, 503, 504})
_RETRIES = 2


def _conforms(conformance: set[str], pattern: str) -> bool:
    regex = re.compile(pattern)
    return any(regex.search(uri) for uri in conformance)


@dataclass(frozen=True)
class Capabilities:
    """What a STAC API declares it can do (from its conformance classes)."""

    item_search: bool
    filter: bool
    sort: bool
    fields: bool
    features: bool

    @classmethod
    def of(cls, conformance: set[str]) -> Capabilities:
        search = _conforms(conformance, r"/item-search$")
        return cls(
            item_search=search,
            filter=search and _conforms(conformance, r"item-search#filter|cql2-json"),
            sort=search and _conforms(conformance, r"item-search#sort"),
            fields=search and _conforms(conformance, r"item-search#fields"),
            features=_conforms(conformance, r"ogcapi-features|features-1/.*/core"),
        )


@dataclass(frozen=True)
class _Plan:
    """A query split into what the server does and what is left to do here."""

    remote: Query
    """Sent to the server."""
    local_filter: Query | None
    """Matched here (the parts the server could not do), or None."""
    local_sort: bool
    """Sort everything here (the server cannot sort)."""
    local_fields: bool
    """Apply ``fields`` here."""
    final: Query
    """The whole query (for sorting and fields here)."""

    @property
    def exact_server_count(self) -> bool:
        """True when the server's ``numberMatched`` counts exactly this query's items."""
        return self.local_filter is None


def _is_stac_api(data: Any) -> bool:
    return isinstance(data, Mapping) and isinstance(data.get("conformsTo"), list)


class StacApi:
    """An opened STAC API."""

    kind = "stac_api"

    def __init__(
        self, href: str, landing: Mapping[str, Any], config: TransferConfig | None = None
    ) -> None:
        self.href = href
        self.landing = dict(landing)
        headers = {
            "Accept": "application/geo+json, application/json",
            **dict(config.headers if config is not None else ()),
        }
        timeout = httpx.Timeout(
            config.stall_timeout if config else 60.0,
            connect=config.connect_timeout if config else 10.0,
        )
        self.client = httpx.Client(
            headers=headers,
            timeout=timeout,
            follow_redirects=True,
            transport=httpx.HTTPTransport(retries=_RETRIES),
        )
        self.conformance = {str(c) for c in landing.get("conformsTo") or ()}
        self.capabilities = Capabilities.of(self.conformance)
        self.search_url, self.search_methods = self._search_link()

    # --- HTTP ---------------------------------------------------------------------------------

    def request(
        self, method: str, url: str, body: Mapping[str, Any] | None = None
    ) -> dict[str, Any]:
        """One JSON request; errors become one-line EOAccessErrors naming the URL."""
        content = orjson.dumps(body) if body is not None else None
        headers = {"Content-Type": "application/json"} if body is not None else None
        for attempt in range(_RETRIES + 1):
            try:
                response = self.client.request(method, url, content=content, headers=headers)
            except httpx.TimeoutException:
                raise SourceUnreachableError(f"{url}: no answer within the timeout") from None
            except httpx.HTTPError as exc:
                reason = " ".join(str(exc).split()) or type(exc).__name__
                raise SourceUnreachableError(f"cannot reach {url}: {reason}") from None
            if response.status_code in _RETRY_STATUS and attempt < _RETRIES:
                time.sleep(min(float(response.headers.get("Retry-After") or 0.5 * 2**attempt), 10))
                continue
            break
        if response.status_code >= 400:
            raise _http_error(method, url, response)
        try:
            with gc_paused():
                data = orjson.loads(response.content)
        except orjson.JSONDecodeError:
            kind = response.headers.get("content-type", "unknown type")
            raise CatalogResponseError(f"{url} answered {kind}, not JSON") from None
        if not isinstance(data, dict):
            raise CatalogResponseError(f"{url} answered JSON that is not an object")
        return data

    def close(self) -> None:
        self.client.close()

    # --- landing page -------------------------------------------------------------------------

    def _link(self, rel: str) -> Mapping[str, Any] | None:
        for link in self.landing.get("links") or ():
            if isinstance(link, Mapping) and link.get("rel") == rel and link.get("href"):
                return link
        return None

    def _search_link(self) -> tuple[str, frozenset[str]]:
        methods: set[str] = set()
        href = None
        for link in self.landing.get("links") or ():
            if isinstance(link, Mapping) and link.get("rel") == "search" and link.get("href"):
                href = href or urljoin(self.href, str(link["href"]))
                methods.add(str(link.get("method") or "GET").upper())
        if href is None:  # declared by conformance only: the conventional place
            href = urljoin(self.href if self.href.endswith("/") else self.href + "/", "search")
            methods = {"POST", "GET"}
        return href, frozenset(methods)

    def collections(self) -> list[dict[str, Any]]:
        link = self._link("data")
        url = (
            urljoin(self.href, str(link["href"]))
            if link
            else urljoin(self.href.rstrip("/") + "/", "collections")
        )
        found: dict[str, dict[str, Any]] = {}
        seen: set[str] = set()
        while url and url not in seen:
            seen.add(url)
            page = self.request("GET", url)
            for collection in page.get("collections") or ():
                if isinstance(collection, dict) and isinstance(collection.get("id"), str):
                    found.setdefault(collection["id"], collection)
            url = _next_get(page, url)
        return [found[k] for k in sorted(found)]

    # --- search -------------------------------------------------------------------------------

    def plan(self, query: Query) -> _Plan:
        """Split ``query`` into the server's part and ours, after the declared capabilities."""
        caps = self.capabilities
        if not caps.item_search:
            # OGC API Features: bbox, datetime and limit per collection; the rest here.
            remote = Query(
                collections=query.collections,
                bbox=query.bbox,
                datetime=query.datetime,
                limit=query.limit,
            )
            rest = dataclasses.replace(query, bbox=None, datetime=None, sortby=(), fields=None)
            # Collections come one after the other: only sorting here gives the query's order.
            return _Plan(remote, rest, True, query.fields is not None, query)
        local_filter = None
        remote = query
        if query.filter is not None and not caps.filter:
            local_filter = Query(filter=query.filter)
            remote = dataclasses.replace(remote, filter=None)
        local_sort = bool(query.sortby) and not caps.sort
        if local_sort:
            remote = dataclasses.replace(remote, sortby=())
        local_fields = query.fields is not None and (
            not caps.fields or local_filter is not None or local_sort
        )
        if local_fields:
            remote = dataclasses.replace(remote, fields=None)
        if query.max_items is not None and local_filter is None and not local_sort:
            remote = dataclasses.replace(remote, limit=max(1, min(query.limit, query.max_items)))
        return _Plan(remote, local_filter, local_sort, local_fields, query)

    def pages(self, query: Query) -> Iterator[Page]:
        return self.concurrent_pages(query, None)

    def concurrent_pages(self, query: Query, concurrency: int | None) -> Iterator[Page]:
        """Pages of the answer to ``query``; a long answer in the default order is fetched as
        up to ``concurrency`` datetime slices at once (None: automatic, 1: one request after
        the other), in the same order (see :mod:`eoaccess.catalog._partitions`)."""
        plan = self.plan(query)
        if plan.local_sort:
            return self._sorted_pages(plan)
        return self._streamed_pages(plan, concurrency)

    def _streamed_pages(self, plan: _Plan, concurrency: int | None = 1) -> Iterator[Page]:
        matcher = ItemMatcher(plan.local_filter) if plan.local_filter is not None else None
        pages = (
            self._sliced_pages(plan.remote, concurrency)
            if concurrency != 1 and plan.local_filter is None and not plan.local_fields
            else self._server_pages(plan.remote)
        )
        for page in pages:
            items = page.items
            if matcher is not None:
                items = [item for item in items if matcher.matches(item)]
            if plan.local_fields:
                items = [apply_fields(item, plan.final.fields) for item in items]
            count = page.number_matched if plan.exact_server_count else None
            yield Page(items, count, page.url)

    def _sorted_pages(self, plan: _Plan) -> Iterator[Page]:
        matcher = ItemMatcher(plan.local_filter) if plan.local_filter is not None else None
        everything = [
            item
            for page in self._server_pages(dataclasses.replace(plan.remote, limit=MAX_LIMIT))
            for item in page.items
            if matcher is None or matcher.matches(item)
        ]
        ordered = sort_items(everything, plan.final.sortby or DEFAULT_SORTBY)
        if plan.local_fields:
            ordered = [apply_fields(item, plan.final.fields) for item in ordered]
        yield from paged(ordered, plan.final.limit, self.search_url)

    def _sliced_pages(self, remote: Query, concurrency: int | None) -> Iterator[Page]:
        """The server's pages, the rest after the first fetched as concurrent datetime slices
        when :func:`~eoaccess.catalog._partitions.plan_slices` finds it safe and worth it."""
        walk = self._server_pages(remote)
        started = time.perf_counter()
        first = next(walk, None)
        seconds = time.perf_counter() - started
        if first is None:
            return
        slices = None
        if self.capabilities.item_search:
            slices = plan_slices(
                remote, first, concurrency, lambda: self._extent_start(remote), seconds
            )
        if slices is None:
            yield first
            yield from walk
            return
        yield from sliced_pages(remote, first, walk, slices, self._server_pages)

    def _extent_start(self, remote: Query) -> datetime | None:
        """The earliest start of the searched collections' temporal extents (None if unknown)."""
        wanted = set(remote.collections) if remote.collections is not None else None
        starts = []
        for collection in self.collections():
            if wanted is not None and collection.get("id") not in wanted:
                continue
            try:
                start = collection["extent"]["temporal"]["interval"][0][0]
                starts.append(parse_instant(start))
            except (KeyError, IndexError, TypeError, ValueError, EOAccessError):
                return None  # one collection without a start: the span is unknown
        if wanted is not None and len(starts) < len(wanted):
            return None
        return min(starts, default=None)

    def _server_pages(self, remote: Query) -> Iterator[Page]:
        if not self.capabilities.item_search:
            yield from self._feature_pages(remote)
            return
        if "POST" in self.search_methods:
            first: tuple[str, str, dict[str, Any] | None] = (
                "POST",
                self.search_url,
                remote.to_stac_json(),
            )
        else:
            first = ("GET", _with_params(self.search_url, _get_params(remote)), None)
        yield from self._follow(*first)

    def _feature_pages(self, remote: Query) -> Iterator[Page]:
        ids = remote.collections or tuple(c["id"] for c in self.collections())
        base = self.href.rstrip("/") + "/"
        for cid in ids:
            url = urljoin(base, f"collections/{quote(cid, safe='')}/items")
            params = _get_params(dataclasses.replace(remote, collections=None))
            yield from self._follow("GET", _with_params(url, params), None)

    def _follow(self, method: str, url: str, body: dict[str, Any] | None) -> Iterator[Page]:
        """Pages from the first request along ``next`` links; a failing page raises."""
        seen: set[tuple[str, str, bytes]] = set()
        number = 0
        while True:
            number += 1
            key = (method, url, orjson.dumps(body) if body is not None else b"")
            if key in seen:
                raise CatalogResponseError(f"{url}: the API's next link repeats page {number - 1}")
            seen.add(key)
            try:
                data = self.request(method, url, body)
            except EOAccessError as exc:
                if number > 1:  # the same URL serves every POST page: say which one failed
                    exc.args = (f"page {number} of the search failed: {exc}",)
                raise
            if method == "POST" and number == 1 and data.get("type") != "FeatureCollection":
                raise CatalogResponseError(f"{url} did not answer a FeatureCollection")
            features = data.get("features")
            if not isinstance(features, list):
                raise CatalogResponseError(f"{url} page {number} has no features array")
            where = f"{url} (page {number})"
            with gc_paused():
                items = [_absolute(check_item(f, where)) for f in features]
            yield Page(items, _matched(data), where)
            following = _next_link(data)
            if following is None or not features:
                return
            method, url, body = _next_request(following, method, url, body)

    def count(self, query: Query) -> int:
        plan = self.plan(query)
        if plan.exact_server_count and self.capabilities.item_search:
            first = next(
                self._server_pages(dataclasses.replace(plan.remote, limit=1, max_items=None)),
                None,
            )
            if first is not None and first.number_matched is not None:
                return first.number_matched
        counting = dataclasses.replace(query, limit=MAX_LIMIT, fields=None, sortby=())
        return sum(len(p.items) for p in self.pages(counting))


def _absolute(item: dict[str, Any]) -> dict[str, Any]:
    """Items as the API sent them, unless an asset href is relative: then resolved against the
    item's self link (pgstac serves the hrefs it was loaded with, often relative), in place —
    the item was just decoded from the page."""
    assets = item.get("assets")
    if not isinstance(assets, dict):
        return item
    for asset in assets.values():
        href = asset.get("href") if isinstance(asset, dict) else None
        if isinstance(href, str) and "://" not in href and not href.startswith("/"):
            base = self_href(item)
            return absolute_item(item, base, in_place=True) if base else item
    return item


def _matched(page: Mapping[str, Any]) -> int | None:
    value = page.get("numberMatched")
    if value is None and isinstance(page.get("context"), Mapping):
        value = page["context"].get("matched")  # the context extension of older APIs
    return int(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _next_link(page: Mapping[str, Any]) -> Mapping[str, Any] | None:
    for link in page.get("links") or ():
        if isinstance(link, Mapping) and link.get("rel") == "next" and link.get("href"):
            return link
    return None


def _next_get(page: Mapping[str, Any], url: str) -> str | None:
    link = _next_link(page)
    if link is None or str(link.get("method") or "GET").upper() != "GET":
        return None
    return urljoin(url, str(link["href"]))


def _next_request(
    link: Mapping[str, Any], method: str, url: str, body: dict[str, Any] | None
) -> tuple[str, str, dict[str, Any] | None]:
    target = urljoin(url, str(link["href"]))
    next_method = str(link.get("method") or "GET").upper()
    if next_method != "POST":
        return "GET", target, None
    link_body = link.get("body") if isinstance(link.get("body"), Mapping) else {}
    merged = {**(body or {}), **link_body} if link.get("merge") else dict(link_body)
    return "POST", target, merged


def _get_params(query: Query) -> dict[str, str]:
    """The GET form of a search (what ``GET /search`` and OGC API Features take)."""
    params: dict[str, str] = {"limit": str(query.limit)}
    if query.collections is not None:
        params["collections"] = ",".join(query.collections)
    if query.ids is not None:
        params["ids"] = ",".join(query.ids)
    if query.bbox is not None:
        params["bbox"] = ",".join(repr(float(v)) for v in query.bbox)
    if query.intersects is not None:
        params["intersects"] = orjson.dumps(query.intersects).decode()
    if query.datetime is not None:
        params["datetime"] = query.datetime.to_text()
    if query.filter is not None:
        import cql2

        params["filter"] = cql2.Expr(query.filter).to_text()
        params["filter-lang"] = "cql2-text"
    if query.sortby:
        params["sortby"] = ",".join(("-" if s.descending else "+") + s.field for s in query.sortby)
    if query.fields is not None:
        params["fields"] = ",".join(
            [*query.fields.include, *("-" + f for f in query.fields.exclude)]
        )
    return params


def _with_params(url: str, params: Mapping[str, str]) -> str:
    separator = "&" if urlsplit(url).query else "?"
    return url + separator + urlencode(params)


def _http_error(method: str, url: str, response: httpx.Response) -> Exception:
    """The error for an HTTP error answer, with the server's own description."""
    detail = ""
    try:
        data = orjson.loads(response.content)
        if isinstance(data, Mapping):
            for key in ("description", "detail", "message", "error"):
                if isinstance(data.get(key), str):
                    detail = " ".join(data[key].split())[:300]
                    break
    except orjson.JSONDecodeError:
        detail = " ".join(response.text.split())[:200]
    status = response.status_code
    message = f"HTTP {status} {response.reason_phrase} from {method} {url}" + (
        f": {detail}" if detail else ""
    )
    if status in (400, 422):
        return QueryRejectedError(message)
    if status == 404:
        return NotFoundError(message)
    return CatalogResponseError(message)


class StacApiKind:
    """The ``stac_api`` kind."""

    name = "stac_api"
    description = "STAC API root URL (landing page with conformsTo)"

    def recognise(self, probe: Probe) -> bool:
        return _is_stac_api(probe.json)

    def open(self, probe: Probe) -> StacApi:
        landing = probe.json
        if not _is_stac_api(landing):
            raise NotACatalogError(
                f"{probe.href} is not a STAC API landing page (no conformsTo list)"
            )
        return StacApi(probe.href, landing, probe.config)


KIND = StacApiKind()
