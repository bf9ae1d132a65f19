"""Collections as Harmony sees them: concept ids, short names and the capabilities document.

Harmony names collections by CMR concept id (``C1234-PROVIDER``) or short name; ours have STAC
ids. Each collection gets a stable concept id ``C<digits>-EOACCESS`` derived from its id (the
same on every server and after every restart), and a request may name a collection by id,
concept id or short name. What a collection offers depends on the kind of data its items hold
(registry :data:`KINDS`): trajectory HDF5 granules are cut by area and time into HDF5, gridded
data can also be cut by variable and reprojected.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from eoaccess.errors import InvalidInputError, NotFoundError
from eoaccess.query import make_query
from eoaccess.stores import CatalogStore

PROVIDER = "EOACCESS"


def concept_id(collection_id: str) -> str:
    """The stable CMR-style concept id of a collection id."""
    digits = int.from_bytes(hashlib.sha256(collection_id.encode()).digest()[:5], "big")
    return f"C{digits % 10**10:010d}-{PROVIDER}"


def short_name(collection: Mapping[str, Any]) -> str:
    """The collection's short name: an explicit ``short_name`` summary, else its id."""
    names = (collection.get("summaries") or {}).get("short_name")
    if isinstance(names, list) and len(names) == 1 and isinstance(names[0], str):
        return names[0]
    return str(collection["id"])


@dataclass(frozen=True)
class Kind:
    """What the service can do with one kind of data."""

    name: str
    accepts: Callable[[Mapping[str, Any]], bool]
    """Whether a sample item of the collection is of this kind."""
    variable_subset: bool
    reproject: bool
    output_formats: tuple[str, ...]


def _data_asset(item: Mapping[str, Any]) -> Mapping[str, Any] | None:
    assets = item.get("assets") or {}
    for asset in assets.values():
        if "data" in (asset.get("roles") or []):
            return asset
    return next(iter(assets.values()), None)


def _is_trajectory(item: Mapping[str, Any]) -> bool:
    asset = _data_asset(item) or {}
    return "hdf5" in str(asset.get("type", "")) or str(asset.get("href", "")).endswith(".h5")


# Registry: the first kind whose ``accepts`` says yes describes a collection.
KINDS: list[Kind] = [
    Kind("trajectory", _is_trajectory, False, False, ("application/x-hdf5",)),
    Kind(
        "gridded",
        lambda item: True,
        True,
        True,
        ("application/x-netcdf4", "application/x-zarr", "image/tiff"),
    ),
]


@dataclass(frozen=True)
class CollectionInfo:
    """A collection of the catalog with its Harmony names and capabilities."""

    id: str
    concept_id: str
    short_name: str
    kind: Kind
    variables: tuple[str, ...]

    def capabilities(self, services_href: str) -> dict[str, Any]:
        """The v2 capabilities document harmony-py's CapabilitiesRequest returns."""
        kind = self.kind
        subsetting = {
            "bbox": True,
            "shape": True,
            "temporal": True,
            "variable": kind.variable_subset,
        }
        return {
            "conceptId": self.concept_id,
            "shortName": self.short_name,
            "variableSubset": kind.variable_subset,
            "bboxSubset": True,
            "shapeSubset": True,
            "temporalSubset": True,
            "concatenate": False,
            "reproject": kind.reproject,
            "outputFormats": list(kind.output_formats),
            "services": [
                {
                    "name": f"eoaccess/{kind.name}-subsetter",
                    "href": services_href,
                    "capabilities": {
                        "subsetting": subsetting,
                        "output_formats": list(kind.output_formats),
                        "reprojection": kind.reproject,
                    },
                }
            ],
            "variables": [{"name": v, "href": f"{services_href}#{v}"} for v in self.variables],
            "capabilitiesVersion": "2",
        }


def _variables(item: Mapping[str, Any], kind: Kind) -> tuple[str, ...]:
    if not kind.variable_subset:
        return ()
    cube = (item.get("properties") or {}).get("cube:variables") or {}
    return tuple(sorted(k for k, v in cube.items() if (v or {}).get("type", "data") == "data"))


class Collections:
    """Looks collections up by id, concept id or short name (cached per collection id)."""

    def __init__(self, store: CatalogStore) -> None:
        self._store = store
        self._cache: dict[str, CollectionInfo] = {}

    def _info(self, collection: Mapping[str, Any]) -> CollectionInfo:
        cid = str(collection["id"])
        if cid not in self._cache:
            page = self._store.search(make_query(collections=[cid], limit=1))
            sample = page.items[0] if page.items else {}
            kind = next(k for k in KINDS if k.accepts(sample))
            self._cache[cid] = CollectionInfo(
                cid, concept_id(cid), short_name(collection), kind, _variables(sample, kind)
            )
        return self._cache[cid]

    def resolve(self, name: str) -> CollectionInfo:
        """The collection called ``name`` (id, concept id or short name); NotFoundError if none."""
        collections = self._store.collections()
        by_id = {str(c["id"]): c for c in collections}
        if name in by_id:
            return self._info(by_id[name])
        for collection in collections:
            if concept_id(str(collection["id"])) == name or short_name(collection) == name:
                return self._info(collection)
        lowered = name.lower()
        for collection in collections:
            if short_name(collection).lower() == lowered:
                return self._info(collection)
        raise NotFoundError(
            f"there is no collection {name!r}; give a collection id, concept id or short name "
            f"(ids: {', '.join(sorted(by_id)) or 'none'})"
        )


def capabilities_query(shortname: str | None, collectionid: str | None, version: str | None) -> str:
    """The collection a capabilities request names (InvalidInputError if not exactly one)."""
    if version not in (None, "", "2"):
        raise InvalidInputError(f"capabilities version {version!r} is not offered; use 2")
    given = [v for v in (shortname, collectionid) if v]
    if len(given) != 1:
        raise InvalidInputError(
            "give exactly one of shortname and collectionid, e.g. /capabilities?shortname=ATL03"
        )
    return given[0]
