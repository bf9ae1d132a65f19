"""STAC Collections built from what ingest found: metadata from the recogniser, extents from items.

A recogniser names the collection of each item with a :class:`CollectionInfo` (a well-known one
from :data:`KNOWN_COLLECTIONS`, or a template read from a static catalog's ``collection.json``);
:class:`Extent` accumulates the spatial and temporal extent of the collection's items and
:func:`build_collection` writes the STAC 1.0 Collection.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from eoaccess.ingest._stac import STAC_VERSION
from eoaccess.matching import item_interval
from eoaccess.query import format_datetime


@dataclass(frozen=True)
class CollectionInfo:
    """What a collection is, independent of its extent."""

    id: str
    """Collection id (also the ``collection`` of its items)."""
    title: str
    """Short human title."""
    description: str
    """One paragraph: what the data is and where it comes from."""
    license: str = "other"
    """SPDX identifier, ``various`` or ``other``."""
    keywords: tuple[str, ...] = ()
    """Search keywords."""
    template: Mapping[str, Any] = field(default_factory=dict, compare=False, hash=False)
    """Further Collection fields kept as given (providers, summaries, ``ssys:targets``…)."""


def _known(*infos: CollectionInfo) -> dict[str, CollectionInfo]:
    return {info.id: info for info in infos}


_KAGUYA = (
    "Kaguya (SELENE) Terrain Camera {mode} observations, uncontrolled analysis-ready COGs with "
    "ISIS, PDS and USGSCSM sidecars (USGS Astrogeology)."
)
_MOON = {
    "ssys:targets": ["Moon"],
    "stac_extensions": [
        "https://raw.githubusercontent.com/thareUSGS/ssys/main/json-schema/schema.json"
    ],
    "providers": [
        {"name": "JAXA", "roles": ["producer"]},
        {"name": "USGS Astrogeology", "roles": ["processor", "host"]},
    ],
}

# Registry of the collections of the seed products; ids are documented in ``ingest/__init__``.
KNOWN_COLLECTIONS: dict[str, CollectionInfo] = _known(
    CollectionInfo(
        "itslive_datacubes",
        "ITS_LIVE glacier velocity datacubes",
        "ITS_LIVE image-pair glacier surface velocities as 100 km Zarr datacubes (120 m grid, "
        "polar stereographic or UTM), listed in the catalog_v02.json footprint catalog.",
        "CC-BY-4.0",
        ("ITS_LIVE", "glacier", "velocity", "datacube", "zarr"),
        {"providers": [{"name": "NASA MEaSUREs ITS_LIVE", "roles": ["producer", "host"]}]},
    ),
    CollectionInfo(
        "ATL03",
        "ATLAS/ICESat-2 L2A Global Geolocated Photon Data (ATL03)",
        "Geolocated photon heights of the six ICESat-2 ATLAS beams along the ground track, one "
        "HDF5 granule per orbit segment.",
        "other",
        ("ICESat-2", "ATLAS", "ATL03", "photon", "altimetry"),
        {"providers": [{"name": "NASA NSIDC DAAC", "roles": ["producer", "host"]}]},
    ),
    CollectionInfo(
        "planet-arps",
        "Planet Analysis-Ready PlanetScope (ARPS) surface reflectance",
        "Daily 4-band (blue, green, red, nir) surface reflectance tiles at 3 m, harmonised and "
        "gap-filled from PlanetScope scenes, with a QA file (cloud mask and scene provenance).",
        "proprietary",
        ("Planet", "ARPS", "PlanetScope", "surface reflectance"),
        {"providers": [{"name": "Planet Labs", "roles": ["producer", "licensor"]}]},
    ),
    *(
        CollectionInfo(
            f"kaguya_terrain_camera_{mode}_uncontrolled_observations",
            f"Kaguya Terrain Camera {mode} uncontrolled observations",
            _KAGUYA.format(mode=mode),
            "CC0-1.0",
            ("Moon", "Kaguya", "SELENE", "Terrain Camera"),
            _MOON,
        )
        for mode in ("monoscopic", "stereoscopic", "spsupport")
    ),
)


def collection_info(collection_id: str, title: str | None = None) -> CollectionInfo:
    """The well-known collection ``collection_id``, or a plain one titled after its id."""
    known = KNOWN_COLLECTIONS.get(collection_id)
    if known is not None:
        return known
    return CollectionInfo(
        collection_id,
        title or collection_id.replace("_", " ").replace("-", " "),
        f"Items ingested from the archive folder or product {collection_id!r}.",
    )


def info_from_stac(collection: Mapping[str, Any]) -> CollectionInfo:
    """A :class:`CollectionInfo` keeping an existing STAC Collection's fields (extent recomputed)."""
    cid = str(collection["id"])
    known = KNOWN_COLLECTIONS.get(cid)
    skip = {"id", "title", "description", "license", "keywords", "extent", "links", "type"}
    skip |= {"stac_version"}
    return CollectionInfo(
        cid,
        str(collection.get("title") or (known.title if known else cid)),
        str(collection.get("description") or (known.description if known else cid)),
        str(collection.get("license") or (known.license if known else "other")),
        tuple(collection.get("keywords") or (known.keywords if known else ())),
        {k: v for k, v in collection.items() if k not in skip},
    )


def slug(text: str) -> str:
    """A collection-id-safe form of a name: letters, digits, ``_``, ``-`` and ``.``."""
    cleaned = re.sub(r"[^A-Za-z0-9_.-]+", "-", text).strip("-.")
    return cleaned or "items"


class Extent:
    """Spatial and temporal extent of a set of items, accumulated one item at a time.

    When an item crosses the antimeridian, longitudes are treated as a circle: the spatial
    extent is the smallest longitude arc covering every item (``west > east``, not a world box).
    """

    def __init__(self) -> None:
        self._arcs: list[tuple[float, float]] = []
        self.south = math.inf
        self.north = -math.inf
        self._crossing = False
        self.start: datetime | None = None
        self.end: datetime | None = None
        self.count = 0

    def add_item(self, item: Mapping[str, Any]) -> None:
        """Add an item's bbox and datetime (or start/end range)."""
        self.count += 1
        bbox = item.get("bbox")
        if bbox and len(bbox) >= 4:
            west, south, east, north = (
                (bbox[0], bbox[1], bbox[3], bbox[4]) if len(bbox) == 6 else bbox[:4]
            )
            self.add_bbox(float(west), float(south), float(east), float(north))
        interval = item_interval(item)
        if interval is not None:
            self.add_interval(*interval)

    def add_bbox(self, west: float, south: float, east: float, north: float) -> None:
        self.south = min(self.south, south)
        self.north = max(self.north, north)
        if west <= east:
            self._arcs.append((west, east))
        else:  # crosses the antimeridian: two arcs on the circle
            self._crossing = True
            self._arcs.extend([(west, 180.0), (-180.0, east)])
        if len(self._arcs) > 4096:
            self._arcs = _merge(self._arcs)

    def add_interval(self, start: datetime | None, end: datetime | None) -> None:
        if start is not None and (self.start is None or start < self.start):
            self.start = start
        if end is not None and (self.end is None or end > self.end):
            self.end = end

    def bbox(self) -> list[float]:
        """``[west, south, east, north]``: the plain min/max box, unless an item crosses the
        antimeridian — then the smallest longitude arc, west > east when it crosses ±180°."""
        if not self._arcs:
            return [-180.0, -90.0, 180.0, 90.0]
        arcs = _merge(self._arcs)
        if not self._crossing:
            return [arcs[0][0], self.south, max(e for _, e in arcs), self.north]
        # The extent is the circle minus its largest uncovered gap.
        gaps = [(arcs[i][1], arcs[i + 1][0]) for i in range(len(arcs) - 1)]
        wrap = (arcs[-1][1], arcs[0][0] + 360.0)
        best = max([wrap, *gaps], key=lambda g: g[1] - g[0])
        if best[1] - best[0] <= 0:
            west, east = -180.0, 180.0
        elif best is wrap:
            west, east = arcs[0][0], arcs[-1][1]
        else:
            west, east = best[1], best[0]
        return [west, self.south, east, self.north]

    def interval(self) -> list[str | None]:
        return [
            format_datetime(self.start) if self.start else None,
            format_datetime(self.end) if self.end else None,
        ]


def _merge(arcs: list[tuple[float, float]]) -> list[tuple[float, float]]:
    merged: list[tuple[float, float]] = []
    for west, east in sorted(arcs):
        if merged and west <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], east))
        else:
            merged.append((west, east))
    return merged


def build_collection(info: CollectionInfo, extent: Extent) -> dict[str, Any]:
    """The STAC 1.0 Collection of ``info`` with the accumulated extent."""
    collection: dict[str, Any] = {
        "type": "Collection",
        "stac_version": STAC_VERSION,
        "stac_extensions": list(info.template.get("stac_extensions") or []),
        "id": info.id,
        "title": info.title,
        "description": info.description,
        "license": info.license,
    }
    if info.keywords:
        collection["keywords"] = list(info.keywords)
    for key, value in info.template.items():
        if key not in collection and key != "stac_extensions":
            collection[key] = value
    collection["extent"] = {
        "spatial": {"bbox": [extent.bbox()]},
        "temporal": {"interval": [extent.interval()]},
    }
    collection["links"] = []
    return collection
