"""From whatever the user has to a list of downloads: the boundary where input shapes converge.

Accepted: pystac Items and ItemCollections, STAC item dicts, FeatureCollection/ItemCollection
dicts, objects with an ``.items()`` method (search results), pystac Assets, ``(url, path)`` pairs,
and iterables of any of these. Each becomes :class:`DownloadJob` values: an absolute URL (relative
asset hrefs resolved against the item's self link), a relative destination path from the layout
template, and the expected size and checksum from the STAC file extension.
"""

from __future__ import annotations

import os
import posixpath
import string
import sys
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urljoin, urlsplit

from eoaccess.errors import InvalidInputError
from eoaccess.transfer._checksum import Checksum, parse_multihash
from eoaccess.transfer._engine import check_supported

DEFAULT_LAYOUT = "{collection}/{item}/{filename}"
LAYOUT_FIELDS = ("collection", "item", "asset", "filename", "stem", "ext")
NO_COLLECTION = "no-collection"


@dataclass(frozen=True)
class DownloadJob:
    """One file to fetch: from where, to which relative path, and what it must look like."""

    url: str
    """Absolute URL or local path of the source."""
    path: str
    """Destination relative to the download directory, POSIX separators."""
    size: int | None = None
    """Expected size (STAC ``file:size``)."""
    checksum: Checksum | None = None
    """Expected digest (STAC ``file:checksum``)."""
    collection: str | None = None
    """Collection id of the item the asset belongs to."""
    item: str | None = None
    """Item id."""
    asset: str | None = None
    """Asset key."""


@dataclass(frozen=True)
class AssetSelection:
    """Which assets of an item to download; an empty selection takes every asset."""

    keys: frozenset[str] = frozenset()
    """Asset keys (``image``, ``caminfo_pvl``)."""
    roles: frozenset[str] = frozenset()
    """Asset roles (``data``, ``metadata``); an asset with any of them matches."""
    media_types: tuple[str, ...] = ()
    """Media types, matched on the part before ``;`` (``image/tiff`` matches COG types)."""

    @classmethod
    def of(
        cls,
        keys: str | Iterable[str] | None = None,
        roles: str | Iterable[str] | None = None,
        media_types: str | Iterable[str] | None = None,
    ) -> AssetSelection:
        """Build from comma-separated strings or iterables."""
        return cls(frozenset(_names(keys)), frozenset(_names(roles)), tuple(_names(media_types)))

    def matches(self, key: str, asset: Mapping[str, Any]) -> bool:
        """True when the asset passes every criterion given."""
        if self.keys and key not in self.keys:
            return False
        if self.roles and not self.roles.intersection(asset.get("roles") or ()):
            return False
        if self.media_types:
            kind = str(asset.get("type") or "").split(";")[0].strip().lower()
            if not any(kind == m.split(";")[0].strip().lower() for m in self.media_types):
                return False
        return True


def _names(value: str | Iterable[str] | None) -> list[str]:
    if value is None:
        return []
    items = value.split(",") if isinstance(value, str) else list(value)
    return [str(v).strip() for v in items if str(v).strip()]


def check_layout(layout: str) -> str:
    """Validate a layout template's fields; raise InvalidInputError naming the allowed ones."""
    try:
        fields = [name for _, name, _, _ in string.Formatter().parse(layout) if name is not None]
    except ValueError as exc:
        raise InvalidInputError(f"layout {layout!r} is not a valid template: {exc}") from None
    unknown = sorted({f for f in fields if f not in LAYOUT_FIELDS})
    if unknown or not fields:
        allowed = ", ".join("{" + f + "}" for f in LAYOUT_FIELDS)
        what = f"unknown field {{{unknown[0]}}}" if unknown else "no field"
        raise InvalidInputError(f"layout {layout!r} has {what}: use {allowed}")
    return layout


def safe_relative_path(path: str, what: str) -> str:
    """Normalise a relative destination path, refusing absolute paths and ``..``."""
    text = path.replace("\\", "/")
    norm = posixpath.normpath(text)
    if not text or text.startswith("/") or norm == "." or norm.split("/")[0] == "..":
        raise InvalidInputError(f"{what} {path!r} must be a relative path inside the destination")
    return norm


def _component(value: str) -> str:
    return value.replace("/", "_").replace("\\", "_").replace("\x00", "_") or "_"


def _is_url(href: str) -> bool:
    return len(urlsplit(href).scheme) > 1


def resolve_href(href: str, base: str | None) -> str:
    """An absolute URL or path for ``href``, relative ones joined to ``base`` (the self link)."""
    if _is_url(href) or base is None:
        return href
    if _is_url(base):
        return urljoin(base, href)
    if os.path.isabs(href):
        return href
    return os.path.normpath(os.path.join(os.path.dirname(base), href))


def _self_href(item: Mapping[str, Any]) -> str | None:
    for link in item.get("links") or ():
        if isinstance(link, Mapping) and link.get("rel") == "self" and link.get("href"):
            return str(link["href"])
    return None


def _filename(url: str, key: str) -> str:
    name = unquote(posixpath.basename(urlsplit(url).path if _is_url(url) else url))
    return name or key


def _jobs_of_item(
    item: Mapping[str, Any], base: str | None, selection: AssetSelection, layout: str
) -> Iterator[DownloadJob]:
    item_id = item.get("id")
    if not item_id:
        raise InvalidInputError("a STAC item without an id cannot be placed in the layout")
    collection = str(item.get("collection") or NO_COLLECTION)
    base = _self_href(item) or base
    for key, asset in (item.get("assets") or {}).items():
        if not isinstance(asset, Mapping) or not asset.get("href"):
            continue
        if not selection.matches(key, asset):
            continue
        url = resolve_href(str(asset["href"]), base)
        filename = _filename(url, key)
        stem, ext = posixpath.splitext(filename)
        values = {
            "collection": _component(collection),
            "item": _component(str(item_id)),
            "asset": _component(key),
            "filename": _component(filename),
            "stem": _component(stem),
            "ext": ext,
        }
        path = safe_relative_path(layout.format(**values), "layout result")
        yield DownloadJob(
            url=url,
            path=path,
            size=_size(asset.get("file:size"), url),
            checksum=parse_multihash(asset["file:checksum"])
            if asset.get("file:checksum")
            else None,
            collection=collection,
            item=str(item_id),
            asset=key,
        )


def _size(value: object, url: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise InvalidInputError(f"file:size of {url} must be a non-negative integer, got {value!r}")
    return value


def _is_pair(value: object) -> bool:
    return (
        isinstance(value, tuple | list)
        and len(value) == 2
        and all(isinstance(v, str | os.PathLike) for v in value)
    )


def _sources(
    source: Any, base: str | None = None
) -> Iterator[tuple[Mapping[str, Any], str | None] | tuple[str, str]]:
    """Flatten any accepted input into (item dict, base href) and (url, path) entries."""
    pystac = sys.modules.get("pystac")  # an object cannot be a pystac one unless it is loaded
    if isinstance(source, Mapping):
        kind = source.get("type")
        if kind == "FeatureCollection" or (kind is None and "features" in source):
            for feature in source.get("features") or ():
                yield from _sources(feature, base)
        elif kind == "Feature" or "assets" in source:
            yield source, base
        else:
            raise InvalidInputError(
                f"cannot download from a {kind or 'JSON object'} without assets: pass STAC "
                "items, an ItemCollection, search results or (url, path) pairs"
            )
    elif _is_pair(source):
        yield str(os.fspath(source[0])), str(os.fspath(source[1]))
    elif pystac is not None and isinstance(source, pystac.Item):
        yield source.to_dict(include_self_link=True, transform_hrefs=False), source.get_self_href()
    elif pystac is not None and isinstance(source, pystac.Asset):
        owner = source.owner
        item = {
            "id": getattr(owner, "id", None) or "asset",
            "collection": getattr(owner, "collection_id", None),
            "assets": {_asset_key(source): source.to_dict()},
        }
        yield item, owner.get_self_href() if owner is not None else None
    elif isinstance(source, str | bytes | os.PathLike):
        raise InvalidInputError(
            f"download() takes items or (url, path) pairs, not the string {str(source)[:80]!r}; "
            "for one URL pass [(url, 'file.name')]"
        )
    elif callable(getattr(source, "items", None)):
        yield from _sources(source.items(), base)  # search results (pystac-client, eoaccess)
    elif isinstance(source, Iterable):
        for entry in source:
            yield from _sources(entry, base)
    else:
        raise InvalidInputError(f"cannot download from a {type(source).__name__}")


def _asset_key(asset: Any) -> str:
    owner = asset.owner
    for key, candidate in (getattr(owner, "assets", None) or {}).items():
        if candidate is asset:
            return str(key)
    return _filename(asset.href, "asset")


def plan_downloads(
    source: Any,
    *,
    assets: str | Iterable[str] | None = None,
    roles: str | Iterable[str] | None = None,
    media_types: str | Iterable[str] | None = None,
    layout: str = DEFAULT_LAYOUT,
) -> list[DownloadJob]:
    """The download jobs for ``source``, in input order, one per distinct destination path.

    Raises InvalidInputError when two different URLs would land on the same path (add
    ``{asset}`` to the layout) or an input cannot be understood.
    """
    check_layout(layout)
    selection = AssetSelection.of(assets, roles, media_types)
    jobs: list[DownloadJob] = []
    seen: dict[str, str] = {}
    for entry in _sources(source):
        if isinstance(entry[0], str):
            url, path = entry  # type: ignore[misc]
            found: Sequence[DownloadJob] = [
                DownloadJob(url=str(url), path=safe_relative_path(str(path), "path"))
            ]
        else:
            item, base = entry  # type: ignore[misc]
            found = list(_jobs_of_item(item, base, selection, layout))
        for job in found:
            check_supported(job.url)
            if job.path in seen:
                if seen[job.path] != job.url:
                    raise InvalidInputError(
                        f"two assets would be written to {job.path}: {seen[job.path]} and "
                        f"{job.url}; put {{asset}} or {{item}} in the layout"
                    )
                continue
            seen[job.path] = job.url
            jobs.append(job)
    return jobs
