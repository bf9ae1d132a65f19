"""Absolute hrefs of the request's public origin: links, asset URLs and file URLs.

The store keeps asset hrefs as written at ingest: archive-relative paths (``kaguya/…/x.tif``) or
absolute URLs. The server publishes relative ones as ``{base}files/{path}`` so that any client
can fetch them from this server; absolute URLs pass through untouched. ``base`` comes from
``request.base_url`` after :mod:`eoaccess.server.proxy` applied the forwarded headers, so links
are right behind a proxy and on every interface the server listens on.
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlsplit

from starlette.requests import Request

JSON = "application/json"
GEOJSON = "application/geo+json"
FILES_ROUTE = "files"

# Links the server writes itself; stored copies of these are dropped and rebuilt.
STRUCTURAL_RELS = frozenset({"self", "root", "parent", "collection", "items", "next", "prev"})


# Fast paths for the per-item work of large search pages (profiled: urlsplit and quote were
# most of a 1,000-item page's cost). Both give exactly what the general functions give.
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*:")
_CONTROL_OR_SPACE = re.compile(r"[\x00-\x20]")
_UNRESERVED = re.compile(r"[A-Za-z0-9_.\-~]*")  # what quote(s, safe="") leaves unchanged
_UNRESERVED_PATH = re.compile(r"[A-Za-z0-9_.\-~/]*")  # the same with safe="/"


def _has_scheme(href: str) -> bool:
    """``bool(urlsplit(href).scheme)`` without building the split result."""
    colon = href.find(":")
    if colon < 0:  # no scheme without a colon
        return False
    if _SCHEME.match(href):
        return True
    # urlsplit strips leading spaces and control characters and drops tabs and newlines
    # before it looks for a scheme: leave such rare hrefs to it
    if _CONTROL_OR_SPACE.search(href, 0, colon):
        return bool(urlsplit(href).scheme)
    return False


def _quote(segment: str, safe: str = "") -> str:
    pattern = _UNRESERVED_PATH if safe == "/" else _UNRESERVED
    return segment if pattern.fullmatch(segment) else quote(segment, safe=safe)


def archive_relative(href: str) -> str | None:
    """The normalised archive path of a relative href, or None for URLs, absolute paths and
    paths leaving the archive."""
    if not href or _has_scheme(href) or href.startswith(("/", "\\")):
        return None
    path = posixpath.normpath(href.split("#", 1)[0])
    if path in (".", "") or path == ".." or path.startswith("../"):
        return None
    return path


@dataclass(frozen=True)
class Hrefs:
    """Builds the absolute URLs of one request's origin (``base`` ends with ``/``)."""

    base: str

    @classmethod
    def from_request(cls, request: Request) -> Hrefs:
        base = str(request.base_url)
        return cls(base if base.endswith("/") else base + "/")

    def url(self, *segments: str) -> str:
        """``{base}seg1/seg2``, each segment percent-encoded (ids may hold any character)."""
        return self.base + "/".join(_quote(s) for s in segments)

    def file(self, path: str) -> str:
        """The URL serving archive path ``path``."""
        return f"{self.base}{FILES_ROUTE}/{_quote(path, safe='/')}"

    def asset_href(self, href: str) -> str:
        """Relative archive paths become file URLs; everything else is left as stored."""
        path = archive_relative(href)
        return self.file(path) if path is not None else href

    def with_assets(self, stac: dict[str, Any]) -> dict[str, Any]:
        """A shallow copy of an item or collection with absolute asset hrefs."""
        assets = stac.get("assets")
        if not isinstance(assets, dict):
            return stac
        out = dict(stac)
        out["assets"] = {
            key: (
                {**asset, "href": self.asset_href(asset["href"])}
                if isinstance(asset, dict) and isinstance(asset.get("href"), str)
                else asset
            )
            for key, asset in assets.items()
        }
        return out

    def _kept_links(self, stac: dict[str, Any]) -> list[dict[str, Any]]:
        kept = []
        for link in stac.get("links") or []:
            if not isinstance(link, dict) or link.get("rel") in STRUCTURAL_RELS:
                continue
            href = link.get("href")
            if isinstance(href, str):
                link = {**link, "href": self.asset_href(href)}
            kept.append(link)
        return kept

    def collection(self, collection: dict[str, Any]) -> dict[str, Any]:
        """A stored collection with its self/parent/root/items links and absolute asset hrefs."""
        cid = str(collection["id"])
        out = self.with_assets(collection)
        out["links"] = [
            {"rel": "self", "type": JSON, "href": self.url("collections", cid)},
            {"rel": "parent", "type": JSON, "href": self.base},
            {"rel": "root", "type": JSON, "href": self.base},
            {
                "rel": "items",
                "type": GEOJSON,
                "href": self.url("collections", cid, "items"),
            },
            {
                "rel": "http://www.opengis.net/def/rel/ogc/1.0/queryables",
                "type": "application/schema+json",
                "href": self.url("collections", cid, "queryables"),
            },
            *self._kept_links(collection),
        ]
        return out

    def item(self, item: dict[str, Any]) -> dict[str, Any]:
        """A stored item with self/parent/collection/root links and absolute asset hrefs."""
        out = self.with_assets(item)
        links = self._kept_links(item)
        cid = item.get("collection")
        if cid is not None:
            collection_url = self.url("collections", str(cid))
            links = [
                {
                    "rel": "self",
                    "type": GEOJSON,
                    "href": f"{collection_url}/items/{_quote(str(item['id']))}",
                },
                {"rel": "parent", "type": JSON, "href": collection_url},
                {"rel": "collection", "type": JSON, "href": collection_url},
                {"rel": "root", "type": JSON, "href": self.base},
                *links,
            ]
        else:
            links = [{"rel": "root", "type": JSON, "href": self.base}, *links]
        out["links"] = links
        return out
