"""GeoJSON footprint catalogs (ITS_LIVE's ``catalog_v02.json``) as a searchable source.

Each listed feature becomes the STAC item ingest would build from it without opening the cube
(:func:`eoaccess.ingest.footprints.feature_item`, one conversion for both): the asset is
``zarr_url`` resolved relative to the catalog, the CRS comes from ``epsg`` or ``data_epsg``, the
footprint is the ``geometry_epsg`` tile densified into lon/lat. There is no time range without
the cube, so such items never match a ``datetime`` query. Searches run in memory
(:class:`~eoaccess.catalog._memory.ItemIndex`, an STRtree for points and boxes).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from eoaccess.catalog._base import Page, Probe
from eoaccess.catalog._errors import NotACatalogError
from eoaccess.catalog._io import display_name, gc_paused, join_href
from eoaccess.catalog._memory import ItemIndex
from eoaccess.query import Query


def _features(data: Any) -> list[Mapping[str, Any]] | None:
    if not isinstance(data, Mapping) or data.get("type") != "FeatureCollection":
        return None
    features = data.get("features")
    if not isinstance(features, list):
        return None
    return [f for f in features if isinstance(f, Mapping)]


def is_footprint_catalog(data: Any) -> bool:
    """A FeatureCollection whose features point at datacubes with ``zarr_url``."""
    features = _features(data)
    return bool(features) and any("zarr_url" in (f.get("properties") or {}) for f in features[:100])


def catalog_items(
    data: Mapping[str, Any], href: str
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """The items of the listed features of a footprint catalog at ``href``, and its collection.

    A feature that cannot be converted raises NotACatalogError naming the catalog and the
    feature's position.
    """
    from eoaccess.ingest._collections import Extent, build_collection
    from eoaccess.ingest.footprints import catalog_collection, feature_items, listed

    features = _features(data) or []
    present = [f for f in features if listed(f)]
    urls = [str((f.get("properties") or {}).get("zarr_url") or "") for f in present]
    info = catalog_collection(data, display_name(href), [u for u in urls if u])
    hrefs = []
    for position, (feature, url) in enumerate(zip(present, urls, strict=True)):
        if not url:
            raise NotACatalogError(f"{href}: listed feature {position} has no zarr_url")
        composite = (feature.get("properties") or {}).get("composite_zarr_url")
        resolved = join_href(href, composite) if isinstance(composite, str) and composite else None
        hrefs.append((join_href(href, url), resolved))
    with gc_paused():
        try:
            items = feature_items(present, hrefs)
        except ValueError as exc:
            raise NotACatalogError(f"{href}: {exc}") from None
        extent = Extent()
        for item in items:
            item["collection"] = info.id
            extent.add_item(item)
    return items, build_collection(info, extent)


@dataclass
class FootprintCatalog:
    """An opened footprint catalog: its items in memory."""

    href: str
    index: ItemIndex
    collection: dict[str, Any]
    kind: str = "footprints"

    def collections(self) -> list[dict[str, Any]]:
        return [self.collection]

    def pages(self, query: Query) -> Iterator[Page]:
        return self.index.pages(query, self.href)

    def count(self, query: Query) -> int:
        return self.index.count(query)

    def close(self) -> None:
        pass


class FootprintKind:
    """The ``footprints`` kind."""

    name = "footprints"
    description = "GeoJSON FeatureCollection of datacube footprints with zarr_url (ITS_LIVE)"

    def recognise(self, probe: Probe) -> bool:
        return is_footprint_catalog(probe.json)

    def open(self, probe: Probe) -> FootprintCatalog:
        if not is_footprint_catalog(probe.json):
            raise NotACatalogError(
                f"{probe.href} is not a GeoJSON footprint catalog "
                "(a FeatureCollection whose features have a zarr_url)"
            )
        items, collection = catalog_items(probe.json, probe.href)
        return FootprintCatalog(probe.href, ItemIndex(items), collection)


KIND = FootprintKind()
