"""Static STAC catalogs already in the archive (the Kaguya sample, downloaded catalogs).

Items keep their ids, collections, geometry (lon/lat on their own body: lunar items stay lunar),
properties and assets; what changes is what a served catalog needs: asset hrefs become
archive-relative paths, local assets gain ``file:size`` and ``file:checksum`` and a media type
when they lack one, and links are dropped (the server writes its own). Collections keep their
``collection.json`` fields with extents recomputed from the items. An item's collection is its
``collection`` field, else the collection its ``collection`` link points to, else its top
folder. Item collections (a FeatureCollection of STAC items) are read too.
"""

from __future__ import annotations

import copy
import hashlib
import posixpath
import re
from collections.abc import Iterator, Mapping
from typing import Any
from urllib.parse import unquote, urlsplit

import orjson

from eoaccess.ingest import _stac
from eoaccess.ingest._collections import CollectionInfo, collection_info, info_from_stac, slug
from eoaccess.ingest._registry import ArchiveView, BuildContext, Candidate, Claim
from eoaccess.ingest._report import SkippedFile

_JSON = re.compile(r"\.(geo)?json$", re.IGNORECASE)
_ZARR_PART = re.compile(
    r"(^|/)[^/]+\.zarr/|(^|/)(zarr\.json|\.zmetadata|\.zarray|\.zattrs|\.zgroup)$"
)


def resolve_href(base: str, href: str, view: ArchiveView, item_id: str = "") -> str | None:
    """The archive path an asset href of the JSON file ``base`` names, or None if remote.

    Relative hrefs resolve against the file's folder. An absolute URL whose file sits next to
    the JSON file — under its own name, or without the item id in front (``caminfo.pvl`` for
    ``…/<id>.caminfo.pvl``) — is taken to be that local copy (catalogs downloaded with their
    assets).
    """
    parts = urlsplit(href)
    folder = posixpath.dirname(base)
    if parts.scheme in ("", "file") and not parts.netloc:
        path = unquote(parts.path)
        joined = posixpath.normpath(path if path.startswith("/") else posixpath.join(folder, path))
        if joined.startswith(("../", "/")) or joined == "..":
            return None
        return joined
    name = posixpath.basename(unquote(parts.path))
    names = [name]
    if item_id and name.startswith(item_id + "."):
        names.append(name[len(item_id) + 1 :])
    for candidate in names:
        local = posixpath.join(folder, candidate)
        if view.exists(local):
            return local
    return None


def _parse(view: ArchiveView, path: str) -> tuple[Any, SkippedFile | None]:
    try:
        data = view.read_bytes(path)
    except OSError as exc:
        return None, SkippedFile(path, f"unreadable: {exc.strerror or exc}")
    if b'"stac_version"' not in data and b'"stac_extensions"' not in data:
        return None, None
    try:
        return orjson.loads(data), None
    except orjson.JSONDecodeError as exc:
        return None, SkippedFile(path, f"invalid JSON: {exc}")


def _stem(path: str) -> str:
    return _JSON.sub("", posixpath.basename(path))


def _collection_link(document: Mapping[str, Any], path: str) -> str | None:
    for link in document.get("links") or []:
        if isinstance(link, Mapping) and link.get("rel") == "collection" and link.get("href"):
            href = str(link["href"])
            if urlsplit(href).scheme:
                return None
            return posixpath.normpath(posixpath.join(posixpath.dirname(path), href))
    return None


class StacItemsRecogniser:
    """Items of static STAC catalogs (see the module docstring)."""

    name = "stac"
    version = 1

    def recognise(self, view: ArchiveView) -> Iterator[Claim]:
        documents: dict[str, Any] = {}
        for entry in view.unclaimed:
            if not _JSON.search(entry.path) or _ZARR_PART.search(entry.path):
                continue
            document, problem = _parse(view, entry.path)
            if problem is not None:
                # The files named after a broken item (X.tif next to X.json) are its assets:
                # they are not catalogued on their own either.
                stem = posixpath.join(posixpath.dirname(entry.path), _stem(entry.path)) + "."
                siblings = {e.path for e in view.unclaimed if e.path.startswith(stem)}
                yield Claim(frozenset({entry.path, *siblings}), skipped=(problem,))
            elif isinstance(document, dict) and document.get("type") in (
                "Catalog",
                "Collection",
                "Feature",
                "FeatureCollection",
            ):
                documents[entry.path] = document
        collections: dict[str, CollectionInfo] = {}
        by_path: dict[str, str] = {}
        for path, document in documents.items():
            if document["type"] == "Collection" and isinstance(document.get("id"), str):
                collections.setdefault(document["id"], info_from_stac(document))
                by_path[path] = document["id"]
        for path, document in sorted(documents.items()):
            kind = document["type"]
            if kind in ("Catalog", "Collection"):
                yield Claim(frozenset({path}))
            elif kind == "Feature":
                yield self._items(view, path, [(document, None)], collections, by_path)
            else:
                features = [f for f in document.get("features") or [] if _is_item(f)]
                if not features:
                    continue  # a plain GeoJSON FeatureCollection: not ours
                digests = [
                    hashlib.sha256(orjson.dumps(f, option=orjson.OPT_SORT_KEYS)).hexdigest()[:12]
                    for f in features
                ]
                yield self._items(
                    view, path, list(zip(features, digests, strict=True)), collections, by_path
                )

    def _items(
        self,
        view: ArchiveView,
        path: str,
        features: list[tuple[dict[str, Any], str | None]],
        collections: Mapping[str, CollectionInfo],
        by_path: Mapping[str, str],
    ) -> Claim:
        claimed = {path}
        candidates = []
        skipped = []
        for item, digest in features:
            if not _is_item(item):
                skipped.append(SkippedFile(path, "STAC item without a string id"))
                continue
            cid = item.get("collection")
            if not isinstance(cid, str) or not cid:
                link = _collection_link(item, path)
                cid = by_path.get(link or "") or slug(
                    path.split("/", 1)[0] if "/" in path else "items"
                )
            info = collections.get(cid) or collection_info(cid)
            assets: dict[str, str] = {}
            for key, asset in (item.get("assets") or {}).items():
                href = asset.get("href") if isinstance(asset, Mapping) else None
                if isinstance(href, str):
                    local = resolve_href(path, href, view, item["id"])
                    if local is not None:
                        assets[key] = local
            present = {k: p for k, p in assets.items() if view.exists(p)}
            claimed.update(present.values())
            files = (
                (path, *sorted(set(assets.values())))
                if digest is None
                else tuple(sorted(set(assets.values())))
            )
            candidates.append(
                Candidate(
                    info,
                    item["id"],
                    files,
                    _builder(item, assets),
                    (digest,) if digest else (),
                )
            )
        return Claim(frozenset(claimed), tuple(candidates), tuple(skipped))


def _is_item(feature: Any) -> bool:
    return (
        isinstance(feature, dict)
        and feature.get("type") == "Feature"
        and isinstance(feature.get("id"), str)
        and bool(feature["id"])
    )


def _builder(item: Mapping[str, Any], assets: Mapping[str, str]) -> Any:
    def build(ctx: BuildContext) -> dict[str, Any]:
        return build_item(ctx, item, assets)

    return build


def build_item(
    ctx: BuildContext, source: Mapping[str, Any], local: Mapping[str, str]
) -> dict[str, Any]:
    """The item as served: archive-relative hrefs, file fields, no links.

    An asset whose local file is missing is dropped (the others stay), so the catalog never
    points at nothing.
    """
    item = copy.deepcopy(dict(source))
    item.pop("links", None)
    assets: dict[str, Any] = {}
    missing = []
    for key, asset in (item.get("assets") or {}).items():
        if not isinstance(asset, dict):
            continue
        path = local.get(key)
        if path is not None:
            if not ctx.exists(path):
                missing.append(key)
                continue
            asset["href"] = path
            asset.setdefault("type", _stac.media_type(path) or "application/octet-stream")
            asset.update(ctx.file_fields(path))
        assets[key] = asset
    if not assets and missing:
        raise ValueError(f"none of the item's asset files exist ({', '.join(missing)})")
    item["assets"] = assets
    if item.get("geometry") and not item.get("bbox"):
        import shapely.geometry

        item["bbox"] = list(shapely.geometry.shape(item["geometry"]).bounds)
    item["stac_version"] = item.get("stac_version") or _stac.STAC_VERSION
    if any("file:checksum" in a for a in assets.values()):
        _stac.with_extensions(item, _stac.FILE)
    return item


RECOGNISER = StacItemsRecogniser()
