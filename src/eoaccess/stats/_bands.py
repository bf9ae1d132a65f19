"""Band names of a collection: which asset and band index hold each, and its no-data value.

Names come, in this order, from the BYOC collection's band mapping (``collection.json``: band →
file and band index, as Sentinel Hub evalscripts see them), from the items' ``eo:bands`` (names
and common names) with ``raster:bands`` no-data values, and from single-band assets (their key).
The first source naming a band wins.
"""

from __future__ import annotations

import math
import posixpath
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from eoaccess.stats._byoc import ByocCollection


@dataclass(frozen=True)
class BandSource:
    """Where one named band is read from."""

    name: str
    asset: str
    """Asset key of the items."""
    index: int
    """1-based band index in the asset's file."""
    nodata: float | None
    """Values meaning "no data" (pixels with it get dataMask 0), if any."""


def _nodata(value: Any) -> float | None:
    if value is None:
        return None
    if isinstance(value, str):
        text = value.strip().lower()
        return {"nan": math.nan, "inf": math.inf, "-inf": -math.inf}.get(text)
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _asset_for_file(item: Mapping[str, Any], source: str) -> str | None:
    """The asset key whose file is BYOC band file ``source`` (its stem), else the same key."""
    assets = item.get("assets") or {}
    for key, asset in assets.items():
        href = asset.get("href", "") if isinstance(asset, Mapping) else ""
        if posixpath.splitext(posixpath.basename(href.split("?", 1)[0]))[0] == source:
            return str(key)
    return source if source in assets else None


def _from_byoc(item: Mapping[str, Any], byoc: ByocCollection) -> dict[str, BandSource]:
    found: dict[str, BandSource] = {}
    for name, spec in byoc.bands.items():
        if not isinstance(spec, Mapping) or not isinstance(spec.get("source"), str):
            continue
        asset = _asset_for_file(item, spec["source"])
        index = spec.get("bandIndex", 1)
        if asset is None or not isinstance(index, int) or index < 1:
            continue
        found[str(name)] = BandSource(str(name), asset, index, _nodata(spec.get("noData")))
    return found


def _from_stac(item: Mapping[str, Any]) -> dict[str, BandSource]:
    found: dict[str, BandSource] = {}
    for key, asset in (item.get("assets") or {}).items():
        if not isinstance(asset, Mapping):
            continue
        eo = asset.get("eo:bands") or []
        raster = asset.get("raster:bands") or []
        count = max(len(eo), len(raster))
        for i in range(count):
            nodata = _nodata(raster[i].get("nodata")) if i < len(raster) else None
            band = eo[i] if i < len(eo) and isinstance(eo[i], Mapping) else {}
            names = [band.get("name"), band.get("common_name")]
            if count == 1:
                names.append(key)
            for name in names:
                if isinstance(name, str) and name and name not in found:
                    found[name] = BandSource(name, str(key), i + 1, nodata)
    return found


def band_sources(
    items: Sequence[Mapping[str, Any]], byoc: ByocCollection | None = None
) -> dict[str, BandSource]:
    """Band name -> source, from the BYOC mapping and the first items' metadata."""
    found: dict[str, BandSource] = {}
    for item in items[:8]:  # items of a collection share their assets; a few settle it
        if byoc is not None:
            for name, source in _from_byoc(item, byoc).items():
                found.setdefault(name, source)
        for name, source in _from_stac(item).items():
            found.setdefault(name, source)
    return found
