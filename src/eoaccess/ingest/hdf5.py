"""HDF5 / NetCDF granules (ICESat-2 ATL03 and the like): footprint from tracks or extents.

The collection is the granule's ``short_name`` attribute (``ATL03``). The footprint follows the
ground tracks when the granule has them (``gt*/geolocation/reference_photon_lat/lon``, else the
photon ``lat_ph``/``lon_ph``), else the ``geospatial_lat/lon_min/max`` attributes, else 1-D
``lat``/``lon`` variables. Time comes from ``time_coverage_start``/``time_coverage_end``.
"""

from __future__ import annotations

import contextlib
import posixpath
import re
from collections.abc import Iterator, Mapping
from typing import Any

import numpy as np

from eoaccess.ingest import _stac
from eoaccess.ingest._collections import collection_info, slug
from eoaccess.ingest._geometry import Footprint, footprint_from_shape, footprint_from_tracks
from eoaccess.ingest._registry import ArchiveView, BuildContext, Candidate, Claim
from eoaccess.query import format_datetime, parse_instant

_SUFFIX = re.compile(r"\.(h5|hdf5|he5|nc|nc4)$", re.IGNORECASE)
# Granule metadata files published next to NASA granules: ``X.h5.iso.xml``, ``X.xml``, ``X.json``.
_SIDECARS: dict[str, str] = {".iso.xml": "metadata_iso", ".xml": "metadata_xml"}
PROCESSING = "https://stac-extensions.github.io/processing/v1.2.0/schema.json"
SAT = "https://stac-extensions.github.io/sat/v1.0.0/schema.json"
_TRACK_POINTS = 400  # points per beam kept for the footprint: plenty for a 20 m-segment track


class Hdf5Recogniser:
    """Items from HDF5/NetCDF granules (see the module docstring)."""

    name = "hdf5"
    version = 1

    def recognise(self, view: ArchiveView) -> Iterator[Claim]:
        for entry in view.unclaimed:
            if not _SUFFIX.search(entry.path):
                continue
            path = entry.path
            item_id = _SUFFIX.sub("", posixpath.basename(path))
            assets = {"data": path}
            for suffix, key in _SIDECARS.items():
                for base in (path, posixpath.join(posixpath.dirname(path), item_id)):
                    sidecar = base + suffix
                    if view.exists(sidecar) and not view.is_claimed(sidecar):
                        assets.setdefault(key, sidecar)
            try:
                collection = _collection_of(view, path)
            except Exception as exc:  # unreadable or not HDF5 at all
                yield Claim(frozenset(assets.values()), skipped=(_skip(path, exc),))
                continue
            yield Claim(
                frozenset(assets.values()),
                (
                    Candidate(
                        collection_info(collection),
                        item_id,
                        tuple(assets.values()),  # the granule first
                        _builder(item_id, assets, collection),
                    ),
                ),
            )


def _skip(path: str, exc: BaseException) -> Any:
    from eoaccess.ingest._report import SkippedFile

    text = " ".join(str(exc).split()) or type(exc).__name__
    return SkippedFile(path, f"not a readable HDF5/NetCDF file: {text[:200]}")


def _collection_of(view: ArchiveView, path: str) -> str:
    """The granule's ``short_name`` — from the catalog when this very file was seen before,
    else from the file's root attributes (a few ranged reads, not the whole file)."""
    known = view.previous_key(Hdf5Recogniser.name, path)
    if known is not None:
        return known[0]
    import h5py

    with view.open(path) as handle, h5py.File(handle, "r") as h5:
        name = _text(h5.attrs.get("short_name")) or _text(h5.attrs.get("identifier_product_type"))
    if name:
        return slug(name)
    return slug(path.split("/", 1)[0] if "/" in path else "granules")


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, np.ndarray):
        value = value.flat[0] if value.size else None
    if isinstance(value, bytes | np.bytes_):
        value = value.decode("utf-8", "replace")
    text = str(value).strip().strip("\x00")
    return text or None


def _builder(item_id: str, assets: Mapping[str, str], collection: str) -> Any:
    def build(ctx: BuildContext) -> dict[str, Any]:
        return build_item(ctx, item_id, assets, collection)

    return build


@contextlib.contextmanager
def _open_granule(ctx: BuildContext, path: str) -> Iterator[Any]:
    """Open a granule of the archive with h5py; a file HDF5 cannot read is a ValueError."""
    import h5py

    with ctx.local_file(path) as local:
        try:
            granule = h5py.File(local, "r")
        except OSError as exc:
            raise ValueError(f"not a readable HDF5/NetCDF file: {exc}") from None
        with granule:
            yield granule


def build_item(
    ctx: BuildContext, item_id: str, assets: Mapping[str, str], collection: str
) -> dict[str, Any]:
    """The STAC item of one granule and its metadata sidecars."""
    path = assets["data"]
    with _open_granule(ctx, path) as h5:
        attrs = {k: _text(v) for k, v in h5.attrs.items() if not _is_array(v)}
        name = attrs.get("short_name") or attrs.get("identifier_product_type")
        if name and slug(name) != collection:
            raise ValueError(f"short_name {name!r} changed since the granule was first seen")
        footprint = _footprint(h5, attrs)
        start = attrs.get("time_coverage_start")
        end = attrs.get("time_coverage_end")
        if not start:
            raise ValueError("no time_coverage_start attribute")
        properties: dict[str, Any] = {}
        start_text = format_datetime(parse_instant(start))
        end_text = format_datetime(parse_instant(end)) if end else start_text
        properties["datetime"] = start_text
        if end_text != start_text:
            properties["start_datetime"] = start_text
            properties["end_datetime"] = end_text
        properties.update(_descriptive(h5, attrs))
    data: dict[str, Any] = {"href": path, "type": _stac.media_type(path) or _stac.HDF5}
    title = attrs.get("title")
    if title and title != "SET_BY_META":  # ATL03's placeholder, not a title
        data["title"] = title
    data["roles"] = ["data"]
    data.update(ctx.file_fields(path))
    stac_assets: dict[str, dict[str, Any]] = {"data": data}
    for key, sidecar in assets.items():
        if key == "data":
            continue
        stac_assets[key] = {
            "href": sidecar,
            "type": _stac.media_type(sidecar) or _stac.TEXT,
            "roles": ["metadata"],
            **ctx.file_fields(sidecar),
        }
    extensions = [_stac.FILE]
    if "processing:level" in properties:
        extensions.append(PROCESSING)
    if "sat:relative_orbit" in properties:
        extensions.append(SAT)
    return _stac.new_item(
        item_id, footprint.geometry, footprint.bbox, properties, stac_assets, extensions
    )


def _is_array(value: Any) -> bool:
    return isinstance(value, np.ndarray) and value.size > 1


def _descriptive(h5: Any, attrs: Mapping[str, str | None]) -> dict[str, Any]:
    """Platform, instrument and orbit fields named by the granule's attributes."""
    out: dict[str, Any] = {}
    platform = attrs.get("platform")
    if platform:
        out["platform"] = platform.split(">")[0].strip().lower()
    instrument = attrs.get("instrument")
    if instrument:
        out["instruments"] = [instrument.split(">")[0].strip().lower()]
    level = attrs.get("level")
    if level:
        out["processing:level"] = level
    orbit = h5.get("orbit_info")
    # ICESat-2's reference ground track is the satellite extension's relative orbit.
    if orbit is not None and "rgt" in orbit and orbit["rgt"].size:
        out["sat:relative_orbit"] = int(np.asarray(orbit["rgt"][()]).flat[0])
    return out


def _beam_tracks(h5: Any) -> list[tuple[np.ndarray, np.ndarray]]:
    """(lon, lat) per beam, thinned to a few hundred points, from segments or photons."""
    tracks = []
    for name in sorted(h5):
        group = h5[name]
        if not name.startswith("gt") or not hasattr(group, "keys"):
            continue
        for sub, lat_name, lon_name in (
            ("geolocation", "reference_photon_lat", "reference_photon_lon"),
            ("heights", "lat_ph", "lon_ph"),
        ):
            if sub in group and lat_name in group[sub] and lon_name in group[sub]:
                lat_ds, lon_ds = group[sub][lat_name], group[sub][lon_name]
                if lat_ds.shape[0] == 0:
                    continue
                step = max(1, lat_ds.shape[0] // _TRACK_POINTS)
                lat = np.asarray(lat_ds[::step], float)
                lon = np.asarray(lon_ds[::step], float)
                # Keep the very last point too, so the footprint reaches the granule's end.
                lat = np.append(lat, float(lat_ds[-1]))
                lon = np.append(lon, float(lon_ds[-1]))
                good = (np.abs(lat) <= 90) & (np.abs(lon) <= 180)
                if good.any():
                    tracks.append((lon[good], lat[good]))
                break
    return tracks


def _footprint(h5: Any, attrs: Mapping[str, str | None]) -> Footprint:
    tracks = _beam_tracks(h5)
    if tracks:
        return footprint_from_tracks(tracks)
    names = ("geospatial_lon_min", "geospatial_lat_min", "geospatial_lon_max", "geospatial_lat_max")
    if all(attrs.get(n) for n in names):
        west, south, east, north = (float(attrs[n]) for n in names)  # type: ignore[arg-type]
        return _box(west, south, east, north)
    for lat_name, lon_name in (("lat", "lon"), ("latitude", "longitude")):
        if lat_name in h5 and lon_name in h5:
            lat = np.asarray(h5[lat_name][()], float)
            lon = np.asarray(h5[lon_name][()], float)
            return _box(
                float(np.nanmin(lon)),
                float(np.nanmin(lat)),
                float(np.nanmax(lon)),
                float(np.nanmax(lat)),
            )
    raise ValueError("no geolocation: no beam tracks, geospatial_* attributes or lat/lon")


def _box(west: float, south: float, east: float, north: float) -> Footprint:
    import shapely

    if east < west:  # crosses the antimeridian: unwrap so it is cut there
        east += 360
    return footprint_from_shape(shapely.box(west, south, east, north))


RECOGNISER = Hdf5Recogniser()
